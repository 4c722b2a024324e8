"""A loopback Microsoft Graph (v1.0) that speaks Graph's JSON, for the real msgraph-sdk to talk to.

It serves the collections the Entra collectors read, with the behaviour that matters to them:
bearer-token checks, `$select` projection, `$top` and server-side page limits with absolute
`@odata.nextLink` URLs carrying a `$skiptoken`, Graph's error body, and injectable faults
(429/503 with `Retry-After`, a number of times or forever). Unknown query parameters are
ignored, as Graph does with most of them.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.localserver import LocalServer

USER = "#microsoft.graph.user"
GROUP = "#microsoft.graph.group"
SERVICE_PRINCIPAL = "#microsoft.graph.servicePrincipal"
GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"
ERROR_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "Authorization_RequestDenied",
    404: "Request_ResourceNotFound",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


@dataclass
class GraphFault:
    """Answer requests whose path starts with `path` with `status` (None times: forever)."""

    path: str
    status: int = 429
    retry_after: str | None = "1"
    times: int | None = 1
    body: str | None = None  # raw body instead of Graph's error JSON (e.g. an HTML gateway page)


@dataclass
class GraphData:
    """The tenant's content, as Graph would return it (camelCase JSON objects)."""

    users: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    security_defaults: bool = False
    roles: list[dict[str, Any]] = field(default_factory=list)  # each with "members": [directoryObject]


def user(
    uid: str,
    upn: str,
    *,
    name: str = "",
    enabled: bool = True,
    user_type: str = "Member",
    employee_id: str | None = None,
    mail: str | None = None,
    created: str = "2024-01-01T09:00:00Z",
    last_sign_in: str | None = None,
    last_non_interactive: str | None = None,
) -> dict[str, Any]:
    activity = None
    if last_sign_in or last_non_interactive:
        activity = {
            "lastSignInDateTime": last_sign_in,
            "lastSignInRequestId": "00000000-0000-0000-0000-000000000001",
            "lastNonInteractiveSignInDateTime": last_non_interactive,
            "lastNonInteractiveSignInRequestId": None,
            "lastSuccessfulSignInDateTime": max(filter(None, [last_sign_in, last_non_interactive])),
            "lastSuccessfulSignInRequestId": None,
        }
    return {
        "id": uid,
        "displayName": name or upn.split("@", maxsplit=1)[0],
        "userPrincipalName": upn,
        "mail": mail if mail is not None else (upn if user_type == "Member" else None),
        "accountEnabled": enabled,
        "userType": user_type,
        "employeeId": employee_id,
        "createdDateTime": created,
        "externalUserState": "Accepted" if user_type == "Guest" else None,
        "signInActivity": activity,
        "mobilePhone": "+1 555 0100",  # never selected: proves $select keeps it out of the evidence
    }


def registration(uid: str, upn: str, *, mfa: bool, admin: bool = False, user_type: str = "member") -> dict:
    return {
        "id": uid,
        "userPrincipalName": upn,
        "userDisplayName": upn.split("@", maxsplit=1)[0],
        "isAdmin": admin,
        "isMfaRegistered": mfa,
        "isMfaCapable": mfa,
        "isSsprRegistered": False,
        "isSsprEnabled": False,
        "isSsprCapable": False,
        "isPasswordlessCapable": False,
        "methodsRegistered": ["microsoftAuthenticatorPush", "softwareOneTimePasscode"] if mfa else [],
        "userType": user_type,
        "lastUpdatedDateTime": "2026-10-01T00:00:00Z",
    }


def mfa_policy(pid: str, *, state: str = "enabled", exclude_users: list[str] | None = None) -> dict:
    """A conditional access policy requiring MFA for all users on all cloud apps."""
    return {
        "id": pid,
        "displayName": "Require MFA for all users",
        "state": state,
        "createdDateTime": "2024-01-01T00:00:00Z",
        "conditions": {
            "clientAppTypes": ["all"],
            "users": {
                "includeUsers": ["All"],
                "excludeUsers": exclude_users or [],
                "includeGroups": [],
                "excludeGroups": [],
                "includeRoles": [],
                "excludeRoles": [],
            },
            "applications": {"includeApplications": ["All"], "excludeApplications": []},
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": []},
    }


def role(rid: str, name: str, template: str, members: list[tuple[str, str]]) -> dict[str, Any]:
    """A directory role; members are (odata type, id) pairs."""
    return {
        "id": rid,
        "displayName": name,
        "roleTemplateId": template,
        "members": [{"@odata.type": t, "id": m} for t, m in members],
    }


class GraphServer(LocalServer):
    """`with GraphServer(data, token="t") as g:` serves on `g.url` (use it as `[entra] graph_url`)."""

    def __init__(self, data: GraphData, *, token: str | None = None, page_size: int = 100) -> None:
        self.data = data
        self.token = token
        self.page_size = page_size
        self.faults: list[GraphFault] = []
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._listen(ThreadingHTTPServer(("127.0.0.1", 0), self._handler()))

    # -- routing -----------------------------------------------------------------------------
    def collection(self, path: str) -> list[dict[str, Any]] | dict[str, Any] | None:
        d = self.data
        if path == "/v1.0/users":
            return d.users
        if path == "/v1.0/reports/authenticationMethods/userRegistrationDetails":
            return d.registrations
        if path == "/v1.0/identity/conditionalAccess/policies":
            return d.policies
        if path == "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy":
            return {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/identitySecurityDefaultsEnforcementPolicy/$entity",
                "id": "00000000-0000-0000-0000-000000000005",
                "displayName": "Security Defaults",
                "isEnabled": d.security_defaults,
            }
        if path == "/v1.0/directoryRoles":
            return [{k: v for k, v in r.items() if k != "members"} for r in d.roles]
        parts = path.split("/")
        if len(parts) == 5 and parts[2] == "directoryRoles" and parts[4] == "members":
            for r in d.roles:
                if r["id"] == parts[3]:
                    return r["members"]
        return None

    def _fault_for(self, path: str) -> GraphFault | None:
        with self._lock:
            for fault in self.faults:
                if path.startswith(fault.path) and (fault.times is None or fault.times > 0):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                ctype = "text/html" if isinstance(body, str) else "application/json; odata.metadata=minimal"
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(raw)))
                self.send_header("request-id", "7f0c1d2e-0000-4000-8000-000000000000")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
                body = {
                    "error": {
                        "code": ERROR_CODES.get(status, "UnknownError"),
                        "message": message,
                        "innerError": {"date": "2026-11-01T12:00:00", "request-id": "7f0c1d2e"},
                    }
                }
                self._send(status, body, headers)

            def do_GET(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                path = parsed.path.rstrip("/")
                with server._lock:
                    server.hits[path] = server.hits.get(path, 0) + 1
                if server.token is not None and self.headers.get("Authorization") != f"Bearer {server.token}":
                    self._error(401, "Access token is empty or invalid.")
                    return
                fault = server._fault_for(path)
                if fault is not None:
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    if fault.body is not None:
                        self._send(fault.status, fault.body, headers)
                    else:
                        self._error(fault.status, "Too many requests or service unavailable.", headers)
                    return
                found = server.collection(path)
                if found is None:
                    self._error(404, f"Resource not found for the segment '{path.rsplit('/', 1)[-1]}'.")
                    return
                if isinstance(found, dict):
                    self._send(200, found)
                    return
                self._send(200, server.page(found, parsed, self.headers.get("Host", "")))

        return Handler

    def page(self, items: list[dict[str, Any]], parsed: urllib.parse.SplitResult, host: str) -> dict:
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        skip = int(query.get("$skiptoken", "0") or 0)
        top = min(int(query.get("$top", self.page_size) or self.page_size), self.page_size)
        select = [s for s in query.get("$select", "").split(",") if s]
        chunk = items[skip : skip + top]
        if select:
            chunk = [
                {k: v for k, v in item.items() if k in select or k in ("id", "@odata.type")} for item in chunk
            ]
        body: dict[str, Any] = {
            "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#{parsed.path}",
            "value": chunk,
        }
        if skip + top < len(items):
            query["$skiptoken"] = str(skip + top)
            body["@odata.nextLink"] = f"http://{host}{parsed.path}?{urllib.parse.urlencode(query, safe='$,')}"
        return body
