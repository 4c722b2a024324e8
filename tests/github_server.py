"""A loopback GitHub (REST v3 and GraphQL) that speaks GitHub's JSON, for the real PyGithub to talk to.

What the GitHub collectors read, with the behaviour that matters to them: `Authorization: token …`
checks (and a GitHub App's JWT exchanged for an installation token), `per_page`/`page` paging with
absolute `Link` headers (code-scanning alerts, filtered by `state`, page this way), cursor paging
(`after`) for Dependabot alerts and GraphQL, the rate-limit headers on every answer, GitHub's error
body `{"message", "documentation_url", "status"}`, and injectable faults per request (a secondary
rate limit is a 403 with `Retry-After`). `max_per_page` caps pages below what the client asks, so
tests page through a few items; `prefix` serves GitHub Enterprise Server's layout (`/api/v3`,
GraphQL at `/api/graphql`).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import jwt

from simulators.localserver import Fault, LocalServer, Reply, Request

DOCS = "https://docs.github.com/rest"
RATE_LIMIT = 5000
RATE_RESET = 4102444800  # 2100-01-01: far ahead, nothing here waits for it
SECONDARY_LIMIT = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
NO_GHAS = "Advanced Security must be enabled for this repository to use code scanning."
INSTALLATION_TOKEN = "ghs_installationTokenForTests0000000000"
PERMISSION_FLAGS = {  # a repository role and the `permissions` flags GitHub shows for it
    "admin": dict(admin=True, maintain=True, push=True, triage=True, pull=True),
    "maintain": dict(admin=False, maintain=True, push=True, triage=True, pull=True),
    "write": dict(admin=False, maintain=False, push=True, triage=True, pull=True),
    "triage": dict(admin=False, maintain=False, push=False, triage=True, pull=True),
    "read": dict(admin=False, maintain=False, push=False, triage=False, pull=True),
}


@dataclass
class Repo:
    name: str
    private: bool = False
    archived: bool = False
    default_branch: str = "main"
    protection: dict[str, Any] | None = None  # classic branch protection, as GET …/protection returns it
    rules: list[dict[str, Any]] = field(default_factory=list)  # active rules on the default branch
    # ruleset id -> its bypass actors (None: not shown to this token); a ruleset not named has none
    bypass: dict[int, list[dict[str, Any]] | None] = field(default_factory=dict)
    security_and_analysis: dict[str, Any] | None = None  # None: not shown (no admin rights)
    vulnerability_alerts: bool = False
    code_scanning: str | None = "not-configured"  # "configured", or None: the plan has no GHAS
    collaborators: dict[str, str] = field(default_factory=dict)  # outside collaborator login -> role
    keys: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Org:
    login: str
    two_factor_requirement_enabled: bool | None = True  # None: not shown to this token
    default_repository_permission: str | None = "read"
    members: dict[str, str] = field(default_factory=dict)  # login -> "admin" | "member"
    saml: dict[str, str] | None = None  # login -> SAML nameId; None: no SAML identity provider
    outside_collaborators: list[str] = field(default_factory=list)
    repos: list[Repo] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)  # open Dependabot alerts
    code_alerts: list[dict[str, Any]] = field(default_factory=list)  # code-scanning alerts, any state


@dataclass
class GithubWorld:
    """What the server answers from; tests and the benchmark fill it directly."""

    orgs: dict[str, Org] = field(default_factory=dict)
    token: str = ""
    app: tuple[int, int, Any] | None = None  # (app id, installation id, the app key's public key)
    prefix: str = ""  # "/api/v3" for GitHub Enterprise Server
    max_per_page: int = 100
    faults: dict[str, Fault] = field(default_factory=dict)  # regex on "METHOD /path" -> fault
    latency: float = 0.0
    gather: int = 0

    def add(self, org: Org) -> Org:
        self.orgs[org.login] = org
        return org


# --- GitHub's JSON, for seeding ---------------------------------------------------------------
def classic(
    reviews: int | None = None,
    *,
    dismiss_stale: bool = False,
    admins: bool = False,
    checks: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A classic branch protection document; `reviews` None: pull requests are not required."""
    doc: dict[str, Any] = {
        "url": "…/protection",
        "enforce_admins": {"url": "…/enforce_admins", "enabled": admins},
        "allow_force_pushes": {"enabled": False},
        "allow_deletions": {"enabled": False},
    }
    if reviews is not None:
        doc["required_pull_request_reviews"] = {
            "dismiss_stale_reviews": dismiss_stale,
            "require_code_owner_reviews": False,
            "required_approving_review_count": reviews,
        }
    if checks:
        doc["required_status_checks"] = {
            "strict": True,
            "contexts": list(checks[:1]),
            "checks": [{"context": c, "app_id": 15368} for c in checks],
        }
    return doc


def ruleset_rule(kind: str, ruleset_id: int = 7, **parameters: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"type": kind, "ruleset_source_type": "Organization", "ruleset_source": "acme"}
    rule["ruleset_id"] = ruleset_id
    if parameters:
        rule["parameters"] = parameters
    return rule


def pull_request_rule(reviews: int, *, dismiss_stale: bool = False) -> dict[str, Any]:
    return ruleset_rule(
        "pull_request",
        required_approving_review_count=reviews,
        dismiss_stale_reviews_on_push=dismiss_stale,
        require_code_owner_review=False,
        require_last_push_approval=False,
        required_review_thread_resolution=False,
    )


def status_checks_rule(*contexts: str) -> dict[str, Any]:
    checks = [{"context": c, "integration_id": 15368} for c in contexts]
    return ruleset_rule(
        "required_status_checks", required_status_checks=checks, strict_required_status_checks_policy=True
    )


def analysis(secret_scanning: str, push_protection: str) -> dict[str, Any]:
    return {
        "advanced_security": {"status": "enabled"},
        "dependabot_security_updates": {"status": "disabled"},
        "secret_scanning": {"status": secret_scanning},
        "secret_scanning_push_protection": {"status": push_protection},
    }


def deploy_key(key_id: int, title: str, *, read_only: bool = True) -> dict[str, Any]:
    return {
        "id": key_id,
        "key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeployKeyPublicPart",
        "url": f"…/keys/{key_id}",
        "title": title,
        "verified": True,
        "created_at": "2024-03-01T10:00:00Z",
        "read_only": read_only,
        "added_by": "octocat",
        "last_used": None,
    }


def dependabot_alert(repo: str, number: int, severity: str, package: str) -> dict[str, Any]:
    return {
        "number": number,
        "state": "open",
        "dependency": {"package": {"ecosystem": "pip", "name": package}, "manifest_path": "requirements.txt"},
        "security_advisory": {"ghsa_id": f"GHSA-{number:04d}-test-0000", "severity": severity},
        "security_vulnerability": {"package": {"ecosystem": "pip", "name": package}, "severity": severity},
        "url": f"…/repos/{repo}/dependabot/alerts/{number}",
        "created_at": "2026-09-01T12:00:00Z",
        "repository": {"name": repo.split("/")[1], "full_name": repo, "private": True},
    }


def code_scanning_alert(
    repo: str,
    number: int,
    severity: str | None,
    *,
    created_at: str = "2026-08-01T09:30:00Z",
    state: str = "open",
) -> dict[str, Any]:
    """A CodeQL alert; `severity` is its rule's `security_severity_level` (None: not a security rule)."""
    rule = {"id": f"py/rule-{number}", "severity": "error" if severity else "note", "tags": []}
    return {
        "number": number,
        "created_at": created_at,
        "url": f"…/repos/{repo}/code-scanning/alerts/{number}",
        "state": state,
        "dismissed_reason": None,
        "rule": rule | {"security_severity_level": severity, "description": "A rule"},
        "tool": {"name": "CodeQL", "guid": None, "version": "2.19.0"},
        "most_recent_instance": {"ref": "refs/heads/main", "state": state, "location": {"path": "app.py"}},
        "repository": {"name": repo.split("/")[1], "full_name": repo, "private": True},
    }


def _user(login: str, **extra: Any) -> dict[str, Any]:
    return {"login": login, "id": abs(hash(login)) % 10**8, "type": "User", "site_admin": False, **extra}


# --- the server --------------------------------------------------------------------------------
class GithubServer(LocalServer):
    """`with GithubServer(world) as server:` serves `world` on `server.url` (+ `world.prefix`)."""

    def __init__(self, world: GithubWorld) -> None:
        self.world = world
        self.remaining = RATE_LIMIT
        super().__init__(pace=world)

    @property
    def api_url(self) -> str:
        return self.url + self.world.prefix

    # --- GitHub's own plumbing --------------------------------------------------------------------
    def faults_for(self, request: Request) -> list[Fault]:
        return [f for pattern, f in self.world.faults.items() if re.search(pattern, request.key)]

    def error(self, status: int, message: str) -> Reply:
        return Reply(status, {"message": message, "documentation_url": DOCS, "status": str(status)})

    def answer(self, request: Request) -> Reply:
        reply = super().answer(request)
        with self.lock:
            self.remaining = max(0, self.remaining - 1)
            graphql = request.path.endswith("/graphql")
            reply.headers |= {
                "x-ratelimit-limit": str(RATE_LIMIT),
                "x-ratelimit-remaining": str(self.remaining),
                "x-ratelimit-reset": str(RATE_RESET),
                "x-ratelimit-used": str(RATE_LIMIT - self.remaining),
                "x-ratelimit-resource": "graphql" if graphql else "core",
                "x-github-api-version-selected": "2022-11-28",
            }
        return reply

    def content_type(self, reply: Reply) -> str:
        return "application/json; charset=utf-8"

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self.world.app is not None:
            return header == f"token {INSTALLATION_TOKEN}"
        return bool(self.world.token) and header == f"token {self.world.token}"

    # --- paging ---------------------------------------------------------------------------------
    def _link(self, request: Request, **params: Any) -> str:
        query = dict(request.query) | {k: str(v) for k, v in params.items()}
        return f"{self.url}{request.path}?{urllib.parse.urlencode(query)}"

    def _paged(self, request: Request, items: list[Any]) -> Reply:
        """`per_page`/`page` paging with a `Link` header (next, last; prev, first after page 1)."""
        size = min(int(request.query.get("per_page") or 30), self.world.max_per_page)
        page = int(request.query.get("page") or 1)
        last = max(1, -(-len(items) // size))
        links = []
        if page < last:
            links += [
                f'<{self._link(request, page=page + 1)}>; rel="next"',
                f'<{self._link(request, page=last)}>; rel="last"',
            ]
        if page > 1:
            links += [
                f'<{self._link(request, page=page - 1)}>; rel="prev"',
                f'<{self._link(request, page=1)}>; rel="first"',
            ]
        headers = {"Link": ", ".join(links)} if links else {}
        return Reply(200, items[(page - 1) * size : page * size], headers)

    def _cursor_paged(self, request: Request, items: list[Any]) -> Reply:
        """Cursor paging (`after`), as the organisation's Dependabot alerts page."""
        size = min(int(request.query.get("per_page") or 30), self.world.max_per_page)
        start = _decode_cursor(request.query.get("after"))
        headers = {}
        if start + size < len(items):
            headers["Link"] = f'<{self._link(request, after=_cursor(start + size))}>; rel="next"'
        return Reply(200, items[start : start + size], headers)

    # --- routing --------------------------------------------------------------------------------
    def route(self, request: Request) -> Reply:
        path = request.path.removeprefix(self.world.prefix)
        if request.method == "POST" and (m := re.fullmatch(r"/app/installations/(\d+)/access_tokens", path)):
            return self._installation_token(request, int(m.group(1)))
        if not self._authorized(request):
            return self.error(401, "Bad credentials")
        graphql = "/api/graphql" if self.world.prefix else "/graphql"
        if request.method == "POST" and request.path == graphql:
            return self._graphql(json.loads(request.body or b"{}"))
        if request.method != "GET":
            return self.error(404, "Not Found")
        try:
            return self._get(request, path)
        except LookupError:
            return self.error(404, "Not Found")

    def _get(self, request: Request, path: str) -> Reply:
        if m := re.fullmatch(r"/orgs/([^/]+)(/.*)?", path):
            return self._org_get(request, self.world.orgs[m.group(1)], m.group(2) or "")
        if m := re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)", path):
            org = self.world.orgs[m.group(1)]
            repo = next(r for r in org.repos if r.name == m.group(2))
            return self._repo_get(request, org, repo, m.group(3))
        raise LookupError(path)

    def _org_get(self, request: Request, org: Org, rest: str) -> Reply:
        if rest == "":
            doc: dict[str, Any] = {"login": org.login, "id": 1, "url": f"{self.api_url}/orgs/{org.login}"}
            if org.two_factor_requirement_enabled is not None:
                doc["two_factor_requirement_enabled"] = org.two_factor_requirement_enabled
            if org.default_repository_permission is not None:
                doc["default_repository_permission"] = org.default_repository_permission
            return Reply(200, doc)
        if rest == "/members":
            role = request.query.get("role", "all")
            logins = [u for u, r in org.members.items() if role in ("all", r)]
            return self._paged(request, [_user(u) for u in logins])
        if rest == "/outside_collaborators":
            return self._paged(request, [_user(u) for u in org.outside_collaborators])
        if rest == "/repos":
            return self._paged(request, [self._repo(org, r) for r in org.repos])
        if rest == "/dependabot/alerts":
            if request.query.get("page"):
                return self.error(400, "Pagination using the `page` parameter is not supported.")
            return self._cursor_paged(request, org.alerts)
        if rest == "/code-scanning/alerts":
            state = request.query.get("state")
            return self._paged(request, [a for a in org.code_alerts if state in (None, a["state"])])
        raise LookupError(rest)

    def _repo(self, org: Org, repo: Repo) -> dict[str, Any]:
        full = f"{org.login}/{repo.name}"
        doc: dict[str, Any] = {
            "id": abs(hash(full)) % 10**8,
            "name": repo.name,
            "full_name": full,
            "owner": {"login": org.login, "type": "Organization"},
            "private": repo.private,
            "visibility": "private" if repo.private else "public",
            "archived": repo.archived,
            "default_branch": repo.default_branch,
            "url": f"{self.api_url}/repos/{full}",
        }
        if repo.security_and_analysis is not None:
            doc["security_and_analysis"] = repo.security_and_analysis
        return doc

    def _repo_get(self, request: Request, org: Org, repo: Repo, rest: str) -> Reply:
        if m := re.fullmatch(r"/branches/(.+)/protection", rest):
            if m.group(1) != repo.default_branch:
                return self.error(404, "Branch not found")
            if repo.protection is None:
                return self.error(404, "Branch not protected")
            return Reply(200, repo.protection)
        if m := re.fullmatch(r"/rules/branches/(.+)", rest):
            return self._paged(request, repo.rules if m.group(1) == repo.default_branch else [])
        if m := re.fullmatch(r"/rulesets/(\d+)", rest):
            ruleset_id = int(m.group(1))
            if all(r.get("ruleset_id") != ruleset_id for r in repo.rules):
                raise LookupError(rest)
            doc: dict[str, Any] = {"id": ruleset_id, "name": f"ruleset {ruleset_id}", "enforcement": "active"}
            actors = repo.bypass.get(ruleset_id, [])
            if actors is not None:
                doc["bypass_actors"] = actors
            return Reply(200, doc)
        if rest == "/vulnerability-alerts":
            return Reply(204, "") if repo.vulnerability_alerts else self.error(404, "Not Found")
        if rest == "/code-scanning/default-setup":
            if repo.code_scanning is None:
                return self.error(403, NO_GHAS)
            languages = ["python"] if repo.code_scanning == "configured" else []
            return Reply(200, {"state": repo.code_scanning, "languages": languages, "query_suite": "default"})
        if rest == "/collaborators":
            if request.query.get("affiliation") != "outside":
                raise LookupError("only affiliation=outside is served")
            users = [
                _user(u, permissions=PERMISSION_FLAGS[role], role_name=role)
                for u, role in repo.collaborators.items()
            ]
            return self._paged(request, users)
        if rest == "/keys":
            return self._paged(request, repo.keys)
        raise LookupError(rest)

    # --- GraphQL ------------------------------------------------------------------------------
    def _graphql(self, body: dict[str, Any]) -> Reply:
        query, variables = body.get("query", ""), body.get("variables") or {}
        if "samlIdentityProvider" not in query:
            return Reply(
                200, {"errors": [{"type": "UNSUPPORTED", "message": "not served by this test server"}]}
            )
        org = self.world.orgs.get(variables.get("org", ""))
        if org is None:
            errors = [
                {
                    "type": "NOT_FOUND",
                    "path": ["organization"],
                    "message": "Could not resolve to an Organization",
                }
            ]
            return Reply(200, {"data": {"organization": None}, "errors": errors})
        if org.saml is None:
            return Reply(200, {"data": {"organization": {"samlIdentityProvider": None}}})
        first = min(
            int(m.group(1)) if (m := re.search(r"first:\s*(\d+)", query)) else 100, self.world.max_per_page
        )
        start = _decode_cursor(variables.get("after"))
        identities = list(org.saml.items())
        edges = [
            {"node": {"samlIdentity": {"nameId": name_id}, "user": {"login": login}}}
            for login, name_id in identities[start : start + first]
        ]
        more = start + first < len(identities)
        page_info = {"hasNextPage": more, "endCursor": _cursor(start + len(edges)) if edges else None}
        provider = {"externalIdentities": {"edges": edges, "pageInfo": page_info}}
        return Reply(200, {"data": {"organization": {"samlIdentityProvider": provider}}})

    # --- GitHub App installation tokens -------------------------------------------------------
    def _installation_token(self, request: Request, installation: int) -> Reply:
        if self.world.app is None or installation != self.world.app[1]:
            return self.error(404, "Not Found")
        app_id, _, public_key = self.world.app
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(bearer, public_key, algorithms=["RS256"])
        except jwt.PyJWTError:
            return self.error(401, "A JSON web token could not be decoded")
        if str(claims.get("iss")) != str(app_id):
            return self.error(401, "'Issuer' claim ('iss') must be an Integer")
        return Reply(
            201, {"token": INSTALLATION_TOKEN, "expires_at": "2100-01-01T00:00:00Z", "permissions": {}}
        )


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:{index}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    return int(base64.b64decode(cursor).decode().removeprefix("cursor:"))
