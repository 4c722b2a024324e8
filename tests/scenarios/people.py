"""Scenarios for the cross-system people checks: HR employees joined to Entra ID users and AWS IAM users."""

from __future__ import annotations

from agent.plugin.model import Record
from tests.scenarios import FAIL, NA, PASS, Scenario
from tests.scenarios.entra import USERS, entra, entra_user, stamp
from tests.scenarios.hr import EMPLOYEES, employee

ACCOUNT = "123456789012"
REPORT = "aws.iam.credential_report"


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
]
