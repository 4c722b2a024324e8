"""Stage 1 documents: every bundle's scope.json and scope.html say what is in scope and how it is
collected, from the registry and the schedule, and carry nothing of a system's credentials."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from agent.bundle.export import export_bundle
from agent.bundle.signing import create_key_pair, seal_keys
from agent.bundle.stage1 import scope_document
from agent.bundle.verify import verify_bundle
from agent.config.sections import SystemSettings
from agent.config.settings import build_settings
from agent.plugin.model import Record
from agent.plugin.registry import CollectorSpec, ScopeKindSpec
from agent.run.runner import Runner
from agent.store import Store
from agent.store.schema import Observation
from tests.bundles import members
from tests.fakeplugin import Box, World, build_registry

TOKEN_REF, TOKEN, KEY_FILE = "VAULT_TOKEN_FOR_ANNEXA", "s3cr3t-t0ken-value", "/etc/annexa/vault-client.pem"


class VaultSettings(SystemSettings):
    """A system whose section names its credentials, as real ones do."""

    token_env: str = ""
    key_file: str = ""
    url: str = ""


def secrets(_target: Box):
    yield Record("kv/app", {"path": "kv/app"})


@pytest.fixture
def world():
    return World()


@pytest.fixture
def registry(world):
    reg = build_registry(world)
    reg.systems["vault"] = VaultSettings
    reg.scope_kinds["vault_box"] = ScopeKindSpec(
        "vault_box", "vault", lambda s: [Box("vault:main")], permissions=("vault:sys/mounts:read",)
    )
    reg.collectors["vault.secrets.paths"] = CollectorSpec(
        "vault.secrets.paths",
        "vault_box",
        secrets,
        timedelta(hours=12),
        ("vault:kv/metadata:list",),
        "Secret paths",
    )
    return reg


def settings_for(registry, tmp_path, *, vault: bool = True, hostile: str = ""):
    return build_settings(
        {
            "store": {"url": f"sqlite:///{tmp_path / 'a.db'}"},
            "export": {"signing_key": str(tmp_path / "agent.key")},
            "schedule": {"sources": {"fake.things.*": "0 3 * * *"}},
            "controls": {"excluded": {"A.7.4": f"No premises of our own{hostile}"}},
            "checks": {"disabled": ["aws.iam.root_mfa"]},
            "fake": {"enabled": True},
            "vault": {
                "enabled": vault,
                "token_env": TOKEN_REF,
                "key_file": KEY_FILE,
                "url": "https://vault.internal",
            },
        },
        registry.systems,
    )


def test_every_bundle_says_what_is_in_scope_and_nothing_secret(tmp_path, registry, world, monkeypatch):
    monkeypatch.setenv(TOKEN_REF, TOKEN)
    create_key_pair(tmp_path / "agent.key")
    settings = settings_for(registry, tmp_path, hostile="<script>alert(1)</script>")
    store = Store(settings.store.url, keys=seal_keys(settings.export.signing_key))
    Runner(store, settings, registry).collect([])
    world.broken.add("fake:b")
    Runner(store, settings, registry).collect([])
    bundle = tmp_path / "b.zip"
    export_bundle(store, settings, registry, bundle, exported_by="dana")
    store.close()
    assert verify_bundle(bundle, tmp_path / "agent.pub").ok
    files = members(bundle)
    doc = json.loads(files["scope.json"])

    assert [s["system"] for s in doc["systems"]] == ["fake", "vault"]
    fake, vault = doc["systems"]
    assert fake["targets"] == ["fake:a", "fake:b"] and vault["targets"] == ["vault:main"]
    assert vault["permissions"] == ["vault:kv/metadata:list", "vault:sys/mounts:read"]  # resolver's too
    (items,) = fake["collectors"]
    assert {k: items[k] for k in ("source", "target_kind", "permissions", "schedule")} == {
        "source": "fake.things.items",
        "target_kind": "fake_box",
        "permissions": ["fake:ListItems"],
        "schedule": "0 3 * * *",
    }
    assert items["schedule_period_seconds"] == 86400 and items["freshness_seconds"] == 2 * 86400
    a, b = items["scopes"]
    assert (a["scope"], a["collections"], a["last_status"], a["fresh_at_head"]) == ("fake:a", 2, "ok", True)
    assert (b["scope"], b["last_status"], b["fresh_at_head"]) == ("fake:b", "error", True)  # run 1 is fresh
    assert "access denied" in b["last_error"]
    assert (
        vault["collectors"][0]["schedule"] == "every 86400s"
        and vault["collectors"][0]["freshness_seconds"] == 43200
    )
    assert doc["excluded_controls"] == [
        {
            "control": "A.7.4",
            "title": doc["excluded_controls"][0]["title"],
            "justification": "No premises of our own<script>alert(1)</script>",
        }
    ]
    assert doc["excluded_controls"][0]["title"] and doc["disabled_checks"] == ["aws.iam.root_mfa"]

    for name, data in files.items():  # no file of the bundle names or holds a credential
        for secret in (TOKEN_REF, TOKEN, KEY_FILE, "vault.internal"):
            assert secret.encode() not in data, (name, secret)
    page = files["scope.html"].decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "fake.things.items" in page and "vault:kv/metadata:list" in page
    assert 'href="scope.html"' in files["index.html"].decode()


def test_evidence_of_a_system_no_longer_enabled_is_still_listed(tmp_path, registry):
    settings = settings_for(registry, tmp_path, vault=False)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    old = Observation(
        id=1, run_id=1, source="vault.secrets.paths", scope="vault:main", started_at=now, collected_at=now,
        status="ok", agent_version="0", hash="0" * 64,
    )  # fmt: skip
    doc = scope_document(settings, registry, [old], now + timedelta(days=2))
    assert [s["system"] for s in doc["systems"]] == ["fake"]
    assert doc["other_sources"] == [{"source": "vault.secrets.paths", "scopes": ["vault:main"]}]
    assert doc["systems"][0]["collectors"][0]["scopes"] == []  # nothing collected in these runs
