"""The real console script against moto (server mode): collect, check, status, controls, nc, faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import pytest
from sqlalchemy import select

from agent.demo.organisation import seed_demo_org
from agent.store import Store
from agent.store.schema import Observation, Run
from tests.cli import ANNEXA, annexa, annexa_json
from tests.faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.slow

IAM = ("--source", "aws.iam.*")  # these tests are about the pipeline; the AWS services have their own


@pytest.fixture
def org(aws):
    return seed_demo_org(aws)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "annexa.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n\n[aws]\nenabled = true\nmax_attempts = 1\nregions = ["eu-west-1"]\n'
    )
    return path


def store_of(config) -> Store:
    return Store(f"sqlite:///{config.parent / 'store.db'}")


def failing_by_check(ncs):
    return {nc["check_id"]: set(nc["failing_resources"]) for nc in ncs if nc["state"] == "draft"}


def test_collect_finds_exactly_the_planted_weaknesses(org, config):
    doc = annexa_json("collect", *IAM, "--config", str(config))
    assert doc["run"]["status"] == "complete" and doc["observations"] == {"ok": 7, "error": 0}
    ncs = annexa_json("nc", "list", "--config", str(config))
    assert failing_by_check(ncs) == {k: v for k, v in org.expected_failures.items() if v}
    for nc in ncs:
        assert set(nc) >= {
            "id", "check_id", "title", "controls", "severity", "state", "scope",
            "failing_resources", "first_seen", "last_seen",
        }  # fmt: skip
        assert nc["scope"] == f"aws:{org.account_id}"

    controls = annexa_json("controls", "--config", str(config))
    assert len(controls) == 93
    by_id = {c["id"]: c for c in controls}
    assert by_id["A.8.5"]["status"] == "failing" and by_id["A.8.5"]["open_nonconformities"]
    assert by_id["A.5.1"]["status"] == "manual" and by_id["A.5.1"]["checks"] == []
    assert {"id", "title", "applicable", "status", "checks", "open_nonconformities"} <= set(by_id["A.8.2"])

    shown = annexa_json("nc", "show", ncs[0]["id"], "--config", str(config))
    assert shown["transitions"][0]["to_state"] == "draft" and shown["remediation"]
    assert all(shown["reasons"][r] for r in shown["failing_resources"])

    status = annexa_json("status", "--config", str(config))
    assert {e["state"] for e in status["evidence"]} == {"fresh"} and len(status["evidence"]) == 7


def test_second_run_updates_the_same_ncs_and_check_rejudges(org, config):
    annexa_json("collect", *IAM, "--config", str(config))
    first = annexa_json("nc", "list", "--config", str(config))
    second_run = annexa_json("collect", *IAM, "--config", str(config))
    rejudged = annexa_json("check", "--config", str(config))
    again = annexa_json("nc", "list", "--config", str(config))
    assert [n["id"] for n in again] == [n["id"] for n in first]
    assert all(a["last_seen"] > f["last_seen"] for a, f in zip(again, first, strict=True))
    assert rejudged["run"]["prev_root_hash"] == second_run["run"]["root_hash"]


def test_fail_on_gates_on_severity(org, config):
    assert annexa("collect", *IAM, "--config", str(config), "--fail-on", "major").returncode == 1
    proc = annexa(
        "collect", "--config", str(config), "--source", "aws.iam.password_policy", "--fail-on", "major"
    )
    assert proc.returncode == 0, proc.stderr  # the password policy check is minor


def test_human_output_names_failing_checks(org, config):
    proc = annexa("collect", *IAM, "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert "aws.iam.root_mfa" in proc.stdout and "NC-0001" in proc.stdout


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault(403, "AccessDenied", "not authorized to perform: iam:GetAccountAuthorizationDetails"),
         "access denied: iam:GetAccountAuthorizationDetails"),
        (Fault(500, "ServiceFailure", "Internal failure"), "ServiceFailure"),
    ],
)  # fmt: skip
def test_aws_errors_give_error_results_and_keep_ncs_open(org, config, fault, message, monkeypatch):
    annexa_json("collect", *IAM, "--config", str(config))
    before = failing_by_check(annexa_json("nc", "list", "--config", str(config)))
    with FaultProxy(os.environ["AWS_ENDPOINT_URL"], {"GetAccountAuthorizationDetails": fault}) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        doc = annexa_json("collect", *IAM, "--config", str(config))
    assert doc["run"]["status"] == "partial" and doc["observations"] == {"ok": 3, "error": 4}
    outcomes = {c["check_id"]: c["outcome"] for c in doc["checks"]}
    for check_id in (
        "aws.iam.user_admin_policy",
        "aws.iam.user_inline_policies",
        "aws.iam.user_direct_policies",
        "aws.iam.role_group_admin_policy",
        "aws.iam.role_trust",
    ):
        assert outcomes[check_id] == "error"
    assert outcomes["aws.iam.root_mfa"] == "fail" and outcomes["aws.iam.root_access_keys"] == "pass"
    after = annexa_json("nc", "list", "--config", str(config))
    assert failing_by_check(after) == before  # nothing closed, nothing forgotten
    status = annexa_json("status", "--config", str(config))
    errors = [e for e in status["evidence"] if e["state"] == "error"]
    assert {e["source"] for e in errors} == {
        "aws.iam.users",
        "aws.iam.policies",
        "aws.iam.roles",
        "aws.iam.groups",
    }
    assert all(message in e["error"] for e in errors)


def test_no_credentials_fails_closed(config, tmp_path, monkeypatch):
    nowhere = tmp_path / "none"
    env = {
        "AWS_CONFIG_FILE": str(nowhere),
        "AWS_SHARED_CREDENTIALS_FILE": str(nowhere),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    proc = annexa("collect", *IAM, "--json", "--config", str(config), env=env)
    assert proc.returncode == 4, proc.stderr  # the run failed: no evidence could be collected
    doc = json.loads(proc.stdout)
    assert doc["run"]["status"] == "failed"
    assert {c["outcome"] for c in doc["checks"]} == {"error"}
    assert annexa_json("nc", "list", "--config", str(config)) == []


def _start_slow_collect(config, proxy_url):
    env = {**os.environ, "AWS_ENDPOINT_URL": proxy_url}
    env = {k: v for k, v in env.items() if not k.startswith("ANNEXA_")}
    return subprocess.Popen(
        [ANNEXA, "collect", *IAM, "--json", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_observations(store, count, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.read() as s:
            if len(s.execute(select(Observation)).scalars().all()) >= count:
                return
        time.sleep(0.1)
    raise AssertionError("the collection never stored its fast observations")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_an_interrupted_run_is_aborted_and_its_data_never_judged(org, config, sig):
    # GetAccountAuthorizationDetails is answered only once the proxy closes: users and policies never finish.
    held = Fault(status=0, hold=threading.Event())
    with FaultProxy(os.environ["AWS_ENDPOINT_URL"], {"GetAccountAuthorizationDetails": held}) as proxy:
        proc = _start_slow_collect(config, proxy.url)
        store = store_of(config)
        _wait_for_observations(store, 3)
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
    with store.read() as s:
        run = s.execute(select(Run)).scalar_one()
        stored = {o.source for o in s.execute(select(Observation)).scalars()}
    assert stored == {"aws.iam.credential_report", "aws.iam.account_summary", "aws.iam.password_policy"}
    if sig == signal.SIGTERM:
        assert proc.returncode == 130 and "aborted" in err
        assert run.status == "aborted" and run.root_hash
    else:
        assert proc.returncode == -signal.SIGKILL and run.status == "running"
    rejudged = annexa_json("check", "--config", str(config))
    with store.read() as s:
        assert s.get(Run, run.id).status == "aborted"
    # The interrupted run's observations are kept but never judged: every check lacks evidence.
    assert {c["outcome"] for c in rejudged["checks"]} == {"error"}
    assert annexa_json("nc", "list", "--config", str(config)) == []


def test_json_output_is_exactly_one_document(org, config):
    proc = annexa("collect", *IAM, "--config", str(config), "--json")
    json.loads(proc.stdout)  # nothing else on stdout
    assert proc.returncode == 0
