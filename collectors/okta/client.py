"""Shared Okta plumbing: the okta SDK's client, its retries, paging, concurrency and error messages.

Every Okta collector calls through one `OktaApi` per org, so retries, the cap on requests in flight
and the wording of failures stay uniform:

- The SDK (async) runs on an event loop the `OktaApi` owns (loop.py); collectors stay synchronous.
- Requests go through the SDK's request executor (its SSWS or private_key_jwt authentication, its
  OAuth token cache, its rate-limit retry, see executor.py) and are read as Okta's JSON, not the
  SDK's typed models: those re-format timestamps, and fail a whole listing on a value their enums
  do not know yet (a new factor type or admin role type).
- 5xx answers, dropped connections and timeouts are retried here with exponential back-off
  (1 s, 2 s, 4 s ... capped by `[okta] max_retry_wait`), up to `[okta] max_attempts`.
- Listings are paged by the `after` cursor of the `rel="next"` link (the `Link` header, or
  `_links.next` in the body of the IAM listings); each next page is fetched while the caller
  works on the current one, and a page that is not a JSON list of objects fails the listing.
- Requests in flight per org are at most `[okta] max_concurrency`, whichever collectors and
  threads send them; per-item calls (one per user) fan out concurrently within that cap.
- A failure is one `CollectorError` line naming the call (and, when denied, the scope it needs);
  never a token.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import weakref
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from okta.client import Client
from okta.constants import LOGGER_NAME
from okta.errors.http_error import HTTPError
from okta.errors.okta_api_error import OktaAPIError

from agent.errors import CollectorError, InputDataError
from agent.logs import get_logger
from agent.plugin import resolve_secret
from collectors.errors import Failure, adapter, by_status, failure, translate
from collectors.okta.executor import Executor, RateLimitWait, TimedHttpClient, pause
from collectors.okta.fields import path
from collectors.okta.loop import EventLoop
from collectors.okta.scopes import SCOPES
from collectors.okta.settings import OktaSettings, org_host

log = get_logger()

Item = dict[str, Any]
USER_AGENT = "annexa-evidence-collector"
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
TOKEN_CALL = "POST /oauth2/v1/token for scopes " + " ".join(SCOPES)
# The SDK refuses a plain-http org URL unless this is set; settings allow one for loopback hosts only.
HTTPS_CHECK_OFF = "OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"


@adapter(OktaAPIError)
def _okta_error(exc: OktaAPIError) -> Failure:
    """Okta's error document: `errorCode` (E0000006 ...) and `errorSummary`; the OAuth token
    endpoint's `error`/`error_description` arrive in the same fields."""
    return by_status(exc.status, code=str(exc.error_code or ""), detail=str(exc.error_summary or ""))


@adapter(HTTPError)
def _http_error(exc: HTTPError) -> Failure:
    """An error answer without Okta's error document (a gateway's page)."""
    return by_status(exc.status, detail="an answer that is not Okta's error document")


def _secret(settings: OktaSettings) -> dict[str, Any]:
    """The SDK's authentication settings: SSWS with the API token, else the service app's key."""
    try:
        if settings.api_token_env:
            token = resolve_secret(env=settings.api_token_env, what="Okta API token", key="api_token_env")
            return {"authorizationMode": "SSWS", "token": token.get_secret_value()}
        key = resolve_secret(
            file=settings.private_key_file, what="service app private key", key="private_key_file"
        ).get_secret_value()
    except ValueError as exc:
        raise CollectorError(f"[okta] {exc}") from None
    try:
        loaded = serialization.load_pem_private_key(key.encode(), password=None)
    except (ValueError, TypeError):
        loaded = None
    if not isinstance(loaded, rsa.RSAPrivateKey):  # private_key_jwt signs with RS256
        raise CollectorError(
            f"[okta] private_key_file {settings.private_key_file}: not an unencrypted RSA private key (PEM)"
        )
    return {
        "authorizationMode": "PrivateKey",
        "clientId": settings.client_id,
        "scopes": list(SCOPES),
        "privateKey": key,
    }


def sdk_config(settings: OktaSettings) -> dict[str, Any]:
    """The okta SDK's `Client` configuration for `[okta]`."""
    return {
        "orgUrl": settings.org_url,
        "userAgent": USER_AGENT,
        "rateLimit": {"maxRetries": settings.max_attempts - 1},
        "requestTimeout": 0,  # see executor.py: TimedHttpClient bounds each request instead
        "cache": {"enabled": False},
        "logging": {"enabled": False},  # its debug log would print request headers
        "requestExecutor": functools.partial(Executor, max_wait=settings.max_retry_wait),
        "httpClient": functools.partial(TimedHttpClient, timeout=settings.timeout),
        **_secret(settings),
    }


def _new_client(config: dict[str, Any]) -> Client:
    """The SDK's client; its constructor adds a log handler to the SDK's logger on every call, so
    the ones it added are taken off again (the logger stays disabled)."""
    sdk_log = logging.getLogger(LOGGER_NAME)
    handlers = list(sdk_log.handlers)
    if urlsplit(config["orgUrl"]).scheme == "http":
        os.environ[HTTPS_CHECK_OFF] = "true"
    try:
        return Client(config)
    except ValueError as exc:
        raise CollectorError(
            f"[okta] the okta SDK refused the settings: {' '.join(str(exc).split())}"
        ) from None
    finally:
        for handler in sdk_log.handlers[len(handlers) :]:
            sdk_log.removeHandler(handler)


class _Connection:
    """What the loop closes when the `OktaApi` goes: the aiohttp session (kept apart from the
    `OktaApi` so that its finalizer does not keep it alive)."""

    session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


class OktaApi:
    """The okta SDK for one org, shared by every collector of that org."""

    def __init__(self, settings: OktaSettings) -> None:
        self.settings = settings
        self.host = org_host(settings.org_url)
        config = sdk_config(settings)
        self._loop = EventLoop(f"okta-{self.host}")
        self._connection = _Connection()
        weakref.finalize(self, self._loop.stop, self._connection.close)
        self._executor: Executor = self._loop.run(self._connect(config))
        self._inflight = asyncio.Semaphore(settings.max_concurrency)

    async def _connect(self, config: dict[str, Any]) -> Executor:
        executor: Executor = _new_client(config).get_request_executor()  # type: ignore[no-untyped-call]
        # No cap on the pool: `_inflight` is the cap, and a request queued in aiohttp's pool would
        # spend its [okta] timeout waiting there.
        self._connection.session = aiohttp.ClientSession()
        executor.set_session(self._connection.session)  # type: ignore[no-untyped-call]
        return executor

    # --- one call ---------------------------------------------------------------------------------
    def _failed(
        self, error: BaseException, call: str, scope: str, attempts: int | None = None
    ) -> CollectorError:
        if isinstance(error, TimeoutError):
            found = Failure("other", detail=f"no answer within [okta] timeout ({self.settings.timeout} s)")
        else:
            found = failure(error)
        if found.kind == "denied" and call != TOKEN_CALL:
            call = f"{call} needs {scope}"
        return translate(found, "okta", call, attempts)

    async def _send(self, url: str, what: str, scope: str) -> tuple[aiohttp.ClientResponse, str]:
        """`GET url` (relative to the org) within the org's cap; 429s are the SDK's to wait out,
        5xx and dropped connections are retried here with back-off."""
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                async with self._inflight:
                    request, error = await self._executor.create_request("GET", url)
                    if error is not None:  # the service app's access token was refused
                        raise self._failed(error, TOKEN_CALL, scope)
                    response, body, error = await self._executor.execute(request)  # type: ignore[no-untyped-call]
            except (RateLimitWait, ValueError) as exc:
                raise self._failed(exc, what, scope) from None
            if error is None:
                return response, body
            status = failure(error).status
            transient = status in TRANSIENT_STATUS or isinstance(error, aiohttp.ClientError | TimeoutError)
            if attempt < attempts and transient:
                wait = min(2.0 ** (attempt - 1), float(self.settings.max_retry_wait))
                log.info("okta.retry", call=what, status=status, attempt=attempt, wait=wait)
                await pause(wait)
                continue
            raise self._failed(error, what, scope, attempt if attempt > 1 else None)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _page(self, path: str, scope: str, params: dict[str, Any]) -> tuple[list[Item], str | None]:
        """One page of a listing and the cursor of the next one (None: the last page)."""
        what = f"GET {path}"
        url = f"{path}?{urlencode(params)}" if params else path
        response, body = await self._send(url, what, scope)
        try:
            doc = json.loads(body)
        except ValueError:
            raise InputDataError(f"{what}: an answer that is not JSON") from None
        items = doc.get("value") if isinstance(doc, dict) else doc  # the IAM listings wrap theirs
        if not isinstance(items, list):
            raise InputDataError(f"{what}: a page that is not a JSON list")
        if not all(isinstance(item, dict) for item in items):
            raise InputDataError(f"{what}: an item that is not a JSON object")
        return items, _next_cursor(response, doc, what)

    async def _listing(self, path: str, scope: str, params: dict[str, Any]) -> list[Item]:
        """Every item of a (short) listing: one user's factors or roles, one policy's rules."""
        found, cursor, seen = [], None, _Cursors(f"GET {path}")
        while True:
            items, cursor = await self._page(path, scope, params | seen.after(cursor))
            found.extend(items)
            if cursor is None:
                return found

    async def _listings(self, paths: Sequence[str], scope: str, params: dict[str, Any]) -> list[list[Item]]:
        tasks = [asyncio.ensure_future(self._listing(path, scope, params)) for path in paths]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:  # the first failure fails them all: stop the rest
                task.cancel()
            raise

    # --- what collectors call -----------------------------------------------------------------------
    def pages(self, path: str, scope: str, **params: Any) -> Iterator[list[Item]]:
        """Each page of the listing `GET path?params`, as it is consumed; the next page is fetched
        while the caller works on this one. `scope` is what a denial says was needed."""
        seen = _Cursors(f"GET {path}")
        pending: Future[tuple[list[Item], str | None]] | None = self._loop.submit(
            self._page(path, scope, params)
        )
        try:
            while pending is not None:
                items, cursor = pending.result()
                following = None if cursor is None else self._page(path, scope, params | seen.after(cursor))
                pending = None if following is None else self._loop.submit(following)
                yield items
        finally:
            if pending is not None:
                pending.cancel()

    def listings(self, paths: Sequence[str], scope: str, **params: Any) -> list[list[Item]]:
        """The complete listing at each of `paths` (one per user, say), fetched concurrently within
        the org's cap, in the order of `paths`; any one failing fails them all."""
        if not paths:
            return []
        return self._loop.run(self._listings(paths, scope, params))


class _Cursors:
    """The `after` cursors a listing was paged with: one coming back again would loop forever."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._seen: set[str] = set()

    def after(self, cursor: str | None) -> dict[str, str]:
        """The query parameter that asks for the page after `cursor` ({} for the first page)."""
        if cursor is None:
            return {}
        if cursor in self._seen:
            raise InputDataError(f"{self.what}: the API returned the same page cursor twice")
        self._seen.add(cursor)
        return {"after": cursor}


def _next_cursor(response: aiohttp.ClientResponse, doc: Any, what: str) -> str | None:
    """The `after` cursor of the `rel="next"` link: in the `Link` headers (Okta sends `self`, then
    `next`), or in the body's `_links.next.href` (the IAM listings)."""
    link = response.links.get("next")
    href: Any = str(link["url"]) if link is not None and "url" in link else None
    if href is None and isinstance(doc, dict):
        href = path(doc, what, "_links", "next", "href")
    if href is None:
        return None
    after = parse_qs(urlsplit(str(href)).query).get("after")
    if not after or not after[0]:
        raise InputDataError(f"{what}: a next page without an `after` cursor")
    return after[0]


def quoted(value: str) -> str:
    """An id as one path segment."""
    return quote(value, safe="")
