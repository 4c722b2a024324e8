"""Posture and access collectors: moto (server mode) for ECR, Lambda, IAM roles and groups,
Organizations' units, RDS instances, Config rules and a hub without Security Hub; botocore's Stubber
with the service models' real shapes where moto 5.2 lacks the API: SSM's instance information and
patch states, Access Analyzer (the whole service), Config's DescribeComplianceByConfigRule,
Security Hub's GetEnabledStandards and RDS's cross-region automated backup replication.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from agent.errors import CollectorError
from collectors.aws import (
    accessanalyzer,
    aws_config,
    ecr,
    iam,
    lambda_fns,
    organizations,
    rds,
    securityhub,
    ssm,
)
from collectors.aws.session import AwsRegion
from tests.aws_collect import collected, seeder, single_account

ACCOUNT = "123456789012"
REGION = "eu-west-1"
BASELINE = "pb-0123456789abcdef0"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}
STAR_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _region() -> AwsRegion:
    return AwsRegion(single_account(), REGION)


def test_ecr_repositories_and_registry_scanning(aws: str) -> None:
    target = _region()
    client = seeder(target, "ecr")
    scanned = client.create_repository(
        repositoryName="team/app",
        imageTagMutability="IMMUTABLE",
        imageScanningConfiguration={"scanOnPush": True},
    )["repository"]
    plain = client.create_repository(repositoryName="plain")["repository"]
    client.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[
            {
                "scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": "team/*", "filterType": "WILDCARD"}],
            }
        ],
    )
    repos = collected(ecr.repositories, target)
    assert repos[scanned["repositoryArn"]] == {
        "repositoryName": "team/app",
        "imageTagMutability": "IMMUTABLE",
        "imageTagMutabilityExclusionFilters": [],
        "scanOnPush": True,
    }
    assert (
        repos[plain["repositoryArn"]]["imageTagMutability"],
        repos[plain["repositoryArn"]]["scanOnPush"],
    ) == (
        "MUTABLE",
        False,
    )
    assert collected(ecr.registry_scanning, target) == {
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:registry-scanning-configuration": {
            "scanType": "ENHANCED",
            "rules": [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": ["team/*"]}],
        }
    }


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def test_lambda_functions_with_their_runtime(aws: str) -> None:
    target = _region()
    role = boto3.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"][
        "Arn"
    ]
    fn = seeder(target, "lambda").create_function(
        FunctionName="old",
        Runtime="python3.9",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
    )
    [(arn, data)] = collected(lambda_fns.functions, target).items()
    assert arn == fn["FunctionArn"]
    assert {k: data[k] for k in ("FunctionName", "Runtime", "PackageType")} == {
        "FunctionName": "old",
        "Runtime": "python3.9",
        "PackageType": "Zip",
    }


def _node(iid: str, kind: str) -> dict[str, Any]:
    return {"InstanceId": iid, "PingStatus": "Online", "PlatformType": "Linux", "ResourceType": kind}


def _patch_state(iid: str, missing: int) -> dict[str, Any]:
    when = datetime(2026, 10, 30, tzinfo=UTC)
    return {"InstanceId": iid, "PatchGroup": "web", "BaselineId": BASELINE, "OperationStartTime": when,
            "OperationEndTime": when, "Operation": "Scan", "MissingCount": missing, "FailedCount": 0}  # fmt: skip


def test_ssm_nodes_with_patch_states_in_batches_of_fifty(aws: str) -> None:
    target = _region()
    nodes = [_node(f"i-{n:03d}", "EC2Instance") for n in range(51)] + [_node("mi-0abc", "ManagedInstance")]
    ids = [n["InstanceId"] for n in nodes]
    with Stubber(target.client("ssm")) as stub:
        stub.add_response(
            "describe_instance_information", {"InstanceInformationList": nodes[:30], "NextToken": "t"}
        )
        stub.add_response(
            "describe_instance_information", {"InstanceInformationList": nodes[30:]}, {"NextToken": "t"}
        )
        stub.add_response(
            "describe_instance_patch_states",
            {"InstancePatchStates": [_patch_state(i, 2) for i in ids[:50]]},
            {"InstanceIds": ids[:50]},
        )
        stub.add_response(
            "describe_instance_patch_states",
            {"InstancePatchStates": [_patch_state("i-050", 0)]},
            {"InstanceIds": ids[50:]},
        )
        records = collected(ssm.managed_instances, target)
        stub.assert_no_pending_responses()
    assert len(records) == 52
    assert records[f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-000"]["PatchState"]["MissingCount"] == 2
    assert records[f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-050"]["PatchState"] == {
        "BaselineId": BASELINE,
        "Operation": "Scan",
        "MissingCount": 0,
        "FailedCount": 0,
        "InstalledPendingRebootCount": None,
        "InstalledRejectedCount": None,
        "CriticalNonCompliantCount": None,
        "SecurityNonCompliantCount": None,
        "OperationEndTime": "2026-10-30T00:00:00+00:00",
    }
    assert records[f"arn:aws:ssm:{REGION}:{ACCOUNT}:managed-instance/mi-0abc"]["PatchState"] is None


def test_ssm_patch_states_denied_fails_the_listing(aws: str) -> None:
    target = _region()
    with Stubber(target.client("ssm")) as stub:
        stub.add_response(
            "describe_instance_information", {"InstanceInformationList": [_node("i-1", "EC2Instance")]}
        )
        stub.add_client_error("describe_instance_patch_states", "AccessDeniedException", http_status_code=400)
        with pytest.raises(CollectorError, match=r"^access denied: ssm:DescribeInstancePatchStates$"):
            list(ssm.managed_instances(target))


def test_access_analyzer_findings_only_of_active_external_analyzers(aws: str) -> None:
    target = _region()
    account = f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/acct"
    unused = f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/unused"
    listed = {"analyzers": [
        {"arn": account, "name": "acct", "type": "ACCOUNT", "status": "ACTIVE", "createdAt": datetime(2026, 1, 1)},
        {"arn": unused, "name": "unused", "type": "ACCOUNT_UNUSED_ACCESS", "status": "ACTIVE",
         "createdAt": datetime(2026, 1, 1)}]}  # fmt: skip
    finding = {"id": "f1", "resource": "arn:aws:s3:::shared", "resourceType": "AWS::S3::Bucket", "principal": {"AWS": "*"},
               "action": ["s3:GetObject"], "isPublic": True, "condition": {}, "createdAt": datetime(2026, 10, 1, tzinfo=UTC),
               "analyzedAt": datetime(2026, 10, 1), "updatedAt": datetime(2026, 10, 1), "status": "ACTIVE",
               "resourceOwnerAccount": ACCOUNT}  # fmt: skip
    with Stubber(target.client("accessanalyzer")) as stub:
        stub.add_response("list_analyzers", listed)
        stub.add_response("list_analyzers", listed)
        stub.add_response(
            "list_findings",
            {"findings": [finding]},
            {"analyzerArn": account, "filter": {"status": {"eq": ["ACTIVE"]}}},
        )
        analyzers = collected(accessanalyzer.analyzers, target)
        findings = collected(accessanalyzer.findings, target)
        stub.assert_no_pending_responses()
    assert analyzers == {
        f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzers": {
            "analyzers": [
                {"arn": account, "name": "acct", "type": "ACCOUNT", "status": "ACTIVE"},
                {"arn": unused, "name": "unused", "type": "ACCOUNT_UNUSED_ACCESS", "status": "ACTIVE"},
            ]
        }
    }
    assert findings == {
        f"{account}/finding/f1": {
            "analyzerArn": account, "id": "f1", "resource": "arn:aws:s3:::shared", "resourceType": "AWS::S3::Bucket",
            "resourceOwnerAccount": ACCOUNT, "principal": {"AWS": "*"}, "action": ["s3:GetObject"], "isPublic": True,
            "condition": {}, "createdAt": "2026-10-01T00:00:00+00:00",
        }
    }  # fmt: skip


def test_config_rules_ask_compliance_only_where_rules_exist(aws: str) -> None:
    target = _region()
    assert collected(aws_config.rules, target) == {}  # moto lacks the compliance call: it was not made
    rule_arn = f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/config-rule-abc"
    rule = {"ConfigRuleName": "s3-versioning", "ConfigRuleArn": rule_arn, "ConfigRuleState": "ACTIVE",
            "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"}}  # fmt: skip
    compliance = {"ConfigRuleName": "s3-versioning", "Compliance": {
        "ComplianceType": "NON_COMPLIANT", "ComplianceContributorCount": {"CappedCount": 100, "CapExceeded": True}}}  # fmt: skip
    with Stubber(target.client("config")) as stub:
        stub.add_response("describe_config_rules", {"ConfigRules": [rule]})
        stub.add_response("describe_compliance_by_config_rule", {"ComplianceByConfigRules": [compliance]})
        records = collected(aws_config.rules, target)
        stub.assert_no_pending_responses()
    assert records == {
        rule_arn: {
            "ConfigRuleName": "s3-versioning",
            "ConfigRuleState": "ACTIVE",
            "Owner": "AWS",
            "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED",
            "ComplianceType": "NON_COMPLIANT",
            "NonCompliantCount": 100,
            "CapExceeded": True,
        }
    }


def test_security_hub_standards_off_then_enabled(aws: str) -> None:
    target = _region()
    resource = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:standards"
    assert collected(securityhub.standards, target) == {
        resource: {"HubEnabled": False, "StandardsSubscriptions": []}
    }
    fsbp = f"arn:aws:securityhub:{REGION}::standards/aws-foundational-security-best-practices/v/1.0.0"
    subscription = {"StandardsSubscriptionArn": f"{fsbp}-sub", "StandardsArn": fsbp, "StandardsInput": {},
                    "StandardsStatus": "READY"}  # fmt: skip
    with Stubber(target.client("securityhub")) as stub:
        stub.add_response("describe_hub", {"HubArn": f"arn:aws:securityhub:{REGION}:{ACCOUNT}:hub/default"})
        stub.add_response("get_enabled_standards", {"StandardsSubscriptions": [subscription]})
        records = collected(securityhub.standards, target)
    assert records[resource] == {
        "HubEnabled": True,
        "StandardsSubscriptions": [{"StandardsArn": fsbp, "StandardsStatus": "READY"}],
    }


def test_rds_backup_replicas_are_read_in_their_region(aws: str) -> None:
    target = _region()
    db_arn = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:main"
    replica = f"arn:aws:rds:eu-central-1:{ACCOUNT}:auto-backup:ab-1"
    db = {"DBInstanceIdentifier": "main", "DBInstanceArn": db_arn, "DBInstanceStatus": "available", "Engine": "postgres",
          "BackupRetentionPeriod": 7, "DBInstanceAutomatedBackupsReplications": [{"DBInstanceAutomatedBackupsArn": replica}]}  # fmt: skip
    remote = target.account.client("rds", "eu-central-1")
    with Stubber(target.client("rds")) as here, Stubber(remote) as there:
        here.add_response("describe_db_instances", {"DBInstances": [db]})
        there.add_response(
            "describe_db_instance_automated_backups",
            {
                "DBInstanceAutomatedBackups": [
                    {
                        "DBInstanceAutomatedBackupsArn": replica,
                        "Status": "replicating",
                        "BackupRetentionPeriod": 14,
                        "Region": REGION,
                    }
                ]
            },
            {"DBInstanceAutomatedBackupsArn": replica},
        )
        records = collected(rds.instances, target)
        there.assert_no_pending_responses()
    assert records[db_arn]["BackupReplications"] == [
        {"DBInstanceAutomatedBackupsArn": replica, "Region": "eu-central-1", "Status": "replicating",
         "BackupRetentionPeriod": 14}
    ]  # fmt: skip


def test_rds_instance_without_replication_in_moto(aws: str) -> None:
    target = _region()
    seeder(target, "rds").create_db_instance(
        DBInstanceIdentifier="solo", DBInstanceClass="db.t3.micro", Engine="postgres", MasterUsername="app",
        MasterUserPassword="not-a-real-password-1", AllocatedStorage=20,
    )  # fmt: skip
    [data] = collected(rds.instances, target).values()
    assert data["BackupReplications"] == []


def test_roles_and_groups_with_trust_and_policies(aws: str) -> None:
    client = boto3.client("iam")
    pol = client.create_policy(PolicyName="star", PolicyDocument=json.dumps(STAR_DOC))["Policy"]["Arn"]
    client.create_role(
        RoleName="vendor", Path="/ext/", AssumeRolePolicyDocument=json.dumps(TRUST),
        Tags=[{"Key": "owner", "Value": "vendor-management"}, {"Key": "classification", "Value": "internal"}],
    )  # fmt: skip
    client.attach_role_policy(RoleName="vendor", PolicyArn=pol)
    client.put_role_policy(RoleName="vendor", PolicyName="inline", PolicyDocument=json.dumps(STAR_DOC))
    client.create_group(GroupName="ops")
    client.put_group_policy(GroupName="ops", PolicyName="all", PolicyDocument=json.dumps(STAR_DOC))
    client.attach_group_policy(GroupName="ops", PolicyArn=pol)
    account = single_account()
    assert collected(iam.roles, account)[f"arn:aws:iam::{ACCOUNT}:role/ext/vendor"] == {
        "RoleName": "vendor",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/ext/vendor",
        "Path": "/ext/",
        "AssumeRolePolicyDocument": TRUST,
        "AttachedManagedPolicies": [{"PolicyName": "star", "PolicyArn": pol}],
        "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": STAR_DOC}],
        "Tags": {"classification": "internal", "owner": "vendor-management"},
    }
    assert collected(iam.groups, account) == {
        f"arn:aws:iam::{ACCOUNT}:group/ops": {
            "GroupName": "ops",
            "Arn": f"arn:aws:iam::{ACCOUNT}:group/ops",
            "AttachedManagedPolicies": [{"PolicyName": "star", "PolicyArn": pol}],
            "GroupPolicyList": [{"PolicyName": "all", "PolicyDocument": STAR_DOC}],
        }
    }


def test_accounts_carry_their_organizational_units(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES")
    org = boto3.client("organizations", region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    prod = org.create_organizational_unit(ParentId=root, Name="Prod")["OrganizationalUnit"]["Id"]
    web = org.create_organizational_unit(ParentId=prod, Name="Web")["OrganizationalUnit"]["Id"]
    member = org.create_account(AccountName="web", Email="web@example.com")["CreateAccountStatus"][
        "AccountId"
    ]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=web)
    placed = {
        d["Id"]: d["OrganizationalUnits"]
        for d in collected(organizations.accounts, single_account()).values()
    }
    assert placed == {ACCOUNT: [], member: [{"Id": prod, "Name": "Prod"}, {"Id": web, "Name": "Web"}]}
