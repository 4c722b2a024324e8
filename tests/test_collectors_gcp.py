"""The GCP collectors with the real SDK clients against a local server speaking the Google APIs' JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agent.errors import CollectorError, InputDataError
from collectors.gcp.buckets import bucket_policies
from collectors.gcp.client import GcpApi
from collectors.gcp.iam_policies import policies
from collectors.gcp.keys import service_account_keys
from collectors.gcp.settings import GcpSettings
from collectors.gcp.targets import GcpRoot, gcp_deep_inventory, gcp_hierarchy
from tests.gcp_server import Fault, GcpServer, GcpWorld, binding

TOKEN = "ya29.test-token-not-a-secret"
SA_EMAIL = "ci@app-01.iam.gserviceaccount.com"
SA_NAME = f"projects/app-01/serviceAccounts/{SA_EMAIL}"


def seeded() -> GcpWorld:
    """Organisation 123 > folders Eng > Sandbox; 7 projects over three pages; a second organisation."""
    w = GcpWorld(page_size=3)
    org = w.add_organization("123", "acme.com")
    eng = w.add_folder("456", org, "Eng")
    sandbox = w.add_folder("789", eng, "Sandbox")
    for i in range(6):
        w.add_project(f"app-{i:02d}", eng if i % 2 else sandbox)
    w.add_project("app-gone", eng, state=2)  # DELETE_REQUESTED
    other = w.add_organization("999", "other.example")
    w.add_project("other-proj", other)
    w.add_project("lonely-proj", "")  # in no organisation
    w.policies[org] = [binding("roles/viewer", "group:staff@acme.com")]
    w.policies["projects/app-01"] = [
        binding("roles/owner", "user:b@acme.com", "user:a@acme.com"),
        binding(
            "roles/editor", "allUsers", condition={"title": "until 2027", "expression": "request.time < x"}
        ),
    ]
    w.service_accounts["app-01"] = [
        {"name": SA_NAME, "email": SA_EMAIL, "disabled": False, "keys": [
            {"name": f"{SA_NAME}/keys/k1", "validAfterTime": "2025-01-01T00:00:00Z",
             "validBeforeTime": "9999-12-31T23:59:59Z", "keyType": "USER_MANAGED", "disabled": False,
             "privateKeyData": "never-stored"},
            {"name": f"{SA_NAME}/keys/sys", "validAfterTime": "2026-10-01T00:00:00Z", "keyType": "SYSTEM_MANAGED"},
        ]},
    ] + [
        {"name": f"projects/app-01/serviceAccounts/sa{i}@x.iam.gserviceaccount.com",
         "email": f"sa{i}@x.iam.gserviceaccount.com"} for i in range(4)
    ]  # fmt: skip
    w.buckets["app-01"] = [
        {"name": "acme-web", "iamConfiguration": {"publicAccessPrevention": "inherited"},
         "bindings": [binding("roles/storage.objectViewer", "allUsers")]},
        {"name": "acme-data", "iamConfiguration": {"publicAccessPrevention": "enforced",
                                                    "uniformBucketLevelAccess": {"enabled": True}}},
    ]  # fmt: skip
    return w


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[GcpServer]:
    monkeypatch.setenv("GCP_TEST_TOKEN", TOKEN)
    with GcpServer(seeded()) as srv:
        yield srv


def settings(server: GcpServer, **gcp: Any) -> GcpSettings:
    base = {
        "enabled": True,
        "api_endpoint": server.url,
        "access_token_env": "GCP_TEST_TOKEN",
        "organization_ids": ["123"],
        "initial_backoff": 0.01,
        "max_attempts": 3,
    }
    return GcpSettings(**(base | gcp))


def roots(server: GcpServer, **gcp: Any) -> dict[str, GcpRoot]:
    return {t.scope: t for t in gcp_hierarchy(settings(server, **gcp))}


def acme(server: GcpServer, **gcp: Any) -> GcpRoot:
    return roots(server, **gcp)["gcp:organizations/123"]


def collected(root: GcpRoot) -> dict[str, dict[str, Any]]:
    return {r.resource_id: r.data for r in policies(root)}


def test_hierarchy_is_listed_through_every_page_into_one_scope_per_organisation(server):
    found = roots(server)
    assert list(found) == ["gcp:organizations/123"]
    placed = {p.node.name: p for p in found["gcp:organizations/123"].resources}
    assert list(placed) == [
        "organizations/123",
        "folders/456",
        "folders/789",
        *[f"projects/app-{i:02d}" for i in range(6)],
    ]  # the other organisation's projects and the project pending deletion are left out
    assert placed["folders/789"].ancestors == ("folders/456", "organizations/123")
    assert placed["projects/app-00"].ancestors == ("folders/789", "folders/456", "organizations/123")
    assert [placed[n].projects_below for n in list(placed)[:3]] == [6, 6, 3]
    assert server.hits["GET /v3/projects:search"] == 3  # 9 projects, 3 a page
    assert server.authorizations == {f"Bearer {TOKEN}"}


def test_policy_records_carry_bindings_conditions_and_ancestry(server):
    records = collected(acme(server))
    assert len(records) == 9
    assert records["organizations/123"] == {
        "resource": "organizations/123",
        "kind": "organization",
        "display_name": "acme.com",
        "ancestors": [],
        "bindings": [{"role": "roles/viewer", "members": ["group:staff@acme.com"], "condition": None}],
        "projects_below": 6,
    }
    project = records["projects/app-01"]
    assert project["ancestors"] == ["folders/456", "organizations/123"]
    assert "projects_below" not in project
    assert project["bindings"] == [
        {"role": "roles/editor", "members": ["allUsers"],
         "condition": {"title": "until 2027", "expression": "request.time < x"}},
        {"role": "roles/owner", "members": ["user:a@acme.com", "user:b@acme.com"], "condition": None},
    ]  # fmt: skip
    assert records["projects/app-02"]["bindings"] == []


def test_without_configured_organisations_every_visible_one_and_orphan_project_is_a_root(server):
    found = roots(server, organization_ids=[])
    assert list(found) == ["gcp:organizations/123", "gcp:organizations/999", "gcp:projects/lonely-proj"]
    assert [p.node.name for p in found["gcp:organizations/999"].resources] == [
        "organizations/999",
        "projects/other-proj",
    ]


def test_listed_projects_are_fetched_one_by_one(server):
    root = acme(server, project_ids=["app-03"])
    assert [p.node.name for p in root.projects] == ["projects/app-03"]
    assert server.hits["GET /v3/projects/app-03"] == 1 and server.hits["GET /v3/projects:search"] == 0


def test_policies_are_fetched_concurrently_within_the_configured_bound(server):
    root = acme(server, max_concurrency=3)
    server.world.gather = 3  # no policy is answered before three are asked for at once
    server.world.latency = 0.05  # held answers linger: a fourth request, were one allowed, would be counted
    assert len(collected(root)) == 9
    assert server.max_inflight == 3


def test_quota_errors_are_retried_with_backoff(server):
    server.world.faults[r"projects/app-03:getIamPolicy"] = Fault(429, "Quota exceeded", times=2)
    server.world.faults[r"GET /v3/projects:search"] = Fault(503, "backend unavailable", times=1)
    records = collected(acme(server))
    assert "error" not in records["projects/app-03"] and records["projects/app-03"]["bindings"] == []
    assert server.hits["POST /v3/projects/app-03:getIamPolicy"] == 3
    assert server.hits["GET /v3/projects:search"] == 4  # one page fetched twice, not the listing restarted


def test_quota_that_never_recovers_is_an_error_for_that_project_only(server):
    server.world.faults[r"projects/app-03:getIamPolicy"] = Fault(429, "Quota exceeded for quota metric")
    records = collected(acme(server))
    assert records["projects/app-03"]["error"] == (
        "resourcemanager.projects.getIamPolicy projects/app-03 failed: HTTP 429: "
        "Quota exceeded for quota metric (after 3 attempts)"
    )
    assert "bindings" not in records["projects/app-03"]
    assert records["projects/app-03"]["ancestors"] == ["folders/456", "organizations/123"]
    assert [r for r, d in records.items() if "error" in d] == ["projects/app-03"]
    assert server.hits["POST /v3/projects/app-03:getIamPolicy"] == 3


def test_access_denied_names_the_permission_and_resource_only(server):
    server.world.faults[r"projects/app-04:getIamPolicy"] = Fault(403, f"denied for Bearer {TOKEN}")
    records = collected(acme(server))
    assert records["projects/app-04"]["error"] == (
        "access denied: resourcemanager.projects.getIamPolicy projects/app-04"
    )
    assert server.hits["POST /v3/projects/app-04:getIamPolicy"] == 1  # not retried


def test_an_unreadable_folder_listing_fails_target_resolution(server):
    server.world.faults[r"GET /v3/folders$"] = Fault(403, "no")
    with pytest.raises(
        CollectorError, match=r"^access denied: resourcemanager.folders.list organizations/123$"
    ):
        roots(server)


def test_malformed_json_rejects_the_whole_listing_in_one_clear_line(server):
    server.world.faults[r"projects/app-05:getIamPolicy"] = Fault(200, body='{"bindings": [')
    with pytest.raises(InputDataError) as err:
        collected(acme(server))
    message = str(err.value)
    assert message.startswith("resourcemanager.projects.getIamPolicy projects/app-05: malformed response")
    assert "\n" not in message


def test_a_binding_without_role_rejects_the_whole_listing(server):
    server.world.policies["projects/app-05"] = [{"members": ["user:a@acme.com"]}]
    with pytest.raises(InputDataError, match="IAM policy of projects/app-05: a binding has no role"):
        collected(acme(server))


def deep(server: GcpServer) -> GcpRoot:
    [root] = gcp_deep_inventory(settings(server, deep_inventory=True))
    return root


def test_service_account_keys_deep_inventory(server):
    records = {r.resource_id: r.data for r in service_account_keys(deep(server))}
    assert len(records) == 5  # two pages of service accounts in app-01, none elsewhere
    assert records[SA_NAME] == {
        "email": SA_EMAIL,
        "project": "app-01",
        "disabled": False,
        "keys": [
            {
                "id": "k1",
                "created": "2025-01-01T00:00:00Z",
                "expires": "9999-12-31T23:59:59Z",
                "disabled": False,
            }
        ],
    }
    assert server.hits[f"GET /v1/{SA_NAME}/keys"] == 1


def test_bucket_policies_deep_inventory(server):
    records = {r.resource_id: r.data for r in bucket_policies(deep(server))}
    assert records["projects/_/buckets/acme-web"] == {
        "bucket": "acme-web",
        "project": "app-01",
        "public_access_prevention": "inherited",
        "uniform_access": False,
        "bindings": [{"role": "roles/storage.objectViewer", "members": ["allUsers"], "condition": None}],
    }
    assert records["projects/_/buckets/acme-data"]["public_access_prevention"] == "enforced"


def test_deep_inventory_errors_are_retried_or_recorded_per_project(server):
    server.world.faults[r"GET /storage/v1/b$"] = Fault(429, "rate", times=1)
    server.world.faults[rf"GET /v1/{SA_NAME}/keys"] = Fault(403, "no")
    root = deep(server)
    assert len(list(bucket_policies(root))) == 2
    keys = {r.resource_id: r.data for r in service_account_keys(root)}
    assert keys["projects/app-01"] == {
        "project": "app-01",
        "error": f"access denied: iam.serviceAccountKeys.list {SA_NAME}",
    }
    assert SA_NAME not in keys  # nothing half-listed of that project


def test_deep_inventory_is_off_by_default(server):
    from agent.config.settings import build_settings
    from agent.plugin.loader import load_plugins
    from agent.run.evaluate import active_checks

    registry = load_plugins()
    off, on = (build_settings({"gcp": dict(settings(server, deep_inventory=deep))}) for deep in (False, True))
    keys = registry.collectors["gcp.iam.service_account_keys"]
    assert not registry.collector_active(keys, off) and registry.collector_active(keys, on)
    assert "gcp.iam.service_account_key_age" not in {c.id for c in active_checks(registry, off)}
    assert "gcp.iam.service_account_key_age" in {c.id for c in active_checks(registry, on)}


def test_no_credentials_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(
        CollectorError, match=r"^no Google credentials: set up Application Default Credentials"
    ):
        GcpApi(GcpSettings(enabled=True))


def test_a_missing_token_variable_is_refused_at_load(monkeypatch):
    monkeypatch.delenv("GCP_TEST_TOKEN", raising=False)
    with pytest.raises(ValueError, match="GCP_TEST_TOKEN"):
        GcpSettings(enabled=True, access_token_env="GCP_TEST_TOKEN")
