"""Intune collectors: the real msgraph-sdk, through the registry's resolver and `[entra]`'s credentials,
against the loopback Graph (paging, $select, subtypes, throttling, denial, the resolver's errors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config.settings import Settings, build_settings
from agent.errors import CollectorError
from agent.plugin.evidence import Evidence
from agent.plugin.loader import load_plugins
from agent.plugin.model import Record, Status
from agent.plugin.permissions import render
from agent.run.planning import plan_tasks, select_collectors
from agent.run.shard import Shard
from collectors.entra import client
from tests.clock import FakeTime
from tests.graph_server import GraphData, GraphFault, GraphServer, compliance_policy, managed_device
from tests.scenarios import CHECKS

TOKEN = "eyJ0eXAiOiJKV1QifQ.intune-test-token"
TENANT_ID = "99999999-8888-7777-6666-555555555555"
DEVICES_PATH = "/v1.0/deviceManagement/managedDevices"
POLICIES_PATH = "/v1.0/deviceManagement/deviceCompliancePolicies"
REGISTRY = load_plugins(systems=["intune"])
DEPLOY = Path(__file__).parents[1] / "deploy" / "intune" / "graph-permissions.json"


def tenant_data() -> GraphData:
    return GraphData(
        managed_devices=[
            managed_device("d1", "LAPTOP-ALICE", upn="alice@acme.com"),
            managed_device(
                "d2",
                "Bob's iPhone",
                os="iOS",
                version="17.4.1",
                state="noncompliant",
                jailbroken="True",
                upn="bob@acme.com",
                owner="personal",
            ),
            managed_device(
                "d3",
                "MAC-KIOSK",
                os="macOS",
                version="14.4.1 (23E224)",
                encrypted=False,
                last_sync="0001-01-01T00:00:00Z",
            ),
            managed_device("d4", "PIXEL-CAROL", os="Android", version="14", state="inGracePeriod"),
            managed_device("d5", "LAPTOP-DAN", state="unknown", upn="dan@acme.com"),
        ],
        compliance_policies=[
            compliance_policy("p-win", "Windows baseline", "windows10CompliancePolicy"),
            compliance_policy("p-mac", "macOS baseline", "macOSCompliancePolicy"),
            compliance_policy("p-ios", "iOS baseline", "iosCompliancePolicy"),
            compliance_policy("p-awp", "Android work profile", "androidWorkProfileCompliancePolicy"),
            compliance_policy("p-and", "Android admin", "androidCompliancePolicy"),
            compliance_policy("p-mob", "Windows 10 Mobile", "windows10MobileCompliancePolicy"),
            compliance_policy(
                "p-aosp", "AOSP devices", "aospDeviceOwnerCompliancePolicy"
            ),  # unknown to the SDK
        ],
    )


@pytest.fixture
def graph(monkeypatch):
    monkeypatch.setenv("GRAPH_TOKEN", TOKEN)
    with GraphServer(tenant_data(), token=TOKEN, page_size=2) as server:
        yield server


def settings(entra: dict) -> Settings:
    return build_settings({"intune": {"enabled": True}, "entra": entra})


def signed_in(server: GraphServer, **extra) -> Settings:
    """`[intune]` on, signing in with an `[entra]` section that points at the loopback Graph."""
    entra = {
        "enabled": True,
        "tenant_id": TENANT_ID,
        "access_token_env": "GRAPH_TOKEN",
        "graph_url": server.url,
        "max_retry_wait": 2,
    }
    return settings({**entra, **extra})


def targets(config: Settings) -> list:
    return list(REGISTRY.targets(REGISTRY.scope_kinds["intune_tenant"], config))


def collect(source: str, config: Settings) -> dict[str, dict]:
    [target] = targets(config)
    return {r.resource_id: r.data for r in REGISTRY.collectors[source].func(target)}


def test_managed_devices_are_paged_with_only_the_selected_fields(graph):
    [target] = targets(signed_in(graph))
    assert target.scope == f"intune:{TENANT_ID}"
    devices = collect("intune.devices.managed", signed_in(graph))
    assert list(devices) == ["d1", "d2", "d3", "d4", "d5"]
    assert graph.hits[DEVICES_PATH] == 3  # pages of 2 (the server's limit), via @odata.nextLink
    assert devices["d2"] == {
        "id": "d2",
        "deviceName": "Bob's iPhone",
        "operatingSystem": "iOS",
        "osVersion": "17.4.1",
        "complianceState": "noncompliant",
        "isEncrypted": True,
        "jailBroken": "True",
        "lastSyncDateTime": "2026-10-31T08:00:00+00:00",
        "userPrincipalName": "bob@acme.com",
        "managedDeviceOwnerType": "personal",
    }
    kiosk = devices["d3"]
    assert kiosk["lastSyncDateTime"] is None  # Intune's 0001-01-01 is "never"
    assert (kiosk["isEncrypted"], kiosk["userPrincipalName"], kiosk["osVersion"]) == (
        False,
        "",
        "14.4.1 (23E224)",
    )
    assert devices["d4"]["complianceState"] == "inGracePeriod"
    assert {d["jailBroken"] for d in devices.values()} == {"True", "Unknown"}  # strings, not booleans


def test_compliance_policy_subtypes_are_mapped_to_platforms(graph):
    policies = collect("intune.policies.compliance", signed_in(graph))
    assert {pid: p["platform"] for pid, p in policies.items()} == {
        "p-win": "Windows",
        "p-mac": "macOS",
        "p-ios": "iOS",
        "p-awp": "Android",
        "p-and": "Android",
        "p-mob": "Windows Mobile",
        "p-aosp": "Android",
    }
    assert policies["p-win"] == {"id": "p-win", "displayName": "Windows baseline", "platform": "Windows"}
    assert graph.hits[POLICIES_PATH] == 4


@pytest.fixture
def clock(monkeypatch) -> FakeTime:
    """The Graph client's waits, recorded instead of slept."""
    fake = FakeTime()
    monkeypatch.setattr(client, "time", fake)
    return fake


def test_throttling_with_retry_after_is_retried(graph, clock):
    graph.faults.append(GraphFault(DEVICES_PATH, status=429, retry_after="1", times=1))
    assert len(collect("intune.devices.managed", signed_in(graph))) == 5
    assert clock.slept == [1.0]  # Retry-After was honoured
    assert graph.hits[DEVICES_PATH] == 4


def test_a_denied_listing_fails_the_source_in_one_line(graph):
    graph.faults.append(GraphFault(DEVICES_PATH, status=403, retry_after=None, times=1))
    with pytest.raises(CollectorError) as info:
        collect("intune.devices.managed", signed_in(graph))
    assert str(info.value) == (
        "access denied: Graph GET /deviceManagement/managedDevices (HTTP 403 Authorization_RequestDenied)"
    )
    graph.faults.append(GraphFault(POLICIES_PATH, status=403, retry_after=None, times=1))
    with pytest.raises(
        CollectorError, match=r"^access denied: Graph GET /deviceManagement/deviceCompliancePolicies"
    ):
        collect("intune.policies.compliance", signed_in(graph))


def test_a_denial_on_a_later_page_fails_the_whole_listing(graph):
    [target] = targets(signed_in(graph))
    listing = iter(REGISTRY.collectors["intune.devices.managed"].func(target))
    assert next(listing).resource_id == "d1"  # the first page is in
    graph.faults.append(GraphFault(DEVICES_PATH, status=403, retry_after=None, times=None))
    with pytest.raises(CollectorError, match=r"^access denied: .* \(HTTP 403 Authorization_RequestDenied\)$"):
        list(listing)


def test_intune_needs_entras_tenant_and_the_planner_fails_its_sources(monkeypatch):
    config = settings({})
    with pytest.raises(CollectorError) as info:
        targets(config)
    message = "[intune] signs in with [entra]: set [entra] tenant_id and its credentials"
    assert str(info.value) == message
    tasks = plan_tasks(REGISTRY, config, Shard.parse(None), select_collectors(REGISTRY, config, []))
    assert {t.spec.source: t.error for t in tasks} == {
        "intune.devices.managed": f"cannot resolve intune_tenant targets: {message}",
        "intune.policies.compliance": f"cannot resolve intune_tenant targets: {message}",
    }


def test_entra_collection_may_be_off_but_its_credentials_must_hold(graph):
    off = {"enabled": False, "tenant_id": TENANT_ID, "graph_url": graph.url}
    with pytest.raises(CollectorError, match=r"^\[intune\] signs in with \[entra\]: no credentials: set "):
        targets(settings(off))
    devices = collect("intune.devices.managed", settings({**off, "access_token_env": "GRAPH_TOKEN"}))
    assert len(devices) == 5 and graph.authorizations == {f"Bearer {TOKEN}"}


def test_the_committed_permissions_document_is_generated():
    assert DEPLOY.read_text() == render(REGISTRY, "intune")
    assert {s.source: s.permissions for s in REGISTRY.collectors.values()} == {
        "intune.devices.managed": ("DeviceManagementManagedDevices.Read.All",),
        "intune.policies.compliance": ("DeviceManagementConfiguration.Read.All",),
    }


def test_a_tenant_without_managed_devices_is_an_empty_listing_not_an_error(monkeypatch):
    monkeypatch.setenv("GRAPH_TOKEN", TOKEN)
    with GraphServer(GraphData(), token=TOKEN) as server:
        assert collect("intune.devices.managed", signed_in(server)) == {}
        assert collect("intune.policies.compliance", signed_in(server)) == {}
        assert server.hits[DEVICES_PATH] == 1 and server.hits[POLICIES_PATH] == 1


def test_wrong_entra_credentials_fail_every_intune_source(monkeypatch):
    monkeypatch.setenv("GRAPH_TOKEN", "not-the-token")
    with GraphServer(tenant_data(), token=TOKEN) as server:
        for source in ("intune.devices.managed", "intune.policies.compliance"):
            with pytest.raises(CollectorError, match=r"\(HTTP 401 InvalidAuthenticationToken\)$"):
                collect(source, signed_in(server))


def test_an_untyped_policy_never_covers_devices_without_an_operating_system(graph):
    """Graph answers without `@odata.type` and `operatingSystem`: both read "unknown", and the
    coverage check must not match one unknown to the other."""
    untyped = compliance_policy("p-x", "Untyped", "windows10CompliancePolicy")
    del untyped["@odata.type"]
    blank = managed_device("d-x", "NO-OS")
    del blank["operatingSystem"]
    graph.data = GraphData(managed_devices=[blank], compliance_policies=[untyped])
    config = signed_in(graph)
    devices = collect("intune.devices.managed", config)
    policies = collect("intune.policies.compliance", config)
    assert devices["d-x"]["operatingSystem"] is None and policies["p-x"]["platform"] == "unknown"
    scope = f"intune:{TENANT_ID}"
    records = {
        "intune.devices.managed": [Record(k, v) for k, v in devices.items()],
        "intune.policies.compliance": [Record(k, v) for k, v in policies.items()],
    }
    spec = CHECKS["intune.policies.coverage"]
    results = list(spec.func(Evidence.of(scope, records, params=spec.params)))
    assert [(r.resource_id, r.status) for r in results] == [(f"{scope}:platform:unknown", Status.ERROR)]
