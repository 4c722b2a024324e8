"""Headers every response carries, and the CSRF check every form post passes.

The policy allows the dashboard's own stylesheet and nothing else: no script at all, no frame, no
request to another origin, forms posting only back here. Text on these pages comes from the
systems under audit; markup that slipped through escaping still could not run or call out.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # not no-referrer: under it a browser sends `Origin: null` with every form post, the dashboard's
    # own included, and same_origin() refuses them all; same-origin keeps the URL from other sites
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
CSRF_FIELD = "csrf"


class SecurityHeaders:
    """Adds the headers above; pages (not the stylesheet) are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(HEADERS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def csrf_token(request: Request) -> str:
    """The session's token, made on first use; forms carry it back in a hidden field."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def same_origin(request: Request) -> bool:
    """A browser names the page a post came from; one from elsewhere is refused whatever it carries."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def csrf_ok(request: Request, form: FormData) -> bool:
    sent = form.get(CSRF_FIELD)
    kept = request.session.get(CSRF_FIELD)
    return (
        isinstance(sent, str)
        and isinstance(kept, str)
        and hmac.compare_digest(sent, kept)
        and same_origin(request)
    )
