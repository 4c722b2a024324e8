"""A loopback Microsoft Graph (v1.0) that speaks Graph's JSON, for the real msgraph-sdk to talk to.

It serves the collections the Entra and Intune collectors read, with the behaviour that matters to them:
bearer-token checks, `$select` projection, `$top` and server-side page limits with absolute
`@odata.nextLink` URLs carrying a `$skiptoken`, Graph's error body, and injectable faults
(429/503 with `Retry-After`, a number of times or forever). Unknown query parameters are
ignored, as Graph does with most of them.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from simulators.localserver import Fault, LocalServer, Reply, Request

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
THROTTLED = "Too many requests or service unavailable."  # the message of every injected fault


@dataclass(init=False)
class GraphFault(Fault):
    """A fault on requests whose path starts with `path`: by default Graph's throttling (429 with
    `Retry-After: 1`, once). Without a raw `body` (e.g. an HTML gateway page) it is Graph's error JSON.
    """

    path: str = ""

    def __init__(
        self,
        path: str,
        status: int = 429,
        retry_after: str | None = "1",
        times: int | None = 1,
        body: str | None = None,
    ) -> None:
        super().__init__(status, THROTTLED, times, body, retry_after)
        self.path = path


@dataclass
class GraphData:
    """The tenant's content, as Graph would return it (camelCase JSON objects)."""

    users: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    security_defaults: bool = False
    roles: list[dict[str, Any]] = field(default_factory=list)  # each with "members": [directoryObject]
    managed_devices: list[dict[str, Any]] = field(default_factory=list)  # Intune
    compliance_policies: list[dict[str, Any]] = field(default_factory=list)  # each with its "@odata.type"


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


def managed_device(
    did: str,
    name: str,
    *,
    os: str = "Windows",
    version: str = "10.0.22631.4460",
    state: str = "compliant",
    encrypted: bool = True,
    jailbroken: str = "Unknown",
    last_sync: str = "2026-10-31T08:00:00Z",
    upn: str | None = None,
    owner: str = "company",
) -> dict[str, Any]:
    """An Intune managedDevice as Graph returns it (Intune writes 0001-01-01 for "never synced")."""
    return {
        "id": did,
        "userId": "00000000-0000-0000-0000-0000000000aa" if upn else None,
        "deviceName": name,
        "managedDeviceOwnerType": owner,
        "enrolledDateTime": "2025-01-15T10:00:00Z",
        "lastSyncDateTime": last_sync,
        "operatingSystem": os,
        "complianceState": state,
        "jailBroken": jailbroken,
        "managementAgent": "mdm",
        "osVersion": version,
        "easActivated": True,
        "azureADRegistered": True,
        "deviceEnrollmentType": "windowsAzureADJoin",
        "emailAddress": upn or "",
        "azureADDeviceId": "00000000-0000-0000-0000-0000000000bb",
        "deviceRegistrationState": "registered",
        "isSupervised": False,
        "isEncrypted": encrypted,
        "userPrincipalName": upn or "",
        "model": "Surface Laptop 5",
        "manufacturer": "Microsoft Corporation",
        # Never selected: proves $select keeps device identifiers out of the evidence.
        "serialNumber": "0F33XK1234",
        "imei": "356938035643809",
        "phoneNumber": "+1 555 0101",
        "wiFiMacAddress": "a4:83:e7:00:00:01",
    }


def compliance_policy(pid: str, name: str, odata_type: str) -> dict[str, Any]:
    """A device compliance policy of subtype `odata_type` (`windows10CompliancePolicy`, ...)."""
    return {
        "@odata.type": f"#microsoft.graph.{odata_type}",
        "id": pid,
        "displayName": name,
        "description": "",
        "createdDateTime": "2025-01-01T00:00:00Z",
        "lastModifiedDateTime": "2025-06-01T00:00:00Z",
        "version": 3,
        "passwordRequired": True,
        "storageRequireEncryption": True,
    }


def directory(
    users: list[dict[str, Any]],
    *,
    mfa: dict[str, bool],
    policy: dict[str, Any],
    admin_role: str,
    admins: list[tuple[str, str]],
    roles: list[dict[str, Any]] | None = None,
) -> GraphData:
    """A tenant of `users`: an MFA registration for each user id in `mfa` (registered or not), one
    conditional access policy, no security defaults, a Global Administrator role `admin_role`
    holding `admins` ((odata type, id) pairs), then any other `roles`."""
    upn = {u["id"]: u["userPrincipalName"] for u in users}
    return GraphData(
        users=users,
        registrations=[registration(uid, upn[uid], mfa=registered) for uid, registered in mfa.items()],
        policies=[policy],
        security_defaults=False,
        roles=[role(admin_role, "Global Administrator", GLOBAL_ADMIN_TEMPLATE, admins), *(roles or [])],
    )


class GraphServer(LocalServer):
    """`with GraphServer(data, token="t") as g:` serves on `g.url` (use it as `[entra] graph_url`)."""

    methods = ("GET",)
    extra_headers = {"request-id": "7f0c1d2e-0000-4000-8000-000000000000"}

    def __init__(self, data: GraphData, *, token: str | None = None, page_size: int = 100) -> None:
        self.data = data
        self.token = token
        self.page_size = page_size
        self.faults: list[GraphFault] = []
        super().__init__()

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
        if path == "/v1.0/deviceManagement/managedDevices":
            return d.managed_devices
        if path == "/v1.0/deviceManagement/deviceCompliancePolicies":
            return d.compliance_policies
        if path == "/v1.0/directoryRoles":
            return [{k: v for k, v in r.items() if k != "members"} for r in d.roles]
        parts = path.split("/")
        if len(parts) == 5 and parts[2] == "directoryRoles" and parts[4] == "members":
            for r in d.roles:
                if r["id"] == parts[3]:
                    return r["members"]
        return None

    def route(self, request: Request) -> Reply:
        path = self.hit_key(request)
        found = self.collection(path)
        if found is None:
            return self.error(404, f"Resource not found for the segment '{path.rsplit('/', 1)[-1]}'.")
        return Reply(200, found if isinstance(found, dict) else self.page(found, request))

    def page(self, items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
        query = dict(request.query)
        skip = int(query.get("$skiptoken", "0") or 0)
        top = min(int(query.get("$top", self.page_size) or self.page_size), self.page_size)
        select = [s for s in query.get("$select", "").split(",") if s]
        chunk = items[skip : skip + top]
        if select:
            chunk = [
                {k: v for k, v in item.items() if k in select or k in ("id", "@odata.type")} for item in chunk
            ]
        body: dict[str, Any] = {
            "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#{request.path}",
            "value": chunk,
        }
        if skip + top < len(items):
            query["$skiptoken"] = str(skip + top)
            host = request.headers.get("Host", "")
            body["@odata.nextLink"] = (
                f"http://{host}{request.path}?{urllib.parse.urlencode(query, safe='$,')}"
            )
        return body

    # -- Graph's own plumbing ----------------------------------------------------------------
    def hit_key(self, request: Request) -> str:
        return request.path.rstrip("/")

    def faults_for(self, request: Request) -> list[GraphFault]:
        path = self.hit_key(request)
        return [f for f in self.faults if path.startswith(f.path)]

    def error(self, status: int, message: str) -> Reply:
        return Reply(
            status,
            {
                "error": {
                    "code": ERROR_CODES.get(status, "UnknownError"),
                    "message": message,
                    "innerError": {"date": "2026-11-01T12:00:00", "request-id": "7f0c1d2e"},
                }
            },
        )

    def credential(self) -> str | None:
        return None if self.token is None else f"Bearer {self.token}"

    def unauthorized(self) -> Reply:
        return self.error(401, "Access token is empty or invalid.")

    def content_type(self, reply: Reply) -> str:
        return "text/html" if isinstance(reply.payload, str) else "application/json; odata.metadata=minimal"
