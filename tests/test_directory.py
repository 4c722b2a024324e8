"""The one directory: a leaver finding in any system tells the person's whole timeline across systems,
names what could not be read, and cites every record it tells of."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.plugin.evidence import Evidence
from agent.plugin.loader import load_plugins
from agent.plugin.model import Record, Result, Status

CHECKS = load_plugins(systems=()).checks
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ACCOUNT = "123456789012"

FINN = Record(
    "hr:E1042",
    {
        "employee_id": "E1042",
        "email": "finn.berg@acme.com",
        "name": "Finn Berg",
        "status": "terminated",
        "hire_date": "2023-02-01",
        "termination_date": "2026-10-31",
        "aliases": ["finn.berg"],
    },
)
OKTA = Record(
    "00u1finn",
    {
        "id": "00u1finn",
        "status": "ACTIVE",
        "login": "finn.berg@acme.com",
        "email": "finn.berg@acme.com",
        "employeeNumber": "E1042",
        "created": "2023-02-01T08:00:00.000Z",
        "activated": "2023-02-01T08:00:00.000Z",
        "statusChanged": "2023-02-01T08:00:00.000Z",
        "lastLogin": "2026-11-26T09:12:00.000Z",
        "factors": [{"id": "f1", "factorType": "push", "provider": "OKTA", "status": "ACTIVE"}],
    },
)
WORKSPACE = Record(
    "1077",
    {
        "id": "1077",
        "primaryEmail": "finn.berg@acme.com",
        "aliases": [],
        "employeeId": None,
        "suspended": True,
        "suspensionReason": "ADMIN",
        "archived": False,
        "isAdmin": False,
        "isDelegatedAdmin": False,
        "isEnrolledIn2Sv": True,
        "isEnforcedIn2Sv": True,
        "lastLoginTime": "2026-10-30T17:00:00.000Z",
        "creationTime": "2023-02-01T08:00:00.000Z",
        "orgUnitPath": "/",
    },
)
IAM = Record(
    f"arn:aws:iam::{ACCOUNT}:user/finn.berg",
    {
        "user": "finn.berg",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/finn.berg",
        "password_enabled": "false",
        "password_last_used": "N/A",
        "access_key_1_active": "true",
        "access_key_1_last_used_date": "2026-11-20T10:00:00+00:00",
        "access_key_2_active": "false",
        "access_key_2_last_used_date": "N/A",
    },
)
SOURCES = {
    "okta.users": [OKTA],
    "google_workspace.users": [WORKSPACE],
    "aws.iam.credential_report": [IAM],
    "hr.employees": [FINN],
}


def judge(check_id: str, scope: str, *, leave_out: str = "", gaps: tuple[str, ...] = ()) -> list[Result]:
    spec = CHECKS[check_id]
    shown = {s: r for s, r in SOURCES.items() if s != leave_out}
    view = Evidence.of(scope, shown, now=NOW, params=spec.params)
    view = Evidence(view.scope, view.now, view.sources, view.params, gaps=gaps)
    return list(spec.func(view))


def test_an_okta_leaver_finding_tells_every_system() -> None:
    [result] = judge("people.leaver.okta_account_active", "okta:acme.okta.com")
    assert result.status == Status.FAIL and result.resource_id == "00u1finn"
    assert result.reason == (
        "Finn Berg (E1042): terminated 2026-10-31 (30 days ago); "
        "Okta finn.berg@acme.com ACTIVE, last login 2026-11-26 (4 days ago), 26 days after termination; "
        "Google Workspace finn.berg@acme.com suspended (ADMIN), last login 2026-10-30 (31 days ago); "
        f"AWS IAM user finn.berg ({ACCOUNT}) still has access key 1, last used 2026-11-20 (10 days ago), "
        "20 days after termination; 29 day(s) past the 1-day grace period"
    )
    every = {r.hash for rs in SOURCES.values() for r in Evidence.of("x", {"s": rs}).sources["s"]}
    assert set(result.evidence) == every  # the HR record and each account told are cited


def test_the_same_person_from_aws_tells_the_identity_providers_too() -> None:
    [result] = judge("people.leaver.aws_iam_user", f"aws:{ACCOUNT}")
    assert result.status == Status.FAIL
    assert result.reason.startswith(
        f"Finn Berg (E1042): terminated 2026-10-31 (30 days ago); AWS IAM user finn.berg ({ACCOUNT}) still has "
        "access key 1, last used 2026-11-20 (10 days ago), 20 days after termination; Okta finn.berg@acme.com "
        "ACTIVE"
    )


def test_a_suspended_workspace_account_passes_and_still_tells_the_rest() -> None:
    [result] = judge("people.leaver.google_workspace_account_active", "google_workspace:my_customer")
    assert result.status == Status.PASS
    assert "; Okta finn.berg@acme.com ACTIVE, last login 2026-11-26" in result.reason


def test_context_that_could_not_be_read_is_named_not_skipped() -> None:
    gap = "okta.users at okta:acme.okta.com could not be collected: access denied"
    [result] = judge("people.leaver.google_workspace_account_active", "google_workspace:my_customer",
                     leave_out="okta.users", gaps=(gap,))  # fmt: skip
    assert result.status == Status.PASS
    assert "Okta" not in result.reason.split("; not known: ")[0]
    assert result.reason.endswith(f"; not known: {gap}")


@pytest.mark.parametrize("flag", [{}, {"accountEnabled": None}], ids=["absent", "null"])
def test_an_entra_account_whose_enabled_flag_is_unknown_is_judged_enabled(flag: dict[str, None]) -> None:
    """Fail closed: Graph not saying whether a leaver's account is enabled never passes the leaver."""
    entra = Record("u-finn", {"id": "u-finn", "userPrincipalName": "finn.berg@acme.com",
                              "employeeId": "E1042", "userType": "Member", **flag})  # fmt: skip
    view = Evidence.of("entra:t1", {"entra.users": [entra], "hr.employees": [FINN]}, now=NOW)
    spec = CHECKS["people.leaver.entra_account_enabled"]
    [result] = spec.func(Evidence(view.scope, view.now, view.sources, spec.params))
    assert result.status == Status.FAIL
    assert "; Entra ID finn.berg@acme.com enabled, no sign-in recorded; " in result.reason


def test_views_sharing_a_cache_share_only_what_was_built_from_the_same_evidence() -> None:
    """The evaluator gives every view one cache: a directory or a timeline built from other records
    (here Finn rehired, in another list of records) is never reused."""
    spec = CHECKS["people.leaver.okta_account_active"]
    shared: dict[Hashable, Any] = {}

    def judged(hr: Record) -> list[Result]:
        view = Evidence.of("okta:acme.okta.com", {**SOURCES, "hr.employees": [hr]}, now=NOW)
        return list(spec.func(Evidence(view.scope, view.now, view.sources, spec.params, shared=shared)))

    rehired = Record(FINN.resource_id, {**FINN.data, "status": "active", "termination_date": None})
    [left] = judged(FINN)
    [nobody] = judged(rehired)
    assert left.status == Status.FAIL and nobody.status == Status.NOT_APPLICABLE
    assert judged(FINN) == [left]
