"""Validation errors as one line: where the bad value came from (file or variable) and which key."""

from __future__ import annotations

import os

from pydantic import ValidationError

ENV_PREFIX = "ANNEXA_"


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if not parts:
        return "config"
    if len(parts) == 1:
        return parts[0]
    return f"[{parts[0]}] {'.'.join(parts[1:])}"


def _env_name(loc: tuple[int | str, ...]) -> str | None:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    for n in range(len(parts), 0, -1):
        name = ENV_PREFIX + "__".join(parts[:n]).upper()
        if any(k.upper() == name for k in os.environ):
            return name
    return None


def describe(exc: ValidationError, origin: str) -> str:
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    else:
        msg = str(first["msg"]).removeprefix("Value error, ")
        if ": " in msg and loc and msg.split(": ", 1)[0].isidentifier():
            # Section validators name the key themselves ("client_secret_env: ...").
            key, msg = msg.split(": ", 1)
            loc = (*loc, key)
    env = _env_name(loc)
    where = f"environment variable {env}" if env else origin
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {_key_path(loc)}: {msg}{more}"
