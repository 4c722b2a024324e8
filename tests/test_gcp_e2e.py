"""`annexa collect` (the real console script) against a local Google API server and an HR export.

One organisation, three folders and twenty projects with good and bad bindings: every check
fails exactly the planted resources, each grant on the resource that sets it, and the one
project whose policy cannot be read is an `error` result on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.store import Store
from agent.store.schema import CheckRun, ResultRow
from tests.cli import annexa_json
from tests.gcp_server import Fault, GcpServer, GcpWorld, binding

pytestmark = pytest.mark.slow

TOKEN_ENV = "GCP_E2E_TOKEN"
ORG = "organizations/123"
ENG, FIN, SBX = "folders/1001", "folders/1002", "folders/1003"
HR_CSV = """employee_id,email,name,status,hire_date,termination_date
E1,alice@acme.com,Alice,active,2020-01-06,
E2,carol@acme.com,Carol,active,2021-03-01,
E3,frank@acme.com,Frank,active,2019-05-20,
E4,dan@acme.com,Dan,terminated,2018-02-01,2026-01-31
"""


def seed() -> GcpWorld:
    w = GcpWorld(page_size=7)
    w.add_organization("123", "acme.com")
    w.add_folder("1001", ORG, "Engineering")
    w.add_folder("1002", ORG, "Finance")
    w.add_folder("1003", ENG, "Sandbox")
    for n in range(1, 9):
        w.add_project(f"eng-{n:02d}", ENG)
    for n in range(1, 7):
        w.add_project(f"fin-{n:02d}", FIN)
        w.add_project(f"sbx-{n:02d}", SBX)
    good = [
        binding("roles/viewer", "group:eng@acme.com"),
        binding("roles/compute.admin", "user:alice@acme.com"),
    ]
    for project_id in w.projects:
        w.policies[f"projects/{project_id}"] = list(good)
    w.policies[ORG] = [
        binding("roles/resourcemanager.organizationAdmin", "group:admins@acme.com"),
        binding("roles/viewer", "group:all-staff@acme.com"),
    ]
    w.policies[FIN] = [binding("roles/editor", "user:frank@acme.com")]
    w.policies[SBX] = [binding("roles/browser", "allAuthenticatedUsers")]
    w.policies[ENG] = [binding("roles/logging.viewer", "group:eng@acme.com")]
    w.policies["projects/eng-02"] += [binding("roles/storage.objectViewer", "allUsers")]
    w.policies["projects/eng-03"] += [binding("roles/owner", "user:carol@acme.com")]
    w.policies["projects/eng-04"] += [binding("roles/viewer", "user:eve@gmail.com")]
    compute = f"serviceAccount:{w.projects['eng-05']['number']}-compute@developer.gserviceaccount.com"
    w.policies["projects/eng-05"] += [binding("roles/editor", compute)]
    w.policies["projects/fin-02"] += [binding("roles/viewer", "user:dan@acme.com")]
    w.faults[r"projects/fin-03:getIamPolicy"] = Fault(403, "The caller does not have permission")
    w.faults[r"projects/fin-04:getIamPolicy"] = Fault(429, "Quota exceeded", times=2)
    for project_id, created in (("eng-01", "2026-01-10T09:00:00Z"), ("eng-06", "2099-01-01T00:00:00Z")):
        name = f"projects/{project_id}/serviceAccounts/ci@{project_id}.iam.gserviceaccount.com"
        key = {"name": f"{name}/keys/0a1b2c", "validAfterTime": created, "keyType": "USER_MANAGED"}
        w.service_accounts[project_id] = [{"name": name, "email": name.rsplit("/", 1)[1], "keys": [key]}]
    w.buckets["sbx-01"] = [
        {"name": "sbx-01-public", "bindings": [binding("roles/storage.objectViewer", "allUsers")]}
    ]
    w.buckets["sbx-02"] = [
        {"name": "sbx-02-private", "bindings": [binding("roles/storage.admin", "group:eng@acme.com")]}
    ]
    return w


@pytest.fixture
def server() -> Iterator[GcpServer]:
    with GcpServer(seed()) as srv:
        yield srv


@pytest.fixture
def config(tmp_path: Path, server: GcpServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(TOKEN_ENV, "ya29.e2e-token")
    hr = tmp_path / "hr.csv"
    hr.write_text(HR_CSV)
    path = tmp_path / "annexa.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n\n'
        f'[gcp]\nenabled = true\norganization_ids = ["123"]\napi_endpoint = "{server.url}"\n'
        f'access_token_env = "{TOKEN_ENV}"\ndeep_inventory = true\ninitial_backoff = 0.05\n\n'
        f'[hr]\nenabled = true\nprovider = "file"\npath = "{hr}"\n\n'
        '[checks.params."gcp.iam.external_members"]\ncompany_domains = ["acme.com"]\n'
    )
    return path


SCOPE = f"gcp:{ORG}"
EXPECTED = {
    "gcp.iam.public_members": {SBX, "projects/eng-02"},
    "gcp.iam.basic_roles_to_users": {FIN, "projects/eng-03"},
    "gcp.iam.external_members": {"projects/eng-04"},
    "gcp.iam.service_account_basic_roles": {"projects/eng-05"},
    "gcp.iam.inherited_basic_roles": {ORG, FIN},
    "gcp.iam.leaver_bindings": {"projects/fin-02"},
    "gcp.iam.service_account_key_age": {"projects/eng-01/serviceAccounts/ci@eng-01.iam.gserviceaccount.com"},
    "gcp.storage.public_buckets": {"projects/_/buckets/sbx-01-public"},
}
POLICY_CHECKS = [
    "gcp.iam.basic_roles_to_users",
    "gcp.iam.external_members",
    "gcp.iam.inherited_basic_roles",
    "gcp.iam.leaver_bindings",
    "gcp.iam.public_members",
    "gcp.iam.service_account_basic_roles",
]


def statuses(config: Path, run_id: int) -> dict[str, dict[str, str]]:
    """check id -> resource id -> status, as stored for the run."""
    store = Store(f"sqlite:///{config.parent / 'store.db'}")
    with store.read() as s:
        rows = s.execute(
            select(CheckRun.check_id, ResultRow.resource_id, ResultRow.status)
            .join(ResultRow, ResultRow.set_hash == CheckRun.result_set)
            .where(CheckRun.run_id == run_id, CheckRun.scope == SCOPE)
        ).all()
    out: dict[str, dict[str, str]] = {}
    for check_id, resource_id, status in rows:
        out.setdefault(check_id, {})[resource_id] = status
    return out


def test_collect_finds_exactly_the_planted_grants_where_they_are_set(config, server):
    doc = annexa_json("collect", "--config", str(config))

    # One scope per organisation: policies, two deep inventories, and the HR export.
    assert doc["run"]["status"] == "complete" and doc["observations"] == {"ok": 4, "error": 0}
    assert server.hits["POST /v3/projects/fin-04:getIamPolicy"] == 3  # two quota errors, retried
    assert server.hits["GET /v3/projects:search"] == 2 * 3  # three pages, listed per scope kind

    ncs = [
        nc for nc in annexa_json("nc", "list", "--config", str(config)) if nc["check_id"].startswith("gcp.")
    ]
    assert {nc["check_id"]: set(nc["failing_resources"]) for nc in ncs} == EXPECTED
    assert {(nc["state"], nc["scope"]) for nc in ncs} == {("draft", SCOPE)}

    # The unreadable project is an error in every policy check, and nothing else is.
    judged = statuses(config, doc["run"]["id"])
    for check_id in POLICY_CHECKS:
        assert len(judged[check_id]) == 24  # 1 organisation, 3 folders, 20 projects
        assert {r for r, st in judged[check_id].items() if st == "error"} == {"projects/fin-03"}
    assert judged["gcp.iam.public_members"]["projects/fin-04"] == "pass"
    assert judged["gcp.iam.service_account_key_age"] == {
        "projects/eng-01/serviceAccounts/ci@eng-01.iam.gserviceaccount.com": "fail",
        "projects/eng-06/serviceAccounts/ci@eng-06.iam.gserviceaccount.com": "pass",
    }

    # Inheritance: each grant is reported once, on the level that sets it, with its reach.
    nc = next(n for n in ncs if n["check_id"] == "gcp.iam.inherited_basic_roles")
    reasons = annexa_json("nc", "show", nc["id"], "--config", str(config))["reasons"]
    assert reasons[ORG] == (
        "organizations/123 (acme.com), inherited by 20 projects: basic roles set here: "
        "group:all-staff@acme.com as roles/viewer"
    )
    assert reasons[FIN] == (
        "folders/1002 (Finance), inherited by 6 projects: basic roles set here: user:frank@acme.com as roles/editor"
    )
