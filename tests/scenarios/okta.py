"""Scenarios for the Okta checks, with records shaped exactly as the Okta collectors emit them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agent.plugin.model import Record, Status
from tests.scenarios import ERROR, FAIL, NA, NOW, PASS, Scenario

ORG = "okta:acme.okta.com"
ENFORCEMENT = f"{ORG}:mfa-enforcement"
USERS, ROLES, POLICIES = "okta.users", "okta.admin_roles", "okta.policies"
ROLE_LABELS = {
    "SUPER_ADMIN": "Super Administrator",
    "ORG_ADMIN": "Organization Administrator",
    "APP_ADMIN": "Application Administrator",
    "READ_ONLY_ADMIN": "Read-only Administrator",
}


def stamp(offset: int | None) -> str | None:
    """A timestamp `offset` days from NOW, written as Okta writes them."""
    if offset is None:
        return None
    return (NOW + timedelta(days=offset)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def factor(kind: str, status: str = "ACTIVE") -> dict[str, str]:
    return {"id": f"f-{kind}", "factorType": kind, "provider": "OKTA", "status": status}


def user(
    uid: str,
    login: str,
    *,
    status: str = "ACTIVE",
    factors: tuple[str, ...] = ("push",),
    pending: tuple[str, ...] = (),
    listed: bool | None = None,
    last: int | None = -2,
    created: int = -500,
    changed: int = -400,
) -> Record:
    """A user; its factors are listed unless it is DEPROVISIONED (or `listed` says otherwise)."""
    listed = status != "DEPROVISIONED" if listed is None else listed
    enrolled = [factor(k) for k in factors] + [factor(k, "PENDING_ACTIVATION") for k in pending]
    return Record(
        resource_id=uid,
        data={
            "id": uid,
            "status": status,
            "login": login,
            "email": login,
            "employeeNumber": None,
            "created": stamp(created),
            "activated": stamp(created),
            "statusChanged": stamp(changed),
            "lastLogin": stamp(last),
            "factors": enrolled if listed else None,
        },
    )


def admin(uid: str, *types: str, label: str = "Helpdesk", assignment: str = "USER") -> Record:
    roles = [
        {
            "id": f"ra-{uid}-{n}",
            "type": t,
            "label": ROLE_LABELS.get(t, label),
            "status": "ACTIVE",
            "assignmentType": assignment,
        }
        for n, t in enumerate(types)
    ]
    return Record(resource_id=uid, data={"userId": uid, "roles": roles})


def rule(
    rid: str,
    *,
    access: str = "ALLOW",
    require: bool | None = None,
    mode: str | None = None,
    status: str = "ACTIVE",
    users_excluded: tuple[str, ...] = (),
    groups_excluded: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "id": rid,
        "name": f"rule {rid}",
        "status": status,
        "priority": 1,
        "system": False,
        "groupsIncluded": [],
        "groupsExcluded": list(groups_excluded),
        "usersExcluded": list(users_excluded),
        "access": access,
        "requireFactor": require,
        "factorMode": mode,
    }


def policy(pid: str, kind: str, *rules: dict[str, Any], status: str = "ACTIVE") -> Record:
    return Record(
        resource_id=pid,
        data={
            "id": pid,
            "name": f"policy {pid}",
            "type": kind,
            "status": status,
            "priority": 1,
            "system": pid == "default",
            "groupsIncluded": [],
            "rules": list(rules),
        },
    )


def sign_on(pid: str, *rules: dict[str, Any], status: str = "ACTIVE") -> Record:
    return policy(pid, "OKTA_SIGN_ON", *rules, status=status)


def access(pid: str, *rules: dict[str, Any], status: str = "ACTIVE") -> Record:
    return policy(pid, "ACCESS_POLICY", *rules, status=status)


def okta(
    check_id: str, name: str, records: dict[str, list[Record]], expected: dict[str, Status], **params: Any
) -> Scenario:
    return Scenario(check_id, name, records, expected, params=params, scope=ORG)


FACTORS = [
    okta(
        "okta.mfa.user_not_enrolled",
        "a possession factor passes; weak-only, pending-only or none fail; inactive users are not judged",
        {
            USERS: [
                user("u-1", "a@acme.com", factors=("push", "question")),
                user("u-2", "b@acme.com", factors=("question", "email")),
                user("u-3", "c@acme.com", factors=(), pending=("token:software:totp",)),
                user("u-4", "d@acme.com", factors=()),
                user("u-5", "e@acme.com", status="LOCKED_OUT", factors=("webauthn",)),
                user("u-6", "f@acme.com", status="SUSPENDED", factors=()),
                user("u-7", "g@acme.com", status="DEPROVISIONED"),
                user("u-8", "h@acme.com", status="PROVISIONED", factors=()),  # a joiner not activated yet
            ]
        },
        {"u-1": PASS, "u-2": FAIL, "u-3": FAIL, "u-4": FAIL, "u-5": PASS, "u-8": NA},
    ),
    okta(
        "okta.mfa.user_not_enrolled",
        "an active user whose factors were not listed is an error, not a pass or a fail",
        {USERS: [user("u-1", "a@acme.com", listed=False), user("u-2", "b@acme.com")]},
        {"u-1": ERROR, "u-2": PASS},
    ),
    okta(
        "okta.mfa.user_not_enrolled",
        "ignored_factor_types decides what counts",
        {
            USERS: [
                user("u-1", "a@acme.com", factors=("sms",)),
                user("u-2", "b@acme.com", factors=("SMS", "push")),
            ]
        },
        {"u-1": FAIL, "u-2": PASS},
        ignored_factor_types=["question", "email", "sms"],
    ),
    okta(
        "okta.mfa.user_not_enrolled",
        "no active user: not applicable for the org",
        {USERS: [user("u-1", "a@acme.com", status="DEPROVISIONED")]},
        {ORG: NA},
    ),
    okta(
        "okta.admins.without_mfa",
        "active admins need a counted factor; a holder missing from the users or without listed factors errs",
        {
            ROLES: [
                admin("u-1", "SUPER_ADMIN"),
                admin("u-2", "ORG_ADMIN", "APP_ADMIN"),
                admin("u-3", "APP_ADMIN"),
                admin("u-4", "SUPER_ADMIN"),
                admin("u-5", "CUSTOM", assignment="GROUP"),
            ],
            USERS: [
                user("u-1", "a@acme.com", factors=("webauthn",)),
                user("u-2", "b@acme.com", factors=("question",)),
                user("u-4", "d@acme.com", status="DEPROVISIONED"),
                user("u-5", "e@acme.com", listed=False),
                user("u-6", "f@acme.com", factors=()),
            ],
        },
        {"u-1": PASS, "u-2": FAIL, "u-3": ERROR, "u-5": ERROR},
    ),
    okta(
        "okta.admins.without_mfa",
        "no admin role holder: not applicable",
        {ROLES: [], USERS: [user("u-1", "a@acme.com")]},
        {ORG: NA},
    ),
]

COUNT = [
    okta(
        "okta.admins.count",
        "super admins within the limit; other roles and deactivated holders are not counted",
        {
            ROLES: [
                admin("u-1", "SUPER_ADMIN"),
                admin("u-2", "SUPER_ADMIN", "ORG_ADMIN"),
                admin("u-3", "ORG_ADMIN"),
                admin("u-4", "SUPER_ADMIN"),
                admin("u-5", "SUPER_ADMIN"),
                admin("u-6", "SUPER_ADMIN"),
            ],
            USERS: [
                user("u-1", "a@acme.com"),
                user("u-2", "b@acme.com"),
                user("u-3", "c@acme.com"),
                user("u-4", "d@acme.com"),
                user("u-5", "e@acme.com", status="DEPROVISIONED"),
                user("u-6", "f@acme.com", status="SUSPENDED"),
            ],
        },
        {ORG: PASS},
    ),
    okta(
        "okta.admins.count",
        "a holder missing from the users is counted (it may be active): above the limit",
        {
            ROLES: [admin(f"u-{n}", "SUPER_ADMIN") for n in range(1, 6)],
            USERS: [user(f"u-{n}", f"{n}@acme.com") for n in range(1, 5)],
        },
        {ORG: FAIL},
    ),
    okta(
        "okta.admins.count",
        "counted_roles widens what is counted",
        {
            ROLES: [admin("u-1", "SUPER_ADMIN"), admin("u-2", "ORG_ADMIN"), admin("u-3", "CUSTOM")],
            USERS: [user("u-1", "a@acme.com"), user("u-2", "b@acme.com"), user("u-3", "c@acme.com")],
        },
        {ORG: FAIL},
        counted_roles=["SUPER_ADMIN", "org_admin", "Helpdesk"],
        max_admins=2,
    ),
    okta(
        "okta.admins.count",
        "no active super admin means the evidence is incomplete: an error, never a pass",
        {ROLES: [admin("u-1", "ORG_ADMIN")], USERS: [user("u-1", "a@acme.com")]},
        {ORG: ERROR},
    ),
    okta(
        "okta.admins.count",
        "no holder of a role that need not exist passes",
        {ROLES: [admin("u-1", "SUPER_ADMIN")], USERS: [user("u-1", "a@acme.com")]},
        {ORG: PASS},
        counted_roles=["ORG_ADMIN"],
    ),
]

POLICY = [
    okta(
        "okta.mfa.policy_enforced",
        "every active allowing sign-on rule requires a factor; deny, inactive rules and policies do not matter",
        {
            POLICIES: [
                sign_on(
                    "default",
                    rule("mfa", require=True, users_excluded=("00u-breakglass",)),
                    rule("deny", access="DENY", require=False),
                    rule("old", require=False, status="INACTIVE"),
                ),
                sign_on("legacy", rule("pw", require=False), status="INACTIVE"),
                access("dashboard", rule("1fa", mode="1FA")),
            ]
        },
        {ENFORCEMENT: PASS},
    ),
    okta(
        "okta.mfa.policy_enforced",
        "a sign-on rule without a factor and an app rule allowing 1FA fail",
        {
            POLICIES: [
                sign_on("default", rule("mfa", require=True), rule("catch-all", require=False)),
                access("dashboard", rule("2fa", mode="2FA"), rule("1fa", mode="1FA")),
            ]
        },
        {ENFORCEMENT: FAIL},
    ),
    okta(
        "okta.mfa.policy_enforced",
        "MFA enforced per app: every active authentication policy rule allowing access requires 2FA",
        {
            POLICIES: [
                sign_on("default", rule("catch-all", require=False)),
                access("dashboard", rule("2fa", mode="2FA", groups_excluded=("00g-contractors",))),
                access("admin", rule("2fa", mode="2FA"), rule("deny", access="DENY", mode="1FA")),
                access("retired", rule("1fa", mode="1FA"), status="INACTIVE"),
            ]
        },
        {ENFORCEMENT: PASS},
    ),
    okta(
        "okta.mfa.policy_enforced",
        "a sign-on rule without a factor and no authentication policy fails",
        {POLICIES: [sign_on("default", rule("catch-all", require=None))]},
        {ENFORCEMENT: FAIL},
    ),
    okta(
        "okta.mfa.policy_enforced",
        "no active sign-on policy is not enforcement by default",
        {POLICIES: [sign_on("default", rule("mfa", require=True), status="INACTIVE")]},
        {ENFORCEMENT: FAIL},
    ),
    okta(
        "okta.mfa.policy_enforced",
        "no sign-on policy in the evidence is an error, never a pass",
        {POLICIES: [access("dashboard", rule("2fa", mode="2FA"))]},
        {ENFORCEMENT: ERROR},
    ),
]

INACTIVE = [
    okta(
        "okta.users.inactive",
        "users idle past the limit fail, recent or new ones pass, exempted ones are not applicable",
        {
            USERS: [
                user("u-1", "a@acme.com", last=-10),
                user("u-2", "b@acme.com", last=-120),
                user("u-3", "c@acme.com", last=None, created=-5),
                user("u-4", "d@acme.com", last=None, created=-200),
                user("u-5", "e@acme.com", last=-300, status="SUSPENDED"),
                user("u-6", "svc-backup@acme.com", last=-400),
                user("u-7", "f@acme.com", last=-90),
                user("u-8", "g@acme.com", last=-91, status="PASSWORD_EXPIRED"),
            ]
        },
        {"u-1": PASS, "u-2": FAIL, "u-3": PASS, "u-4": FAIL, "u-6": NA, "u-7": PASS, "u-8": FAIL},
        exempt_accounts=["SVC-*"],
    ),
    okta(
        "okta.users.inactive",
        "a configured limit",
        {USERS: [user("u-1", "a@acme.com", last=-10)]},
        {"u-1": FAIL},
        max_inactive_days=7,
    ),
    okta(
        "okta.users.inactive",
        "no active user: not applicable",
        {USERS: [user("u-1", "a@acme.com", status="DEPROVISIONED")]},
        {ORG: NA},
    ),
]

SCENARIOS: list[Scenario] = [*FACTORS, *COUNT, *POLICY, *INACTIVE]
