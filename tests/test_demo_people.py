"""`annexa demo` shows people: its organisation has an HR export and simulated Okta and Google Workspace,
and the first thing a newcomer reads under the nonconformities is a leaver found across systems."""

from __future__ import annotations

import re

import pytest

from tests.cli import annexa, annexa_json

pytestmark = pytest.mark.slow

DAY = r"\d{4}-\d{2}-\d{2}"
AGO = r"\d+ days ago"  # counted from the day judged: the demo runs on the real clock


def test_the_demo_finds_a_leaver_across_systems(tmp_path) -> None:
    demo = tmp_path / "demo"
    proc = annexa("demo", "--dir", str(demo), timeout=300)
    assert proc.returncode == 0, proc.stderr
    [line] = [ln for ln in proc.stdout.splitlines() if ln.startswith("A leaver found across systems")]
    assert re.fullmatch(
        rf"A leaver found across systems \((NC-\d{{4}})\): Finn Berg \(E010\): terminated {DAY} \({AGO}\); "
        rf"Okta finn\.berg@acme\.example ACTIVE, last login {DAY} \({AGO}\), 26 days after termination; "
        rf"Google Workspace finn\.berg@acme\.example suspended \(ADMIN\), last login {DAY} \({AGO}\); "
        rf"AWS IAM user finn\.berg \(\d{{12}}\) still has access key 1, last used {DAY} \({AGO}\), "
        r"20 days after termination; \d+ day\(s\) past the 1-day grace period",
        line,
    ), line

    config = str(demo / "annexa.toml")  # later commands read the demo's store and credentials by reference
    ncs = {nc["check_id"]: nc for nc in annexa_json("nc", "list", "--config", config)}
    people = {c for c in ncs if c.startswith(("people.", "okta.", "google_workspace.", "hr."))}
    assert people == {
        "people.leaver.okta_account_active",
        "people.leaver.okta_sign_in_after_leaving",
        "people.leaver.aws_iam_user",
        "people.okta.account_without_employee",
        "people.google_workspace.account_without_employee",
        "okta.mfa.user_not_enrolled",
        "okta.users.inactive",
        "google_workspace.mfa.enforced",
        "google_workspace.mfa.user_not_enrolled",
        "hr.people.nda_signed",
        "hr.people.training_overdue",
    }
    controls = annexa_json("controls", "--config", config)
    assert not [c["id"] for c in controls if c["status"] == "error"]
