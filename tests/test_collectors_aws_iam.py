"""AWS IAM collectors and their plumbing, run with the real boto3 against a moto server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config
from botocore.credentials import DeferredRefreshableCredentials
from botocore.stub import Stubber

import agent
from agent.demo.organisation import seed_bulk_users, seed_demo_org
from agent.errors import CollectorError
from agent.plugin.declare import DECLARED
from collectors.aws import iam, models, session
from collectors.aws.session import aws_errors, paginate
from collectors.aws.targets import aws_accounts
from tests.aws_collect import aws_settings, collected, seeder, single_account
from tests.clock import FakeTime
from tests.faultproxy import Fault, FaultProxy

ACCOUNT = "123456789012"
REPORT_COLUMNS = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    *(
        f"access_key_{n}_{field}"
        for n in (1, 2)
        for field in ("active", "last_rotated", "last_used_date", "last_used_region", "last_used_service")
    ),
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
]
# AWS's documentation example credentials: shaped like real ones, so scrubbing is exercised.
EXAMPLE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_TOKEN = "FwoGZXIvYXdzEXAMPLEsessionTOKEN"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
STAR_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture
def iam_client(aws: str) -> Any:
    return boto3.client("iam")


# --- targets and session ---------------------------------------------------------------------------


def test_the_caller_account_is_the_default_target(aws: str) -> None:
    account = single_account()
    assert (account.account_id, account.partition) == (ACCOUNT, "aws")
    assert account.scope == f"aws:{ACCOUNT}"
    assert single_account(accounts=[ACCOUNT]).account_id == ACCOUNT


def test_clients_are_cached_configured_and_created_once_across_threads(aws: str) -> None:
    account = single_account(retry_mode="standard", max_attempts=3, connect_timeout=2, read_timeout=7)
    seen: list[Any] = []
    threads = [threading.Thread(target=lambda: seen.append(account.client("iam"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client = seen[0]
    assert all(c is client for c in seen)
    assert client.meta.region_name == "eu-west-1"
    assert account.client("iam", "us-east-2") is not client
    config = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (2, 7)
    assert f"annexa/{agent.__version__}" in config.user_agent_extra


def test_clients_know_the_declared_calls_only_from_one_shared_model(aws: str) -> None:
    """Service models are trimmed to what some `Api` declares (collectors/aws/models.py), once
    per process: a call nobody declared is not there, declared ones work, documentation is gone."""
    client = single_account().client("iam")
    other = single_account().client("iam")
    model = client.meta.service_model
    assert other is not client and other.meta.service_model._service_description is model._service_description
    assert hasattr(client, "get_account_summary") and hasattr(client, "get_credential_report")
    assert not hasattr(client, "create_user") and not hasattr(client, "delete_account_password_policy")
    assert model.documentation == "" and model.operation_model("GetAccountSummary").documentation == ""
    assert "CreateUserRequest" not in model.shape_names  # reached by no declared call
    assert iam.ACCOUNT_SUMMARY(client)["SummaryMap"]["Users"] == 0


def test_trimmed_models_are_kept_on_disk_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later process reads the trimmed model from the cache; an unreadable one is made again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    models.cache_dir.cache_clear()
    try:
        first = models.TrimmingLoader().load_service_model("sts", "service-2")
        (kept,) = tmp_path.glob("annexa/aws-models/*/sts-*.json")
        assert json.loads(kept.read_bytes()) == first and "GetCallerIdentity" in first["operations"]
        assert "AssumeRoot" not in first["operations"]  # declared by no Api
        kept.write_text(json.dumps({**first, "metadata": {**first["metadata"], "signingName": "from-disk"}}))
        assert (
            models.TrimmingLoader().load_service_model("sts", "service-2")["metadata"]["signingName"]
            == "from-disk"
        )
        kept.write_text('{"truncated": ')
        assert models.TrimmingLoader().load_service_model("sts", "service-2") == first
        assert json.loads(kept.read_bytes()) == first
    finally:
        models.cache_dir.cache_clear()


def test_default_region_without_one_configured(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert single_account().client("iam").meta.region_name == "us-east-1"


def test_no_credentials_is_a_one_line_collector_error(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(CollectorError, match=r"^no AWS credentials found \(standard credential chain\)$"):
        single_account()


def test_other_accounts_need_a_role_name(aws: str) -> None:
    with pytest.raises(CollectorError, match="role_name is needed"):
        single_account(accounts=[ACCOUNT, "111111111111"])


def test_listed_accounts_are_reached_through_an_assumed_role(aws: str) -> None:
    members = ["111111111111", "222222222222"]
    accounts = list(aws_accounts(aws_settings(accounts=members, role_name="annexa-audit", external_id="x-1")))
    assert [a.scope for a in accounts] == [f"aws:{m}" for m in members]
    first = accounts[0]
    assert isinstance(first.session.get_credentials(), DeferredRefreshableCredentials)
    caller = first.client("sts").get_caller_identity()["Arn"]
    assert caller == "arn:aws:sts::111111111111:assumed-role/annexa-audit/annexa"
    seeder(first, "iam").create_user(UserName="only-in-member")
    users = collected(iam.users, first)
    assert list(users) == ["arn:aws:iam::111111111111:user/only-in-member"]
    assert collected(iam.users, accounts[1]) == {}
    assert collected(iam.users, single_account()) == {}


# --- collectors ------------------------------------------------------------------------------------


def test_collectors_register_their_sources_and_permissions() -> None:
    assert DECLARED.scope_kinds["aws_account"].system == "aws"
    expected = {
        "aws.iam.credential_report": ("iam:GenerateCredentialReport", "iam:GetCredentialReport"),
        "aws.iam.account_summary": ("iam:GetAccountSummary",),
        "aws.iam.password_policy": ("iam:GetAccountPasswordPolicy",),
        "aws.iam.users": ("iam:GetAccountAuthorizationDetails",),
        "aws.iam.policies": ("iam:GetAccountAuthorizationDetails",),
    }
    for source, permissions in expected.items():
        spec = DECLARED.collectors[source]
        assert (spec.scope_kind, spec.permissions, spec.freshness) == (
            "aws_account",
            permissions,
            timedelta(hours=24),
        )
        assert spec.description


def test_credential_report_rows(iam_client: Any) -> None:
    iam_client.create_user(UserName="alice")
    iam_client.create_login_profile(UserName="alice", Password="Correct-Horse-9")
    iam_client.create_access_key(UserName="alice")
    iam_client.create_user(UserName="svc")
    rows = collected(iam.credential_report, single_account())
    arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert set(rows) == {arn, f"arn:aws:iam::{ACCOUNT}:user/svc"}
    alice = rows[arn]
    assert list(alice) == REPORT_COLUMNS
    assert all(isinstance(v, str) for v in alice.values())
    assert alice["user"] == "alice"
    assert alice["arn"] == arn
    assert (alice["password_enabled"], alice["mfa_active"], alice["access_key_1_active"]) == (
        "true",
        "false",
        "true",
    )
    assert alice["password_last_used"] == "no_information"
    assert alice["access_key_1_last_used_date"] == "N/A"
    assert datetime.fromisoformat(alice["access_key_1_last_rotated"]).tzinfo is not None


def test_credential_report_gives_up_after_its_deadline(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeTime()
    monkeypatch.setattr(session, "time", clock)
    account = single_account()
    with Stubber(account.client("iam")) as stub:
        for _ in range(2):
            stub.add_response("generate_credential_report", {"State": "STARTED"})
        with pytest.raises(CollectorError, match=r"^credential report not ready after 0.3 s$"):
            list(account.credential_report(timeout=0.3))
        stub.assert_no_pending_responses()
    assert clock.slept == [0.25]  # a second wait of 0.5 s would end past the deadline: it gives up instead


def test_account_summary(aws: str) -> None:
    summary = collected(iam.account_summary, single_account())
    data = summary[f"arn:aws:iam::{ACCOUNT}:root"]
    assert data["AccountMFAEnabled"] == 0
    assert data["AccountAccessKeysPresent"] == 0
    assert all(isinstance(v, int) for v in data.values())


def test_password_policy_absent_then_present(iam_client: Any) -> None:
    resource = f"arn:aws:iam::{ACCOUNT}:password-policy"
    assert collected(iam.password_policy, single_account()) == {resource: {"present": False}}
    iam_client.update_account_password_policy(
        MinimumPasswordLength=14, RequireSymbols=True, PasswordReusePrevention=24
    )
    data = collected(iam.password_policy, single_account())[resource]
    assert data["present"] is True
    assert (data["MinimumPasswordLength"], data["RequireSymbols"], data["PasswordReusePrevention"]) == (
        14,
        True,
        24,
    )


def test_users_with_groups_and_policies(iam_client: Any) -> None:
    iam_client.create_group(GroupName="engineering")
    pol = iam_client.create_policy(PolicyName="star", PolicyDocument=json.dumps(STAR_DOC))["Policy"]
    iam_client.create_user(UserName="bob", Tags=[{"Key": "email", "Value": "bob@example.com"}])
    iam_client.add_user_to_group(GroupName="engineering", UserName="bob")
    iam_client.attach_user_policy(UserName="bob", PolicyArn=ADMIN_ARN)
    iam_client.attach_user_policy(UserName="bob", PolicyArn=pol["Arn"])
    iam_client.put_user_policy(UserName="bob", PolicyName="inline", PolicyDocument=json.dumps(STAR_DOC))
    arn = f"arn:aws:iam::{ACCOUNT}:user/bob"
    bob = collected(iam.users, single_account())[arn]
    created = datetime.fromisoformat(bob.pop("CreateDate"))
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=5)
    assert bob == {
        "UserName": "bob",
        "UserId": bob["UserId"],
        "Arn": arn,
        "GroupList": ["engineering"],
        "AttachedManagedPolicies": [
            {"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN_ARN},
            {"PolicyName": "star", "PolicyArn": pol["Arn"]},
        ],
        "UserPolicyList": [{"PolicyName": "inline", "PolicyDocument": STAR_DOC}],
        "PermissionsBoundary": None,
    }


def test_policies_are_local_with_their_default_version(iam_client: Any) -> None:
    pol = iam_client.create_policy(PolicyName="ops", PolicyDocument=json.dumps(STAR_DOC))["Policy"]
    v2 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
    iam_client.create_policy_version(PolicyArn=pol["Arn"], PolicyDocument=json.dumps(v2), SetAsDefault=True)
    assert collected(iam.policies, single_account()) == {
        pol["Arn"]: {
            "PolicyName": "ops",
            "Arn": pol["Arn"],
            "AttachmentCount": 0,
            "IsAttachable": True,
            "DefaultVersionDocument": v2,
        }
    }


def test_url_encoded_policy_documents_are_decoded() -> None:
    assert iam._document(quote(json.dumps(STAR_DOC))) == STAR_DOC
    assert iam._document(STAR_DOC) is STAR_DOC


def test_many_users_from_the_bulk_seed(aws: str) -> None:
    seeded = seed_bulk_users(aws, 150, seed=7)
    account = single_account()
    users = collected(iam.users, account)
    report = collected(iam.credential_report, account)
    assert len(users) == len(report) == seeded.users == 150
    assert sum(bool(u["AttachedManagedPolicies"]) for u in users.values()) == seeded.direct_policies
    assert sum(bool(u["UserPolicyList"]) for u in users.values()) == seeded.inline_policies
    assert sum(r["password_enabled"] == "true" for r in report.values()) == seeded.console
    assert sum(r["mfa_active"] == "true" for r in report.values()) == seeded.mfa
    assert sum(r["access_key_1_active"] == "true" for r in report.values()) == seeded.access_keys


def test_paginate_fetches_pages_lazily(aws: str) -> None:
    client = single_account().client("iam")
    calls: list[str] = []
    client.meta.events.register("before-call.iam.ListPolicies", lambda **kw: calls.append("call"))
    items = paginate(client, "list_policies", "Policies", Scope="AWS", PaginationConfig={"PageSize": 100})
    first = next(items)
    assert first["Arn"].startswith("arn:aws:iam::aws:policy/")
    assert len(calls) == 1
    rest = list(items)
    assert len(calls) > 2
    assert len({p["Arn"] for p in [first, *rest]}) == len(rest) + 1 > 200


# --- failures --------------------------------------------------------------------------------------


@pytest.fixture
def faulty(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """IAM requests go through a fault-injecting proxy to moto, signed with real-looking credentials."""
    with FaultProxy(aws) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", proxy.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", EXAMPLE_KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EXAMPLE_SECRET)
        monkeypatch.setenv("AWS_SESSION_TOKEN", EXAMPLE_TOKEN)
        yield proxy


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (403, "AccessDenied", "access denied: iam:GetAccountSummary"),
        (400, "AccessDeniedException", "access denied: iam:GetAccountSummary"),
        (400, "Throttling", "Throttling: User 123456789012 is not authorized"),
    ],
)
def test_client_errors_become_one_line_collector_errors(
    faulty: FaultProxy, status: int, code: str, expected: str
) -> None:
    message = f"User {ACCOUNT} is not authorized"
    faulty.faults["GetAccountSummary"] = Fault(status=status, code=code, message=message)
    with pytest.raises(CollectorError) as err:
        list(iam.account_summary(single_account(max_attempts=1)))
    assert str(err.value) == expected


def test_access_denied_while_paging(faulty: FaultProxy) -> None:
    faulty.faults["GetAccountAuthorizationDetails"] = Fault(status=403, code="AccessDenied")
    with pytest.raises(CollectorError, match=r"^access denied: iam:GetAccountAuthorizationDetails$"):
        list(iam.users(single_account()))


def test_password_policy_access_denied_is_not_absence(faulty: FaultProxy) -> None:
    faulty.faults["GetAccountPasswordPolicy"] = Fault(status=403, code="AccessDenied")
    with pytest.raises(CollectorError, match=r"^access denied: iam:GetAccountPasswordPolicy$"):
        list(iam.password_policy(single_account()))


def _assert_safe(message: str) -> None:
    assert "\n" not in message
    for secret in (EXAMPLE_KEY_ID, EXAMPLE_SECRET, EXAMPLE_TOKEN):
        assert secret not in message


def test_server_error_with_one_attempt_names_no_secret(faulty: FaultProxy) -> None:
    echoed = (
        f"while serving Credential={EXAMPLE_KEY_ID}/20261123/eu-west-1/iam/aws4_request\n"
        f"X-Amz-Security-Token: {EXAMPLE_TOKEN} secret={EXAMPLE_SECRET}"
    )
    faulty.faults["GetAccountSummary"] = Fault(code="InternalFailure", message=echoed)
    with pytest.raises(CollectorError) as err:
        list(iam.account_summary(single_account(max_attempts=1)))
    assert faulty.hits["GetAccountSummary"] == 1
    assert str(err.value).startswith("InternalFailure: while serving Credential=")
    _assert_safe(str(err.value))


def test_server_errors_are_retried_up_to_max_attempts(faulty: FaultProxy) -> None:
    faulty.faults["GetAccountAuthorizationDetails"] = Fault(times=2)
    assert collected(iam.policies, single_account(retry_mode="standard", max_attempts=3)) == {}
    assert faulty.hits["GetAccountAuthorizationDetails"] == 3
    with pytest.raises(CollectorError, match=r"^ServiceFailure: Internal failure$"):
        faulty.faults["GetAccountAuthorizationDetails"] = Fault()
        list(iam.users(single_account(retry_mode="standard", max_attempts=2)))
    assert faulty.hits["GetAccountAuthorizationDetails"] == 5


def test_read_timeout(faulty: FaultProxy) -> None:
    faulty.faults["GetAccountPasswordPolicy"] = Fault(hold=threading.Event())  # answered after the test
    with pytest.raises(CollectorError, match=r"^ReadTimeoutError: Read timeout on endpoint URL") as err:
        list(iam.password_policy(single_account(max_attempts=1, read_timeout=0.2)))
    _assert_safe(str(err.value))


def test_unreachable_endpoint(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    account = single_account(max_attempts=1, connect_timeout=1)
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:9")
    with pytest.raises(CollectorError, match=r"^EndpointConnectionError: Could not connect"):
        list(iam.users(account))


def test_html_error_page(aws: str) -> None:
    """moto answers operations it lacks with an HTML 500 page, which botocore cannot parse."""
    client = seeder(single_account(), "iam", config=Config(retries={"total_max_attempts": 1}))
    client.create_user(UserName="bounded")
    unreadable = r"^iam: unreadable response from the endpoint"
    with pytest.raises(CollectorError, match=unreadable), aws_errors("iam"):
        client.put_user_permissions_boundary(UserName="bounded", PermissionsBoundary=ADMIN_ARN)


# --- demo organisation -----------------------------------------------------------------------------


def _days_ago(stamp: str) -> int:
    return (datetime.now(UTC) - datetime.fromisoformat(stamp)).days


def test_demo_org_backdates_what_the_checks_judge(aws: str) -> None:
    org = seed_demo_org(aws)
    assert org.account_id == ACCOUNT
    report = {row["user"]: row for row in collected(iam.credential_report, single_account()).values()}
    assert set(report) == set(org.users)
    assert _days_ago(report["alice.nguyen"]["user_creation_time"]) == 720
    assert _days_ago(report["emma.schulz"]["password_last_used"]) == 140
    backup = report["svc-backup"]
    assert (
        _days_ago(backup["access_key_1_last_rotated"]),
        _days_ago(backup["access_key_1_last_used_date"]),
    ) == (
        200,
        2,
    )
    assert report["svc-reporting"]["access_key_1_last_used_date"] == "N/A"
    assert report["carla.mendes"]["mfa_active"] == "false"
    assert report["alice.nguyen"]["mfa_active"] == "true"
    user = f"arn:aws:iam::{ACCOUNT}:user/"
    assert org.expected_failures == {
        "aws.iam.root_mfa": {f"arn:aws:iam::{ACCOUNT}:root"},
        "aws.iam.root_access_keys": set(),
        "aws.iam.password_policy": {f"arn:aws:iam::{ACCOUNT}:password-policy"},
        "aws.iam.console_user_without_mfa": {user + "carla.mendes", user + "david.kim"},
        "aws.iam.access_key_rotation": {user + "svc-backup", user + "svc-reporting"},
        "aws.iam.unused_credentials": {user + "emma.schulz", user + "svc-reporting"},
        "aws.iam.user_admin_policy": {user + "farid.haddad", user + "hiro.tanaka"},
        "aws.iam.user_inline_policies": {user + "grace.liu"},
        "aws.iam.user_direct_policies": {user + "farid.haddad", user + "hiro.tanaka"},
    }
    summary = collected(iam.account_summary, single_account())[f"arn:aws:iam::{ACCOUNT}:root"]
    assert summary["AccountMFAEnabled"] == 0
    policy = collected(iam.password_policy, single_account())[f"arn:aws:iam::{ACCOUNT}:password-policy"]
    assert (policy["MinimumPasswordLength"], policy["RequireSymbols"]) == (8, False)
