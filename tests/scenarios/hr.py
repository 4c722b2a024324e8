"""Scenarios for the HR people-control checks, with employees shaped as the HR collectors emit them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agent.plugin.model import Record, Status
from tests.scenarios import ERROR, FAIL, NOW, PASS, Scenario

HR = "hr:bamboohr:acme"
EMPLOYEES = "hr.employees"


def day(offset: int) -> str:
    """An ISO date `offset` days from NOW (negative: in the past)."""
    return (NOW + timedelta(days=offset)).date().isoformat()


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


def hr(
    check_id: str, name: str, records: list[Record], expected: dict[str, Status], **params: Any
) -> Scenario:
    return Scenario(check_id, name, {EMPLOYEES: records}, expected, params=params, scope=HR)


SCENARIOS: list[Scenario] = [
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
