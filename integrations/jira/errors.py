"""The `jira` package's failures as the core's tracker errors: one line, never a URL or a header.

A JIRAError's own text lists the request's URL and headers (the Authorization header among them)
and requests' exceptions name the URL: neither is passed on, only the status and Jira's messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import requests
from jira.exceptions import JIRAError

from agent.notify.delivery import retry_after
from agent.tickets.model import TrackerError, TrackerUnavailable

T = TypeVar("T")
MAX_DETAIL = 300
_SPACES = re.compile(r"\s+")


def _retry_after(response: requests.Response | None) -> float | None:
    return retry_after(response.headers) if response is not None else None


def _detail(exc: JIRAError) -> str:
    """Jira's own messages (`errorMessages`, `errors`), parsed by the package, on one short line."""
    text = _SPACES.sub(" ", exc.text or "").strip()
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "\u2026"


def translated(what: str, call: Callable[[], T]) -> T:
    """`call()`, its failures raised as TrackerUnavailable (429, 5xx, no connection) or TrackerError."""
    try:
        return call()
    except JIRAError as exc:
        status = exc.status_code
        if status is not None and (status == 429 or status >= 500):
            raise TrackerUnavailable(
                f"Jira answered HTTP {status} to {what}", _retry_after(exc.response)
            ) from None
        said = _detail(exc) if status is not None else "unexpected answer"
        raise TrackerError(f"Jira refused to {what}: HTTP {status or '-'}: {said or 'no message'}") from None
    except requests.RequestException as exc:
        raise TrackerUnavailable(f"cannot reach Jira to {what} ({type(exc).__name__})") from None
