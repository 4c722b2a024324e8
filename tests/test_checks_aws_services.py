"""The AWS service checks: their number, the mapping rules the issue sets, and their reasons.

Every scenario's verdicts are checked by tests/test_check_scenarios.py.
"""

from __future__ import annotations

from tests.scenarios import CHECKS, SCENARIOS, evaluate
from tests.scenarios import aws_services as sc

SERVICE_SCENARIOS = [
    s for s in SCENARIOS if s.check_id.startswith("aws.") and not s.check_id.startswith("aws.iam.")
]
SERVICE_CHECKS = sorted(c for c in CHECKS if c.startswith("aws.") and not c.startswith("aws.iam."))


def test_at_least_25_service_checks() -> None:
    assert len(SERVICE_CHECKS) >= 25


def test_the_issue_s_control_themes_are_covered() -> None:
    by_control: dict[str, set[str]] = {}
    for check_id in SERVICE_CHECKS:
        for control in CHECKS[check_id].controls:
            by_control.setdefault(control, set()).add(check_id)
    assert {"A.8.8", "A.8.9", "A.8.32", "A.8.24", "A.8.15", "A.8.16", "A.8.13", "A.8.20", "A.8.7"} <= set(
        by_control
    )
    assert "aws.inspector.scanning_enabled" in by_control["A.8.8"]
    assert (
        "aws.config.recorder_active" in by_control["A.8.32"]
        and "aws.config.recorder_active" in by_control["A.8.9"]
    )
    assert "aws.guardduty.enabled" in by_control["A.8.7"]
    # Loose mappings the issue calls out: encryption is not data masking, GuardDuty is not supplier management.
    assert "A.8.11" not in by_control and not by_control.get("A.5.19", set()) & {"aws.guardduty.enabled"}
    assert all("encryption" not in c or CHECKS[c].controls.keys() >= {"A.8.24"} for c in SERVICE_CHECKS)


def test_reasons_name_the_resource_and_the_fault() -> None:
    scenario = next(s for s in SERVICE_SCENARIOS if s.check_id == "aws.ec2.security_group_admin_ports")
    reasons = {r.resource_id: r.reason for r in evaluate(scenario)}
    assert reasons[sc.WORLD_SSH.resource_id] == "sg-ssh (web) allows port 22 from 0.0.0.0/0"
    assert reasons[sc.WORLD_RDP6.resource_id] == "sg-rdp (web) allows port 3389 from ::/0"


def test_results_cite_the_evidence_they_judged() -> None:
    scenario = next(s for s in SERVICE_SCENARIOS if s.name == "account block neutralises")
    [result] = evaluate(scenario)
    assert len(result.evidence) == 2  # the bucket and the account-level block it relied on
