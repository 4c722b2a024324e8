"""Scenarios for the people and identity checks, with records shaped exactly as the collectors emit them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import checks.people  # noqa: F401  (registers the checks these scenarios exercise)
from agent.model import Record, Status
from tests.scenarios import NOW, Scenario

PASS, FAIL, NA, ERROR = Status.PASS, Status.FAIL, Status.NOT_APPLICABLE, Status.ERROR
TENANT = "entra:11111111-2222-3333-4444-555555555555"
HR = "hr:bamboohr:acme"
ACCOUNT = "123456789012"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
USERS, AUTH, CA, ROLES = (
    "entra.users",
    "entra.auth_methods",
    "entra.conditional_access",
    "entra.directory_roles",
)
EMPLOYEES, REPORT = "hr.employees", "aws.iam.credential_report"


def day(offset: int) -> str:
    """An ISO date `offset` days from NOW (negative: in the past)."""
    return (NOW + timedelta(days=offset)).date().isoformat()


def stamp(offset: int) -> str:
    return (NOW + timedelta(days=offset)).isoformat()


def employee(
    eid: str,
    email: str | None,
    *,
    status: str = "active",
    hired: int = -400,
    left: int | None = None,
    aliases: tuple[str, ...] = (),
    **facts: Any,
) -> Record:
    data: dict[str, Any] = {
        "employee_id": eid,
        "email": email,
        "name": f"Person {eid}",
        "status": status,
        "hire_date": day(hired),
        "termination_date": day(left) if left is not None else None,
        "manager_email": "boss@acme.com",
        "department": "Engineering",
        "aliases": sorted(aliases),
        **facts,
    }
    return Record(resource_id=f"hr:{eid}", data=data, scope=HR)


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


def iam_row(user: str, *, password: bool = False, key: bool = False, used: int | None = None) -> Record:
    last = stamp(used) if used is not None else "N/A"
    arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"
    return Record(
        resource_id=arn,
        data={
            "user": user,
            "arn": arn,
            "user_creation_time": stamp(-900),
            "password_enabled": str(password).lower(),
            "password_last_used": last if password else "N/A",
            "password_last_changed": "N/A",
            "password_next_rotation": "N/A",
            "mfa_active": "false",
            "access_key_1_active": str(key).lower(),
            "access_key_1_last_rotated": stamp(-300) if key else "N/A",
            "access_key_1_last_used_date": last if key else "N/A",
            "access_key_2_active": "false",
            "access_key_2_last_rotated": "N/A",
            "access_key_2_last_used_date": "N/A",
        },
    )


def entra(
    check_id: str, name: str, records: dict[str, list[Record]], expected: dict[str, Status], **params: Any
) -> Scenario:
    return Scenario(check_id, name, records, expected, params=params, scope=TENANT)


def hr(
    check_id: str, name: str, records: list[Record], expected: dict[str, Status], **params: Any
) -> Scenario:
    return Scenario(check_id, name, {EMPLOYEES: records}, expected, params=params, scope=HR)


# A small company reused across the leaver scenarios.
ALICE = employee("E1", "alice@acme.com")  # current
BOB = employee("E2", "bob@acme.com", status="terminated", left=-30)  # left a month ago
CAROL = employee("E3", "carol@acme.com", status="terminated", left=-10)
DAN = employee("E4", "dan@acme.com", left=-1)  # HR status not updated yet, date passed yesterday
ERIN = employee("E5", "erin@acme.com", status="active", left=20)  # leaving next month
LEAVERS = [ALICE, BOB, CAROL, DAN, ERIN]

LEAVER_ENABLED = "people.leaver.entra_account_enabled"
SIGN_IN_AFTER = "people.leaver.entra_sign_in_after_leaving"
AWS_LEAVER = "people.leaver.aws_iam_user"
NO_EMPLOYEE = "people.entra.account_without_employee"

SCENARIOS: list[Scenario] = [
    entra(
        LEAVER_ENABLED,
        "leavers past grace fail, disabled or within grace pass, current staff are not judged",
        {
            USERS: [
                entra_user("u-alice", "alice@acme.com"),
                entra_user("u-bob", "bob@acme.com", enabled=True, signed_in=-40),
                entra_user("u-carol", "carol@acme.com", enabled=False, signed_in=-12),
                entra_user("u-dan", "DAN@acme.com", signed_in=-3),
                entra_user("u-erin", "erin@acme.com"),
            ],
            EMPLOYEES: LEAVERS,
        },
        {"u-bob": FAIL, "u-carol": PASS, "u-dan": PASS},
    ),
    entra(
        LEAVER_ENABLED,
        "a zero-day grace makes yesterday's leaver fail; linking by employee id survives an email change",
        {
            USERS: [entra_user("u-dan", "daniel.new@acme.com", employee_id="E4")],
            EMPLOYEES: [DAN],
        },
        {"u-dan": FAIL},
        grace_days=0,
    ),
    entra(
        LEAVER_ENABLED,
        "terminated without a date is due at once",
        {
            USERS: [entra_user("u-x", "x@acme.com")],
            EMPLOYEES: [employee("E9", "x@acme.com", status="terminated")],
        },
        {"u-x": FAIL},
    ),
    entra(
        SIGN_IN_AFTER,
        "a sign-in after the termination date fails even once disabled; before it passes",
        {
            USERS: [
                entra_user("u-bob", "bob@acme.com", signed_in=-40),
                entra_user("u-carol", "carol@acme.com", enabled=False, signed_in=-5),
                entra_user("u-dan", "dan@acme.com", signed_in=-1),  # on the termination day itself
                entra_user("u-alice", "alice@acme.com", signed_in=-1),
            ],
            EMPLOYEES: LEAVERS,
        },
        {"u-bob": PASS, "u-carol": FAIL, "u-dan": PASS},
    ),
    entra(
        SIGN_IN_AFTER,
        "an alias links an admin account to its leaver",
        {
            USERS: [entra_user("u-adm", "adm-bob@acme.onmicrosoft.com", signed_in=-2)],
            EMPLOYEES: [
                employee(
                    "E2",
                    "bob@acme.com",
                    status="terminated",
                    left=-30,
                    aliases=("adm-bob@acme.onmicrosoft.com",),
                )
            ],
        },
        {"u-adm": FAIL},
    ),
    Scenario(
        AWS_LEAVER,
        "leavers' IAM users with keys or passwords fail; credential-less ones and unlinked users pass or are skipped",
        {
            REPORT: [
                iam_row("bob@acme.com", key=True, used=-3),
                iam_row("carol@acme.com"),
                iam_row("ci-deploy", key=True, used=-1),
                iam_row("alice@acme.com", password=True),
                iam_row("dtaylor", password=True, used=-20),
            ],
            EMPLOYEES: [
                *LEAVERS,
                employee("E6", "d.taylor@acme.com", status="terminated", left=-15, aliases=("dtaylor",)),
            ],
        },
        {
            f"arn:aws:iam::{ACCOUNT}:user/bob@acme.com": FAIL,
            f"arn:aws:iam::{ACCOUNT}:user/carol@acme.com": PASS,
            f"arn:aws:iam::{ACCOUNT}:user/dtaylor": FAIL,
        },
        scope=f"aws:{ACCOUNT}",
    ),
    entra(
        NO_EMPLOYEE,
        "unmatched and ambiguous accounts fail, exempted ones are not applicable, guests and disabled are skipped",
        {
            USERS: [
                entra_user("u-alice", "alice@acme.com"),
                entra_user("u-ghost", "ghost@acme.com"),
                entra_user("u-svc", "svc-backup@acme.com"),
                entra_user("u-twin", "twin@acme.com"),
                entra_user("u-guest", "g_partner.com#EXT#@acme.onmicrosoft.com", kind="Guest"),
                entra_user("u-old", "old@acme.com", enabled=False),
            ],
            EMPLOYEES: [
                ALICE,
                employee("E7", "twin@acme.com"),
                employee("E8", "twin@acme.com", status="leave"),
            ],
        },
        {"u-alice": PASS, "u-ghost": FAIL, "u-svc": NA, "u-twin": FAIL},
        exempt_accounts=["svc-*"],
    ),
    entra(
        NO_EMPLOYEE,
        "a rehire's old terminated record does not make the link ambiguous",
        {
            USERS: [entra_user("u-rehire", "rehire@acme.com")],
            EMPLOYEES: [
                employee("E10", "rehire@acme.com", status="terminated", left=-700),
                employee("E11", "rehire@acme.com", hired=-100),
            ],
        },
        {"u-rehire": PASS},
    ),
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
    hr(
        "hr.people.screening_before_start",
        "screened late or never fails; joiners still to start pass; leavers are not judged",
        [
            employee("E1", "a@acme.com", hired=-100, screening_completed=day(-120)),
            employee("E2", "b@acme.com", hired=-100, screening_completed=day(-90)),
            employee("E3", "c@acme.com", screening_completed=None),
            employee("E4", "d@acme.com", hired=10, screening_completed=None),
            employee("E5", "e@acme.com", screening_completed=True),
            employee("E6", "f@acme.com", status="terminated", left=-3, screening_completed=None),
        ],
        {"hr:E1": PASS, "hr:E2": FAIL, "hr:E3": FAIL, "hr:E4": PASS, "hr:E5": PASS},
    ),
    hr(
        "hr.people.screening_before_start",
        "an HR export without the screening field is an error, never a pass",
        [employee("E1", "a@acme.com")],
        {HR: ERROR},
    ),
    hr(
        "hr.people.terms_signed",
        "unsigned terms fail",
        [
            employee("E1", "a@acme.com", terms_signed=True),
            employee("E2", "b@acme.com", terms_signed=False),
            employee("E3", "c@acme.com", terms_signed=day(-300)),
            employee("E4", "d@acme.com", hired=5, terms_signed=None),
        ],
        {"hr:E1": PASS, "hr:E2": FAIL, "hr:E3": PASS, "hr:E4": PASS},
    ),
    hr(
        "hr.people.nda_signed",
        "unsigned NDAs fail",
        [employee("E1", "a@acme.com", nda_signed=day(-400)), employee("E2", "b@acme.com", nda_signed=None)],
        {"hr:E1": PASS, "hr:E2": FAIL},
    ),
    hr(
        "hr.people.training_overdue",
        "lapsed or missing training fails after the joiner window",
        [
            employee("E1", "a@acme.com", training_completed=day(-100)),
            employee("E2", "b@acme.com", training_completed=day(-400)),
            employee("E3", "c@acme.com", hired=-10, training_completed=None),
            employee("E4", "d@acme.com", hired=-60, training_completed=False),
            employee("E5", "e@acme.com", status="leave", training_completed=day(-500)),
        ],
        {"hr:E1": PASS, "hr:E2": FAIL, "hr:E3": PASS, "hr:E4": FAIL, "hr:E5": FAIL},
    ),
]
