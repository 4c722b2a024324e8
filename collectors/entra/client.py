"""Shared Microsoft Graph plumbing: credentials, the client, paging, throttling and error messages.

Every Entra collector lists through `Graph.pages`, so retry policy and the wording of
failures recorded on observations stay uniform. msgraph-sdk is asynchronous while collectors
are synchronous generators run in threads: each `Graph` owns one event loop for its thread
and drives the SDK page by page, so records stream out as pages arrive.

The SDK's request builders make the requests (URL, `$select`, authentication, middleware) and
its error model reads failures, but pages are read as Graph's JSON, not as the SDK's typed
models: decoding those costs milliseconds of CPU per object, which for a tenant of 50,000
users is minutes with the interpreter lock held, starving every other collector of the run.

Throttling (429/503/504) is retried here rather than by kiota's retry handler, which is
switched off: kiota would wait whatever `Retry-After` says (up to three minutes) without a
bound we control and without a trace in our logs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
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
from kiota_abstractions.request_information import RequestInformation
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware.options import RetryHandlerOption
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
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
ERRORS = {"XXX": ODataError}  # Graph's error document for every failed status, as the SDK reads it
Item = dict[str, Any]
T = TypeVar("T", dict[str, Any], list[Any])


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
        self._adapter = request_adapter
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

    def get(self, what: str, request: Callable[[], RequestInformation]) -> Item:
        """One request's answer as Graph's JSON object; anything else rejects the call."""

        async def send() -> Any:
            return await self._adapter.send_primitive_async(request(), "bytes", ERRORS)

        body = self.call(what, send)
        try:
            answer = json.loads(body) if body else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise InputDataError(f"Graph {what}: an answer that is not a JSON object")
        return answer

    def pages(self, what: str, builder: Any, configuration: Any = None) -> Iterator[Item]:
        """Every item of a collection, following `@odata.nextLink` until the last page."""
        page = self.get(what, lambda: builder.to_get_request_information(configuration))
        while True:
            items = page.get("value")
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                raise InputDataError(f"Graph {what}: a page without a 'value' array of objects")
            yield from items
            link = page.get("@odata.nextLink")
            if not link:
                return

            def next_page(link: str = str(link)) -> RequestInformation:
                info: RequestInformation = builder.with_url(link).to_get_request_information()
                return info

            page = self.get(what, next_page)


def iso(item: Item, field: str, what: str) -> str | None:
    """A Graph timestamp as an ISO 8601 UTC string (absent or null stays None: "never")."""
    value = item.get(field)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputDataError(f"Graph {what}: {field} {value!r} is not a timestamp") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def require_id(item: Item, what: str) -> str:
    """Every Graph object must have an id; one without is malformed and rejects the listing."""
    identifier = item.get("id")
    if not identifier or not isinstance(identifier, str):
        raise InputDataError(f"Graph {what}: an object without an id")
    return identifier


def nested(item: Item, field: str, kind: type[T], what: str) -> T:
    """A field holding an object or a list; absent or null reads as an empty one, any other value
    rejects the listing (a list's members are checked by the caller's own reading)."""
    value = item.get(field)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        shape = "an object" if kind is dict else "an array"
        raise InputDataError(f"Graph {what}: {field} that is not {shape}")
    return value


def names(item: Item, field: str, what: str) -> list[str]:
    """A field holding a list of strings (ids, enum values), absent reading as none."""
    value = nested(item, field, list, what)
    if not all(isinstance(v, str) for v in value):
        raise InputDataError(f"Graph {what}: {field} that is not a list of strings")
    return value


def fields(item: Item, names: list[str]) -> Item:
    """The named fields of a Graph object as Graph wrote them (absent ones as None)."""
    return {name: item.get(name) for name in names}
