"""Shared GitHub plumbing: PyGithub's client, its retry policy, paging, concurrency and error messages.

Every GitHub collector calls through one `GithubApi` per organisation, so retries, the cap on
requests in flight and the wording of failures stay uniform:

- Rate limits are PyGithub's `GithubRetry`, configured here rather than reimplemented: a 403 or
  429 with `Retry-After` (secondary limits) waits that long, a 403 whose body says a limit was hit
  waits for `x-ratelimit-reset` (primary) or `secondary_rate_wait`, 5xx back off exponentially;
  every wait is capped by `[github] max_retry_wait`, past which the call fails and says why.
  PyGithub's own pacing (`seconds_between_requests`) is off: it is not thread-safe, and the
  semaphore below is what keeps the organisation's requests from bursting.
- Requests in flight per organisation are at most `[github] max_concurrency`, whichever
  collectors and threads send them.
- Answers are read as GitHub's JSON, not PyGithub's typed objects: a typed object fetches itself
  again, silently, when a field it expects is absent (as `security_and_analysis` is for a token
  without admin rights), which would hide calls and cost rate limit.
- Listings are paged here, not by PyGithub's `PaginatedList`, which reads a page that is empty,
  `{}` or `null` as the end of the listing: every page must be a JSON list of objects, or the
  listing fails rather than being cut short.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import requests
from cryptography.hazmat.primitives import serialization
from github import Auth, Github, GithubRetry
from github.GithubException import GithubException, RateLimitExceededException

from agent.errors import CollectorError, InputDataError
from agent.plugin import resolve_secret
from agent.plugin.concurrency import ordered_map
from agent.plugin.model import Record
from collectors.errors import Failure, adapter, by_status
from collectors.errors import translate as translated
from collectors.github.settings import GithubSettings

T = TypeVar("T")
R = TypeVar("R")
PER_PAGE = 100
RETRY_STATUSES = [429, 500, 502, 503, 504]  # GithubRetry adds 403, retried when it is a rate limit
BACKOFF_FACTOR = 1.0  # 5xx and connection errors: 1 s, 2 s, 4 s ... up to max_retry_wait
USER_AGENT = "annexa-evidence-collector"


def credentials(settings: GithubSettings) -> Auth.Auth:
    """A token from `token_env`, else the GitHub App's installation (PyGithub mints and renews its token)."""
    if settings.token_env:
        token = resolve_secret(env=settings.token_env, what="GitHub token", key="token_env")
        return Auth.Token(token.get_secret_value())
    where = f"[github] private_key_file {settings.private_key_file}"
    try:
        key = Path(settings.private_key_file).read_text()
        serialization.load_pem_private_key(key.encode(), password=None)  # PyGithub would fail per request
    except OSError as exc:
        raise CollectorError(f"{where}: {exc.strerror}") from None
    except (ValueError, TypeError):
        raise CollectorError(f"{where}: not an unencrypted PEM private key (the App's .pem)") from None
    app = Auth.AppAuth(int(settings.app_id), key)
    return Auth.AppInstallationAuth(app, int(settings.installation_id))


def retry_policy(settings: GithubSettings) -> GithubRetry:
    wait = settings.max_retry_wait
    return GithubRetry(
        total=settings.max_attempts - 1,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=BACKOFF_FACTOR,
        backoff_max=wait,
        retry_after_max=wait,
        secondary_rate_wait=min(wait, 60),
        max_rate_limit_wait=wait,
        raise_on_status=False,  # the last answer reaches PyGithub, which raises it with GitHub's message
    )


@adapter(GithubException)
def _github_error(exc: GithubException) -> Failure:
    """PyGithub's exception: the status and GitHub's own `message`; a rate limit is not a denial."""
    data = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors") if isinstance(data.get("errors"), list) else []
    graphql = errors[0].get("message") if errors and isinstance(errors[0], dict) else None
    detail = str(exc.message or data.get("message") or graphql or "")
    wait = getattr(exc, "wait", None)
    if wait is not None:
        detail += f" (the limit resets in {wait:.0f} s, more than [github] max_retry_wait)"
    denied = () if isinstance(exc, RateLimitExceededException) else (401, 403)
    return by_status(exc.status, detail=detail, denied=denied)


def translate(exc: BaseException, call: str) -> CollectorError:
    return translated(exc, "github", call)


_FAILURES = (GithubException, requests.RequestException, ValueError)


class GithubApi:
    """PyGithub's client for one organisation, shared by every collector of that organisation."""

    def __init__(self, settings: GithubSettings, org: str) -> None:
        self.settings = settings
        self.org = org
        self._inflight = threading.BoundedSemaphore(settings.max_concurrency)
        self.client = Github(
            auth=credentials(settings),
            base_url=settings.api_url.rstrip("/"),
            timeout=settings.timeout,
            user_agent=USER_AGENT,
            per_page=PER_PAGE,
            retry=retry_policy(settings),
            pool_size=settings.max_concurrency,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        self.requester = self.client.requester

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """One request (and PyGithub's retries of it) within the organisation's cap; failures translated."""
        with self._inflight:
            try:
                return fn()
            except _FAILURES as exc:
                raise translate(exc, what) from None

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """`GET path` (relative to `api_url`) as GitHub's JSON."""
        what = f"GET {path}"
        return self.call(what, lambda: self.requester.requestJsonAndCheck("GET", path, params)[1])

    def answer(
        self, path: str, evidence: Callable[[int, dict[str, Any]], bool]
    ) -> tuple[int, dict[str, Any]]:
        """`GET path`'s status and JSON object, for an endpoint whose error statuses can be evidence
        (404 "Branch not protected"): a success, or an error `evidence(status, body)` accepts; any
        other error fails."""

        def request() -> tuple[int, dict[str, Any]]:
            try:
                status, headers, body = self.requester.requestJson("GET", path)
            except GithubException as exc:  # GithubRetry raises a 403 that is no rate limit itself
                data = exc.data if isinstance(exc.data, dict) else {}
                if exc.status is not None and exc.status >= 400 and evidence(exc.status, data):
                    return exc.status, data
                raise
            doc = _json(body)
            if status >= 400 and not evidence(status, doc):
                raise self.requester.createException(status, headers, doc)
            return status, doc

        return self.call(f"GET {path}", request)

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a listing, page by page as it is consumed, following GitHub's `Link` headers.
        A page that is not a JSON list of objects (an empty or `{}` body) fails the listing."""
        what = f"GET {path}"
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": PER_PAGE} | (params or {})
        while url is not None:
            headers, page = self.call(
                what, functools.partial(self.requester.requestJsonAndCheck, "GET", url, query)
            )
            if not isinstance(page, list):
                raise InputDataError(f"{what}: a page that is not a JSON list")
            for item in page:
                if not isinstance(item, dict):
                    raise InputDataError(f"{what}: an item that is not a JSON object")
                yield item
            url, query = _next_page(headers), None

    def graphql(self, what: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """A GraphQL query's `data`. GitHub answers errors with HTTP 200 and `errors` (beside partial
        data): PyGithub raises them, and an answer that still carries any fails here too."""
        _, answer = self.call(f"GraphQL {what}", lambda: self.requester.graphql_query(query, variables))
        errors = answer.get("errors")
        if errors:
            first = errors[0] if isinstance(errors, list) and errors else {}
            detail = first.get("message") if isinstance(first, dict) else None
            raise CollectorError(f"GraphQL {what}: {detail or 'an answer with errors'}")
        data = answer.get("data")
        if not isinstance(data, dict):
            raise InputDataError(f"GraphQL {what}: an answer without data")
        return data

    def repositories(self) -> Iterator[dict[str, Any]]:
        """The organisation's repositories that are not archived (archived ones take no changes)."""
        for repo in self.pages(f"/orgs/{self.org}/repos", {"type": "all"}):
            if not repo.get("archived"):
                yield repo

    def open_alerts(
        self, kind: str, fields: Callable[[dict[str, Any], str], dict[str, Any]]
    ) -> Iterator[Record]:
        """Each open alert of the organisation-wide listing `/orgs/{org}/{kind}/alerts` (`dependabot`,
        `code-scanning`), as `<org>/<repo>#<number>` with its repository, number, what `fields(alert,
        what)` reads from it, and when it was raised."""
        path = f"/orgs/{self.org}/{kind}/alerts"
        what = f"GET {path}"
        for alert in self.pages(path, {"state": "open"}):
            repository = (alert.get("repository") or {}).get("full_name")
            number = alert.get("number")
            if not isinstance(repository, str) or not isinstance(number, int):
                raise InputDataError(f"{what}: an alert without a repository or number")
            yield Record(
                resource_id=f"{repository}#{number}",
                data={
                    "repository": repository,
                    "number": number,
                    **fields(alert, what),
                    "created_at": alert.get("created_at"),
                },
            )

    def fan_out(self, items: Iterable[T], fn: Callable[[T], R]) -> Iterator[R]:
        """`fn` over `items`, in order, on `max_concurrency` threads; the first failure fails the listing."""
        return ordered_map(items, fn, self.settings.max_concurrency, f"github-{self.org}")


def _next_page(headers: dict[str, Any]) -> str | None:
    """The `rel="next"` URL of GitHub's `Link` header, None on the last page."""
    link = headers.get("link") or headers.get("Link")
    if not isinstance(link, str):
        return None
    for part in requests.utils.parse_header_links(link):
        if part.get("rel") == "next" and part.get("url"):
            return part["url"]
    return None


def _json(body: Any) -> dict[str, Any]:
    """A body as a JSON object; an empty or non-object body (an HTML error page) reads as {}."""
    try:
        doc = json.loads(body) if isinstance(body, str | bytes) and body else {}
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def message(doc: dict[str, Any]) -> str:
    """GitHub's error `message`, lower-cased for matching."""
    return str(doc.get("message") or "").lower()


def full_name(repo: dict[str, Any]) -> str:
    name = repo.get("full_name")
    if not isinstance(name, str) or "/" not in name:
        raise InputDataError("GET /orgs/{org}/repos: a repository without a full_name")
    return name
