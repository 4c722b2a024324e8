"""Secrets are named in configuration (an environment variable or a file), never written in it.

`resolve_secret` is the one way a collector or a settings section reads one: a missing reference
fails with a one-line message naming the key, and the value stays wrapped in a `SecretStr` so it
cannot reach a log or an error by accident.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import SecretStr


def resolve_secret(*, env: str = "", file: str = "", what: str, key: str) -> SecretStr:
    """The secret in environment variable `env`, else in `file` (trimmed).

    `what` names the secret for people ("BambooHR API key"), `key` the config key that names
    the reference; both appear in the error, the value never does. Raises ValueError, which a
    settings validator turns into a config error and a collector into a collection error.
    """
    if env:
        value = os.environ.get(env)
        if not value:
            raise ValueError(f"{key}: environment variable {env} (the {what}) is not set")
        return SecretStr(value)
    if not file:
        raise ValueError(f"{key}: no environment variable or file names the {what}")
    try:
        return SecretStr(Path(file).read_text().strip())
    except OSError as exc:
        raise ValueError(f"{key}: cannot read {what} file {file}: {exc.strerror}") from None
