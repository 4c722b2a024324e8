"""The simulated Admin SDK Directory API v1 server: users.list, roles.list, roleAssignments.list and
the OAuth token endpoint, as google-api-python-client and google-auth talk to them.

Listings page as Google's do (`maxResults`, an opaque `pageToken` -> `nextPageToken`, the items key
left out of an empty page) and honour `fields`, refusing a field the resource does not have. Every
call needs a bearer token whose scopes cover it (else 403 `insufficientPermissions`) and, for a token
a service account obtained, a subject who is an administrator (else 403 `forbidden`). Errors are
Google's document; faults are injected per route (`world.faults`: a regex searched in
`METHOD /path?query`, so one page can fail); `Pacing(latency=...)` paces answers for the benchmark.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from googleapiclient.discovery_cache import get_static_doc

from simulators.google_workspace.oauth import token_grant
from simulators.google_workspace.partial import parse_fields, select
from simulators.google_workspace.world import (
    READONLY_SCOPES,
    ROLES_FULL,
    ROLES_READONLY,
    USERS_FULL,
    USERS_READONLY,
    Grant,
    WorkspaceWorld,
)
from simulators.localserver import Fault, LocalServer, Pace, Reply, Request

TOKEN_PATH = "/token"
BASE = "/admin/directory/v1"
NOT_ADMIN = "Not Authorized to access this resource/api"
AUTH_ERROR = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
    "other valid authentication credential."
)
_REASONS = {  # status -> Google's reason and status name for it
    400: ("badRequest", "INVALID_ARGUMENT"),
    401: ("authError", "UNAUTHENTICATED"),
    403: ("forbidden", "PERMISSION_DENIED"),
    404: ("notFound", "NOT_FOUND"),
    405: ("badRequest", "INVALID_ARGUMENT"),
    429: ("rateLimitExceeded", "RESOURCE_EXHAUSTED"),
    500: ("backendError", "INTERNAL"),
    502: ("backendError", "UNAVAILABLE"),
    503: ("backendError", "UNAVAILABLE"),
    504: ("backendError", "DEADLINE_EXCEEDED"),
}
# Parameters that would change what a listing holds, which the simulator does not implement: 400.
_UNSIMULATED = ("query", "showDeleted", "event", "orderBy", "sortOrder", "viewType", "roleId", "userKey")
# The resources' fields, as the discovery document bundled with google-api-python-client has them.
_SCHEMAS = json.loads(get_static_doc("admin", "directory_v1"))["schemas"]


def _fields(schema: str) -> frozenset[str]:
    return frozenset(_SCHEMAS[schema]["properties"])


@dataclass(frozen=True)
class Listing:
    """A paged collection as Google renders it: its kind, items key, item fields and page sizes."""

    kind: str
    items: str
    fields: frozenset[str]
    default: int
    maximum: int


USERS = Listing("admin#directory#users", "users", _fields("User"), 100, 500)
ROLES = Listing("admin#directory#roles", "items", _fields("Role"), 100, 100)
ASSIGNMENTS = Listing("admin#directory#roleAssignments", "items", _fields("RoleAssignment"), 100, 200)


def error_document(status: int, message: str, reason: str | None = None) -> dict[str, Any]:
    """Google's error body: `{"error": {"code", "message", "errors": [...], "status"}}`."""
    default, name = _REASONS.get(status, ("unknown", "UNKNOWN"))
    reason = reason or default
    domain = "usageLimits" if reason.lower().endswith("limitexceeded") else "global"
    entry = {"domain": domain, "reason": reason, "message": message}
    if status == 401:
        entry |= {"location": "Authorization", "locationType": "header"}
    return {"error": {"code": status, "message": message, "errors": [entry], "status": name}}


def google_fault(
    status: int, reason: str, message: str, *, times: int | None = None, retry_after: str | None = None
) -> Fault:
    """A fault answering Google's error document with a reason of its own (`rateLimitExceeded` ...)."""
    body = json.dumps(error_document(status, message, reason))
    return Fault(status, message, times=times, body=body, retry_after=retry_after)


def rate_limited(status: int = 403, *, times: int | None = None, retry_after: str | None = "1") -> Fault:
    """The Directory API's quota answer: 403 (or 429) `rateLimitExceeded`, with `Retry-After`."""
    return google_fault(
        status, "rateLimitExceeded", "Rate Limit Exceeded", times=times, retry_after=retry_after
    )


class WorkspaceServer(LocalServer):
    """`with WorkspaceServer(world) as server:` serves `world` on `server.url` (the SDK's `api_endpoint`)."""

    methods = ("GET", "POST")

    def __init__(
        self, world: WorkspaceWorld, pace: Pace | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.world = world
        self.clock = clock  # checks a JWT's iat and exp
        self.queries: dict[str, dict[str, str]] = {}  # the last query string each route was asked with
        super().__init__(pace)

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    def new_service_account(
        self, client_email: str, *, scopes: Iterable[str] = READONLY_SCOPES
    ) -> dict[str, str]:
        """Register a new key for `client_email` and return its key file (JSON), as Google issues it."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        account = self.world.add_service_account(client_email, key.public_key(), scopes=scopes)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return {
            "type": "service_account",
            "project_id": "annexa-sim",
            "private_key_id": account.key_id,
            "private_key": pem.decode(),
            "client_email": client_email,
            "client_id": account.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_url,
            "universe_domain": "googleapis.com",
        }

    # --- Google's own plumbing --------------------------------------------------------------------
    def faults_for(self, request: Request) -> list[Fault]:
        where = f"{request.key}?{request.query_string}"
        return [f for pattern, f in self.world.faults.items() if re.search(pattern, where)]

    def error(self, status: int, message: str, reason: str | None = None) -> Reply:
        headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'} if status == 401 else {}
        return Reply(status, error_document(status, message, reason), headers)

    def unauthorized(self) -> Reply:
        return self.error(401, AUTH_ERROR)

    def content_type(self, reply: Reply) -> str:
        html = isinstance(reply.payload, str) and reply.payload.lstrip().startswith("<")
        return "text/html" if html else "application/json; charset=UTF-8"

    def record(self, request: Request) -> None:
        self.queries[request.key] = request.query

    def _grant(self, request: Request) -> Grant | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return self.world.tokens.get(token) if scheme.lower() == "bearer" else None

    def answer(self, request: Request) -> Reply:
        if request.path != TOKEN_PATH and self._grant(request) is None:
            return self.unauthorized()
        return super().answer(request)

    # --- routing ----------------------------------------------------------------------------------
    def route(self, request: Request) -> Reply:
        if request.key == f"POST {TOKEN_PATH}":
            return token_grant(self.world, request.body, self.token_url, self.clock())
        grant = self._grant(request)
        if grant is None:  # `answer` let no such request through
            return self.unauthorized()
        path, query = request.path, request.query
        unsimulated = next((p for p in _UNSIMULATED if p in query), None)
        if request.method != "GET" or unsimulated:
            return self.error(400, f"the simulator does not implement {unsimulated or request.key}")
        if path == f"{BASE}/users":
            return self._authorized(grant, (USERS_READONLY, USERS_FULL)) or self._users(query)
        if m := re.fullmatch(rf"{BASE}/customer/([^/]+)/(roles|roleassignments)", path):
            denied = self._authorized(grant, (ROLES_READONLY, ROLES_FULL))
            if denied or not self._is_customer(m.group(1)):
                return denied or self.error(400, "Bad Request")
            if m.group(2) == "roles":
                return self._page(query, ROLES, self.world.roles, "roles")
            return self._page(query, ASSIGNMENTS, self.world.assignments, "assignments")
        return self.error(404, "Not Found")

    def _authorized(self, grant: Grant, scopes: Sequence[str]) -> Reply | None:
        """None when the token's scopes cover the call and it acts as an administrator, else the 403."""
        if grant.scopes.isdisjoint(scopes):
            return self.error(
                403, "Request had insufficient authentication scopes.", "insufficientPermissions"
            )
        user = self.world.by_email.get((grant.subject or "").lower())
        if grant.subject is not None and not (user and (user["isAdmin"] or user["isDelegatedAdmin"])):
            return self.error(403, NOT_ADMIN)
        return None

    def _is_customer(self, customer: str) -> bool:
        return customer in ("my_customer", self.world.customer_id)

    def _users(self, query: dict[str, str]) -> Reply:
        domain = query.get("domain", "").lower()
        if domain:
            if domain not in self.world.by_domain:
                return self.error(404, "Domain not found.")
            return self._page(query, USERS, self.world.by_domain[domain], f"users:{domain}")
        if not self._is_customer(query.get("customer", "")):
            return self.error(400, "Bad Request")
        return self._page(query, USERS, self.world.users, "users")

    def _page(
        self, query: dict[str, str], listing: Listing, items: Sequence[dict[str, Any]], key: str
    ) -> Reply:
        """One page of `items` (a slice: its cost is the page's), with Google's paging and `fields`."""
        size_text = query.get("maxResults") or str(listing.default)
        if not size_text.isdigit() or not 1 <= int(size_text) <= listing.maximum:
            return self.error(
                400,
                f"Invalid value '{size_text}'. Values must be within the range: [1, {listing.maximum}]",
                "invalid",
            )
        size = min(int(size_text), self.world.max_page or listing.maximum)
        start = self._offset(query.get("pageToken") or "", key)
        if start is None:
            return self.error(400, "Invalid page token", "invalid")
        page = items[start : start + size]
        doc: dict[str, Any] = {"kind": listing.kind, "etag": f'"sim/{key}/{len(items)}"'}
        if page:
            doc[listing.items] = list(page)
        if start + size < len(items):
            doc["nextPageToken"] = base64.urlsafe_b64encode(f"{key}|{start + size}".encode()).decode()
        if "fields" not in query:
            return Reply(200, doc)
        try:
            mask = parse_fields(query["fields"])
            bad = next((n for n in mask if n not in {"kind", "etag", "nextPageToken", listing.items}), None)
            bad = bad or next((n for n in mask.get(listing.items) or {} if n not in listing.fields), None)
        except ValueError as exc:
            bad = str(exc)
        if bad:
            return self.error(400, f"Invalid field selection {bad}", "invalidParameter")
        return Reply(200, select(doc, mask))

    @staticmethod
    def _offset(token: str, key: str) -> int | None:
        if not token:
            return 0
        try:
            listing, _, offset = base64.urlsafe_b64decode(token).decode().rpartition("|")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return int(offset) if listing == key and offset.isdigit() else None
