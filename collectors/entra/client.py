"""Shared Microsoft Graph plumbing: credentials, the client, paging, throttling and error messages.

Every Entra collector lists through `Graph.pages`, so retry policy and the wording of
failures recorded on observations stay uniform. msgraph-sdk is asynchronous while collectors
are synchronous generators run in threads: each `Graph` owns one event loop for its thread
and drives the SDK page by page, so records stream out as pages arrive.

Throttling (429/503/504) is retried here rather than by kiota's retry handler, which is
switched off: kiota would wait whatever `Retry-After` says (up to three minutes) without a
bound we control and without a trace in our logs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlparse

import httpx
from azure.core.credentials import AccessToken, TokenCredential
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    CertificateCredential,
    ClientSecretCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from kiota_abstractions.api_error import APIError
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware.options import RetryHandlerOption
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_request_adapter import options as graph_default_options
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

from agent.errors import CollectorError, InputDataError
from agent.logs import get_logger
from agent.plugin import resolve_secret
from collectors.entra.settings import EntraSettings
from collectors.errors import Failure, adapter, by_status, translate

log = get_logger()

API_VERSION = "v1.0"
RETRY_STATUSES = frozenset({429, 503, 504})


class StaticToken(TokenCredential):
    """A bearer token minted elsewhere (`az account get-access-token`, a sidecar), used as is."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        expires = datetime.now(UTC) + timedelta(hours=1)
        return AccessToken(self._token, int(expires.timestamp()))


def credential(settings: EntraSettings) -> TokenCredential:
    """The azure-identity credential `[entra]` names; secrets are read only here, by reference."""
    if settings.access_token_env:
        token = resolve_secret(
            env=settings.access_token_env, what="Graph access token", key="access_token_env"
        )
        return StaticToken(token.get_secret_value())
    if settings.client_secret_env or settings.client_secret_file:
        secret = resolve_secret(
            env=settings.client_secret_env,
            file=settings.client_secret_file,
            what="client secret",
            key="client_secret_env",
        )
        return ClientSecretCredential(settings.tenant_id, settings.client_id, secret.get_secret_value())
    if settings.certificate_path:
        try:
            return CertificateCredential(
                settings.tenant_id, settings.client_id, certificate_path=settings.certificate_path
            )
        except ValueError as exc:
            raise CollectorError(f"[entra] certificate_path {settings.certificate_path}: {exc}") from None
    if settings.workload_identity:
        return WorkloadIdentityCredential(tenant_id=settings.tenant_id, client_id=settings.client_id or None)
    return ManagedIdentityCredential(client_id=settings.client_id or None)


def retry_after(headers: Any, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date), None when absent."""
    value = (headers or {}).get("retry-after") if headers is not None else None
    if not value:
        return None
    value = str(value).strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@adapter(APIError)
def _api_error(exc: APIError) -> Failure:
    detail = exc.primary_message or ""
    if detail.startswith("The server returned an unexpected status code"):
        detail = ""  # kiota's wording for an unreadable error body says nothing useful
    code = getattr(getattr(exc, "error", None), "code", None) or ""
    return by_status(exc.response_status_code, code, detail)


@adapter(ClientAuthenticationError)
def _authentication_error(exc: ClientAuthenticationError) -> Failure:
    return Failure("unauthenticated", detail=exc.message or type(exc).__name__)


class Graph:
    """One GraphServiceClient on its own event loop, for one collector run in one thread."""

    def __init__(self, settings: EntraSettings) -> None:
        self.settings = settings
        self._loop = asyncio.new_event_loop()
        host = urlparse(settings.graph_url).hostname or ""
        auth = AzureIdentityAuthenticationProvider(credential(settings), allowed_hosts=[host])
        http = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(timeout=httpx.Timeout(settings.timeout)),
            options={**graph_default_options, RetryHandlerOption.get_key(): RetryHandlerOption(0, 0, False)},
        )
        request_adapter = GraphRequestAdapter(auth, client=http)
        request_adapter.base_url = f"{settings.graph_url.rstrip('/')}/{API_VERSION}"
        self._http = http
        self.client = GraphServiceClient(request_adapter=request_adapter)

    def close(self) -> None:
        try:
            self._loop.run_until_complete(self._http.aclose())
        finally:
            self._loop.close()

    def call(self, what: str, request: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        """Run one request, retrying throttling with a bounded wait; failures become CollectorError."""
        attempts = self.settings.max_attempts
        call = f"Graph {what}"
        for attempt in range(1, attempts + 1):
            try:
                return self._loop.run_until_complete(request())
            except APIError as exc:
                status = exc.response_status_code
                if status not in RETRY_STATUSES or attempt == attempts:
                    tried = attempts if status in RETRY_STATUSES else None
                    raise translate(exc, "entra", call, tried) from None
                wait = retry_after(exc.response_headers)
                wait = min(wait if wait is not None else 2.0 ** (attempt - 1), self.settings.max_retry_wait)
                log.info("graph.throttled", what=what, status=status, attempt=attempt, wait_s=wait)
                time.sleep(wait)
            except (ClientAuthenticationError, httpx.HTTPError) as exc:
                raise translate(exc, "entra", call) from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    def pages(self, what: str, builder: Any, configuration: Any = None) -> Iterator[Any]:
        """Every item of a collection, following `@odata.nextLink` until the last page."""
        page = self.call(what, lambda: builder.get(request_configuration=configuration))
        while page is not None:
            if page.value is None:
                raise InputDataError(f"Graph {what}: a page without a 'value' array")
            yield from page.value
            link = page.odata_next_link
            if not link:
                return

            def next_page(link: str = link) -> Any:
                return builder.with_url(link).get()

            page = self.call(what, next_page)
        raise InputDataError(f"Graph {what}: empty response")


def iso(value: datetime | None) -> str | None:
    """Graph timestamps as ISO 8601 UTC strings (None stays None: "never")."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def enum_value(value: Any) -> Any:
    """SDK enums as their wire strings, so evidence reads like Graph's own JSON."""
    return getattr(value, "value", value)


def require_id(item: Any, what: str) -> str:
    """Every Graph object must have an id; one without is malformed and rejects the listing."""
    identifier = getattr(item, "id", None)
    if not identifier:
        raise InputDataError(f"Graph {what}: an object without an id")
    return str(identifier)
