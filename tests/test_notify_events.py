"""What runs and people's actions notify, read from a real store built by the real Runner: one
message per run and event kind, listing every NC or source it concerns, with dashboard links."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.audit.nc_actions import Change, apply
from agent.config.settings import Settings
from agent.daemon.metrics import Metrics
from agent.integrations import retry as retry_module
from agent.integrations.hooks import after_nc_action, after_run
from agent.notify import notify_run
from agent.plugin.model import Result, Severity
from agent.plugin.registry import CheckSpec, Registry
from agent.run.runner import Runner, RunSummary
from agent.run.shard import ALL
from agent.store import Store
from agent.store.schema import Run
from simulators.localserver import Fault
from tests.clock import FakeTime
from tests.fakeplugin import World, build_registry, fake_system_settings
from tests.period_store import frozen
from tests.webhook_receiver import WebhookReceiver

SECRET = "whsec-eventsTestSecret000"
BASE = "https://annexa.example.org"
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def no_x(ev: Any) -> Any:
    for rec in ev.records("fake.things.items"):
        yield Result.of(rec, passed=rec.data["name"] != "x", reason="x must not exist")


@pytest.fixture
def world() -> World:
    return World()  # fake:a holds x (good) and y (good); fake:b holds x (good) and y (bad)


@pytest.fixture
def registry(world: World) -> Registry:
    """The fake system with a second check, so one run opens three NCs."""
    reg = build_registry(world)
    reg.checks["fake.things.no_x"] = CheckSpec(
        id="fake.things.no_x", title="No <x> & no *x*", controls={"A.8.5": "authentication"},
        severity=Severity.MAJOR, needs=("fake.things.items",), rationale="x is risky.",
        remediation="Remove x.", func=no_x,
    )  # fmt: skip
    return reg


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    monkeypatch.setenv("ANNEXA_EVENTS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setattr(retry_module, "time", FakeTime())
    server = WebhookReceiver(SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Any, receiver: WebhookReceiver) -> Settings:
    hook = {"enabled": True, "url": f"{receiver.url}/in", "secret_env": "ANNEXA_EVENTS_WEBHOOK_SECRET"}
    return fake_system_settings(
        store={"url": f"sqlite:///{tmp_path / 'n.db'}"}, web={"public_url": BASE}, notify={"webhook": hook}
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store(settings.store.url)
    yield s
    s.close()


class Agent:
    """Runs collections and checks at chosen instants and notifies after each, as the CLI does."""

    def __init__(self, store: Store, settings: Settings, registry: Registry, receiver: WebhookReceiver):
        self.store, self.settings, self.registry, self.receiver = store, settings, registry, receiver

    def collect(self, at: datetime) -> Run:
        with frozen(at):
            summary = Runner(self.store, self.settings, self.registry).collect([])
        return self._notified(summary)

    def check(self, at: datetime) -> Run:
        with frozen(at):
            summary = Runner(self.store, self.settings, self.registry).check()
        return self._notified(summary)

    def _notified(self, summary: RunSummary) -> Run:
        notify_run(self.store, self.settings, summary.run, None, self.registry)
        return summary.run

    def messages(self) -> list[dict[str, Any]]:
        """What the receiver took since the last call."""
        taken = list(self.receiver.accepted)
        self.receiver.accepted.clear()
        return taken


@pytest.fixture
def agent(store: Store, settings: Settings, registry: Registry, receiver: WebhookReceiver) -> Agent:
    return Agent(store, settings, registry, receiver)


def refs(body: dict[str, Any]) -> list[str]:
    return [item["ref"] for item in body["items"]]


def test_a_run_opening_three_ncs_sends_one_message_listing_them(agent, world):
    run = agent.collect(T0)
    (opened,) = agent.messages()
    assert opened["event"] == "nc_opened" and opened["run"] == run.id
    assert opened["title"] == "3 nonconformities opened" and opened["total"] == 3
    assert opened["link"] == f"{BASE}/ncs?state=draft"
    items = {(i["title"], i["scope"], i["severity"]) for i in opened["items"]}
    assert items == {
        ("Things are good", "fake:b", "minor"),
        ("No <x> & no *x*", "fake:a", "major"),
        ("No <x> & no *x*", "fake:b", "major"),
    }
    assert [i["link"] for i in opened["items"]] == [f"{BASE}/ncs/{ref}" for ref in refs(opened)]
    assert {r.headers["X-Annexa-Delivery"] for r in agent.receiver.requests} == {f"{run.uid}-nc_opened"}
    agent.collect(T0 + timedelta(minutes=30))  # nothing changed: nothing to say
    assert agent.messages() == []


def test_drafts_closed_then_a_regression(agent, world):
    agent.collect(T0)
    agent.messages()
    world.items = {"fake:a": {"y": True}, "fake:b": {"y": True}}  # x removed everywhere, y fixed
    run = agent.collect(T0 + timedelta(hours=1))
    (closed,) = agent.messages()
    assert (
        closed["event"] == "nc_closed" and closed["total"] == 3 and closed["link"] == f"{BASE}/runs/{run.id}"
    )
    world.items["fake:b"]["y"] = False
    agent.collect(T0 + timedelta(hours=2))
    (regressed,) = agent.messages()
    assert regressed["event"] == "nc_regressed" and regressed["title"] == "1 nonconformity regressed"
    assert [(i["title"], i["scope"]) for i in regressed["items"]] == [("Things are good", "fake:b")]


def test_an_accepted_nc_whose_check_passes_is_ready_for_verification_then_closed_by_a_person(agent, world):
    agent.collect(T0)
    (opened,) = agent.messages()
    ref = next(i["ref"] for i in opened["items"] if i["scope"] == "fake:b" and i["severity"] == "minor")
    with frozen(T0 + timedelta(minutes=10)):
        apply(agent.store, ref, "accept", "alice", Change())
    world.items["fake:b"]["y"] = True
    run = agent.collect(T0 + timedelta(hours=1))
    (ready,) = agent.messages()  # the drafts of no_x still fail: nothing else to say
    assert ready["event"] == "nc_ready_for_verification" and refs(ready) == [ref]
    assert ready["title"] == "1 nonconformity ready for verification"
    assert ready["link"] == f"{BASE}/runs/{run.id}"
    agent.collect(T0 + timedelta(hours=2))  # still ready: told once
    assert agent.messages() == []

    with frozen(T0 + timedelta(hours=3)):
        apply(agent.store, ref, "resolve", "alice", Change(reason="y made good"))
    after_nc_action(agent.store, agent.settings, int(ref[3:]), "resolve")
    assert agent.messages() == []  # the register's daily work is not news
    with frozen(T0 + timedelta(hours=4)):
        apply(agent.store, ref, "close", "alice", Change(effectiveness_review="y stayed good for a week"))
    after_nc_action(agent.store, agent.settings, int(ref[3:]), "close")
    (by_person,) = agent.messages()
    assert by_person["event"] == "nc_closed" and by_person["title"] == f"{ref} closed by alice"
    assert (
        by_person["summary"].endswith("y stayed good for a week") and by_person["link"] == f"{BASE}/ncs/{ref}"
    )


def test_a_resolved_nc_still_failing_is_a_regression(agent, world):
    agent.collect(T0)
    (opened,) = agent.messages()
    ref = next(i["ref"] for i in opened["items"] if i["severity"] == "minor")
    with frozen(T0 + timedelta(minutes=10)):
        apply(agent.store, ref, "accept", "alice", Change())
        apply(agent.store, ref, "resolve", "alice", Change(reason="y made good, we think"))
    agent.collect(T0 + timedelta(hours=1))  # y is still bad
    (regressed,) = agent.messages()
    assert regressed["event"] == "nc_regressed" and refs(regressed) == [ref]


def test_a_failed_run_is_one_message_listing_what_could_not_be_collected(agent, world):
    world.broken = {"fake:a", "fake:b"}
    run = agent.collect(T0)
    (failed,) = agent.messages()
    assert failed["event"] == "run_failed" and failed["title"] == f"Run {run.id} failed"
    assert [(i["ref"], i["scope"]) for i in failed["items"]] == [
        ("fake.things.items", "fake:a"),
        ("fake.things.items", "fake:b"),
    ]
    assert "access denied" in failed["items"][0]["title"] and failed["link"] == f"{BASE}/runs/{run.id}"


def test_stale_evidence_is_told_once_by_the_first_run_after_it_lapsed(agent, world):
    agent.collect(T0)  # the collector's freshness limit is 1 h
    agent.messages()
    agent.check(T0 + timedelta(minutes=30))
    assert agent.messages() == []
    run = agent.check(T0 + timedelta(hours=2))
    (stale,) = agent.messages()
    assert (
        stale["event"] == "evidence_stale" and stale["run"] == run.id and stale["link"] == f"{BASE}/evidence"
    )
    assert [(i["ref"], i["scope"]) for i in stale["items"]] == [
        ("fake.things.items", "fake:a"),
        ("fake.things.items", "fake:b"),
    ]
    assert stale["items"][0]["title"] == "last collected 2026-03-02 06:00 UTC, 2.0 h old (limit 1.0 h)"
    agent.check(T0 + timedelta(hours=3))  # still stale, already told
    assert agent.messages() == []
    agent.collect(T0 + timedelta(hours=4))
    agent.check(T0 + timedelta(hours=6))  # lapsed again
    assert [m["event"] for m in agent.messages()] == ["evidence_stale"]


def test_a_failing_channel_never_fails_the_run_and_is_counted(agent, world, receiver, store, settings):
    receiver.fail(Fault(500, times=10))
    metrics = Metrics(store, ["fake.things.items"], ALL)
    with frozen(T0):
        summary = Runner(store, settings, agent.registry).collect([])
    after_run(store, settings, summary.run, metrics.count_outbound)
    labels = {"integration": "webhook", "outcome": "failed"}
    assert metrics.registry.get_sample_value("annexa_notifications_total", labels) == 1.0
    assert len(receiver.requests) == 4 and summary.run.status == "complete"
