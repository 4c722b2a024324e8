"""Shared GCP plumbing: credentials, clients, fan-out, and the GCP-only SDK's errors.

Every GCP call goes through `GcpApi.call` (or `GcpApi.pages`), the retried call and pager shared
with every Google API client (`collectors.google_api`), so quota errors are retried the same way
everywhere and every failure becomes one `CollectorError` line, safe to store: the permission that
was missing or the status Google answered, never a token or a URL with one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import google.auth
from google.api_core.client_options import ClientOptions
from google.api_core.exceptions import GoogleAPICallError
from google.auth.credentials import Credentials
from google.auth.exceptions import DefaultCredentialsError
from google.cloud import resourcemanager_v3
from google.oauth2.credentials import Credentials as TokenCredentials
from google.protobuf import json_format

from agent.errors import CollectorError, InputDataError
from agent.plugin.concurrency import ordered_map
from collectors.errors import Failure, adapter, by_status, by_type, malformed
from collectors.gcp.settings import GcpSettings
from collectors.google_api import DENIED, FAILURES, GoogleCalls, PerThread, discovery_service

T = TypeVar("T")
R = TypeVar("R")
READ_ONLY_SCOPES = ["https://www.googleapis.com/auth/cloud-platform.read-only"]
# Where each discovery-based API lives under an endpoint override (its discovery `servicePath`).
SERVICE_PATHS = {"iam": "", "storage": "storage/v1/"}


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


class GcpApi:
    """One per run, shared by every GCP target: credentials, per-thread clients, retries, fan-out."""

    def __init__(self, settings: GcpSettings) -> None:
        self.settings = settings
        self.credentials = load_credentials(settings)
        self._clients = PerThread()
        self._calls = GoogleCalls(
            "gcp",
            settings.max_attempts,
            settings.initial_backoff,
            failures=(*FAILURES, GoogleAPICallError, json_format.Error),
        )

    # --- clients ----------------------------------------------------------------------------------
    def _cached(self, key: str, make: Callable[[], T]) -> T:
        return self._clients.get(key, make)

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
        endpoint = self.settings.api_endpoint
        root = endpoint.rstrip("/") + "/" + SERVICE_PATHS[api] if endpoint else None
        return self._cached(api, lambda: discovery_service(
            api, "v1", self.credentials, endpoint=root, timeout=self.settings.timeout
        ))  # fmt: skip

    # --- calls ------------------------------------------------------------------------------------
    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one API call, retrying quota and transient errors with exponential backoff and jitter.

        `what` names the permission and resource (`resourcemanager.projects.getIamPolicy projects/x`):
        it is what an access-denied error says was missing.
        """
        return self._calls.call(what, fn)

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
        return self._calls.pages(what, fetch)
