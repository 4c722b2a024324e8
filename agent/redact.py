"""Keep secrets out of logs, error messages and evidence."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from structlog.typing import EventDict

SECRET_KEY_NAMES = re.compile(
    r"(secret|password|passwd|token|api_?key|private|credential|authorization|signature|session_?key)", re.I
)
_PATTERNS = [
    re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),  # AWS access key ids
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*"),  # bearer tokens
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*"),  # JWTs
    re.compile(r"(?i)((?:secret|password|token|api_?key)\s*[=:]\s*)([^\s,;&]+)"),
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),  # user:password in URLs
]
MASK = "***"


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: m.group(1) + MASK, text)
        else:
            text = pattern.sub(MASK, text)
    return text


def redact_event(_logger: Any, _method: str, event: EventDict) -> EventDict:
    """structlog processor: masks secret-looking keys and secret-looking substrings."""
    for key, value in list(event.items()):
        if SECRET_KEY_NAMES.search(key):
            event[key] = MASK
        elif isinstance(value, str):
            event[key] = redact(value)
    return event


def describe_error(exc: BaseException) -> str:
    """An exception as one redacted line: our own errors as worded, anything else with its type."""
    from agent.errors import CollectorError

    text = str(exc) if isinstance(exc, CollectorError) else f"{type(exc).__name__}: {exc}"
    return redact(" ".join(text.split()))[:2000]
