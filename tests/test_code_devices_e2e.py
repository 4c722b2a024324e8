"""The real `annexa` console script against a local GitHub, a local Microsoft Graph (Intune) and an HR
export: an organisation with protected, unprotected and weakly protected repositories, old and young
Dependabot and code-scanning alerts, outside collaborators, a leaver still a member and still holding
a laptop, and devices good and bad. One `annexa collect` must find exactly the planted weaknesses; with every system switched on,
`annexa controls` shows at least 40 Annex A controls evidenced by automated checks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli import annexa, annexa_json
from tests.github_server import (
    GithubServer,
    GithubWorld,
    Org,
    Repo,
    analysis,
    classic,
    code_scanning_alert,
    dependabot_alert,
    deploy_key,
    pull_request_rule,
)
from tests.graph_server import GraphData, GraphServer, compliance_policy, managed_device

pytestmark = pytest.mark.slow

GITHUB_TOKEN = "ghp_e2eTokenThatMustNeverBeShown000000"
GRAPH_TOKEN = "eyJ0eXAiOiJKV1QifQ.e2e-intune-token"
TENANT_ID = "0a0b0c0d-0e0f-4000-8000-000000000001"
INTUNE = f"intune:{TENANT_ID}"
# Planted around the real day: the console script judges on its own clock. Ages here are far from
# every threshold (a day's drift past midnight changes no verdict).
TODAY = datetime.now(UTC).date()
ENV = {"E2E_GITHUB_TOKEN": GITHUB_TOKEN, "E2E_GRAPH_TOKEN": GRAPH_TOKEN}


def at(offset: int) -> str:
    return f"{TODAY + timedelta(days=offset)}T12:00:00Z"


def github_world() -> GithubWorld:
    world = GithubWorld(token=GITHUB_TOKEN)
    young = dependabot_alert("acme/web", 3, "high", "jinja2") | {"created_at": at(-2)}
    old = dependabot_alert("acme/api", 1, "critical", "requests") | {"created_at": at(-90)}
    world.add(
        Org(
            "acme",
            two_factor_requirement_enabled=True,
            default_repository_permission="write",
            members={"alice": "admin", "bob": "member", "finn": "member", "mallory": "member"},
            saml={
                "alice": "alice@acme.com",
                "bob": "bob@acme.com",
                "finn": "finn@acme.com",
                "mallory": "mallory@contractor.example",
            },
            outside_collaborators=["vendor-dev", "auditor"],
            repos=[
                Repo(
                    "api",
                    protection=classic(2, dismiss_stale=True, admins=True),
                    security_and_analysis=analysis("enabled", "enabled"),
                    vulnerability_alerts=True,
                    code_scanning="configured",
                    collaborators={"vendor-dev": "write", "auditor": "read"},
                ),
                Repo(
                    "web",
                    security_and_analysis=analysis("enabled", "disabled"),
                    vulnerability_alerts=True,
                    code_scanning="not-configured",
                ),
                Repo(
                    "infra",
                    private=True,
                    rules=[pull_request_rule(1)],
                    security_and_analysis=analysis("disabled", "disabled"),
                    vulnerability_alerts=False,
                    code_scanning=None,
                    keys=[deploy_key(11, "release", read_only=False), deploy_key(12, "ci", read_only=True)],
                ),
                Repo("legacy", archived=True),
            ],
            alerts=[old, dependabot_alert("acme/api", 2, "low", "pyyaml"), young],
            code_alerts=[
                code_scanning_alert("acme/api", 7, "high", created_at=at(-90)),
                code_scanning_alert("acme/web", 8, "high", created_at=at(-2)),
            ],
        )
    )
    return world


def tenant() -> GraphData:
    return GraphData(
        managed_devices=[
            managed_device("dev-1", "LAPTOP-ALICE", last_sync=at(-1), upn="alice@acme.com"),
            managed_device(
                "dev-2",
                "MAC-FINN",
                os="macOS",
                version="14.5",
                encrypted=False,
                last_sync=at(-1),
                upn="finn@acme.com",
            ),
            managed_device(
                "dev-3",
                "IPHONE-BOB",
                os="iOS",
                version="16.7.2",
                state="noncompliant",
                jailbroken="True",
                last_sync=at(-40),
                upn="bob@acme.com",
                owner="personal",
            ),
            managed_device("dev-4", "KIOSK-LOBBY", last_sync=at(-1)),
        ],
        compliance_policies=[
            compliance_policy("p-win", "Windows baseline", "windows10CompliancePolicy"),
            compliance_policy("p-ios", "iOS baseline", "iosCompliancePolicy"),
        ],
    )


def hr_export(path: Path) -> Path:
    path.write_text(
        "employee_id,email,name,status,hire_date,termination_date\n"
        f"1,alice@acme.com,Alice,active,{TODAY - timedelta(days=900)},\n"
        f"2,bob@acme.com,Bob,active,{TODAY - timedelta(days=400)},\n"
        f"3,finn@acme.com,Finn,terminated,{TODAY - timedelta(days=700)},{TODAY - timedelta(days=20)}\n"
    )
    return path


def write_config(tmp_path: Path, github_url: str, graph_url: str, extra: str = "") -> Path:
    config = tmp_path / "annexa.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n\n'
        f'[github]\nenabled = true\norganizations = ["acme"]\napi_url = "{github_url}"\n'
        'token_env = "E2E_GITHUB_TOKEN"\nmax_attempts = 1\n\n'
        f'[entra]\ntenant_id = "{TENANT_ID}"\naccess_token_env = "E2E_GRAPH_TOKEN"\ngraph_url = "{graph_url}"\n\n'
        "[intune]\nenabled = true\n\n"
        f'[hr]\nenabled = true\nprovider = "file"\npath = "{hr_export(tmp_path / "people.csv")}"\n' + extra
    )
    return config


def failing(ncs: list[dict]) -> dict[str, list[str]]:
    return {
        nc["check_id"]: sorted(nc["failing_resources"])
        for nc in ncs
        if nc["check_id"].startswith(("github.", "intune.")) and nc["state"] == "draft"
    }


def test_one_collect_finds_exactly_the_planted_weaknesses(tmp_path):
    with GithubServer(github_world()) as github, GraphServer(tenant(), token=GRAPH_TOKEN) as graph:
        config = write_config(tmp_path, github.api_url, graph.url)
        run = annexa_json("collect", "--config", str(config), env=ENV)
        ncs = annexa_json("nc", "list", "--config", str(config), env=ENV)
        show = annexa("nc", "show", next(nc["id"] for nc in ncs if nc["check_id"] == "github.org.leaver_members"),
                      "--json", "--config", str(config), env=ENV)  # fmt: skip
    assert run["observations"]["error"] == 0, run
    assert failing(ncs) == {
        "github.org.base_permission": ["acme"],
        "github.repos.branch_protection": ["acme/infra", "acme/web"],
        "github.repos.secret_scanning": ["acme/infra", "acme/web"],
        "github.repos.code_scanning": ["acme/web"],
        "github.alerts.dependabot_overdue": ["acme/api#1", "acme/infra"],
        "github.alerts.code_scanning_overdue": ["acme/api#7"],
        "github.org.outside_collaborators": ["vendor-dev"],
        "github.org.members_unlinked": ["mallory"],
        "github.org.leaver_members": ["finn"],
        "github.repos.deploy_keys_read_only": ["acme/infra:11"],
        "intune.devices.encrypted": ["dev-2"],
        "intune.devices.compliant": ["dev-3"],
        "intune.devices.not_jailbroken": ["dev-3"],
        "intune.devices.recent_sync": ["dev-3"],
        "intune.devices.os_minimum": ["dev-3"],
        "intune.devices.leaver_enrolled": ["dev-2"],
        "intune.devices.inventory": ["dev-4"],
        "intune.policies.coverage": [f"{INTUNE}:platform:macOS"],
    }
    assert str(TODAY - timedelta(days=20)) in show.stdout  # the leaver's termination date is in the reason
    for output in (show.stdout, show.stderr):
        assert GITHUB_TOKEN not in output and GRAPH_TOKEN not in output


def test_with_every_system_on_at_least_40_controls_have_automated_checks(tmp_path):
    extra = (
        '\n[aws]\nenabled = true\n\n[gcp]\nenabled = true\naccess_token_env = "E2E_GCP_TOKEN"\n'
        '\n[schedule]\ninterval = "24h"\n'
    )
    config = write_config(tmp_path, "http://127.0.0.1:9/api/v3", "http://127.0.0.1:9", extra)
    config.write_text(config.read_text().replace("[entra]\n", "[entra]\nenabled = true\n"))
    controls = annexa_json("controls", "--config", str(config), env={**ENV, "E2E_GCP_TOKEN": "t"})
    automated = [c["id"] for c in controls if c["checks"]]
    assert len(automated) >= 40, automated
