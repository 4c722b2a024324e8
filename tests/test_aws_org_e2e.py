"""An AWS Organization of three accounts in two regions, collected end to end against moto.

The whole pipeline runs in-process (targets, concurrent collectors, store, checks, NCs) so the
test can also record every AWS operation the collectors make and hold it against the generated
least-privilege policy.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import botocore.client
import pytest

from agent.audit.nonconformities import list_ncs, nc_document
from agent.config.settings import Settings, build_settings
from agent.plugin.loader import load_plugins
from agent.plugin.model import Status
from agent.run.runner import Runner, RunSummary
from agent.store import Store
from agent.store.results import results_of
from collectors.aws.policy import actions
from tests.aws_org_seed import EXTERNAL_ID, REGIONS, ROLE, SeededOrg, seed_org
from tests.cli import annexa_json
from tests.conftest import FAKE_KEY_ID, FAKE_SECRET
from tests.faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.slow
REGISTRY = load_plugins()
# Operations whose IAM action is not `<signing name>:<operation>`, from the Service Authorization Reference.
IAM_ACTION_OF = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    ("apigateway", "GetRestApis"): "apigateway:GET",
    ("apigateway", "GetStages"): "apigateway:GET",
    ("s3", "GetObjectLockConfiguration"): "s3:GetBucketObjectLockConfiguration",
}
# IAM service prefixes that differ from botocore's service name.
PREFIX = {
    "s3control": "s3",
    "elbv2": "elasticloadbalancing",
    "opensearch": "es",
    "efs": "elasticfilesystem",
    "accessanalyzer": "access-analyzer",
}
# The agent's own identity makes these before any member-account policy applies.
HUB_OPERATIONS = {("sts", "GetCallerIdentity"), ("sts", "AssumeRole")}


def _settings(tmp_path: Path, **aws: Any) -> Settings:
    return build_settings(
        {
            "store": {"url": f"sqlite:///{tmp_path / 'store.db'}"},
            "aws": {
                "enabled": True,
                "discover_organization": True,
                "role_name": ROLE,
                "external_id": EXTERNAL_ID,
                "regions": list(REGIONS),
                "max_attempts": 3,
                **aws,
            },
        }
    )


def _collect(settings: Settings) -> tuple[RunSummary, Store]:
    store = Store(settings.store.url)
    return Runner(store, settings, REGISTRY).collect([]), store


def _results(store: Store, summary: RunSummary) -> dict[tuple[str, str], dict[str, Status]]:
    return {
        (o.check.id, o.scope): {r.resource_id: Status(r.status) for r in results_of(store, o.result_set)}
        for o in summary.outcomes
        if o.check.id.startswith("aws.")
    }


def _draft_ncs(store: Store) -> dict[tuple[str, str], set[str]]:
    with store.read() as s:
        docs = [nc_document(nc) for nc in list_ncs(s)]
    assert {d["state"] for d in docs} <= {"draft"}
    return {(d["check_id"], d["scope"]): set(d["failing_resources"]) for d in docs}


def _assert_exact(
    actual: dict[tuple[str, str], dict[str, Status]], org: SeededOrg, skip: set[tuple[str, str]] = frozenset()
) -> None:
    """Every (check, scope) has exactly the expected verdict per resource; differences are listed."""
    expected = {k: v for k, v in org.expected.items() if k not in skip}
    wrong = {k: {"got": actual.get(k), "want": v} for k, v in expected.items() if actual.get(k) != v}
    unexpected = sorted(set(actual) - set(expected))
    assert not wrong and not unexpected, (wrong, unexpected)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    """Every (service, operation) any botocore client sends, recorded at the SDK's single choke point."""
    calls: set[tuple[str, str]] = set()
    original = botocore.client.BaseClient._make_api_call

    def record(self: Any, operation_name: str, api_params: Any) -> Any:
        calls.add((self.meta.service_model.service_name, operation_name))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    return calls


@pytest.fixture
def org(aws: str, monkeypatch: pytest.MonkeyPatch) -> SeededOrg:
    # Member accounts need no AWS managed policies; building them per account is moto's slowest step.
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES")
    return seed_org()


def test_every_account_and_region_is_judged_exactly(org: SeededOrg, tmp_path: Path, recorded) -> None:
    recorded.clear()  # the seeding calls are not the collectors'
    summary, store = _collect(_settings(tmp_path))
    failed = {e.split(": ", 1)[0] for e in summary.errors}
    assert not failed, summary.errors
    # Everything succeeds except what moto lacks: GuardDuty's ListFindings where a detector exists
    # (one region per account), SSM's DescribeInstanceInformation and Access Analyzer (both of its
    # sources) in every region, Security Hub's GetEnabledStandards where the hub is on (one region).
    regions = len(org.accounts) * len(REGIONS)
    assert summary.observations_failed == len(org.accounts) * 2 + regions * 3
    _assert_exact(_results(store, summary), org)
    assert _draft_ncs(store) == org.failing()
    scopes = {o.scope for o in summary.outcomes}
    assert scopes == {f"aws:{a}" for a in org.accounts} | {
        f"aws:{a}:{r}" for a in org.accounts for r in REGIONS
    }

    allowed = set(actions(REGISTRY))
    needed = {
        IAM_ACTION_OF.get((svc, op), f"{PREFIX.get(svc, svc)}:{op}")
        for svc, op in recorded
        if (svc, op) not in HUB_OPERATIONS
    }
    assert len(needed) >= 40
    assert needed <= allowed, f"calls not covered by the policy: {sorted(needed - allowed)}"

    config = tmp_path / "annexa.toml"  # the same store, read by the real console script
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n\n[aws]\nenabled = true\n')
    controls = annexa_json("controls", "--config", str(config))
    automated = {c["id"] for c in controls if any(k.startswith("aws.") for k in c["checks"])}
    assert len(automated) >= 37, sorted(automated)  # each mapping with its rationale (issue 15)
    by_id = {c["id"]: c for c in controls}
    assert by_id["A.8.24"]["status"] == "failing" and by_id["A.8.24"]["open_nonconformities"]
    assert by_id["A.8.8"]["status"] == "failing"  # the old critical CVEs


def test_access_denied_and_throttling_touch_only_what_they_should(
    org: SeededOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RDS is denied in the management account only; IAM is throttled in every account.

    The management account's profile routes its RDS and IAM calls through the fault proxy; the
    members (default profile) route only IAM there, as a real shared config file would.
    """
    moto = os.environ["AWS_ENDPOINT_URL"]
    faults = {
        "DescribeDBInstances": Fault(
            403, "AccessDenied", "not authorized to perform: rds:DescribeDBInstances"
        ),
        "GetAccountSummary": Fault(400, "Throttling", "Rate exceeded", times=4),
    }
    with FaultProxy(moto, faults) as proxy:
        config = tmp_path / "aws-config"
        config.write_text(
            f"[default]\nendpoint_url = {moto}\nservices = members\n\n"
            f"[profile mgmt]\nendpoint_url = {moto}\nservices = mgmt\n"
            f"aws_access_key_id = {FAKE_KEY_ID}\naws_secret_access_key = {FAKE_SECRET}\n\n"
            f"[services members]\niam =\n  endpoint_url = {proxy.url}\n\n"
            f"[services mgmt]\niam =\n  endpoint_url = {proxy.url}\nrds =\n  endpoint_url = {proxy.url}\n"
        )
        monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        summary, store = _collect(_settings(tmp_path, profile="mgmt", max_attempts=8))
    assert proxy.hits["GetAccountSummary"] == len(org.accounts) + 4  # throttled 4 times, then served
    assert proxy.hits["DescribeDBInstances"] == len(REGIONS)  # access denied is not retried
    mgmt = f"aws:{org.management}"
    rds_checks = {c.id for c in REGISTRY.checks.values() if "aws.rds.instances" in c.needs}
    assert rds_checks >= {"aws.rds.storage_encrypted", "aws.backup.plan_coverage"}
    denied = {(c, f"{mgmt}:{r}") for c in rds_checks for r in REGIONS}
    results = _results(store, summary)
    for key in denied:
        assert {s for s in results.pop(key).values()} == {Status.ERROR}
        assert all("access denied: rds:DescribeDBInstances" in r.reason for o in summary.outcomes
                   if (o.check.id, o.scope) == key for r in results_of(store, o.result_set))  # fmt: skip
    _assert_exact(results, org, skip=denied)
