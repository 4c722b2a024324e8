"""What every Google API client (GCP, Google Workspace) shares: reading google-api-python-client's
errors, which failures are worth another attempt, the retried call and the page-token pager.

It lives once because `collectors.errors` keeps one adapter per exception type: both systems raise
`HttpError`, and must read it the same way. A 403 is a denial, except when Google's `errors[].reason`
says a rate limit was hit (`rateLimitExceeded`, `userRateLimitExceeded`, as the Admin SDK and older
APIs signal quota): that is throttling, retried like a 429. Waits use this module's `time`, which a
test replaces (tests/clock.py `FakeTime`), so no test sleeps for real.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import google_auth_httplib2
import httplib2
import requests
from google.auth import transport
from google.auth.credentials import Credentials
from google.auth.exceptions import GoogleAuthError, RefreshError
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from agent.errors import InputDataError
from agent.logs import get_logger
from collectors.errors import Failure, adapter, by_status, failure, translate

log = get_logger()

T = TypeVar("T")
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
DENIED = frozenset({403})  # a missing permission; 401 is a token Google did not accept
MAX_BACKOFF = 32.0
TRANSIENT: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    httplib2.HttpLib2Error,
    OSError,
)
# What a call through google-api-python-client (and google-auth under it) may raise.
FAILURES: tuple[type[BaseException], ...] = (HttpError, GoogleAuthError, ValueError, *TRANSIENT)


def reasons(exc: HttpError) -> list[str]:
    """Google's machine-readable reasons: `error.errors[].reason`, and an ErrorInfo's `details[].reason`."""
    try:
        doc = json.loads(exc.content)
    except ValueError:
        return []
    error = doc.get("error") if isinstance(doc, dict) else None
    if not isinstance(error, dict):
        return []
    entries = [e for key in ("errors", "details") if isinstance(error.get(key), list) for e in error[key]]
    return [str(e["reason"]) for e in entries if isinstance(e, dict) and e.get("reason")]


def rate_limited(exc: BaseException) -> bool:
    """A 403 that is quota, not a denial."""
    return (
        isinstance(exc, HttpError)
        and int(exc.resp.status) == 403
        and not RATE_LIMIT_REASONS.isdisjoint(reasons(exc))
    )


@adapter(HttpError)
def _http_error(exc: HttpError) -> Failure:
    """google-api-python-client's error: `reason` is Google's message (without the request URL), the
    code its first machine-readable reason."""
    status = int(exc.resp.status)
    found = reasons(exc)
    code, detail = (found[0] if found else ""), str(exc.reason or "")
    if rate_limited(exc):
        return Failure("refused", status, code, detail)
    return by_status(status, code=code, detail=detail, denied=DENIED)


@adapter(RefreshError)
def _refresh_error(exc: RefreshError) -> Failure:
    """The token endpoint refused the grant: its `error: error_description`, not the response dict."""
    return Failure("unauthenticated", detail=str(exc.args[0]) if exc.args else type(exc).__name__)


def retryable(exc: BaseException) -> bool:
    """Quota exhaustion (429, RESOURCE_EXHAUSTED, a rate-limit 403), server errors, dropped connections."""
    if rate_limited(exc):
        return True
    status = failure(exc).status
    if status is not None:
        return status in RETRYABLE_STATUS
    return isinstance(exc, TRANSIENT)


def retry_after(exc: BaseException) -> float:
    """Seconds the answer's `Retry-After` asks for (0 when it asks for none)."""
    if not isinstance(exc, HttpError):
        return 0.0
    try:
        return max(0.0, float(exc.resp.get("retry-after") or 0))
    except ValueError:
        return 0.0  # an HTTP date: the backoff stands


def discovery_service(
    api: str,
    version: str,
    credentials: Credentials,
    *,
    endpoint: str | None,
    timeout: float,
    refresh: bool = True,
) -> Any:
    """A google-api-python-client service from its bundled discovery document (works offline), on an
    httplib2 connection of its own. `refresh=False` for a token that cannot be renewed: a 401 is then
    the answer, not a cue to attempt a refresh that can only fail with a less useful message."""
    codes = transport.DEFAULT_REFRESH_STATUS_CODES if refresh else ()
    http = google_auth_httplib2.AuthorizedHttp(
        credentials, http=httplib2.Http(timeout=timeout), refresh_status_codes=codes
    )
    options = {"api_endpoint": endpoint} if endpoint else None
    return discovery.build(
        api, version, http=http, client_options=options, static_discovery=True, cache_discovery=False
    )


class PerThread:
    """Clients made once per thread: httplib2 (under the discovery clients) is not thread-safe and a
    requests session's connection pool is sized for one caller."""

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self, key: str, make: Callable[[], T]) -> T:
        clients: dict[str, Any] = self._local.__dict__.setdefault("clients", {})
        if key not in clients:
            clients[key] = make()
        client: T = clients[key]
        return client


@dataclass(frozen=True)
class GoogleCalls:
    """How one system calls Google: every failure is retried or translated here, the same way.

    `system` picks the wording of errors (`collectors.errors.WORDINGS`) and names the retry log
    event; `failures` are the exceptions a call may raise (a system adds its other SDKs' own).
    """

    system: str
    attempts: int
    initial_backoff: float
    failures: tuple[type[BaseException], ...] = FAILURES

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one API call, retrying quota and transient errors with exponential backoff and jitter
        (never shorter than a `Retry-After`), then failing with one line naming `what`."""
        delay = self.initial_backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except self.failures as exc:
                if attempt < self.attempts and retryable(exc):
                    wait = max(min(delay, MAX_BACKOFF) * random.uniform(0.5, 1.0), retry_after(exc))
                    wait = min(wait, MAX_BACKOFF)
                    status = failure(exc).status
                    log.info(
                        f"{self.system}.retry", call=what, status=status, attempt=attempt, wait=round(wait, 2)
                    )
                    time.sleep(wait)
                    delay *= 2
                    continue
                raise translate(exc, self.system, what, attempt if attempt > 1 else None) from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    def pages(self, what: str, fetch: Callable[[str], tuple[list[T], str]]) -> Iterator[T]:
        """Every item of a paged listing, page by page as it is consumed; `fetch(page_token)` returns
        one page and the next token ("" on the last).

        Each page is one retried call, so a quota error on page 7 does not restart the listing, and a
        page that fails after its retries fails the listing: never a listing cut short.
        """
        token = ""
        seen: set[str] = set()
        while True:
            items, token = self.call(what, partial(fetch, token))
            yield from items
            if not token:
                return
            if token in seen:
                raise InputDataError(f"{what}: the API returned the same page token twice")
            seen.add(token)
