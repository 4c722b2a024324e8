"""Scenarios for the Google Workspace checks, with records shaped exactly as the collectors emit them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agent.plugin.model import Record, Status
from tests.scenarios import ERROR, FAIL, NA, NOW, PASS, Scenario

CUSTOMER = "google_workspace:my_customer"
ENFORCEMENT = f"{CUSTOMER}:2sv-enforcement"
USERS, ROLES = "google_workspace.users", "google_workspace.role_assignments"


def stamp(offset: int) -> str:
    """A timestamp `offset` days from NOW, written as the Directory API writes them."""
    return (NOW + timedelta(days=offset)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def user(
    uid: str,
    email: str,
    *,
    suspended: bool = False,
    reason: str | None = None,
    archived: bool = False,
    admin: bool = False,
    delegated: bool = False,
    enrolled: bool | None = True,
    enforced: bool = True,
    last: int | None = -2,
    created: int = -500,
    unit: str = "/",
    aliases: tuple[str, ...] = (),
) -> Record:
    return Record(
        resource_id=uid,
        data={
            "id": uid,
            "primaryEmail": email,
            "aliases": list(aliases),
            "employeeId": None,
            "suspended": suspended,
            "suspensionReason": reason,
            "archived": archived,
            "isAdmin": admin,
            "isDelegatedAdmin": delegated,
            "isEnrolledIn2Sv": enrolled,
            "isEnforcedIn2Sv": enforced,
            "lastLoginTime": stamp(last) if last is not None else None,
            "creationTime": stamp(created),
            "orgUnitPath": unit,
        },
    )


def assignment(aid: str, role: str, to: str, *, kind: str = "user", super_admin: bool = False) -> Record:
    return Record(
        resource_id=aid,
        data={
            "roleAssignmentId": aid,
            "roleId": f"role-{role}",
            "roleName": role,
            "isSuperAdminRole": super_admin,
            "assignedTo": to,
            "assigneeType": kind,
            "scopeType": "CUSTOMER",
            "orgUnitId": None,
        },
    )


def workspace(
    check_id: str, name: str, records: dict[str, list[Record]], expected: dict[str, Status], **params: Any
) -> Scenario:
    return Scenario(check_id, name, records, expected, params=params, scope=CUSTOMER)


TWO_SV = [
    workspace(
        "google_workspace.mfa.user_not_enrolled",
        "active users not enrolled fail; suspended and archived are not judged; an unreported flag errs",
        {
            USERS: [
                user("u-1", "a@acme.com"),
                user("u-2", "b@acme.com", enrolled=False),
                user("u-3", "c@acme.com", enrolled=False, suspended=True, reason="ADMIN"),
                user("u-4", "d@acme.com", enrolled=False, archived=True),
                user("u-5", "e@acme.com", enrolled=None),
            ]
        },
        {"u-1": PASS, "u-2": FAIL, "u-5": ERROR},
    ),
    workspace(
        "google_workspace.mfa.user_not_enrolled",
        "no active user: not applicable",
        {USERS: [user("u-1", "a@acme.com", suspended=True)]},
        {CUSTOMER: NA},
    ),
    workspace(
        "google_workspace.mfa.enforced",
        "enforced for every active user (a suspended user's policy does not matter)",
        {
            USERS: [
                user("u-1", "a@acme.com"),
                user("u-2", "b@acme.com", unit="/Sales"),
                user("u-3", "c@acme.com", enforced=False, suspended=True),
            ]
        },
        {ENFORCEMENT: PASS},
    ),
    workspace(
        "google_workspace.mfa.enforced",
        "not enforced in some organisational units",
        {
            USERS: [
                user("u-1", "a@acme.com"),
                user("u-2", "b@acme.com", unit="/Sales", enforced=False),
                user("u-3", "c@acme.com", unit="/Sales", enforced=False),
                user("u-4", "d@acme.com", enforced=False),
            ]
        },
        {ENFORCEMENT: FAIL},
    ),
    workspace(
        "google_workspace.mfa.enforced",
        "no active user at all cannot show enforcement: an error, never a pass",
        {USERS: [user("u-1", "a@acme.com", archived=True)]},
        {ENFORCEMENT: ERROR},
    ),
]

ADMINS = [
    workspace(
        "google_workspace.admins.without_mfa",
        "super, delegated and role-holding admins must be enrolled; a role holder missing from the users errs",
        {
            USERS: [
                user("u-1", "a@acme.com", admin=True),
                user("u-2", "b@acme.com", admin=True, enrolled=False),
                user("u-3", "c@acme.com", delegated=True, enrolled=False),
                user("u-4", "d@acme.com", delegated=True),
                user("u-5", "e@acme.com", enrolled=False),
                user("u-6", "f@acme.com", admin=True, enrolled=False, suspended=True),
                user("u-7", "g@acme.com", enrolled=False),
            ],
            ROLES: [
                assignment("ra-1", "_SEED_ADMIN_ROLE", "u-1", super_admin=True),
                assignment("ra-2", "_GROUPS_ADMIN_ROLE", "u-3"),
                assignment("ra-3", "_HELP_DESK_ADMIN_ROLE", "u-9"),
                assignment("ra-4", "_USER_MANAGEMENT_ADMIN_ROLE", "g-1", kind="group"),
                assignment("ra-5", "Custom reader", "u-7"),
            ],
        },
        {"u-1": PASS, "u-2": FAIL, "u-3": FAIL, "u-4": PASS, "u-7": FAIL, "u-9": ERROR},
    ),
    workspace(
        "google_workspace.admins.without_mfa",
        "no administrator: not applicable",
        {USERS: [user("u-1", "a@acme.com")], ROLES: []},
        {CUSTOMER: NA},
    ),
    workspace(
        "google_workspace.admins.count",
        "active super admins within the limit; suspended ones and delegated admins are not counted",
        {
            USERS: [
                user("u-1", "a@acme.com", admin=True),
                user("u-2", "b@acme.com", admin=True),
                user("u-3", "c@acme.com", admin=True, suspended=True),
                user("u-4", "d@acme.com", delegated=True),
            ]
        },
        {CUSTOMER: PASS},
        max_admins=2,
    ),
    workspace(
        "google_workspace.admins.count",
        "above the limit",
        {USERS: [user(f"u-{n}", f"{n}@acme.com", admin=True) for n in range(5)]},
        {CUSTOMER: FAIL},
    ),
    workspace(
        "google_workspace.admins.count",
        "no active super admin means the evidence is incomplete: an error, never a pass",
        {USERS: [user("u-1", "a@acme.com"), user("u-2", "b@acme.com", admin=True, archived=True)]},
        {CUSTOMER: ERROR},
    ),
]

INACTIVE = [
    workspace(
        "google_workspace.users.inactive",
        "users idle past the limit fail, recent or new ones pass, exempted ones are not applicable",
        {
            USERS: [
                user("u-1", "a@acme.com", last=-10),
                user("u-2", "b@acme.com", last=-120),
                user("u-3", "c@acme.com", last=None, created=-5),
                user("u-4", "d@acme.com", last=None, created=-200),
                user("u-5", "e@acme.com", last=-300, suspended=True),
                user("u-6", "scanner@acme.com", last=-400),
                user("u-7", "f@acme.com", last=-90),
                user("u-8", "g@acme.com", last=-91),
            ]
        },
        {"u-1": PASS, "u-2": FAIL, "u-3": PASS, "u-4": FAIL, "u-6": NA, "u-7": PASS, "u-8": FAIL},
        exempt_accounts=["scanner@*"],
    ),
    workspace(
        "google_workspace.users.inactive",
        "no active user: not applicable",
        {USERS: [user("u-1", "a@acme.com", archived=True)]},
        {CUSTOMER: NA},
    ),
]

SCENARIOS: list[Scenario] = [*TWO_SV, *ADMINS, *INACTIVE]
