"""Scenarios for the people checks of Okta and Google Workspace (Entra ID's and AWS IAM's are in people.py):
the same three judgements, each system's accounts in its own words."""

from __future__ import annotations

from typing import Any

from agent.plugin.model import Record
from tests.scenarios import FAIL, NA, PASS, Scenario, okta
from tests.scenarios import google_workspace as gw
from tests.scenarios.hr import EMPLOYEES, employee
from tests.scenarios.people import ALICE, BOB, CAROL, DAN, LEAVERS

OKTA_USERS, WS_USERS = "okta.users", "google_workspace.users"


def linked(record: Record, key: str, employee_id: str) -> Record:
    """The record with the system's employee-id field set, as an HR-provisioned directory has it."""
    data: dict[str, Any] = {**record.data, key: employee_id}
    return Record(record.resource_id, data)


SCENARIOS: list[Scenario] = [
    okta.okta(
        "people.leaver.okta_account_active",
        "leavers past grace fail unless deprovisioned or suspended; current staff are not judged",
        {
            OKTA_USERS: [
                okta.user("o-alice", "alice@acme.com"),
                okta.user("o-bob", "bob@acme.com", last=-40),
                okta.user("o-carol", "carol@acme.com", status="DEPROVISIONED", changed=-10),
                okta.user("o-dan", "dan@acme.com", status="SUSPENDED"),
                okta.user("o-x", "x@acme.com", status="LOCKED_OUT"),
            ],
            EMPLOYEES: [*LEAVERS, employee("E9", "x@acme.com", status="terminated", left=-5)],
        },
        {"o-bob": FAIL, "o-carol": PASS, "o-dan": PASS, "o-x": FAIL},
    ),
    okta.okta(
        "people.leaver.okta_account_active",
        "an employee number links across an email change; within the grace period passes",
        {
            OKTA_USERS: [linked(okta.user("o-dan", "daniel@acme.com"), "employeeNumber", "E4")],
            EMPLOYEES: [DAN],
        },
        {"o-dan": PASS},
        grace_days=3,
    ),
    okta.okta(
        "people.leaver.okta_sign_in_after_leaving",
        "a login after the termination date fails even once deprovisioned",
        {
            OKTA_USERS: [
                okta.user("o-bob", "bob@acme.com", last=-40),
                okta.user("o-carol", "carol@acme.com", status="DEPROVISIONED", last=-5),
                okta.user("o-alice", "alice@acme.com", last=-1),
            ],
            EMPLOYEES: LEAVERS,
        },
        {"o-bob": PASS, "o-carol": FAIL},
    ),
    okta.okta(
        "people.okta.account_without_employee",
        "unlinked and ambiguous active accounts fail, exempted ones are not applicable, inactive ones are skipped",
        {
            OKTA_USERS: [
                okta.user("o-alice", "alice@acme.com"),
                okta.user("o-ghost", "ghost@acme.com"),
                okta.user("o-svc", "svc-scim@acme.com"),
                okta.user("o-twin", "twin@acme.com", status="STAGED"),
                okta.user("o-gone", "gone@acme.com", status="DEPROVISIONED"),
            ],
            EMPLOYEES: [
                ALICE,
                employee("E7", "twin@acme.com"),
                employee("E8", "twin@acme.com", status="leave"),
            ],
        },
        {"o-alice": PASS, "o-ghost": FAIL, "o-svc": NA, "o-twin": FAIL},
        exempt_accounts=["svc-*"],
    ),
    gw.workspace(
        "people.leaver.google_workspace_account_active",
        "leavers past grace fail unless suspended or archived; an alias address links too",
        {
            WS_USERS: [
                gw.user("w-alice", "alice@acme.com"),
                gw.user("w-bob", "robert@acme.com", aliases=("bob@acme.com",)),
                gw.user("w-carol", "carol@acme.com", suspended=True, reason="ADMIN"),
                gw.user("w-dan", "dan@acme.com", archived=True),
            ],
            EMPLOYEES: LEAVERS,
        },
        {"w-bob": FAIL, "w-carol": PASS, "w-dan": PASS},
    ),
    gw.workspace(
        "people.leaver.google_workspace_sign_in_after_leaving",
        "a login after the termination date fails; one before it passes",
        {
            WS_USERS: [
                gw.user("w-bob", "bob@acme.com", last=-31),
                linked(gw.user("w-carol", "c.new@acme.com", suspended=True, last=-2), "employeeId", "E3"),
            ],
            EMPLOYEES: [BOB, CAROL],
        },
        {"w-bob": PASS, "w-carol": FAIL},
    ),
    gw.workspace(
        "people.google_workspace.account_without_employee",
        "an account no employee explains fails; suspended ones are skipped",
        {
            WS_USERS: [
                gw.user("w-alice", "alice@acme.com"),
                gw.user("w-ghost", "ghost@acme.com"),
                gw.user("w-old", "old@acme.com", suspended=True),
            ],
            EMPLOYEES: [ALICE],
        },
        {"w-alice": PASS, "w-ghost": FAIL},
    ),
]
