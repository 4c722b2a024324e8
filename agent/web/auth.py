"""Who is asking: a trusted reverse proxy's header, else the signed session cookie.

The session is made by signing in with the bootstrap admin token or through OIDC (agent/web/oidc.py).
A session names the person, never their role: the role is looked up in `[web] roles` on every
request, so taking a role away takes effect at once.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from starlette.requests import Request

from agent.config.sections import WebSettings
from agent.errors import ConfigError
from agent.web.roles import User, role_of

BOOTSTRAP_USER = "admin (bootstrap token)"
KEY_BYTES = 32


def session_key(path: Path) -> str:
    """The key that signs session cookies, made (0600) on first start so sessions outlive restarts."""
    try:
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(KEY_BYTES))
        key = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"[web] session_key_file: cannot use {path}: {exc.strerror}") from None
    if len(key) < KEY_BYTES:
        raise ConfigError(f"[web] session_key_file: {path} holds fewer than {KEY_BYTES} characters")
    return key


def configured_token(settings: WebSettings) -> str | None:
    """The admin token in `admin_token_env`, if one is named (None: no token sign-in)."""
    if not settings.admin_token_env:
        return None
    token = os.environ.get(settings.admin_token_env, "")
    if len(token) < 16:
        raise ConfigError(
            f"[web] admin_token_env: {settings.admin_token_env} must hold a token of 16 characters or more"
        )
    return token


def new_token() -> str:
    """A token for this process alone, for `annexa serve` to show whoever started it."""
    return secrets.token_urlsafe(24)


def token_matches(given: str, token: str | None) -> bool:
    return token is not None and hmac.compare_digest(given.encode(), token.encode())


def _proxy_user(request: Request, settings: WebSettings) -> User | None:
    if not settings.proxy_user_header or request.client is None:
        return None
    if request.client.host not in settings.trusted_proxies:
        return None
    name = request.headers.get(settings.proxy_user_header, "").strip()
    if not name:
        return None
    raw = request.headers.get(settings.proxy_groups_header, "") if settings.proxy_groups_header else ""
    groups = [g.strip() for g in raw.split(",") if g.strip()]
    return User(name, role_of(settings, name, groups), "proxy")


def current_user(request: Request, settings: WebSettings) -> User | None:
    proxied = _proxy_user(request, settings)
    if proxied is not None:
        return proxied
    who = request.session.get("user")
    if not isinstance(who, dict) or not isinstance(who.get("name"), str):
        return None
    if who.get("via") == "token":
        return User(BOOTSTRAP_USER, "admin", "token")
    groups = [g for g in who.get("groups", []) if isinstance(g, str)]
    return User(who["name"], role_of(settings, who["name"], groups), "oidc")


def sign_in(request: Request, name: str, via: str, groups: list[str] | None = None) -> None:
    """A new session for the person (a fresh CSRF token too: no fixation across sign-ins)."""
    request.session.clear()
    request.session["user"] = {"name": name, "via": via, "groups": groups or []}
