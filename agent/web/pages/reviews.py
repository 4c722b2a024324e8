"""Reviews of exported bundles: an auditor's (or admin's) accept or reject of a bundle, sealed as
`annexa review` seals it, with the signed-in person as the reviewer."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agent.bundle.review import DECISIONS, review_bundle, review_document
from agent.errors import UsageError
from agent.store.chain import read_counted
from agent.store.schema import Review, Run
from agent.web.context import Web
from agent.web.roles import Can, User
from agent.web.routing import action, page, render

MAX_BUNDLE_BYTES = 2 * 1024**3  # what one upload may be; bundles of a large store run to hundreds of MB


def _sealed(web: Web) -> list[dict[str, Any]]:
    def fetch(counted: Any) -> list[Review]:
        with web.store.read() as s:
            query = select(Review).join(Run, col(Run.id) == Review.run_id).where(counted)
            return list(s.execute(query.order_by(col(Review.id).desc())).scalars())

    return [review_document(r) for r in read_counted(web.store, fetch)]


@page(Can.SAMPLE)
def reviews(request: Request, user: User, web: Web) -> Response:
    docs = web.sealed.read(web.store, ("reviews",), lambda: _sealed(web))
    return render(
        request, user, "reviews.html", title="Reviews of bundles", reviews=docs, decisions=DECISIONS
    )


@action(Can.SAMPLE)
def review(request: Request, user: User, web: Web, form: FormData) -> Response:
    """The uploaded bundle verified under this agent's key, then the decision sealed; a refusal
    (another store's bundle, the exporter reviewing their own) records nothing."""
    upload = form.get("bundle")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UsageError("choose the bundle (.zip) you reviewed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.zip"
        upload.file.seek(0)
        with path.open("wb") as out:
            while chunk := upload.file.read(1024 * 1024):
                out.write(chunk)
                if out.tell() > MAX_BUNDLE_BYTES:
                    raise UsageError("the bundle is larger than 2 GB: review it with `annexa review`")
        review_bundle(
            web.store, path, decision=str(form.get("decision") or ""), actor=user.name,
            note=str(form.get("note") or ""),
        )  # fmt: skip
    return RedirectResponse("/reviews", status_code=303)
