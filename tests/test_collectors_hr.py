"""HR collectors against a local BambooHR API and real export files."""

from __future__ import annotations

import json

import pytest

from agent.errors import CollectorError, InputDataError
from collectors.hr.employees import employees
from collectors.hr.settings import HrSettings
from collectors.hr.targets import HrSystem
from tests.bamboohr_server import BambooFault, BambooServer, bamboo_employee

KEY = "bamboo-secret-key-123"
COMPANY = [
    bamboo_employee("1", "Ada Lovelace", "Ada@Acme.com", customScreening="2022-12-20", customNda="1"),
    bamboo_employee(
        "2",
        "Bob Byte",
        "bob@acme.com",
        status="Inactive",
        terminated="2026-10-01",
        manager="ada@acme.com",
        customScreening="0000-00-00",
        customNda="0",
    ),
]


@pytest.fixture
def bamboo(monkeypatch):
    monkeypatch.setenv("BAMBOO_KEY", KEY)
    with BambooServer("acme", KEY, [dict(e) for e in COMPANY]) as server:
        yield server


def bamboo_system(server: BambooServer, **extra) -> HrSystem:
    settings = {"subdomain": "acme", "api_key_env": "BAMBOO_KEY", "max_retry_wait": 1, **extra}
    return HrSystem(HrSettings(enabled=True, provider="bamboohr", base_url=server.url, **settings))


def file_system(path, **extra) -> HrSystem:
    return HrSystem(HrSettings(enabled=True, provider="file", path=str(path), **extra))


def test_bamboohr_employees_with_mapped_facts_and_nothing_more(bamboo):
    system = bamboo_system(
        bamboo,
        columns={"screening_completed": "customScreening", "nda_signed": "customNda"},
        aliases={"ada-admin@acme.onmicrosoft.com": "1"},
    )
    assert system.scope == "hr:bamboohr:acme"
    records = {r.resource_id: r.data for r in employees(system)}
    assert records["hr:1"] == {
        "employee_id": "1",
        "email": "ada@acme.com",
        "name": "Ada Lovelace",
        "status": "active",
        "hire_date": "2023-01-09",
        "termination_date": None,
        "manager_email": None,
        "department": "Engineering",
        "screening_completed": "2022-12-20",
        "nda_signed": True,
        "aliases": ["ada-admin@acme.onmicrosoft.com"],
    }
    bob = records["hr:2"]
    assert (bob["status"], bob["termination_date"], bob["screening_completed"], bob["nda_signed"]) == (
        "terminated",
        "2026-10-01",
        None,
        False,
    )
    [request] = bamboo.requests
    assert "format=JSON" in request["query"] and "onlyCurrent=false" in request["query"]
    asked = set(json.loads(request["body"])["fields"])
    assert asked == {
        "id",
        "workEmail",
        "displayName",
        "status",
        "hireDate",
        "terminationDate",
        "supervisorEmail",
        "department",
        "customScreening",
        "customNda",
    }
    assert not {"ssn", "dateOfBirth"} & asked  # personal data the checks do not need is never requested


def test_bamboohr_throttling_is_retried_with_retry_after(bamboo):
    bamboo.faults.append(BambooFault(503, retry_after="1", times=1))
    assert len(list(employees(bamboo_system(bamboo)))) == 2
    assert len(bamboo.requests) == 2


def test_bamboohr_that_keeps_throttling_fails_after_the_configured_attempts(bamboo):
    bamboo.faults.append(BambooFault(503, retry_after="0", times=None))
    with pytest.raises(CollectorError, match=r"HTTP 503 .*after 2 attempts"):
        list(employees(bamboo_system(bamboo, max_attempts=2)))
    assert len(bamboo.requests) == 2


def test_bamboohr_wrong_key_is_access_denied_without_the_key(bamboo, monkeypatch):
    monkeypatch.setenv("BAMBOO_KEY", "not-the-key")
    with pytest.raises(CollectorError, match="access denied: BambooHR") as info:
        list(employees(bamboo_system(bamboo)))
    assert "not-the-key" not in str(info.value) and KEY not in str(info.value)


def test_bamboohr_unknown_company_is_an_error_not_an_empty_company(bamboo):
    with pytest.raises(CollectorError) as info:
        list(employees(bamboo_system(bamboo, subdomain="acme-typo")))
    assert str(info.value) == "BambooHR custom report: HTTP 404 Not Found"
    assert len(bamboo.requests) == 1  # not retried


@pytest.mark.parametrize(
    ("fault", "columns", "message"),
    [
        (BambooFault(200, None, 1, "<html>maintenance</html>"), {}, "response is not JSON"),
        (BambooFault(200, None, 1, '{"title": "x"}'), {}, "no 'employees' list"),
        (
            None,
            {"training_completed": "customTraining"},
            "employee 1 \\(id 1\\) lacks field 'customTraining'",
        ),
    ],
)
def test_bamboohr_malformed_answers_are_rejected(bamboo, fault, columns, message):
    if fault:
        bamboo.faults.append(fault)
    with pytest.raises(InputDataError, match=message):
        list(employees(bamboo_system(bamboo, columns=columns)))


def test_bamboohr_bad_rows_reject_the_whole_report(bamboo):
    bamboo.employees.append(bamboo_employee("3", "Cy", "cy@acme.com", hired="09/01/2024"))
    bamboo.employees.append(bamboo_employee("1", "Dup", "dup@acme.com"))
    with pytest.raises(InputDataError) as info:
        list(employees(bamboo_system(bamboo)))
    assert str(info.value) == (
        "BambooHR acme: rejected, nothing stored: employee 3 (id 3): hire_date '09/01/2024' is not an ISO date "
        "(YYYY-MM-DD); employee 4 (id 1): employee_id 1 already on employee 1 (id 1)"
    )


CSV = """Worker ID,Work Email,Legal Name,Employment Status,Start Date,End Date,Team,NDA
W1,ann@acme.com,Ann A,Active,2024-02-01,,Sales,yes
W2,ben@acme.com,Ben B,Terminated,2021-05-01,2026-09-30,Sales,2021-04-20
W3,cat@acme.com,Cat C,Beurlaubt,2022-01-01,,Ops,no
"""
COLUMNS = {
    "employee_id": "Worker ID",
    "email": "Work Email",
    "name": "Legal Name",
    "status": "Employment Status",
    "hire_date": "Start Date",
    "termination_date": "End Date",
    "department": "Team",
    "nda_signed": "NDA",
}


def test_csv_export_with_column_mapping(tmp_path):
    path = tmp_path / "workday.csv"
    path.write_text(CSV)
    system = file_system(path, columns=COLUMNS, status_values={"Beurlaubt": "leave"})
    assert system.scope == "hr:file:workday"
    records = {r.resource_id: r.data for r in employees(system)}
    assert set(records) == {"hr:W1", "hr:W2", "hr:W3"}
    assert records["hr:W2"]["status"] == "terminated" and records["hr:W2"]["termination_date"] == "2026-09-30"
    assert records["hr:W3"]["status"] == "leave" and records["hr:W3"]["nda_signed"] is False
    assert records["hr:W2"]["nda_signed"] == "2021-04-20" and "training_completed" not in records["hr:W1"]


def test_json_export_in_our_own_field_names(tmp_path):
    path = tmp_path / "people.json"
    rows = [
        {
            "employee_id": 7,
            "email": "e@acme.com",
            "name": "E",
            "status": "active",
            "hire_date": "2025-01-01",
            "training_completed": "2026-01-05",
            "salary": 100000,
        }
    ]
    path.write_text(json.dumps({"employees": rows}))
    [record] = employees(file_system(path))
    assert record.resource_id == "hr:7" and record.data["training_completed"] == "2026-01-05"
    assert "salary" not in record.data


def test_malformed_csv_lists_every_bad_row_by_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        CSV
        + "W4,dan@acme.com,Dan D,Active,31/12/2024,,Ops,yes\n"
        + ",eve@acme.com,Eve E,Active,2024-01-01,,Ops,yes\n"
        + "W1,fay-at-acme.com,Fay F,Active,2024-01-01,,Ops,maybe\n"
    )
    with pytest.raises(InputDataError) as info:
        list(employees(file_system(path, columns=COLUMNS)))
    message = str(info.value)
    assert message.startswith(f"{path}: rejected, nothing stored: line 4: status 'Beurlaubt' is not a known")
    assert "line 5: hire_date '31/12/2024' is not an ISO date" in message
    assert "line 6: employee_id is empty" in message
    assert "line 7: email 'fay-at-acme.com' is not an email address" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "content", "columns", "message"),
    [
        ("a.json", "[{]", {}, "not valid JSON"),
        ("a.json", '{"people": []}', {}, "expected a JSON list of employees"),
        ("a.json", '[{"employee_id": "1"}, 5]', {}, "record 2: not a JSON object"),
        ("a.csv", "id,name\n1,x\n", {}, "no column 'employee_id' \\(for employee_id\\)"),
        ("a.csv", CSV, {**COLUMNS, "training_completed": "Training"}, "no column 'Training'"),
        ("a.csv", "employee_id,name,status\n1,x,active,extra\n", {}, "line 2: more values than columns"),
        ("a.csv", "", {}, "empty CSV export"),
    ],
)
def test_malformed_exports_are_rejected_with_a_clear_reason(tmp_path, name, content, columns, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputDataError, match=message):
        list(employees(file_system(path, columns=columns)))


def test_unknown_alias_target_rejects_the_listing(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(CSV)
    with pytest.raises(InputDataError, match="aliases: adm@x names employee_id W9"):
        list(
            employees(
                file_system(
                    path, columns=COLUMNS, status_values={"beurlaubt": "leave"}, aliases={"adm@x": "W9"}
                )
            )
        )


def test_missing_file_and_wrong_type_are_collector_errors(tmp_path):
    with pytest.raises(CollectorError, match="cannot read HR export"):
        list(employees(file_system(tmp_path / "missing.csv")))
    with pytest.raises(CollectorError, match=r"must be \.csv or \.json"):
        list(employees(file_system(tmp_path / "export.xlsx")))
