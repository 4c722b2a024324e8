"""Signing in (the bootstrap admin token, or OIDC) and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agent.logs import get_logger
from agent.web.auth import BOOTSTRAP_USER, current_user, sign_in, token_matches
from agent.web.context import Web
from agent.web.routing import problem, render
from agent.web.security import csrf_ok

log = get_logger()


def _next(request: Request, raw: str | None) -> str:
    """Where to go after signing in: a path on this site only, never another origin."""
    parts = urlsplit(raw or "/")
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def login(request: Request) -> Response:
    web: Web = request.app.state.web
    if request.method == "GET":
        return render(
            request, current_user(request, web.settings.web), "login.html", title="Sign in",
            oidc=web.oidc is not None, next=_next(request, request.query_params.get("next")), error="",
            token_sign_in=web.token is not None, proxy=bool(web.settings.web.proxy_user_header),
        )  # fmt: skip
    form = await request.form()
    target = _next(request, str(form.get("next") or "/"))
    if not csrf_ok(request, form):
        return problem(request, None, 403, "the form's CSRF token is missing or wrong: reload the page")
    if not token_matches(str(form.get("token") or ""), web.token):
        log.warning("web_sign_in_refused", via="token", client=request.client.host if request.client else "")
        return render(
            request, None, "login.html", status=401, title="Sign in", oidc=web.oidc is not None,
            next=target, error="that is not the admin token", token_sign_in=web.token is not None, proxy=bool(web.settings.web.proxy_user_header),
        )  # fmt: skip
    sign_in(request, BOOTSTRAP_USER, "token")
    log.info("web_signed_in", user=BOOTSTRAP_USER, via="token")
    return RedirectResponse(target, status_code=303)


async def oidc_start(request: Request) -> Response:
    web: Web = request.app.state.web
    if web.oidc is None:
        return problem(request, None, 404, "OIDC sign-in is not configured ([web] oidc_issuer)")
    request.session["next"] = _next(request, request.query_params.get("next"))
    try:
        return await web.oidc.redirect(request, str(request.url_for("oidc_callback")))
    except ValueError as exc:
        log.warning("web_sign_in_refused", via="oidc", reason=str(exc))
        return problem(request, None, 502, f"sign-in failed: {exc}")


async def oidc_callback(request: Request) -> Response:
    web: Web = request.app.state.web
    if web.oidc is None:
        return problem(request, None, 404, "OIDC sign-in is not configured ([web] oidc_issuer)")
    target = _next(request, request.session.get("next"))
    try:
        name, groups = await web.oidc.person(request)
    except ValueError as exc:
        log.warning("web_sign_in_refused", via="oidc", reason=str(exc))
        return problem(request, None, 401, f"sign-in failed: {exc}")
    sign_in(request, name, "oidc", groups)
    log.info("web_signed_in", user=name, via="oidc")
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form):
        return problem(request, None, 403, "the form's CSRF token is missing or wrong: reload the page")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
