"""The Entra and GCP permission files in deploy/ are what the collectors declare, regenerated."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from agent.errors import PluginError
from agent.plugin.loader import load_plugins
from agent.plugin.permissions import declared, main, render
from agent.plugin.registry import CollectorSpec, Registry
from collectors.aws.targets import TARGET_PERMISSIONS
from collectors.entra.permissions import GRAPH_APP_ID, GRAPH_APP_ROLES, graph_required_access

DEPLOY = Path(__file__).parents[1] / "deploy"
REGISTRY = load_plugins()
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FILES = {
    "entra": DEPLOY / "entra" / "graph-permissions.json",
    "gcp": DEPLOY / "gcp" / "annexa-role.yaml",
    "github": DEPLOY / "github" / "app-permissions.json",
    "intune": DEPLOY / "intune" / "graph-permissions.json",
    "okta": DEPLOY / "okta" / "oauth-scopes.json",
    "google_workspace": DEPLOY / "google_workspace" / "oauth-scopes.json",
}


def test_the_committed_files_are_what_the_generator_prints(capsys: pytest.CaptureFixture[str]) -> None:
    for system, path in FILES.items():
        assert path.read_text() == render(REGISTRY, system), (
            f"{path} is stale: python -m agent.plugin.permissions {system}"
        )
        assert main([system]) == 0
        assert capsys.readouterr().out == path.read_text()
    assert main(["hr"]) == 0
    assert capsys.readouterr().out.splitlines() == declared(REGISTRY, "hr")
    assert main(["nope"]) == 2
    assert (
        capsys.readouterr().err
        == "agent.plugin.permissions: no collector of system 'nope' declares a permission\n"
    )


def test_the_graph_manifest_grants_every_declared_permission_as_an_application_role() -> None:
    [resource] = json.loads(FILES["entra"].read_text())
    assert resource["resourceAppId"] == GRAPH_APP_ID
    names = {v: k for k, v in GRAPH_APP_ROLES.items()}
    granted = {names[a["id"]] for a in resource["resourceAccess"] if a["type"] == "Role"}
    entra = {p for s in REGISTRY.collectors.values() if s.system == "entra" for p in s.permissions}
    assert entra and granted == entra == set(declared(REGISTRY, "entra"))
    assert len(resource["resourceAccess"]) == len(granted)  # application permissions only, no scopes
    assert all(GUID.match(i) for i in GRAPH_APP_ROLES.values())
    assert len(set(GRAPH_APP_ROLES.values())) == len(GRAPH_APP_ROLES)
    assert all(name.split(".")[1] == "Read" for name in entra), "Annexa only reads"


def test_the_gcp_role_is_a_custom_role_definition_of_exactly_the_declared_permissions() -> None:
    role = yaml.safe_load(FILES["gcp"].read_text())
    assert set(role) == {"title", "description", "stage", "includedPermissions"}
    assert role["stage"] == "GA" and len(role["title"]) <= 100 and len(role["description"]) <= 256
    gcp = {p for s in REGISTRY.collectors.values() if s.system == "gcp" for p in s.permissions}
    assert gcp and role["includedPermissions"] == declared(REGISTRY, "gcp") == sorted(gcp)
    for permission in role["includedPermissions"]:
        assert re.match(r"^[a-z]+\.[A-Za-z]+\.(get|list|getIamPolicy)$", permission), (
            f"{permission} is not a read"
        )


def test_target_resolution_permissions_are_included() -> None:
    assert set(TARGET_PERMISSIONS) <= set(declared(REGISTRY, "aws"))
    registry = Registry(collectors=dict(REGISTRY.collectors), scope_kinds=dict(REGISTRY.scope_kinds))
    kind = registry.scope_kinds["aws_account"]
    registry.scope_kinds["aws_account"] = replace(kind, permissions=("sts:GetCallerIdentity",))
    assert "sts:GetCallerIdentity" in declared(registry, "aws")


def test_an_entra_permission_without_a_known_app_role_id_stops_the_generator() -> None:
    registry = Registry()
    spec = next(s for s in REGISTRY.collectors.values() if s.system == "entra")
    registry.collectors["entra.test.dataset"] = CollectorSpec(
        source="entra.test.dataset",
        scope_kind=spec.scope_kind,
        func=spec.func,
        freshness=timedelta(hours=1),
        permissions=("User.Read.All", "Mail.Read"),
        description="",
    )
    with pytest.raises(PluginError, match=r"Mail\.Read has no known app-role id"):
        graph_required_access(declared(registry, "entra"))
    with pytest.raises(PluginError, match="no collector of system 'nope'"):
        declared(registry, "nope")
