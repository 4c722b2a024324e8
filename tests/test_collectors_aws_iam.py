"""AWS IAM collectors and their plumbing, run with the real boto3 against a moto server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from agent.demo.organisation import seed_bulk_users, seed_demo_org
from agent.errors import CollectorError
from agent.plugin.declare import DECLARED
from collectors.aws import iam, session
from collectors.aws.session import aws_errors, paginate
from tests.aws_collect import collected, seeder, single_account
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
