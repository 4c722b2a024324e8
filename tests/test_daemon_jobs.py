"""How the daemon turns `[schedule]` into jobs and when each first runs (no processes involved)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from agent.daemon.service import Daemon, plan_jobs
from agent.run.runner import Runner
from agent.run.shard import ALL
from agent.store.types import utcnow
from tests.daemon import free_port
from tests.fakeplugin import fake_system_settings


def _settings(store_url, **schedule):
    return fake_system_settings(store={"url": store_url}, schedule=schedule, daemon={"port": free_port()})


def _with_second_source(registry):
    spec = registry.collectors["fake.things.items"]
    registry.collectors["fake.things.owners"] = replace(spec, source="fake.things.owners")
    return registry


def test_sources_sharing_a_cadence_form_one_job(fake_registry, store_url):
    registry = _with_second_source(fake_registry)
    same = plan_jobs(registry, _settings(store_url, interval="6h"), [])
    assert [(j.name, j.sources) for j in same] == [
        ("collect every 21600s", ("fake.things.items", "fake.things.owners"))
    ]
    split = plan_jobs(
        registry, _settings(store_url, interval="6h", sources={"fake.things.own*": "0 3 * * *"}), []
    )
    assert sorted((j.name, j.sources) for j in split) == [
        ("collect 0 3 * * *", ("fake.things.owners",)),
        ("collect every 21600s", ("fake.things.items",)),
    ]


def test_a_job_runs_at_once_only_when_its_evidence_is_missing_or_due(fake_registry, fake_store, store_url):
    settings = _settings(store_url, interval="1h")
    daemon = Daemon(fake_store, settings, fake_registry, [], ALL)
    try:
        [job] = daemon.jobs
        now = utcnow()
        assert daemon._first_run(job, now) == now  # nothing collected yet

        before = utcnow()
        Runner(fake_store, settings, fake_registry).collect([])
        collected = utcnow()
        first = daemon._first_run(job, collected)  # an interval after the evidence, however long the run took
        assert first is not None and before + timedelta(hours=1) <= first <= collected + timedelta(hours=1)
        assert daemon._first_run(job, collected + timedelta(hours=2)) == collected + timedelta(hours=2)
    finally:
        daemon.endpoints.server.server_close()
