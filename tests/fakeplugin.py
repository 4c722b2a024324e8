"""A plugin-shaped test system ("fake"): targets, a collector and a check the tests can steer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from agent.config.sections import SystemSettings
from agent.config.settings import Settings, build_settings
from agent.errors import CollectorError
from agent.plugin.model import Record, Result, Severity
from agent.plugin.registry import CheckSpec, CollectorSpec, Registry, ScopeKindSpec
from agent.store import Store


@dataclass
class Box:
    scope: str


class World:
    """What the test collectors see; tests change it between runs."""

    def __init__(self) -> None:
        self.items = {"fake:a": {"x": True, "y": True}, "fake:b": {"x": True, "y": False}}
        self.broken: set[str] = set()

    def list_items(self, target: Box):
        if target.scope in self.broken:
            yield Record("partial", {"ok": True})  # half a listing must never be stored
            raise CollectorError(f"access denied: fake:ListItems in {target.scope}")
        for name, good in self.items[target.scope].items():
            yield Record(name, {"name": name, "good": good})


def good_items(ev):
    for rec in ev.records("fake.things.items"):
        yield Result.of(rec, passed=rec.data["good"], reason=f"{rec.data['name']} is not good")


@pytest.fixture
def fake_world():
    return World()


@pytest.fixture
def fake_registry(fake_world):
    return build_registry(fake_world)


def build_registry(fake_world: World) -> Registry:
    """A registry with the fake system's scope kind, collector and check, seeing `fake_world`."""
    reg = Registry(systems={"fake": SystemSettings})
    reg.scope_kinds["fake_box"] = ScopeKindSpec("fake_box", "fake", lambda s: [Box("fake:a"), Box("fake:b")])
    reg.collectors["fake.things.items"] = CollectorSpec(
        "fake.things.items", "fake_box", fake_world.list_items, timedelta(hours=1), ("fake:ListItems",), ""
    )
    reg.checks["fake.things.good"] = CheckSpec(
        id="fake.things.good",
        title="Things are good",
        controls={"A.8.9": "configuration"},
        severity=Severity.MINOR,
        needs=("fake.things.items",),
        rationale="Bad things are bad.",
        remediation="Make them good.",
        func=good_items,
    )
    return reg


def fake_system_settings(**sections: Any) -> Settings:
    """Settings with the fake system switched on (its section is the base one: `enabled` only)."""
    return build_settings({"fake": {"enabled": True}, **sections}, {"fake": SystemSettings})


@pytest.fixture
def store_url(tmp_path):
    """SQLite by default; store and concurrency test modules override it with both backends."""
    return f"sqlite:///{tmp_path / 'a.db'}"


@pytest.fixture
def fake_settings(store_url):
    return fake_system_settings(store={"url": store_url})


@pytest.fixture
def fake_store(fake_settings):
    s = Store(fake_settings.store.url)
    yield s
    s.close()
