"""Shared GCP plumbing: credentials, clients, retries with backoff, paging and reading failures.

Every GCP call goes through `GcpApi.call` (or `GcpApi.pages`), so quota errors are retried the
same way everywhere and every failure becomes one `CollectorError` line, safe to store: the
permission that was missing or the status Google answered, never a token or a URL with one.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, TypeVar

import google.auth
import google_auth_httplib2
import httplib2
import requests
from google.api_core.client_options import ClientOptions
from google.api_core.exceptions import GoogleAPICallError
from google.auth.credentials import Credentials
from google.auth.exceptions import DefaultCredentialsError, GoogleAuthError
from google.cloud import resourcemanager_v3
from google.oauth2.credentials import Credentials as TokenCredentials
from google.protobuf import json_format
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from agent.errors import CollectorError, InputDataError
from agent.logs import get_logger
from agent.plugin.concurrency import ordered_map
from collectors.errors import Failure, adapter, by_status, by_type, failure, malformed, translate
from collectors.gcp.settings import GcpSettings

log = get_logger()

T = TypeVar("T")
R = TypeVar("R")
READ_ONLY_SCOPES = ["https://www.googleapis.com/auth/cloud-platform.read-only"]
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
DENIED = frozenset({403})  # a missing permission; 401 is a token Google did not accept
MAX_BACKOFF = 32.0
# Where each discovery-based API lives under an endpoint override (its discovery `servicePath`).
SERVICE_PATHS = {"iam": "", "storage": "storage/v1/"}
_TRANSIENT = (requests.ConnectionError, requests.Timeout, httplib2.HttpLib2Error, OSError)


def load_credentials(settings: GcpSettings) -> Credentials:
    """A static token from `[gcp] access_token_env`, else Application Default Credentials."""
    if settings.access_token_env:
        token = os.environ.get(settings.access_token_env)
        if not token:
            raise CollectorError(
                f"[gcp] access_token_env: environment variable {settings.access_token_env} is not set"
            )
        return TokenCredentials(token)
    try:
        credentials, _ = google.auth.default(scopes=READ_ONLY_SCOPES)
    except DefaultCredentialsError:
        raise CollectorError(
            "no Google credentials: set up Application Default Credentials or [gcp] access_token_env"
        ) from None
    return credentials


@adapter(HttpError)
def _http_error(exc: HttpError) -> Failure:
    """google-api-python-client's error: `reason` is Google's message, without the request URL."""
    return by_status(int(exc.resp.status), detail=str(exc.reason or ""), denied=DENIED)


@adapter(GoogleAPICallError)
def _call_error(exc: GoogleAPICallError) -> Failure:
    """google-api-core's error, from the JSON body where there is one (its text starts with the URL)."""
    if exc.code is None:
        return by_type(exc)
    try:
        detail = str(exc.response.json()["error"]["message"])
    except Exception:
        detail = str(exc.message).rsplit(": ", 1)[-1]
    return by_status(int(exc.code), detail=detail, denied=DENIED)


adapter(json_format.Error)(malformed)


def retryable(exc: BaseException) -> bool:
    """Quota exhaustion (429 / RESOURCE_EXHAUSTED), server errors and dropped connections."""
    status = failure(exc).status
    if status is not None:
        return status in RETRYABLE_STATUS
    return isinstance(exc, _TRANSIENT)


class GcpApi:
    """One per run, shared by every GCP target: credentials, per-thread clients, retries, fan-out.

    Clients are per thread because httplib2 (under the discovery clients) is not thread-safe
    and a requests session's connection pool is sized for one caller.
    """

    def __init__(self, settings: GcpSettings) -> None:
        self.settings = settings
        self.credentials = load_credentials(settings)
        self._local = threading.local()

    # --- clients ----------------------------------------------------------------------------------
    def _cached(self, key: str, make: Callable[[], T]) -> T:
        clients: dict[str, Any] = self._local.__dict__.setdefault("clients", {})
        if key not in clients:
            clients[key] = make()
        client: T = clients[key]
        return client

    def _options(self) -> ClientOptions | None:
        endpoint = self.settings.api_endpoint
        return ClientOptions(api_endpoint=endpoint) if endpoint else None

    def organizations(self) -> resourcemanager_v3.OrganizationsClient:
        return self._cached("organizations", lambda: resourcemanager_v3.OrganizationsClient(
            credentials=self.credentials, transport="rest", client_options=self._options()
        ))  # fmt: skip

    def folders(self) -> resourcemanager_v3.FoldersClient:
        return self._cached("folders", lambda: resourcemanager_v3.FoldersClient(
            credentials=self.credentials, transport="rest", client_options=self._options()
        ))  # fmt: skip

    def projects(self) -> resourcemanager_v3.ProjectsClient:
        return self._cached("projects", lambda: resourcemanager_v3.ProjectsClient(
            credentials=self.credentials, transport="rest", client_options=self._options()
        ))  # fmt: skip

    def discovery(self, api: str) -> Any:
        """A google-api-python-client service from its bundled discovery document (works offline)."""

        def make() -> Any:
            endpoint = self.settings.api_endpoint
            options = {"api_endpoint": endpoint.rstrip("/") + "/" + SERVICE_PATHS[api]} if endpoint else None
            http = google_auth_httplib2.AuthorizedHttp(
                self.credentials, http=httplib2.Http(timeout=self.settings.timeout)
            )
            return discovery.build(
                api, "v1", http=http, client_options=options, static_discovery=True, cache_discovery=False
            )

        return self._cached(api, make)

    # --- calls ------------------------------------------------------------------------------------
    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one API call, retrying quota and transient errors with exponential backoff and jitter.

        `what` names the permission and resource (`resourcemanager.projects.getIamPolicy projects/x`):
        it is what an access-denied error says was missing.
        """
        delay = self.settings.initial_backoff
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return fn()
            except (
                GoogleAPICallError,
                HttpError,
                GoogleAuthError,
                ValueError,
                json_format.Error,
                *_TRANSIENT,
            ) as exc:
                if attempt < attempts and retryable(exc):
                    wait = min(delay, MAX_BACKOFF) * random.uniform(0.5, 1.0)
                    status = failure(exc).status
                    log.info("gcp.retry", call=what, status=status, attempt=attempt, wait=round(wait, 2))
                    time.sleep(wait)
                    delay *= 2
                    continue
                raise translate(exc, "gcp", what, attempt if attempt > 1 else None) from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    def fan_out(self, items: Sequence[T], fn: Callable[[T], R]) -> Iterator[tuple[T, R | CollectorError]]:
        """`fn` over `items` on at most `[gcp] max_concurrency` threads, yielded in order.

        A failed call (`CollectorError`) is returned for its item, so one unreadable project is an
        error for that project only; malformed data (`InputDataError`) still fails the listing.
        """

        def guarded(item: T) -> R | CollectorError:
            try:
                return fn(item)
            except InputDataError:
                raise
            except CollectorError as exc:
                return exc

        results = ordered_map(items, guarded, self.settings.max_concurrency, "gcp")
        yield from zip(items, results, strict=True)

    def pages(self, what: str, fetch: Callable[[str], tuple[list[T], str]]) -> Iterator[T]:
        """Every item of a paged listing; `fetch(page_token)` returns one page and the next token.

        Each page is one retried call, so a quota error on page 7 does not restart the listing.
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
