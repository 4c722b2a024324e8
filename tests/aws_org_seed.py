"""A small AWS Organization seeded into moto, with the verdict every AWS check must reach on it.

Three accounts (the management account and two members created through Organizations) in two
regions. Region 0 of each account is set up well, region 1 badly, and every resource type has a
good and a bad instance, so each check meets both verdicts; `expected` is derived from the same
table, never from what the collectors return.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from agent.plugin.loader import load_plugins
from agent.plugin.model import Status

PASS, FAIL, NA, ERROR = Status.PASS, Status.FAIL, Status.NOT_APPLICABLE, Status.ERROR
REGIONS = ("eu-west-1", "us-east-1")
ROLE = "annexa-audit"
EXTERNAL_ID = "annexa-ext-0001"
WORLD = "0.0.0.0/0"
DENY_LEAVE = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}  # fmt: skip

Key = tuple[str, str]  # (check id, scope)


@dataclass
class SeededOrg:
    management: str
    accounts: list[str]
    expected: dict[Key, dict[str, Status]] = field(default_factory=lambda: defaultdict(dict))

    def put(self, check_id: str, scope: str, resource: str, status: Status) -> None:
        self.expected[(check_id, scope)][resource] = status

    def failing(self) -> dict[Key, set[str]]:
        """The draft NCs the expected results open: (check, scope) -> failing resources."""
        out = {k: {r for r, s in v.items() if s == FAIL} for k, v in self.expected.items()}
        return {k: v for k, v in out.items() if v}


def _clients(session: boto3.Session, creds: dict[str, str] | None) -> Any:
    """A client factory for one account (one shared session: models load once); s3control must not
    prefix the account id to a local host."""

    def client(service: str, region: str = REGIONS[0]) -> Any:
        made = session.client(service, region_name=region, **(creds or {}))
        made.meta.events.register("before-send.s3-control", _local_host)
        return made

    return client


def _local_host(request: Any, **_: Any) -> None:
    request.url = re.sub(r"//\d{12}\.", "//", request.url)


def _member_creds(account: str) -> dict[str, str]:
    c = boto3.client("sts", region_name=REGIONS[0]).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed", ExternalId=EXTERNAL_ID
    )["Credentials"]
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}  # fmt: skip


def _organization(org_client: Any) -> list[str]:
    org_client.create_organization(FeatureSet="ALL")
    members = [
        org_client.create_account(AccountName=f"member-{n}", Email=f"member-{n}@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
        for n in (1, 2)
    ]
    root = org_client.list_roots()["Roots"][0]["Id"]
    org_client.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    policy = org_client.create_policy(
        Name="deny-leave",
        Description="guardrail",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(DENY_LEAVE),
    )["Policy"]["PolicySummary"]["Id"]
    org_client.attach_policy(PolicyId=policy, TargetId=root)
    return members


def _s3(org: SeededOrg, acct: str, client: Any, n: int) -> None:
    scope = f"aws:{acct}"
    s3 = client("s3")
    good, logs, bad = f"good-{acct}", f"logs-{acct}", f"bad-{acct}"
    for name in (good, logs):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGIONS[0]})
    client("s3", "us-east-1").create_bucket(Bucket=bad)  # us-east-1: the legacy empty location constraint
    block = {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    for name in (good, logs):
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
    s3.put_bucket_acl(Bucket=logs, ACL="log-delivery-write")
    s3.put_bucket_encryption(
        Bucket=good,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    s3.put_bucket_encryption(
        Bucket=logs,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_versioning(Bucket=good, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_logging(
        Bucket=good, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": logs, "TargetPrefix": "s3/"}}
    )
    s3.put_bucket_acl(Bucket=bad, ACL="public-read")
    managed = n == 0
    if managed:
        client("s3control").put_public_access_block(AccountId=acct, PublicAccessBlockConfiguration=block)
    arn = {b: f"arn:aws:s3:::{b}" for b in (good, logs, bad)}
    org.put("aws.s3.account_public_access_block", scope, f"arn:aws:s3::{acct}:account-public-access-block",
            PASS if managed else FAIL)  # fmt: skip
    for b in (good, logs, bad):
        org.put("aws.s3.bucket_public_access_block", scope, arn[b], PASS if managed or b != bad else FAIL)
        org.put("aws.s3.bucket_not_public", scope, arn[b], PASS if managed or b != bad else FAIL)
        org.put("aws.s3.bucket_default_encryption", scope, arn[b], FAIL if b == bad else PASS)
        org.put("aws.s3.bucket_versioning", scope, arn[b], PASS if b == good else FAIL)
        org.put("aws.s3.bucket_access_logging", scope, arn[b], {good: PASS, logs: NA, bad: FAIL}[b])


def _account_level(org: SeededOrg, acct: str, client: Any, n: int) -> None:
    scope = f"aws:{acct}"
    kms = client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=key)
    org.put("aws.kms.key_rotation", f"{scope}:{REGIONS[0]}", key, PASS)
    trail = client("cloudtrail")
    if n == 0:
        trail.create_trail(Name="org-trail", S3BucketName=f"logs-{acct}", IsMultiRegionTrail=True,
                           EnableLogFileValidation=True, KmsKeyId=key)  # fmt: skip
        trail.start_logging(Name="org-trail")
        client("account").put_alternate_contact(
            AlternateContactType="SECURITY", EmailAddress="security@example.com", Name="SecOps",
            PhoneNumber="+10000000000", Title="Security",
        )  # fmt: skip
    elif n == 1:
        trail.create_trail(Name="local-trail", S3BucketName=f"logs-{acct}")
        trail.start_logging(Name="local-trail")
    trail_arn = f"arn:aws:cloudtrail:{REGIONS[0]}:{acct}:trail/"
    org.put("aws.cloudtrail.multi_region_trail", scope, scope, PASS if n == 0 else FAIL)
    if n == 0:
        org.put("aws.cloudtrail.log_file_validation", scope, trail_arn + "org-trail", PASS)
        org.put("aws.cloudtrail.kms_encryption", scope, trail_arn + "org-trail", PASS)
    elif n == 1:
        org.put("aws.cloudtrail.log_file_validation", scope, trail_arn + "local-trail", FAIL)
        org.put("aws.cloudtrail.kms_encryption", scope, trail_arn + "local-trail", FAIL)
    org.put("aws.account.security_contact", scope, f"arn:aws:account::{acct}:alternate-contact/security",
            PASS if n == 0 else FAIL)  # fmt: skip
    # Fresh accounts: root without MFA or keys, no password policy; one IAM user without credentials.
    client("iam").create_user(UserName="auditor")
    user = f"arn:aws:iam::{acct}:user/auditor"
    for check_id in (
        "aws.iam.console_user_without_mfa",
        "aws.iam.access_key_rotation",
        "aws.iam.unused_credentials",
    ):
        org.put(check_id, scope, user, NA)
    for check_id in (
        "aws.iam.user_admin_policy",
        "aws.iam.user_inline_policies",
        "aws.iam.user_direct_policies",
    ):
        org.put(check_id, scope, user, PASS)
    org.put("aws.iam.root_mfa", scope, f"arn:aws:iam::{acct}:root", FAIL)
    org.put("aws.iam.root_access_keys", scope, f"arn:aws:iam::{acct}:root", PASS)
    org.put("aws.iam.password_policy", scope, f"arn:aws:iam::{acct}:password-policy", FAIL)


def _network(org: SeededOrg, acct: str, region: str, client: Any, good: bool, key: str) -> None:
    scope = f"aws:{acct}:{region}"
    ec2 = client("ec2", region)
    arn = f"arn:aws:ec2:{region}:{acct}:"
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    default = next(g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] == "default")
    if good:
        ec2.revoke_security_group_egress(
            GroupId=default["GroupId"], IpPermissions=default["IpPermissionsEgress"]
        )
        ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL",
                             LogDestinationType="s3", LogDestination=f"arn:aws:s3:::good-{acct}")  # fmt: skip
    groups = {"default": (PASS, PASS)}
    rules = {"web": ("tcp", 443, WORLD, PASS, PASS), "ssh": ("tcp", 22, WORLD, FAIL, PASS),
             "wide": ("-1", None, "::/0", FAIL, FAIL)}  # fmt: skip
    ids = {"default": default["GroupId"]}
    for name, (proto, port, cidr, admin, everything) in rules.items():
        gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        perm: dict[str, Any] = {"IpProtocol": proto}
        if port is not None:
            perm |= {"FromPort": port, "ToPort": port}
        perm |= {"Ipv6Ranges": [{"CidrIpv6": cidr}]} if ":" in cidr else {"IpRanges": [{"CidrIp": cidr}]}
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[perm])
        ids[name], groups[name] = gid, (admin, everything)
    for name, gid in ids.items():
        admin, everything = groups[name]
        org.put("aws.ec2.security_group_admin_ports", scope, f"{arn}security-group/{gid}", admin)
        org.put("aws.ec2.security_group_all_traffic", scope, f"{arn}security-group/{gid}", everything)
    org.put("aws.ec2.default_security_group_closed", scope, f"{arn}security-group/{ids['default']}",
            PASS if good else FAIL)  # fmt: skip
    org.put("aws.ec2.vpc_flow_logs", scope, f"{arn}vpc/{vpc}", PASS if good else FAIL)
    volumes = []
    for tokens in ("required", "optional"):
        inst = ec2.run_instances(
            ImageId="ami-12345678", MinCount=1, MaxCount=1, MetadataOptions={"HttpTokens": tokens}
        )
        inst = inst["Instances"][0]
        org.put("aws.ec2.instance_imdsv2", scope, f"{arn}instance/{inst['InstanceId']}",
                PASS if tokens == "required" else FAIL)  # fmt: skip
        volumes += [(m["Ebs"]["VolumeId"], False) for m in inst.get("BlockDeviceMappings", [])]
    for encrypted in (True, False):
        extra = {"KmsKeyId": key} if encrypted else {}
        vol = ec2.create_volume(AvailabilityZone=f"{region}a", Size=8, Encrypted=encrypted, **extra)
        volumes.append((vol["VolumeId"], encrypted))
    for vid, encrypted in volumes:
        org.put("aws.ec2.volume_encryption", scope, f"{arn}volume/{vid}", PASS if encrypted else FAIL)
    if good:
        ec2.enable_ebs_encryption_by_default()
    org.put(
        "aws.ec2.ebs_default_encryption", scope, f"{arn}ebs-encryption-by-default", PASS if good else FAIL
    )
    return [vid for vid, _ in volumes]


def _data(org: SeededOrg, acct: str, region: str, client: Any, good: bool) -> str:
    """KMS keys, RDS instances and AWS Backup; returns the rotating key, for encrypted volumes."""
    scope = f"aws:{acct}:{region}"
    kms = client("kms", region)
    rotating = kms.create_key()["KeyMetadata"]
    kms.enable_key_rotation(KeyId=rotating["KeyId"])
    static = kms.create_key()["KeyMetadata"]
    org.put("aws.kms.key_rotation", scope, rotating["Arn"], PASS)
    org.put("aws.kms.key_rotation", scope, static["Arn"], FAIL)
    rds = client("rds", region)
    common = {"DBInstanceClass": "db.t3.micro", "Engine": "postgres", "MasterUsername": "app",
              "MasterUserPassword": "not-a-real-password-1", "AllocatedStorage": 20}  # fmt: skip
    rds.create_db_instance(DBInstanceIdentifier="db-good", StorageEncrypted=True, KmsKeyId=rotating["Arn"],
                           PubliclyAccessible=False, BackupRetentionPeriod=14, DeletionProtection=True,
                           MultiAZ=True, **common)  # fmt: skip
    rds.create_db_instance(
        DBInstanceIdentifier="db-bad", PubliclyAccessible=True, BackupRetentionPeriod=1, **common
    )
    for name, status in (("db-good", PASS), ("db-bad", FAIL)):
        for check_id in ("aws.rds.storage_encrypted", "aws.rds.not_publicly_accessible", "aws.rds.backup_retention",
                         "aws.rds.deletion_protection", "aws.rds.multi_az"):  # fmt: skip
            org.put(check_id, scope, f"arn:aws:rds:{region}:{acct}:db:{name}", status)
    backup = client("backup", region)
    backup.create_backup_plan(BackupPlan={"BackupPlanName": "daily", "Rules": [
        {"RuleName": "daily", "TargetBackupVaultName": "Default", "Lifecycle": {"DeleteAfterDays": 35 if good else 3}}]})  # fmt: skip
    org.put(
        "aws.backup.plan_coverage",
        scope,
        f"arn:aws:backup:{region}:{acct}:backup-plans",
        PASS if good else FAIL,
    )
    if good:
        for name in ("locked", "open"):
            backup.create_backup_vault(BackupVaultName=name)
        backup.put_backup_vault_lock_configuration(BackupVaultName="locked", MinRetentionDays=7)
        org.put("aws.backup.vault_lock", scope, f"arn:aws:backup:{region}:{acct}:backup-vault:locked", PASS)
        org.put("aws.backup.vault_lock", scope, f"arn:aws:backup:{region}:{acct}:backup-vault:open", FAIL)
    return str(rotating["Arn"])


def _detection(org: SeededOrg, acct: str, region: str, client: Any, good: bool) -> None:
    scope = f"aws:{acct}:{region}"
    setting = lambda svc, res: f"arn:aws:{svc}:{region}:{acct}:{res}"  # noqa: E731
    if good:
        config = client("config", region)
        config.put_configuration_recorder(ConfigurationRecorder={
            "name": "default", "roleARN": f"arn:aws:iam::{acct}:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})  # fmt: skip
        config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": f"logs-{acct}"})
        config.start_configuration_recorder(ConfigurationRecorderName="default")
        client("guardduty", region).create_detector(Enable=True)
        client("inspector2", region).enable(accountIds=[acct], resourceTypes=["EC2", "ECR"])
        hub = client("securityhub", region)
        hub.enable_security_hub()
        now = datetime.now(UTC)
        hub.batch_import_findings(Findings=[_cve(acct, region, name, label, now - timedelta(days=age))
                                            for name, label, age in (("old", "CRITICAL", 90), ("new", "HIGH", 3),
                                                                     ("low", "LOW", 400))])  # fmt: skip
        org.put("aws.securityhub.vulnerabilities_remediated", scope, f"{acct}-{region}-old", FAIL)
        org.put("aws.securityhub.vulnerabilities_remediated", scope, f"{acct}-{region}-new", PASS)
        # moto has no GuardDuty ListFindings: that source fails, so its check is `error`, never a pass.
        org.put("aws.guardduty.high_findings_triaged", scope, scope, ERROR)
    else:
        org.put(
            "aws.securityhub.vulnerabilities_remediated", scope, setting("securityhub", "hub/default"), ERROR
        )
        org.put("aws.guardduty.high_findings_triaged", scope, setting("guardduty", "detector"), NA)
    verdict = PASS if good else FAIL
    org.put("aws.config.recorder_active", scope, setting("config", "configuration-recorder"), verdict)
    org.put("aws.guardduty.enabled", scope, setting("guardduty", "detector"), verdict)
    org.put("aws.inspector.scanning_enabled", scope, setting("inspector2", "account-status"), verdict)
    org.put("aws.securityhub.enabled", scope, setting("securityhub", "hub/default"), verdict)


def _cve(acct: str, region: str, name: str, label: str, created: datetime) -> dict[str, Any]:
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "SchemaVersion": "2018-10-08", "Id": f"{acct}-{region}-{name}", "GeneratorId": "inspector",
        "ProductArn": f"arn:aws:securityhub:{region}::product/aws/inspector", "AwsAccountId": acct,
        "Types": ["Software and Configuration Checks/Vulnerabilities/CVE"], "CreatedAt": stamp, "UpdatedAt": stamp,
        "Severity": {"Label": label}, "Title": f"CVE-2026-{name}", "Description": "vulnerable package",
        "Resources": [{"Type": "AwsEc2Instance", "Id": f"i-{name}"}], "RecordState": "ACTIVE",
        "Workflow": {"Status": "NEW"},
    }  # fmt: skip


def seed_org() -> SeededOrg:
    from tests import aws_org_seed_crypto, aws_org_seed_exposure, aws_org_seed_logging, aws_org_seed_posture

    topics = (aws_org_seed_crypto, aws_org_seed_posture, aws_org_seed_exposure, aws_org_seed_logging)
    """Seed moto (reached through AWS_ENDPOINT_URL with the caller's fake credentials)."""
    management = boto3.client("sts", region_name=REGIONS[0]).get_caller_identity()["Account"]
    members = _organization(boto3.client("organizations", region_name=REGIONS[0]))
    org = SeededOrg(management, [management, *members])
    session = boto3.Session()
    for n, acct in enumerate(org.accounts):
        client = _clients(session, None if n == 0 else _member_creds(acct))
        _s3(org, acct, client, n)
        _account_level(org, acct, client, n)
        for r, region in enumerate(REGIONS):
            key = _data(org, acct, region, client, good=r == 0)
            _network(org, acct, region, client, good=r == 0, key=key)
            _detection(org, acct, region, client, good=r == 0)
            for topic in topics:  # the logging topic last: it judges every VPC the others create
                topic.seed(org, acct, region, client, good=r == 0)
    org.put("aws.organizations.scp_guardrails", f"aws:{management}", _org_arn(management), PASS)
    _empty_outcomes(org)
    return org


def _org_arn(management: str) -> str:
    org = boto3.client("organizations", region_name=REGIONS[0]).describe_organization()["Organization"]
    return org["Arn"]


def _empty_outcomes(org: SeededOrg) -> None:
    """Checks with nothing to judge in a scope say so with one not-applicable result for the scope."""
    registry = load_plugins(systems=["aws"])
    for spec in registry.checks.values():
        if not spec.id.startswith("aws."):
            continue
        kind = registry.collectors[spec.primary_source].scope_kind
        if kind == "aws_organization":
            scopes = [f"aws:{org.management}"]
        elif kind == "aws_account":
            scopes = [f"aws:{a}" for a in org.accounts]
        else:
            scopes = [f"aws:{a}:{r}" for a in org.accounts for r in REGIONS]
        for scope in scopes:
            org.expected.setdefault((spec.id, scope), {scope: NA})
