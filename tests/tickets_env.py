"""What the ticket tests share: a local Jira per deployment, settings pointing at it, an NC opened
by a real run of the fake system, and the counter the daemon would pass."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from agent.audit.nc_actions import Change, apply
from agent.config.sections import SystemSettings
from agent.config.settings import Settings, build_settings
from agent.run.runner import Runner
from agent.store import Store
from agent.store.schema import Nonconformity
from agent.tickets import sync_action
from integrations.jira.settings import JiraSettings
from tests.clock import FakeTime
from tests.jira_server import JiraServer

TOKEN = "jira-s3cret-T0KEN"
EMAIL = "grc-bot@acme.example"
BASE = "https://annexa.acme.example"


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest) -> Iterator[JiraServer]:
    with JiraServer(request.param, token=TOKEN, email=EMAIL) as server:
        yield server


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    import agent.integrations.retry

    clock = FakeTime()
    monkeypatch.setattr(agent.integrations.retry, "time", clock)
    return clock


def jira_settings(jira: JiraServer, store_url: str, **section: Any) -> Settings:
    credentials = (
        {"email": EMAIL, "api_token_env": "JIRA_TOKEN"}
        if jira.deployment == "cloud"
        else {"token_env": "JIRA_TOKEN"}
    )
    data = {
        "fake": {"enabled": True},
        "store": {"url": store_url},
        "web": {"public_url": BASE},
        "jira": {"enabled": True, "url": jira.url, "deployment": jira.deployment, "project": "SEC",
                 **credentials, **section},
    }  # fmt: skip
    return build_settings(data, {"fake": SystemSettings}, integrations={"jira": JiraSettings})


@pytest.fixture
def settings(jira: JiraServer, store_url: str, monkeypatch: pytest.MonkeyPatch, waits: FakeTime) -> Settings:
    monkeypatch.setenv("JIRA_TOKEN", TOKEN)
    return jira_settings(jira, store_url, close_transition="Done")


@pytest.fixture
def counted() -> list[tuple[str, str]]:
    return []


def count_into(counted: list[tuple[str, str]]) -> Any:
    return lambda name, outcome: counted.append((name, outcome))


@pytest.fixture
def nc(fake_store: Store, settings: Settings, fake_registry: Any) -> Nonconformity:
    """A draft NC opened by a real run (`y` is bad in scope fake:b)."""
    Runner(fake_store, settings, fake_registry).collect([])
    with fake_store.read() as s:
        return s.execute(select(Nonconformity)).scalar_one()


def act(
    store: Store,
    settings: Settings,
    nc: Nonconformity,
    action: str,
    counted: list[tuple[str, str]],
    **change: Any,
) -> None:
    """A person's action as the CLI does it: committed, then mirrored in the tickets."""
    apply(store, nc.ref, action, "dana", Change(**change))
    assert nc.id is not None
    sync_action(store, settings, nc.id, action, count_into(counted))


def state(store: Store, nc: Nonconformity) -> str:
    with store.read() as s:
        return s.execute(select(Nonconformity.state).where(Nonconformity.id == nc.id)).scalar_one()
