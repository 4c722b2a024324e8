"""Reviewer sign-off: a person accepts or rejects an exported bundle, and later bundles carry it.

A review is bound to what was reviewed, not to a file name: the SHA-256 of the bundle's signed
manifest.json (which fixes every file's hash) and its chain head. It is recorded only for a bundle
that verifies, is signed with this store's key and whose head is on this store's chain, and never by
the person who exported it. Like an attestation it is a chain entry of its own, so a later bundle
proves it was sealed (agent/bundle/verify_review.py); unlike one, it says nothing about a control.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from agent.bundle.layout import MANIFEST, plain_dict
from agent.bundle.selection import Selection, rows_of
from agent.bundle.zipsafe import BundleError, open_archive, read_bounded, vet
from agent.errors import Unverifiable, UsageError
from agent.store import Store
from agent.store.chain import chain_state, record_entry
from agent.store.hashing import review_hash
from agent.store.schema import Review, Run, id_of
from agent.store.types import utcnow

REVIEWS = "reviews.json"
REVIEWS_PAGE = "reviews.html"
DECISIONS = ("accept", "reject")
MAX_MANIFEST = 64 << 20  # as agent/bundle/verify.py reads it


class BundleWriter(Protocol):
    """What export's writer offers: every file goes through it, so the manifest lists its hash."""

    def json(self, path: str, value: Any) -> None: ...

    def write(self, path: str, data: bytes | str) -> None: ...


def same_person(a: str, b: str) -> bool:
    """Names compared as people write them: `Dana` exporting and `dana ` reviewing is one person."""
    return a.strip().casefold() == b.strip().casefold()


def manifest_bytes(bundle: Path) -> bytes:
    """The bundle's manifest.json exactly as signed, read from a vetted archive."""
    if not bundle.is_file():
        raise UsageError(f"{bundle}: no such bundle")
    try:
        with bundle.open("rb") as fh, open_archive(fh) as zf:
            vet(zf, fh)
            return read_bounded(zf, MANIFEST, MAX_MANIFEST)
    except (OSError, BundleError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Unverifiable(f"{bundle}: cannot read its manifest ({exc})") from None


def _verified_manifest(store: Store, bundle: Path) -> bytes:
    """The manifest of a bundle that verifies under this store's key, or a refusal naming why."""
    from agent.bundle.signing import fingerprint
    from agent.bundle.verify import verify_bundle

    before = manifest_bytes(bundle)
    report = verify_bundle(bundle)
    if not report.ok:
        raise Unverifiable(
            f"{bundle} does not verify ({report.problems[0]}; {len(report.problems)} problem(s)): "
            f"nothing recorded, see `annexa verify {bundle}`"
        )
    if store.keys is not None and report.fingerprint != fingerprint(store.keys.public):
        raise Unverifiable(
            f"{bundle} is signed by {report.fingerprint}, not by this agent's key "
            f"{fingerprint(store.keys.public)}: nothing recorded"
        )
    body = manifest_bytes(bundle)
    if body != before:
        raise Unverifiable(f"{bundle} changed while it was being verified: nothing recorded")
    return body


def review_bundle(
    store: Store,
    bundle: Path,
    *,
    decision: str,
    actor: str,
    note: str,
    now: datetime | None = None,
) -> Review:
    """Verify the bundle, then seal the decision as a chain entry; refusals record nothing."""
    if decision not in DECISIONS:
        raise UsageError(f"--decision {decision!r} is not one of {', '.join(DECISIONS)}")
    if not actor.strip():
        raise UsageError("--by must name the reviewer")
    if not note.strip():
        raise UsageError("--note must say what was reviewed and why this decision")
    body = _verified_manifest(store, bundle)
    manifest = json.loads(body)
    exporter, head = manifest.get("exported_by"), manifest["chain"]["head"]
    if not isinstance(exporter, str) or not exporter.strip():
        raise UsageError(
            f"{bundle} does not name who exported it (made by an older agent): "
            "re-export it with `annexa export --by NAME`, then review that"
        )
    if same_person(exporter, actor):
        raise UsageError(f"--by {actor}: {exporter} exported {bundle}; someone else must review it")
    with store.read() as s:
        roots = {r.root_hash for r in chain_state(s, store.keys).valid()}
    if head not in roots:
        raise UsageError(
            f"{bundle}: its chain head {head} is not on this store's chain (another store's bundle)"
        )
    at = now or utcnow()

    def act(s: Session, entry: Run) -> Review:
        row = Review(
            bundle_digest=hashlib.sha256(body).hexdigest(),
            bundle_head=head,
            exporter=exporter,
            decision=decision,
            actor=actor,
            note=note,
            at=at,
            run_id=id_of(entry),
        )
        s.add(row)
        s.flush()
        row.hash = review_hash(row.model_dump(), entry.uid)
        return row

    return record_entry(store, "review", act)


def review_document(row: Review) -> dict[str, Any]:
    """A review as bundles and `--json` show it: the sealed row itself, datetimes as ISO 8601."""
    return plain_dict(row.model_dump())


def write_reviews(w: BundleWriter, store: Store, sel: Selection) -> list[dict[str, Any]]:
    """Every review sealed on the bundle's spine (whatever the period or controls: a bundle must not
    leave out a rejection), as reviews.json and a page of its own."""
    from agent.bundle.pages import render_page

    ids = [r.id for r in sel.spine if r.id is not None]
    with store.read() as s:
        docs = [review_document(v) for v in rows_of(s, Review, ids)] if ids else []
    w.json(REVIEWS, docs)
    w.write(REVIEWS_PAGE, render_page("reviews.html.j2", title="Reviews of earlier bundles", reviews=docs))
    return docs
