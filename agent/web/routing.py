"""The wrappers every page and form goes through: sign-in, capability, CSRF, threads, errors.

Pages are plain functions of (request, user, web) that read the store synchronously; they run in
Starlette's thread pool so one slow page never blocks another. A refused or failed request gets
one line saying why, never a traceback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from agent.audit.asof import parse_as_of
from agent.errors import AnnexaError, StoreBusy
from agent.logs import get_logger
from agent.store.chain import one_walk
from agent.web.auth import current_user
from agent.web.context import Web
from agent.web.markup import GLOBALS
from agent.web.roles import Can, User
from agent.web.sealed import Sealed
from agent.web.security import csrf_ok, csrf_token

log = get_logger()

Page = Callable[[Request, User, Web], Response]
Action = Callable[[Request, User, Web, FormData], Response]
Endpoint = Callable[[Request], Awaitable[Response]]

templates = Environment(
    loader=PackageLoader("agent.web", "templates"), autoescape=True, undefined=StrictUndefined
)
templates.globals.update(GLOBALS)


def render(request: Request, user: User | None, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A page from its template, with what the layout needs (the user, their CSRF token, as-of)."""
    body = templates.get_template(name).render(
        user=user,
        csrf=csrf_token(request),
        path=request.url.path,
        as_of=request.query_params.get("as_of", ""),
        Can=Can,
        **values,
    )
    return HTMLResponse(body, status_code=status)


def problem(request: Request, user: User | None, status: int, message: str) -> HTMLResponse:
    titles = {400: "Not possible", 401: "Not signed in", 403: "Not allowed", 404: "Not found", 503: "Busy"}
    return render(
        request, user, "problem.html", status=status, title=titles.get(status, "Error"), message=message
    )


def as_of(request: Request, web: Web) -> datetime | None:
    """The as-of moment the page is asked for (`?as_of=`), None for now."""
    text = request.query_params.get("as_of", "").strip()
    return parse_as_of(text, web.clock()) if text else None


def _signed_in(request: Request, need: Can) -> tuple[Web, User | None, Response | None]:
    web: Web = request.app.state.web
    user = current_user(request, web.settings.web)
    if user is None:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return web, None, RedirectResponse(f"/login?next={target}", status_code=303)
    if not user.can(need):
        log.warning("web_forbidden", user=user.name, role=user.role, path=request.url.path, need=need.value)
        return web, user, problem(request, user, 403, f"your role ({user.role or 'none'}) may not do this")
    return web, user, None


def _guarded(request: Request, user: User, call: Callable[[], Response]) -> Response:
    try:
        with one_walk(), Sealed.request():
            return call()
    except StoreBusy as exc:
        return problem(request, user, 503, str(exc))
    except AnnexaError as exc:  # bad input: a date that is not one, an NC that does not exist
        return problem(request, user, 400, str(exc))


def page(need: Can = Can.READ) -> Callable[[Page], Endpoint]:
    def wrap(fn: Page) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            web, user, refused = _signed_in(request, need)
            if refused is not None or user is None:
                return refused or problem(request, None, 401, "sign in first")
            return await run_in_threadpool(_guarded, request, user, lambda: fn(request, user, web))

        return endpoint

    return wrap


def action(need: Can) -> Callable[[Action], Endpoint]:
    """A form post: refused without the capability, or without the session's CSRF token from
    this origin; otherwise the handler runs and answers (usually a redirect to the changed page)."""

    def wrap(fn: Action) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            web, user, refused = _signed_in(request, need)
            if refused is not None or user is None:
                return refused or problem(request, None, 401, "sign in first")
            form = await request.form()
            if not csrf_ok(request, form):
                log.warning("web_csrf_refused", user=user.name, path=request.url.path)
                return problem(
                    request, user, 403, "the form's CSRF token is missing or wrong: reload the page"
                )
            return await run_in_threadpool(_guarded, request, user, lambda: fn(request, user, web, form))

        return endpoint

    return wrap
