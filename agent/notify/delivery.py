"""What a channel's `send` may raise, and the HTTP handling channels share.

A channel says whether a failed attempt is worth repeating and how long the receiver asked it to
wait; the dispatcher (agent/notify/dispatch.py) does the waiting and the counting. Reasons are
written here, never copied from an HTTP library's exception: those name the URL, and a chat
webhook's URL is its secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from agent.config.secrets import resolve_secret
from agent.notify.message import Message
from agent.store.types import utcnow


class Undelivered(Exception):
    """An attempt failed: `retryable` when the receiver may take it later (after `retry_after`
    seconds, if it said so). The message names what failed, never a URL or a secret."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after


class Send(Protocol):
    """A channel's implementation: deliver `message` once, or raise Undelivered."""

    def __call__(self, message: Message, section: Any, timeout: float) -> None: ...


def secret(what: str, *, env: str, file: str = "", key: str) -> str:
    """A channel's secret by reference; a missing one is a failure no retry mends."""
    try:
        return resolve_secret(env=env, file=file, what=what, key=key).get_secret_value()
    except ValueError as exc:
        raise Undelivered(str(exc), retryable=False) from None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """A Retry-After header in seconds (delta-seconds or an HTTP date); None if absent or unreadable."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def refused(status: int, headers: Mapping[str, str], what: str) -> Undelivered:
    """A receiver's non-2xx answer: rate limits, timeouts and server errors are worth retrying,
    any other refusal (a bad request, a revoked URL) is not."""
    retryable = status in {408, 429} or status >= 500
    return Undelivered(
        f"{what} answered HTTP {status}", retryable=retryable, retry_after=retry_after(headers)
    )


def post_json(url: str, body: bytes, headers: Mapping[str, str], timeout: float, what: str) -> httpx.Response:
    """POST `body` (JSON) to `url`; a 2xx response is returned, anything else raised as Undelivered."""
    try:
        response = httpx.post(
            url, content=body, headers={"Content-Type": "application/json", **headers}, timeout=timeout
        )
    except httpx.TimeoutException:
        raise Undelivered(f"{what} did not answer in time", retryable=True) from None
    except httpx.TransportError as exc:
        raise Undelivered(f"{what} unreachable ({type(exc).__name__})", retryable=True) from None
    if not response.is_success:
        raise refused(response.status_code, response.headers, what)
    return response
