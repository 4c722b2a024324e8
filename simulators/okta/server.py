"""The simulated Okta org's HTTP side: Okta's routes, authentication, paging and rate-limit headers.

Users are listed with `limit`/`after` cursors and `Link` headers (`self` first, then `next`, as two
headers) and `filter`/`search` on `status` (the default listing omits DEPROVISIONED users, as
Okta's does); the IAM listing of users holding roles pages by `_links.next` in its body; policies
are listed by `type`. Every answer carries `X-Rate-Limit-Limit/-Remaining/-Reset` against the
server's clock (which `OktaWorld.now` freezes, `Date` header included) and errors are Okta's error
document. Requests authenticate with `SSWS <token>` or with a Bearer token from `/oauth2/v1/token`
(client credentials with a private_key_jwt assertion, verified against the service app's public
key); a token carries the scopes granted to the app, and a call outside them is 403.
"""

from __future__ import annotations

import itertools
import re
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

import jwt

from simulators.localserver import Fault, LocalServer, Pace, Reply, Request
from simulators.okta.documents import factor_json, policy_json, role_json, rule_json, user_json
from simulators.okta.world import (
    ERRORS,
    POLICIES_READ,
    RATE_LIMIT,
    RATE_WINDOW,
    ROLES_READ,
    SERVER_ERROR,
    STATUSES,
    USERS_READ,
    OktaWorld,
)

ROUTES: list[tuple[re.Pattern[str], str, str]] = [  # path, handler name, scope needed
    (re.compile(r"/api/v1/users"), "_users", USERS_READ),
    (re.compile(r"/api/v1/users/([^/]+)/factors"), "_factors", USERS_READ),
    (re.compile(r"/api/v1/users/([^/]+)/roles"), "_roles", ROLES_READ),
    (re.compile(r"/api/v1/iam/assignees/users"), "_assignees", ROLES_READ),
    (re.compile(r"/api/v1/policies"), "_policies", POLICIES_READ),
    (re.compile(r"/api/v1/policies/([^/]+)/rules"), "_rules", POLICIES_READ),
]
STATUS_TERM = re.compile(r'^\s*\(?\s*status\s+eq\s+"([A-Z_]+)"\s*\)?\s*$', re.IGNORECASE)


def _route(path: str) -> tuple[re.Match[str], str, str] | None:
    """The route serving `path`: its match, handler name and the scope it needs."""
    for pattern, name, scope in ROUTES:
        if (match := pattern.fullmatch(path)) is not None:
            return match, name, scope
    return None


class OktaServer(LocalServer):
    """`with OktaServer(world) as server:` serves `world` as the org at `server.url`, paced by the
    world's own `gather`/`latency` unless `pace` (a `Pacing`) is given."""

    def __init__(self, world: OktaWorld, pace: Pace | None = None) -> None:
        self.world = world
        self.tokens: dict[str, frozenset[str]] = {}  # Bearer tokens issued -> their scopes
        self.requested_scopes: list[frozenset[str]] = []  # per token request, what it asked for
        self._window = (0, 0)  # (window end, requests in it)
        self._serial = itertools.count(1)
        super().__init__(pace=pace if pace is not None else world)

    def now(self) -> float:
        return self.world.now if self.world.now is not None else time.time()

    # --- Okta's own plumbing ----------------------------------------------------------------------
    def faults_for(self, request: Request) -> list[Fault]:
        """The faults whose pattern is found in `METHOD /path?query`, so one page can be made to fail."""
        where = f"{request.key}?{request.query_string}"
        return [f for pattern, f in self.world.faults.items() if re.search(pattern, where)]

    def hit_key(self, request: Request) -> str:
        """Per route, ids replaced: `GET /api/v1/users/{id}/factors`."""
        return re.sub(r"/(users|policies)/[^/]+/", r"/\1/{id}/", request.key)

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
        code, summary = ERRORS.get(status, SERVER_ERROR if status >= 500 else ("E0000001", message))
        doc = {
            "errorCode": code,
            "errorSummary": summary if message in ("", "injected fault") else message,
            "errorLink": code,
            "errorId": f"oae{next(self._serial):020d}",
            "errorCauses": [],
        }
        return Reply(status, doc, headers or {})

    def answer(self, request: Request) -> Reply:
        now = self.now()
        reset = int(now // RATE_WINDOW + 1) * RATE_WINDOW
        with self.lock:
            end, used = self._window
            used = used + 1 if end == reset else 1
            self._window = (reset, used)
        limit = self.world.rate_limit
        limited = limit is not None and used > limit
        reply = self.error(429, "") if limited else super().answer(request)
        remaining = 0 if reply.status == 429 else max(0, (limit or RATE_LIMIT) - used)
        reply.headers |= {
            "X-Rate-Limit-Limit": str(limit or RATE_LIMIT),
            "X-Rate-Limit-Remaining": str(remaining),
            "X-Rate-Limit-Reset": str(reset),
            "X-Okta-Request-Id": f"req{next(self._serial):017d}",
        }
        return reply

    def _scopes(self, request: Request) -> frozenset[str] | None:
        """What the request's credential may read; None: no valid credential."""
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme == "SSWS" and self.world.token and value == self.world.token:
            return frozenset({USERS_READ, ROLES_READ, POLICIES_READ})  # an admin's token
        if scheme == "Bearer":
            return self.tokens.get(value)
        return None

    # --- routing --------------------------------------------------------------------------------
    def route(self, request: Request) -> Reply:
        if request.method == "POST" and request.path == "/oauth2/v1/token":
            return self._token(request)
        found = _route(request.path)
        if found is None:
            return self.error(404, "")
        match, name, scope = found
        if request.method != "GET":
            return self.error(405, "")
        scopes = self._scopes(request)
        if scopes is None:
            return self.error(401, "", {"WWW-Authenticate": 'Bearer realm="IdpAdmin", error="invalid_token"'})
        if scope not in scopes:
            challenge = f'Bearer realm="IdpAdmin", scope="{scope}", error="insufficient_scope"'
            return self.error(403, "", {"WWW-Authenticate": challenge})
        try:
            reply: Reply = getattr(self, name)(request, *match.groups())
        except KeyError:
            return self.error(404, "")
        return reply

    def _page(self, request: Request, items: list[Any], cursor: str | None) -> Reply:
        """A list page: `Link` headers `self`, then `next` when `cursor` continues it (two headers:
        `Link` and `link`, as HTTP names are case-insensitive and a `Reply` holds one of each)."""
        headers = {"Link": f'<{self.url}{request.path}?{request.query_string}>; rel="self"'}
        if cursor is not None:
            query = urllib.parse.urlencode(dict(request.query) | {"after": cursor})
            headers["link"] = f'<{self.url}{request.path}?{query}>; rel="next"'
        return Reply(200, items, headers)

    def _limit(self, request: Request, default: int) -> int:
        return max(1, min(int(request.query.get("limit") or default), self.world.max_limit))

    def _users(self, request: Request) -> Reply:
        expression = request.query.get("filter") or request.query.get("search")
        if expression:
            terms = [STATUS_TERM.match(t) for t in re.split(r"\s+or\s+", expression, flags=re.IGNORECASE)]
            if not all(terms):
                return self.error(400, "Invalid search criteria.")
            wanted = {t.group(1).upper() for t in terms if t}
        else:
            wanted = set(STATUSES) - {"DEPROVISIONED"}  # Okta's default listing
        limit = self._limit(request, 200)
        start = self.world.after(request.query.get("after"))
        page = list(itertools.islice((u for u in self.world.ordered(start) if u.status in wanted), limit))
        more = len(page) == limit and self.world.after(page[-1].id) < len(self.world.users)
        items = [user_json(self.url, u) for u in page]
        return self._page(request, items, page[-1].id if more else None)

    def _factors(self, request: Request, user: str) -> Reply:
        found = self.world.users[user]
        return Reply(200, [factor_json(self.url, found, f) for f in found.factors])

    def _roles(self, request: Request, user: str) -> Reply:
        found = self.world.users[user]
        return Reply(200, [role_json(self.url, found, r) for r in found.roles])

    def _assignees(self, request: Request) -> Reply:
        """Users holding roles, paged by `_links.next` in the body, as the IAM APIs page."""
        admins, limit = self.world.admins(), self._limit(request, 100)
        after = request.query.get("after")
        start = admins.index(after) + 1 if after in admins else 0
        page = admins[start : start + limit]
        links: dict[str, Any] = {}
        if start + limit < len(admins):
            query = urllib.parse.urlencode({"after": page[-1], "limit": limit})
            links["next"] = {"href": f"{self.url}{request.path}?{query}"}
        value = [
            {
                "id": i,
                "orn": f"orn:okta:directory:00oSimulatedOrg:users:{i}",
                "_links": {"roles": {"href": f"{self.url}/api/v1/users/{i}/roles"}},
            }
            for i in page
        ]
        return Reply(200, {"value": value, "_links": links})

    def _listed(self, request: Request, items: Sequence[Any], ids: list[str], default: int) -> Reply:
        limit = self._limit(request, default)
        after = request.query.get("after")
        start = ids.index(after) + 1 if after in ids else 0
        more = start + limit < len(ids)
        return self._page(
            request, list(items[start : start + limit]), ids[start + limit - 1] if more else None
        )

    def _policies(self, request: Request) -> Reply:
        kind = request.query.get("type")
        if not kind:
            return self.error(400, "Api validation failed: type")
        found = [p for p in self.world.policies if p.type == kind]
        items = [policy_json(self.url, p) for p in found]
        return self._listed(request, items, [p.id for p in found], 20)

    def _rules(self, request: Request, policy_id: str) -> Reply:
        policy = next((p for p in self.world.policies if p.id == policy_id), None)
        if policy is None:
            raise KeyError(policy_id)
        items = [rule_json(policy, r) for r in policy.rules]
        return self._listed(request, items, [r.id for r in policy.rules], 20)

    # --- OAuth 2.0: client credentials with a private_key_jwt client assertion ---------------------
    def _oauth_error(self, status: int, error: str, description: str) -> Reply:
        return Reply(status, {"error": error, "error_description": description})

    def _token(self, request: Request) -> Reply:
        form = dict(urllib.parse.parse_qsl(request.body.decode()))
        if form.get("grant_type") != "client_credentials":
            return self._oauth_error(400, "unsupported_grant_type", "The grant type is not supported.")
        assertion = form.get("client_assertion", "")
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return self._oauth_error(401, "invalid_client", "A client_assertion is required.")
        try:
            client_id = str(jwt.decode(assertion, options={"verify_signature": False}).get("sub"))
            app = self.world.apps[client_id]
            claims = jwt.decode(
                assertion,
                app.public_key,
                algorithms=["RS256"],
                audience=f"{self.url}/oauth2/v1/token",
                options={"require": ["exp", "iss", "sub", "aud", "jti"]},
            )
        except KeyError:
            return self._oauth_error(401, "invalid_client", "The client_id is not found.")
        except jwt.PyJWTError:
            return self._oauth_error(401, "invalid_client", "The client_assertion signature is invalid.")
        if claims.get("iss") != client_id:
            return self._oauth_error(401, "invalid_client", "The client_assertion issuer is not the client.")
        scopes = frozenset(form.get("scope", "").split())
        with self.lock:
            self.requested_scopes.append(scopes)
        if not scopes or not scopes <= app.scopes:
            missing = " ".join(sorted(scopes - app.scopes)) or "(none)"
            return self._oauth_error(400, "invalid_scope", f"The requested scopes are not granted: {missing}")
        token = f"eyJSimulatedAccessToken.{next(self._serial):012d}"
        with self.lock:
            self.tokens[token] = scopes
        return Reply(
            200,
            {
                "token_type": "Bearer",
                "expires_in": 3600,
                "access_token": token,
                "scope": " ".join(sorted(scopes)),
            },
        )
