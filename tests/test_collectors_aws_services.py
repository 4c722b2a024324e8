"""AWS service collectors and targets: moto (server mode) where it has the API, botocore's Stubber
with the service model's real shapes where it does not (or where real AWS answers differently).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from agent.errors import CollectorError
from collectors.aws import guardduty, kms, s3, securityhub
from collectors.aws.session import AwsRegion
from collectors.aws.targets import aws_accounts, aws_organization, aws_regions
from tests.aws_collect import aws_settings, collected, seeder, single_account
from tests.faultproxy import Fault, FaultProxy

ACCOUNT = "123456789012"
REGION = "eu-west-1"


# --- targets ---------------------------------------------------------------------------------------


@pytest.fixture
def lean_accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    """New member accounts without AWS managed policies: building those is moto's slowest step."""
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES")


def _organization(members: int = 3) -> list[str]:
    org = boto3.client("organizations", region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    return [
        org.create_account(AccountName=f"m{n}", Email=f"m{n}@example.com")["CreateAccountStatus"]["AccountId"]
        for n in range(members)
    ]


def test_organization_discovery_with_exclusions_and_regional_targets(aws: str, lean_accounts: None) -> None:
    members = _organization()
    settings = aws_settings(
        discover_organization=True,
        exclude_accounts=[members[1]],
        role_name="annexa-audit",
        external_id="ext-0001",
        regions=["eu-west-1", "us-east-2"],
    )
    accounts = list(aws_accounts(settings))
    assert sorted(a.account_id for a in accounts) == sorted([ACCOUNT, members[0], members[2]])
    mine = next(a for a in accounts if a.account_id == ACCOUNT)
    assert mine.session.get_credentials().access_key == "testing"  # the caller's own account: no role
    other = next(a for a in accounts if a.account_id == members[0])
    caller = other.client("sts").get_caller_identity()["Arn"]
    assert caller == f"arn:aws:sts::{members[0]}:assumed-role/annexa-audit/annexa"
    regions = list(aws_regions(settings))
    assert sorted(r.scope for r in regions) == sorted(
        f"aws:{a.account_id}:{r}" for a in accounts for r in ("eu-west-1", "us-east-2")
    )
    assert all(r.account.settings is settings for r in regions)
    assert [o.scope for o in aws_organization(settings)] == [f"aws:{ACCOUNT}"]


def test_regions_default_to_the_enabled_ones(aws: str) -> None:
    regions = [r.region for r in aws_regions(aws_settings())]
    listed = boto3.client("ec2").describe_regions(AllRegions=True)["Regions"]
    assert regions == sorted(r["RegionName"] for r in listed if r["OptInStatus"] != "not-opted-in")
    assert "ap-east-1" not in regions and "eu-west-1" in regions  # moto lists ap-east-1 as not opted in


def test_an_account_whose_regions_cannot_be_listed_fails_alone(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FaultProxy(aws, {"DescribeRegions": Fault(403, "UnauthorizedOperation")}) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", proxy.url)
        (target,) = aws_regions(aws_settings(max_attempts=1))
    assert (target.scope, target.region) == (f"aws:{ACCOUNT}", "")
    with pytest.raises(
        CollectorError, match=r"^cannot list the enabled regions of 123456789012: access denied"
    ):
        list(kms.keys(target))


def test_discovery_needs_a_role_for_members(aws: str, lean_accounts: None) -> None:
    _organization(1)
    with pytest.raises(CollectorError, match="role_name is needed"):
        list(aws_accounts(aws_settings(discover_organization=True)))


# --- S3 --------------------------------------------------------------------------------------------


def test_buckets_in_moto_with_absent_settings_recorded_as_absent(aws: str) -> None:
    client = boto3.client("s3")
    client.create_bucket(Bucket="plain-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="legacy-bucket")
    client.put_bucket_acl(Bucket="plain-bucket", ACL="public-read")
    records = collected(s3.buckets, single_account())
    plain, legacy = records["arn:aws:s3:::plain-bucket"], records["arn:aws:s3:::legacy-bucket"]
    assert plain["Region"] == REGION and legacy["Region"] == "us-east-1"
    assert plain["PublicAclGrants"] == ["AllUsers:READ"]
    assert (plain["PublicAccessBlock"], plain["PolicyIsPublic"], plain["DefaultEncryption"]) == (
        None,
        None,
        [],
    )
    assert (plain["Versioning"], plain["Logging"]) == ("Disabled", None)
    assert collected(s3.account_public_access_block, single_account()) == {
        f"arn:aws:s3::{ACCOUNT}:account-public-access-block": {"configuration": None}
    }


def test_sse_s3_default_as_real_aws_answers_it(aws: str) -> None:
    account = single_account()
    client = account.client("s3")
    with Stubber(client) as stub:
        stub.add_response("list_buckets", {"Buckets": [{"Name": "new-bucket", "BucketRegion": "eu-west-1"}]})
        stub.add_response(
            "get_public_access_block", {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True}}
        )
        stub.add_response("get_bucket_policy_status", {"PolicyStatus": {"IsPublic": False}})
        stub.add_response(
            "get_bucket_encryption",
            {"ServerSideEncryptionConfiguration": {"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}},
        )  # fmt: skip
        stub.add_response("get_bucket_versioning", {"Status": "Suspended"})
        stub.add_response(
            "get_bucket_logging", {"LoggingEnabled": {"TargetBucket": "logs", "TargetPrefix": "x/"}}
        )
        stub.add_response("get_bucket_acl", {"Grants": [], "Owner": {"ID": "abc"}})
        [bucket] = collected(s3.buckets, account).values()
        stub.assert_no_pending_responses()
    assert bucket["DefaultEncryption"] == [{"SSEAlgorithm": "AES256", "KMSMasterKeyID": None}]
    assert (bucket["Versioning"], bucket["Logging"], bucket["PolicyIsPublic"]) == (
        "Suspended",
        {"TargetBucket": "logs"},
        False,
    )


def test_access_denied_on_a_bucket_is_not_absence(aws: str) -> None:
    account = single_account()
    with Stubber(account.client("s3")) as stub:
        stub.add_response("list_buckets", {"Buckets": [{"Name": "locked", "BucketRegion": "eu-west-1"}]})
        stub.add_response("get_public_access_block", {"PublicAccessBlockConfiguration": {}})
        stub.add_client_error("get_bucket_policy_status", "AccessDenied", http_status_code=403)
        with pytest.raises(CollectorError, match=r"^access denied: s3:GetBucketPolicyStatus$"):
            list(s3.buckets(account))


# --- GuardDuty findings (moto has no ListFindings) -------------------------------------------------


def _finding(fid: str, severity: float) -> dict[str, Any]:
    now = datetime(2026, 11, 1, tzinfo=UTC).isoformat()
    return {
        "AccountId": ACCOUNT, "Arn": f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/d1/finding/{fid}",
        "CreatedAt": now, "Id": fid, "Region": REGION, "Resource": {"ResourceType": "Instance"},
        "SchemaVersion": "2.0", "Severity": severity, "Type": "Backdoor:EC2/C&CActivity.B", "UpdatedAt": now,
        "Service": {"Archived": False}, "Title": "C&C traffic",
    }  # fmt: skip


def test_guardduty_findings_are_paged_and_fetched_in_batches(aws: str) -> None:
    target = AwsRegion(single_account(), REGION)
    client = target.client("guardduty")
    ids = [f"f{n:03d}" for n in range(60)]
    criteria = {"Criterion": {"severity": {"Gte": 7}, "service.archived": {"Eq": ["false"]}}}
    with Stubber(client) as stub:
        stub.add_response("list_detectors", {"DetectorIds": ["d1"]})
        stub.add_response("list_findings", {"FindingIds": ids[:40], "NextToken": "t"},
                          {"DetectorId": "d1", "FindingCriteria": criteria})  # fmt: skip
        stub.add_response("list_findings", {"FindingIds": ids[40:]},
                          {"DetectorId": "d1", "FindingCriteria": criteria, "NextToken": "t"})  # fmt: skip
        stub.add_response("get_findings", {"Findings": [_finding(i, 8.0) for i in ids[:50]]},
                          {"DetectorId": "d1", "FindingIds": ids[:50]})  # fmt: skip
        stub.add_response("get_findings", {"Findings": [_finding(i, 7.5) for i in ids[50:]]},
                          {"DetectorId": "d1", "FindingIds": ids[50:]})  # fmt: skip
        records = collected(guardduty.findings, target)
        stub.assert_no_pending_responses()
    assert len(records) == 60
    first = records[f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/d1/finding/f000"]
    assert first == {"Id": "f000", "Type": "Backdoor:EC2/C&CActivity.B", "Title": "C&C traffic", "Severity": 8.0,
                     "ResourceType": "Instance", "CreatedAt": "2026-11-01T00:00:00+00:00",
                     "UpdatedAt": "2026-11-01T00:00:00+00:00", "Archived": False}  # fmt: skip


def test_guardduty_findings_access_denied(aws: str) -> None:
    target = AwsRegion(single_account(), REGION)
    with Stubber(target.client("guardduty")) as stub:
        stub.add_response("list_detectors", {"DetectorIds": ["d1"]})
        stub.add_client_error("list_findings", "AccessDeniedException", http_status_code=403)
        with pytest.raises(CollectorError, match=r"^access denied: guardduty:ListFindings$"):
            list(guardduty.findings(target))


def test_guardduty_detectors_in_moto(aws: str) -> None:
    target = AwsRegion(single_account(), REGION)
    resource = f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector"
    assert collected(guardduty.detectors, target) == {resource: {"detectors": []}}
    detector = seeder(target, "guardduty").create_detector(Enable=True)["DetectorId"]
    assert collected(guardduty.detectors, target)[resource]["detectors"] == [
        {"DetectorId": detector, "Status": "ENABLED", "Features": {}}
    ]


# --- Security Hub, KMS -----------------------------------------------------------------------------


def test_security_hub_off_is_recorded_and_yields_no_findings(aws: str) -> None:
    target = AwsRegion(single_account(), REGION)
    hub = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:hub/default"
    assert collected(securityhub.hub, target) == {hub: {"Enabled": False, "SubscribedAt": None}}
    assert collected(securityhub.findings, target) == {}
    seeder(target, "securityhub").enable_security_hub()
    assert collected(securityhub.hub, target)[hub]["Enabled"] is True


def test_kms_keys_skip_aws_managed_and_read_rotation(aws: str) -> None:
    target = AwsRegion(single_account(), REGION)
    seed = seeder(target, "kms")
    rotating = seed.create_key()["KeyMetadata"]
    seed.enable_key_rotation(KeyId=rotating["KeyId"])
    asymmetric = seed.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    records = collected(kms.keys, target)
    assert records[rotating["Arn"]]["RotationEnabled"] is True
    assert records[asymmetric["Arn"]]["RotationEnabled"] is None  # cannot rotate: not asked
    with Stubber(target.client("kms")) as stub:
        stub.add_response(
            "list_keys", {"Keys": [{"KeyId": "aws-ebs", "KeyArn": "arn:aws:kms:eu-west-1:1:key/aws-ebs"}]}
        )
        stub.add_response(
            "describe_key",
            {
                "KeyMetadata": {
                    "KeyId": "aws-ebs",
                    "KeyManager": "AWS",
                    "Arn": "arn:aws:kms:eu-west-1:1:key/aws-ebs",
                }
            },
        )
        assert collected(kms.keys, target) == {}
