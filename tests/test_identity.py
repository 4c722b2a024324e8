"""Identity resolution (checks/_identity.py), and what the leaver checks' failing results cite."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Status
from checks._identity import AMBIGUOUS, EMPLOYEES, MATCHED, UNMATCHED, Directory, Person, directory
from tests.scenarios import SCENARIOS, evaluate


def employee(eid: str, email: str | None, status: str = "active", left: str | None = None, **extra) -> Record:
    data = {
        "employee_id": eid,
        "email": email,
        "name": f"N {eid}",
        "status": status,
        "hire_date": "2024-01-15",
        "termination_date": left,
        "aliases": [],
        **extra,
    }
    return Record(f"hr:{eid}", data)


DIRECTORY = Directory.from_records(
    [
        employee("E1", "Alice@Acme.com"),
        employee(
            "E2", "bob@acme.com", "terminated", "2026-10-01", aliases=["bob-admin@acme.onmicrosoft.com"]
        ),
        employee("E3", "twin@acme.com"),
        employee("E4", "twin@acme.com", "leave"),
        employee("E5", "rehire@acme.com", "terminated", "2020-01-01"),
        employee("E6", "rehire@acme.com"),
        employee("E7", None),
    ],
    aliases={"svc-carol": "E1", "ARN:aws:iam::1:user/ops": "E7"},
)


@pytest.mark.parametrize(
    ("kwargs", "status", "who", "via"),
    [
        ({"employee_id": "E1", "emails": ["someone.else@acme.com"]}, MATCHED, "E1", "employee_id"),
        ({"employee_id": " E2 "}, MATCHED, "E2", "employee_id"),
        ({"emails": ["ALICE@acme.COM "]}, MATCHED, "E1", "email"),
        ({"employee_id": "E404", "emails": ["alice@acme.com"]}, MATCHED, "E1", "email"),
        ({"emails": ["Bob-Admin@acme.onmicrosoft.com"]}, MATCHED, "E2", "alias"),
        ({"accounts": ["svc-carol"]}, MATCHED, "E1", "alias"),
        ({"accounts": ["arn:aws:iam::1:user/ops"]}, MATCHED, "E7", "alias"),
        ({"emails": ["alice@acme.com", "alice@acme.com"]}, MATCHED, "E1", "email"),
        ({"emails": ["rehire@acme.com"]}, MATCHED, "E6", "email"),
        ({"emails": ["nobody@acme.com"], "accounts": ["svc-x"]}, UNMATCHED, None, ""),
        ({"emails": ["", None]}, UNMATCHED, None, ""),
        ({"accounts": ["alice"]}, UNMATCHED, None, ""),
    ],
)
def test_resolve_links_by_id_then_alias_then_email(kwargs, status, who, via):
    match = DIRECTORY.resolve(**kwargs)
    assert (match.status, match.person.employee_id if match.person else None, match.via) == (status, who, via)


def test_ambiguous_links_name_every_candidate_and_never_guess():
    twin = DIRECTORY.resolve(emails=["twin@acme.com"])
    assert twin.status == AMBIGUOUS and twin.person is None
    assert [p.employee_id for p in twin.candidates] == ["E3", "E4"]
    both = DIRECTORY.resolve(emails=["alice@acme.com", "bob@acme.com"])
    assert both.status == AMBIGUOUS and {p.employee_id for p in both.candidates} == {"E1", "E2"}
    assert "N E1 (E1)" in both.describe() and "N E2 (E2)" in both.describe()


def test_leaving_is_judged_by_status_or_a_past_termination_date():
    bob = DIRECTORY.get("E2")
    assert bob is not None and bob.has_left(date(2026, 11, 1))
    leaving = Person.from_record(employee("E8", "x@acme.com", "active", "2026-11-10"))
    assert not leaving.has_left(date(2026, 11, 9)) and leaving.has_left(date(2026, 11, 10))
    assert len(DIRECTORY) == 7 and {p.employee_id for p in DIRECTORY} >= {"E1", "E7"}


@pytest.mark.parametrize(
    ("records", "aliases", "message"),
    [
        ([employee("E1", "a@x"), employee("E1", "b@x")], None, "E1 appears twice"),
        ([employee("E1", "a@x", "retired")], None, "unknown status 'retired'"),
        ([employee("E1", "a@x", "terminated", "31/10/2026")], None, "not an ISO date"),
        ([employee("", "a@x")], None, "without employee_id"),
        ([employee("E1", "a@x")], {"adm": "E9"}, "names employee id E9"),
    ],
)
def test_malformed_hr_evidence_raises_so_checks_error(records, aliases, message):
    with pytest.raises(ValueError, match=message):
        Directory.from_records(records, aliases)


def test_failing_leaver_results_cite_both_the_account_and_the_hr_record():
    scenario = next(s for s in SCENARIOS if s.check_id == "people.leaver.entra_sign_in_after_leaving")
    failing = [r for r in evaluate(scenario) if r.status == Status.FAIL]
    assert failing and all(len(r.evidence) == 2 for r in failing)
    assert "5 days after termination" in failing[0].reason and "terminated 2026-10-22" in failing[0].reason


def test_the_views_of_one_evaluation_build_one_directory():
    staff = {EMPLOYEES: [replace(employee("E1", "a@acme.com"), scope="hr:file:x")]}
    tenant = Evidence.of("entra:t", staff)
    account = replace(Evidence.of("aws:1", staff), shared=tenant.shared)
    assert directory(account) is directory(tenant)
    changed = {EMPLOYEES: [replace(employee("E2", "a@acme.com"), scope="hr:file:x")]}
    other = replace(Evidence.of("aws:1", changed), shared=tenant.shared)
    assert [p.employee_id for p in directory(other)] == ["E2"]
    assert directory(Evidence.of("entra:t", staff)) is not directory(tenant)  # another evaluation
