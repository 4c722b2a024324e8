"""Scenarios for the Entra ID checks, with records shaped exactly as the Entra collectors emit them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agent.plugin.model import Record, Status
from tests.scenarios import ERROR, FAIL, NOW, PASS, Scenario

TENANT = "entra:11111111-2222-3333-4444-555555555555"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
USERS, AUTH, CA, ROLES = (
    "entra.users",
    "entra.auth_methods",
    "entra.conditional_access",
    "entra.directory_roles",
)


def stamp(offset: int) -> str:
    return (NOW + timedelta(days=offset)).isoformat()


def entra_user(
    uid: str,
    upn: str,
    *,
    enabled: bool = True,
    kind: str = "Member",
    employee_id: str | None = None,
    created: int = -500,
    signed_in: int | None = -2,
) -> Record:
    last = stamp(signed_in) if signed_in is not None else None
    return Record(
        resource_id=uid,
        data={
            "id": uid,
            "displayName": upn.split("@", 1)[0],
            "userPrincipalName": upn,
            "mail": upn if kind == "Member" else None,
            "accountEnabled": enabled,
            "userType": kind,
            "employeeId": employee_id,
            "createdDateTime": stamp(created),
            "externalUserState": "Accepted" if kind == "Guest" else None,
            "lastSignInDateTime": last,
            "lastNonInteractiveSignInDateTime": None,
            "lastSuccessfulSignInDateTime": last,
        },
    )


def registration(uid: str, *, mfa: bool) -> Record:
    methods = ["microsoftAuthenticatorPush"] if mfa else []
    return Record(
        resource_id=uid,
        data={
            "id": uid,
            "userPrincipalName": f"{uid}@acme.com",
            "isMfaRegistered": mfa,
            "isMfaCapable": mfa,
            "isAdmin": False,
            "methodsRegistered": methods,
            "userType": "member",
            "lastUpdatedDateTime": stamp(-10),
        },
    )


def policy(
    pid: str, *, state: str = "enabled", controls: tuple[str, ...] = ("mfa",), users: str = "All"
) -> Record:
    return Record(
        resource_id=pid,
        data={
            "kind": "policy",
            "id": pid,
            "displayName": f"policy {pid}",
            "state": state,
            "includeUsers": [users],
            "excludeUsers": ["breakglass-id"],
            "includeGroups": [],
            "excludeGroups": [],
            "includeRoles": [],
            "excludeRoles": [],
            "includeApplications": ["All"],
            "excludeApplications": [],
            "clientAppTypes": ["all"],
            "builtInControls": list(controls),
            "grantOperator": "OR",
            "authenticationStrength": None,
        },
    )


def security_defaults(enabled: bool) -> Record:
    return Record(resource_id="securityDefaults", data={"kind": "security_defaults", "isEnabled": enabled})


def role(rid: str, name: str, template: str, *members: tuple[str, str]) -> Record:
    return Record(
        resource_id=rid,
        data={
            "id": rid,
            "displayName": name,
            "roleTemplateId": template,
            "members": [{"id": m, "type": t} for t, m in members],
        },
    )


def entra(
    check_id: str, name: str, records: dict[str, list[Record]], expected: dict[str, Status], **params: Any
) -> Scenario:
    return Scenario(check_id, name, records, expected, params=params, scope=TENANT)


SCENARIOS: list[Scenario] = [
    entra(
        "entra.users.inactive",
        "members idle past the limit fail, recent or new ones pass",
        {
            USERS: [
                entra_user("u-1", "a@acme.com", signed_in=-10),
                entra_user("u-2", "b@acme.com", signed_in=-120),
                entra_user("u-3", "c@acme.com", signed_in=None, created=-5),
                entra_user("u-4", "d@acme.com", signed_in=None, created=-200),
                entra_user("u-5", "e@acme.com", signed_in=-300, enabled=False),
            ]
        },
        {"u-1": PASS, "u-2": FAIL, "u-3": PASS, "u-4": FAIL},
    ),
    entra(
        "entra.guests.review_age",
        "guests past the review age fail",
        {
            USERS: [
                entra_user("g-1", "new_partner.com#EXT#@acme.onmicrosoft.com", kind="Guest", created=-30),
                entra_user("g-2", "old_partner.com#EXT#@acme.onmicrosoft.com", kind="Guest", created=-400),
                entra_user(
                    "g-3",
                    "gone_partner.com#EXT#@acme.onmicrosoft.com",
                    kind="Guest",
                    created=-400,
                    enabled=False,
                ),
                entra_user("u-1", "a@acme.com", created=-400),
            ]
        },
        {"g-1": PASS, "g-2": FAIL},
    ),
    entra(
        "entra.mfa.member_not_registered",
        "members without MFA or missing from the report fail",
        {
            USERS: [
                entra_user("u-1", "a@acme.com"),
                entra_user("u-2", "b@acme.com"),
                entra_user("u-3", "c@acme.com"),
                entra_user("u-4", "d@acme.com", enabled=False),
            ],
            AUTH: [
                registration("u-1", mfa=True),
                registration("u-2", mfa=False),
                registration("u-4", mfa=False),
            ],
        },
        {"u-1": PASS, "u-2": FAIL, "u-3": FAIL},
    ),
    entra(
        "entra.mfa.conditional_access",
        "an enabled all-users MFA policy passes",
        {CA: [policy("p1"), security_defaults(False)]},
        {f"{TENANT}:mfa-enforcement": PASS},
    ),
    entra(
        "entra.mfa.conditional_access",
        "report-only or partial policies do not enforce MFA",
        {
            CA: [
                policy("p1", state="enabledForReportingButNotEnforced"),
                policy("p2", users="some-user-id"),
                policy("p3", controls=("compliantDevice",)),
                security_defaults(False),
            ]
        },
        {f"{TENANT}:mfa-enforcement": FAIL},
    ),
    entra(
        "entra.mfa.conditional_access",
        "security defaults enforce MFA",
        {CA: [security_defaults(True)]},
        {f"{TENANT}:mfa-enforcement": PASS},
    ),
    entra(
        "entra.roles.privileged_without_mfa",
        "privileged members without MFA fail; groups and unprivileged roles are not judged",
        {
            ROLES: [
                role(
                    "r-ga",
                    "Global Administrator",
                    GLOBAL_ADMIN,
                    ("user", "u-1"),
                    ("user", "u-2"),
                    ("group", "g"),
                ),
                role(
                    "r-reader", "Directory Readers", "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", ("user", "u-3")
                ),
            ],
            AUTH: [
                registration("u-1", mfa=True),
                registration("u-2", mfa=False),
                registration("u-3", mfa=False),
            ],
            USERS: [entra_user("u-1", "a@acme.com"), entra_user("u-2", "b@acme.com")],
        },
        {"u-1": PASS, "u-2": FAIL},
    ),
    entra(
        "entra.roles.global_admin_count",
        "within the limit",
        {ROLES: [role("r-ga", "Global Administrator", GLOBAL_ADMIN, ("user", "u-1"), ("user", "u-2"))]},
        {"r-ga": PASS},
    ),
    entra(
        "entra.roles.global_admin_count",
        "above a configured limit",
        {ROLES: [role("r-ga", "Global Administrator", GLOBAL_ADMIN, ("user", "u-1"), ("user", "u-2"))]},
        {"r-ga": FAIL},
        max_global_admins=1,
    ),
    entra(
        "entra.roles.global_admin_count",
        "no Global Administrator role in the evidence is an error, not a pass",
        {ROLES: []},
        {TENANT: ERROR},
    ),
]
