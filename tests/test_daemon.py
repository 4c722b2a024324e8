"""`annexa run` for real: scheduled runs against moto, probes, metrics, SIGTERM, and leases
against an on-demand `annexa collect` on the same targets."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select

from agent.demo.organisation import seed_demo_org
from agent.store import Store
from agent.store.schema import Lease, Observation, Run
from tests.cli import ANNEXA, annexa, annexa_json
from tests.daemon import PATIENCE, Daemon, free_port, wait_for, write_config
from tests.faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.slow

IAM = ("--source", "aws.iam.*")
USERS_HELD = "GetAccountAuthorizationDetails"  # aws.iam.users and aws.iam.policies wait on it


@pytest.fixture
def org(aws):
    return seed_demo_org(aws)


def agent_files(tmp_path, **options: str) -> tuple:
    """A SQLite store, a free port and a config naming both."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    port = free_port()
    return write_config(tmp_path / "annexa.toml", url, port, **options), port, Store(url)


def runs(store: Store) -> list[Run]:
    with store.read() as s:
        return list(s.execute(select(Run).order_by(Run.id)).scalars())


def draft_failures(config) -> dict[str, set[str]]:
    ncs = annexa_json("nc", "list", "--config", str(config))
    return {nc["check_id"]: set(nc["failing_resources"]) for nc in ncs if nc["state"] == "draft"}


def test_the_daemon_runs_on_schedule_serves_probes_and_metrics_and_stops_on_sigterm(org, tmp_path):
    config, port, store = agent_files(tmp_path, interval="2s")
    started = time.monotonic()
    daemon = Daemon(config, port, *IAM)
    try:
        daemon.wait_ready()
        assert daemon.get("/healthz") == (200, "ok\n")
        wait_for(lambda: sum(r.status == "complete" for r in runs(store)) >= 3, "three scheduled runs")
        metrics = daemon.metrics()
        alive = time.monotonic() - started
        assert daemon.get("/nowhere")[0] == 404
    finally:
        code = daemon.stop()
    log = daemon.log.read_text()
    assert code == 0, log
    assert "shutdown_requested" in log and "daemon_stopped" in log

    assert metrics[("annexa_runs_total", (("status", "complete"),))] >= 3
    assert metrics[("annexa_runs_total", (("status", "failed"),))] == 0
    assert metrics[("annexa_collection_duration_seconds_count", (("job", "collect every 2s"),))] >= 3
    ages = {labels[0][1]: v for (name, labels), v in metrics.items() if name == "annexa_evidence_age_seconds"}
    assert set(ages) == {
        "aws.iam.account_summary", "aws.iam.credential_report", "aws.iam.groups", "aws.iam.password_policy",
        "aws.iam.policies", "aws.iam.roles", "aws.iam.users",
    }  # fmt: skip
    assert all(0 <= age <= alive for age in ages.values())  # collected by this daemon, aged in seconds
    open_major = metrics[("annexa_open_nonconformities", (("severity", "major"),))]
    assert open_major >= 1 and ("annexa_api_errors_total", (("source", "aws.iam.users"),)) not in metrics

    recorded = runs(store)
    assert {r.kind for r in recorded} == {"scheduled"}
    assert all(r.status in ("complete", "aborted") and r.root_hash for r in recorded)
    assert recorded[-2].status == "complete"  # at most the last was cut short by the stop
    assert annexa("verify", "--store", "--config", str(config)).returncode == 0
    assert draft_failures(config) == {k: v for k, v in org.expected_failures.items() if v}
    with store.read() as s:
        assert s.execute(select(func.count()).select_from(Lease)).scalar_one() == 0
    with pytest.raises(OSError):
        daemon.get("/healthz")


def test_sigterm_aborts_a_run_that_outlives_the_grace(org, tmp_path):
    config, port, store = agent_files(tmp_path, grace="1s", interval="1h")
    held = Fault(status=0, hold=threading.Event())  # users are listed only once the proxy closes
    with FaultProxy(os.environ["AWS_ENDPOINT_URL"], {USERS_HELD: held}) as proxy:
        daemon = Daemon(config, port, *IAM, endpoint=proxy.url)
        try:
            daemon.wait_ready()
            proxy.arrived(USERS_HELD)
            wait_for(lambda: _observations(store) >= 3, "the quick sources")
            code = daemon.stop()  # the users listing is still held: the run can only be aborted
        finally:
            daemon.kill()
    log = daemon.log.read_text()
    assert code == 0, log
    assert "shutdown_aborting_run" in log and "shutdown_run_still_busy" not in log
    [run] = runs(store)
    assert run.status == "aborted" and run.root_hash and run.error == "interrupted"
    assert _observations(store) == 3  # the three quick sources; nothing half-listed
    assert annexa("verify", "--store", "--config", str(config)).returncode == 0


def _observations(store: Store) -> int:
    with store.read() as s:
        return s.execute(select(func.count()).select_from(Observation)).scalar_one()


def _lease_holders(store: Store) -> set[str]:
    with store.read() as s:
        return set(s.execute(select(Lease.kind)).scalars())


def test_a_collect_during_a_scheduled_run_reports_the_holder_and_writes_nothing(org, tmp_path):
    config, port, store = agent_files(tmp_path, interval="1h")
    held = threading.Event()  # the scheduled run cannot finish before the collect has been refused
    with FaultProxy(os.environ["AWS_ENDPOINT_URL"], {USERS_HELD: Fault(status=0, hold=held)}) as proxy:
        daemon = Daemon(config, port, *IAM, endpoint=proxy.url)
        try:
            daemon.wait_ready()
            proxy.arrived(USERS_HELD)  # the daemon's first run is collecting: it holds the account
            assert _lease_holders(store) == {"run"}
            # Straight to moto, not through the proxy: only the lease can stop this collect.
            busy = annexa("collect", *IAM, "--config", str(config))
            assert busy.returncode == 75, busy.stderr
            *logs, line = busy.stderr.strip().splitlines()  # info logs of target discovery, then the error
            assert all(entry.startswith("timestamp=") for entry in logs) and "Traceback" not in busy.stderr
            assert line.startswith(
                f"annexa: aws:{org.account_id} is held by `annexa run` (pid {daemon.proc.pid} "
            )
            assert "nothing collected, try again" in line and busy.stdout == ""
            assert [r.kind for r in runs(store)] == ["scheduled"]  # the refused collect wrote no run
            [lease] = annexa_json("status", "--config", str(config))["leases"]
            assert (lease["target"], lease["holder"], lease["pid"]) == (
                f"aws:{org.account_id}",
                "annexa run",
                daemon.proc.pid,
            )

            held.set()
            # The run is sealed first and frees its lease just after: wait for both.
            wait_for(
                lambda: runs(store)[0].status == "complete" and not _lease_holders(store),
                "the scheduled run to finish and free the account",
            )
            after = annexa_json("collect", *IAM, "--config", str(config))  # free again
            assert after["run"]["status"] == "complete"
        finally:
            code = daemon.stop()
    assert code == 0
    assert [(r.kind, r.status) for r in runs(store)] == [("scheduled", "complete"), ("collect", "complete")]
    assert annexa("verify", "--store", "--config", str(config)).returncode == 0
    assert draft_failures(config) == {k: v for k, v in org.expected_failures.items() if v}


def test_a_scheduled_run_during_a_collect_is_skipped_and_counted_busy(org, tmp_path):
    config, port, store = agent_files(tmp_path, interval="1h")
    held = threading.Event()  # the collect cannot finish before the scheduled run has been skipped
    with FaultProxy(os.environ["AWS_ENDPOINT_URL"], {USERS_HELD: Fault(status=0, hold=held)}) as proxy:
        collect = _start_collect(config, proxy.url)
        proxy.arrived(USERS_HELD)  # the collect is listing users: it holds the account
        assert _lease_holders(store) == {"collect"}
        daemon = Daemon(config, port, *IAM)  # no evidence yet: its first run starts at once
        try:
            daemon.wait_ready()
            wait_for(
                lambda: daemon.metrics()[("annexa_runs_total", (("status", "busy"),))] == 1,
                "the scheduled run to be skipped",
            )
            held.set()
            _out, err = collect.communicate(timeout=PATIENCE)
        finally:
            collect.kill()
            code = daemon.stop()
    assert collect.returncode in (0, 1), err
    assert code == 0
    assert "scheduled_run_skipped" in daemon.log.read_text()
    assert "`annexa collect`" in daemon.log.read_text()
    assert [(r.kind, r.status) for r in runs(store)] == [("collect", "complete")]
    assert annexa("verify", "--store", "--config", str(config)).returncode == 0


def _start_collect(config, endpoint: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNEXA_")}
    env["AWS_ENDPOINT_URL"] = endpoint
    return subprocess.Popen(
        [ANNEXA, "collect", *IAM, "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.parametrize(
    ("toml", "args", "message"),
    [
        ('[schedule.sources]\n"aws.iam.*" = "every tuesday"\n', (), "[schedule] sources.aws.iam.*: expected an interval"),
        ('[schedule.sources]\n"aws.iam.*" = "0 25 * * *"\n', (), "is not a valid cron expression"),
        ("[daemon]\nport = 0\n", (), "[daemon] port:"),
        ("", ("--shard", "4/3"), "--shard '4/3': K must be between 1 and 3"),
        ("", ("--source", "nothing.like.this"), "--source 'nothing.like.this' matches no collector"),
    ],
)  # fmt: skip
def test_bad_configuration_stops_the_daemon_at_start_with_one_line(tmp_path, aws, toml, args, message):
    config = tmp_path / "annexa.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "s.db"}"\n[aws]\nenabled = true\n{toml}')
    proc = annexa("run", *args, "--config", str(config), timeout=PATIENCE)
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert message in line


def test_a_port_in_use_is_a_configuration_error(tmp_path, aws):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path / "annexa.toml", f"sqlite:///{tmp_path / 's.db'}", port)
        proc = annexa("run", *IAM, "--config", str(config), timeout=PATIENCE)
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert f"[daemon] port: cannot listen on 127.0.0.1:{port}" in line


def test_the_daemon_serves_the_dashboard_on_its_store_when_web_is_enabled(org, tmp_path):
    config, port, store = agent_files(tmp_path, interval="1h")
    web_port = free_port()
    with config.open("a") as out:
        out.write(
            f'\n[web]\nenabled = true\nport = {web_port}\nproxy_user_header = "X-Forwarded-User"\n'
            'roles = { "vic@example.com" = "viewer" }\n'
        )
    daemon = Daemon(config, port, *IAM)
    try:
        daemon.wait_ready()
        wait_for(lambda: any(r.status == "complete" for r in runs(store)), "the first scheduled run")

        def get(path: str, **headers: str) -> tuple[int, str, dict[str, str]]:
            request = urllib.request.Request(f"http://127.0.0.1:{web_port}{path}", headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=PATIENCE) as resp:
                    return resp.status, resp.read().decode(), dict(resp.headers)
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read().decode(), dict(exc.headers)

        status, body, headers = get("/ncs", **{"X-Forwarded-User": "vic@example.com"})
        assert status == 200 and "default-src 'none'" in headers["content-security-policy"]
        assert 'id="user">vic@example.com<' in body and 'href="/ncs/NC-0001"' in body
        assert get("/login")[0] == 200
        assert "No way to sign in is configured" not in get("/login")[1]  # the proxy header is one
    finally:
        code = daemon.stop()
        printed = daemon.proc.stdout.read() if daemon.proc.stdout else ""
    assert code == 0, daemon.log.read_text()
    assert "token" not in printed + daemon.log.read_text()  # a daemon's output is a log: no token in it
