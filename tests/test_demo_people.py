"""`annexa demo` shows people: its organisation has an HR export and simulated Okta and Google Workspace,
and the first thing a newcomer reads under the nonconformities is a leaver found across systems. It
replays a fortnight of daily collections and a person's NC actions, each sealed on the chain on its
day, and ends with the command that opens the dashboard on that store.

The demo runs once for the module with its "today" injected (`--today`), so the days it writes are
known; the commands that judge its store are asked as of that day (`--as-of`), never the wall clock.
"""

from __future__ import annotations

import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from agent.bundle.signing import seal_keys
from agent.store import Store
from agent.store.chain import chain_state
from agent.store.schema import Run
from tests.cli import annexa, annexa_json

pytestmark = pytest.mark.slow

DAY = r"\d{4}-\d{2}-\d{2}"
AGO = r"\d+ days ago"  # counted from the day judged
TODAY = date(2026, 3, 16)
FORTNIGHT = [TODAY - timedelta(days=n) for n in range(13, -1, -1)]


DemoRun = tuple[Path, subprocess.CompletedProcess[str]]  # the demo's directory and what it printed


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    directory = tmp_path_factory.mktemp("demo") / "demo"
    proc = annexa("demo", "--dir", str(directory), "--today", TODAY.isoformat(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    return directory, proc


def test_the_demo_finds_a_leaver_across_systems(demo: DemoRun) -> None:
    directory, proc = demo
    [line] = [ln for ln in proc.stdout.splitlines() if ln.startswith("A leaver found across systems")]
    assert re.fullmatch(
        rf"A leaver found across systems \((NC-\d{{4}})\): Finn Berg \(E010\): terminated {DAY} \({AGO}\); "
        rf"Okta finn\.berg@acme\.example ACTIVE, last login {DAY} \({AGO}\), 26 days after termination; "
        rf"Google Workspace finn\.berg@acme\.example suspended \(ADMIN\), last login {DAY} \({AGO}\); "
        rf"AWS IAM user finn\.berg \(\d{{12}}\) still has access key 1, last used {DAY} \({AGO}\), "
        r"20 days after termination; \d+ day\(s\) past the 1-day grace period",
        line,
    ), line

    config = str(
        directory / "annexa.toml"
    )  # later commands read the demo's store and credentials by reference
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
        "hr.people.terms_signed",  # Isabel's signed terms found missing on day 11
        "hr.people.training_overdue",
    }
    controls = annexa_json("controls", "--as-of", TODAY.isoformat(), "--config", config)
    assert not [c["id"] for c in controls if c["status"] == "error"]


def test_the_demo_store_holds_a_sealed_fortnight(demo: DemoRun) -> None:
    directory, _ = demo
    store = Store(
        f"sqlite:///{directory / 'annexa.db'}", keys=seal_keys(str(directory / "annexa-signing.key"))
    )
    try:
        with store.read() as s:
            sealed = list(chain_state(s, store.keys).valid())
            finished = list(s.execute(select(Run).where(Run.finished_at.is_not(None))).scalars())  # type: ignore[union-attr]
    finally:
        store.close()
    assert len(sealed) == len(finished)  # every run and NC action counts
    collections = [r for r in sealed if r.kind == "demo"]
    assert [r.started_at.date() for r in collections] == FORTNIGHT
    actions = [r for r in sealed if r.kind == "nc"]
    assert actions and {r.started_at.date() for r in actions} <= set(FORTNIGHT[:-1])


def test_the_register_moves_through_every_state(demo: DemoRun) -> None:
    directory, _ = demo
    config = str(directory / "annexa.toml")
    ncs = {nc["check_id"]: nc for nc in annexa_json("nc", "list", "--config", config)}
    states = {nc["check_id"]: nc["state"] for nc in ncs.values()}
    assert {c: states[c] for c in (
        "aws.ec2.security_group_admin_ports",  # opened on day 3, fixed on day 8, closed by dana on day 9
        "okta.users.inactive",  # Emma signed in again on day 9: the draft closed itself
        "aws.iam.console_user_without_mfa",  # fixed and closed, regressed on day 11, planned again
        "people.leaver.okta_sign_in_after_leaving",
        "hr.people.nda_signed",
        "people.okta.account_without_employee",
    )} == {
        "aws.ec2.security_group_admin_ports": "closed",
        "okta.users.inactive": "closed",
        "aws.iam.console_user_without_mfa": "action_planned",
        "people.leaver.okta_sign_in_after_leaving": "open",
        "hr.people.nda_signed": "resolved",
        "people.okta.account_without_employee": "rejected",
    }  # fmt: skip
    assert "draft" in states.values()
    assert [c for c, nc in ncs.items() if nc["ready_for_verification"]] == ["hr.people.nda_signed"]
    assert ncs["aws.ec2.security_group_admin_ports"]["first_seen"].startswith(FORTNIGHT[2].isoformat())

    mfa = annexa("nc", "show", str(ncs["aws.iam.console_user_without_mfa"]["id"]), "--config", config)
    assert mfa.returncode == 0, mfa.stderr
    assert "dana.lee@example.com: resolved -> closed" in mfa.stdout
    assert f"{FORTNIGHT[10].isoformat()}" in mfa.stdout and "closed -> open (regression" in mfa.stdout


def test_the_demo_store_verifies_and_the_demo_ends_with_the_dashboard(demo: DemoRun) -> None:
    directory, proc = demo
    config = directory / "annexa.toml"
    verified = annexa("verify", "--store", "--config", str(config))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert proc.stdout.splitlines()[-1].endswith(f"annexa serve --config {config}")


def test_the_controls_trend_moves_over_the_fortnight(demo: DemoRun) -> None:
    directory, _ = demo
    config = str(directory / "annexa.toml")

    def statuses(day: date) -> dict[str, str]:
        controls = annexa_json("controls", "--as-of", day.isoformat(), "--config", config)
        return {c["id"]: c["status"] for c in controls}

    day4, today = statuses(FORTNIGHT[3]), statuses(TODAY)
    moved = {c: (day4[c], today[c]) for c in day4 if day4[c] != today[c]}
    assert moved == {
        "A.8.24": ("failing", "passing"),  # EBS encryption by default from day 5
        "A.6.2": ("passing", "failing"),  # Isabel's terms missing from day 11
        "A.6.6": ("failing", "passing"),  # Grace's NDA filed on day 12
    }
