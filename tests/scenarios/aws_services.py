"""Scenarios for the AWS service checks, with records shaped exactly as the collectors emit them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agent.plugin.model import Record, Status
from tests.scenarios import ERROR, FAIL, NA, NOW, PASS, Scenario

ACCOUNT = "123456789012"
OTHER = "210987654321"
REGION = "eu-west-1"
ACCOUNT_SCOPE = f"aws:{ACCOUNT}"
REGION_SCOPE = f"aws:{ACCOUNT}:{REGION}"
ALL_ON = {
    f: True for f in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
}


def ago(days: int) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def arn(service: str, resource: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


# --- record builders (defaults are the compliant shape) --------------------------------------------


def account_pab(config: dict[str, bool] | None = None) -> Record:
    return Record(arn("s3", "account-public-access-block", region=""), {"configuration": config})


def bucket(name: str, **data: Any) -> Record:
    base = {
        "Name": name,
        "Region": REGION,
        "CreationDate": ago(100),
        "PublicAccessBlock": dict(ALL_ON),
        "PolicyIsPublic": False,
        "PublicAclGrants": [],
        "DefaultEncryption": [{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k"}],
        "Versioning": "Enabled",
        "Logging": {"TargetBucket": "logs"},
    }
    return Record(f"arn:aws:s3:::{name}", base | data)


def trail(name: str, account: str = ACCOUNT, **data: Any) -> Record:
    base = {
        "Name": name,
        "HomeRegion": REGION,
        "IsMultiRegionTrail": True,
        "IsOrganizationTrail": False,
        "LogFileValidationEnabled": True,
        "KmsKeyId": arn("kms", "key/1"),
        "IsLogging": True,
        "LatestDeliveryTime": ago(0),
        "ManagementEvents": "All",
    }
    return Record(arn("cloudtrail", f"trail/{name}", account=account), base | data)


def rule(proto: str = "tcp", low: int | None = 443, high: int | None = 443, *cidrs: str) -> dict[str, Any]:
    return {
        "IpProtocol": proto,
        "FromPort": low,
        "ToPort": high,
        "Cidrs": [c for c in cidrs if ":" not in c],
        "Ipv6Cidrs": [c for c in cidrs if ":" in c],
        "Groups": [],
        "PrefixLists": [],
    }


def sg(group_id: str, *ingress: dict[str, Any], name: str = "web", egress: list[Any] | None = None) -> Record:
    data = {
        "GroupId": group_id,
        "GroupName": name,
        "VpcId": "vpc-1",
        "Ingress": list(ingress),
        "Egress": egress or [],
    }
    return Record(arn("ec2", f"security-group/{group_id}"), data)


def volume(vid: str, encrypted: bool = True) -> Record:
    data = {"VolumeId": vid, "Encrypted": encrypted, "KmsKeyId": None, "State": "in-use", "Attachments": []}
    return Record(arn("ec2", f"volume/{vid}"), data)


def ebs_default(on: bool) -> Record:
    return Record(arn("ec2", "ebs-encryption-by-default"), {"EbsEncryptionByDefault": on})


def vpc(vid: str, *flow_status: str) -> Record:
    logs = [{"FlowLogId": f"fl-{n}", "TrafficType": "ALL", "Status": s} for n, s in enumerate(flow_status)]
    return Record(arn("ec2", f"vpc/{vid}"), {"VpcId": vid, "IsDefault": False, "FlowLogs": logs})


def instance(iid: str, tokens: str = "required", state: str = "running", endpoint: str = "enabled") -> Record:
    data = {"InstanceId": iid, "State": state, "HttpTokens": tokens, "HttpEndpoint": endpoint}
    return Record(arn("ec2", f"instance/{iid}"), data)


def key(kid: str, rotation: bool | None = True, spec: str = "SYMMETRIC_DEFAULT") -> Record:
    data = {
        "KeyId": kid,
        "KeyState": "Enabled",
        "KeySpec": spec,
        "Origin": "AWS_KMS",
        "RotationEnabled": rotation,
    }
    return Record(arn("kms", f"key/{kid}"), data)


def db(name: str, **data: Any) -> Record:
    base = {
        "DBInstanceIdentifier": name,
        "Engine": "postgres",
        "Status": "available",
        "StorageEncrypted": True,
        "KmsKeyId": "k",
        "PubliclyAccessible": False,
        "BackupRetentionPeriod": 14,
        "DeletionProtection": True,
        "MultiAZ": True,
    }
    return Record(arn("rds", f"db:{name}"), base | data)


def plans(*retention: int | None) -> Record:
    listed = [
        {
            "BackupPlanName": f"plan-{n}",
            "BackupPlanArn": arn("backup", f"backup-plan:{n}"),
            "Rules": [
                {"RuleName": "daily", "ScheduleExpression": "cron(0 5 * * ? *)", "DeleteAfterDays": days}
            ],
        }
        for n, days in enumerate(retention)
    ]
    return Record(arn("backup", "backup-plans"), {"plans": listed})


def vault(name: str, locked: bool) -> Record:
    data = {"BackupVaultName": name, "EncryptionKeyArn": "k", "Locked": locked, "NumberOfRecoveryPoints": 3}
    return Record(arn("backup", f"backup-vault:{name}"), data)


def recorders(*recs: dict[str, Any]) -> Record:
    return Record(arn("config", "configuration-recorder"), {"recorders": list(recs)})


def recorder(recording: bool = True, all_supported: bool = True, status: str = "SUCCESS") -> dict[str, Any]:
    return {
        "name": "default",
        "allSupported": all_supported,
        "includeGlobalResourceTypes": True,
        "recording": recording,
        "lastStatus": status,
        "lastStatusChangeTime": ago(0),
    }


def detectors(*statuses: str) -> Record:
    listed = [{"DetectorId": f"d{n}", "Status": s, "Features": {}} for n, s in enumerate(statuses)]
    return Record(arn("guardduty", "detector"), {"detectors": listed})


def gd_finding(fid: str, days: int, severity: float = 8.0) -> Record:
    data = {
        "Id": fid,
        "Type": "UnauthorizedAccess:EC2/SSHBruteForce",
        "Title": "t",
        "Severity": severity,
        "ResourceType": "Instance",
        "CreatedAt": ago(days),
        "UpdatedAt": ago(0),
        "Archived": False,
    }
    return Record(arn("guardduty", f"detector/d0/finding/{fid}"), data)


def hub(enabled: bool) -> Record:
    return Record(
        arn("securityhub", "hub/default"), {"Enabled": enabled, "SubscribedAt": ago(30) if enabled else None}
    )


def sh_finding(fid: str, days: int, label: str = "CRITICAL", kind: str = "Vulnerabilities/CVE") -> Record:
    data = {
        "Id": fid,
        "Title": "CVE-2026-0001",
        "Types": [f"Software and Configuration Checks/{kind}"],
        "SeverityLabel": label,
        "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/inspector",
        "Resources": ["i-1"],
        "RecordState": "ACTIVE",
        "WorkflowStatus": "NEW",
        "CreatedAt": ago(days),
    }
    return Record(fid, data)


def inspector(**states: str) -> Record:
    status = "ENABLED" if any(v == "ENABLED" for v in states.values()) else "DISABLED"
    return Record(arn("inspector2", "account-status"), {"Status": status, "ResourceStatus": states})


def org(*, in_org: bool = True, scp_roots: tuple[str, ...] = ("r-1",)) -> Record:
    if not in_org:
        return Record(f"arn:aws:organizations::{ACCOUNT}:organization", {"InOrganization": False})
    data = {
        "InOrganization": True,
        "Id": "o-1",
        "FeatureSet": "ALL",
        "ManagementAccountId": ACCOUNT,
        "ScpEnabledRoots": list(scp_roots),
    }
    return Record(f"arn:aws:organizations::{ACCOUNT}:organization/o-1", data)


def scp(name: str, managed: bool = False, targets: tuple[str, ...] = ("r-1",)) -> Record:
    data = {
        "Id": f"p-{name}",
        "Name": name,
        "AwsManaged": managed,
        "Content": {"Version": "2012-10-17", "Statement": []},
        "Targets": [{"TargetId": t, "Type": "ROOT"} for t in targets],
    }
    return Record(f"arn:aws:organizations::{ACCOUNT}:policy/o-1/service_control_policy/p-{name}", data)


def contact(present: bool) -> Record:
    return Record(arn("account", "alternate-contact/security", region=""), {"Present": present})


# --- scenarios -------------------------------------------------------------------------------------

B = "aws.s3.buckets"
PAB = "aws.s3.account_public_access_block"


def s3(
    check_id: str, name: str, buckets: list[Record], expected: dict[str, Status], pab=None, **kw
) -> Scenario:
    return Scenario(
        check_id, name, {B: buckets, PAB: [account_pab(pab)]}, expected, scope=ACCOUNT_SCOPE, **kw
    )


def regional(
    check_id: str, name: str, records: dict[str, list[Record]], expected: dict[str, Status], **kw
) -> Scenario:
    return Scenario(check_id, name, records, expected, scope=REGION_SCOPE, **kw)


def ids(*pairs: tuple[Record, Status]) -> dict[str, Status]:
    return {r.resource_id: s for r, s in pairs}


GOOD, OPEN_POLICY, OPEN_ACL = (
    bucket("good"),
    bucket("leaky", PolicyIsPublic=True),
    bucket("acl", PublicAclGrants=["AllUsers:READ"], PublicAccessBlock=None),
)
NO_PAB = bucket("nopab", PublicAccessBlock=None)
SSE_S3, NO_SSE = (
    bucket("sse-s3", DefaultEncryption=[{"SSEAlgorithm": "AES256", "KMSMasterKeyID": None}]),
    bucket("plain", DefaultEncryption=[]),
)
LOGS, NOT_LOGGED = bucket("logs", Logging=None), bucket("quiet", Logging=None)
WORLD_SSH = sg("sg-ssh", rule("tcp", 22, 22, "0.0.0.0/0"))
WORLD_RDP6 = sg("sg-rdp", rule("tcp", 3000, 4000, "::/0"))
OFFICE_SSH = sg("sg-office", rule("tcp", 22, 22, "203.0.113.0/24"), rule("tcp", 443, 443, "0.0.0.0/0"))
WORLD_ALL = sg("sg-all", rule("-1", None, None, "0.0.0.0/0"))
WORLD_RANGE = sg("sg-range", rule("tcp", 0, 65535, "::/0"))
DEFAULT_OPEN = sg(
    "sg-default", rule("-1", None, None), name="default", egress=[rule("-1", None, None, "0.0.0.0/0")]
)
DEFAULT_CLOSED = sg("sg-default2", name="default")
ORG_TRAIL = trail("org-trail", account=OTHER, IsOrganizationTrail=True, LogFileValidationEnabled=False)
SINGLE = trail("local", IsMultiRegionTrail=False, LogFileValidationEnabled=False, KmsKeyId=None)
DB_BAD = db(
    "legacy",
    StorageEncrypted=False,
    PubliclyAccessible=True,
    BackupRetentionPeriod=1,
    DeletionProtection=False,
    MultiAZ=False,
)
DB_NO_BACKUP = db("nobackup", BackupRetentionPeriod=0)
ORG_OK, ORG_NO_SCP = org(), org(scp_roots=())
CUSTOM_SCP, FULL_ACCESS = scp("deny-leave"), scp("FullAWSAccess", managed=True)
GD_OLD, GD_NEW = gd_finding("old", 30), gd_finding("new", 2)
SH_OLD, SH_NEW, SH_MISCONFIG = (
    sh_finding("f-old", 60),
    sh_finding("f-new", 5),
    sh_finding("f-cfg", 90, kind="Industry and Regulatory Standards"),
)

SCENARIOS: list[Scenario] = [
    # S3
    Scenario(
        PAB,
        "all four on",
        {PAB: [account_pab(ALL_ON)]},
        {account_pab().resource_id: PASS},
        scope=ACCOUNT_SCOPE,
    ),
    Scenario(
        PAB, "absent", {PAB: [account_pab(None)]}, {account_pab().resource_id: FAIL}, scope=ACCOUNT_SCOPE
    ),
    Scenario(
        PAB,
        "partial",
        {PAB: [account_pab(ALL_ON | {"IgnorePublicAcls": False})]},
        {account_pab().resource_id: FAIL},
        scope=ACCOUNT_SCOPE,
    ),
    Scenario(PAB, "not collected", {PAB: []}, {ACCOUNT_SCOPE: ERROR}, scope=ACCOUNT_SCOPE),
    s3(
        "aws.s3.bucket_public_access_block",
        "bucket or account",
        [GOOD, NO_PAB],
        ids((GOOD, PASS), (NO_PAB, FAIL)),
    ),
    s3("aws.s3.bucket_public_access_block", "account covers all", [NO_PAB], ids((NO_PAB, PASS)), pab=ALL_ON),
    s3(
        "aws.s3.bucket_not_public",
        "policy and acl",
        [GOOD, OPEN_POLICY, OPEN_ACL],
        ids((GOOD, PASS), (OPEN_POLICY, PASS), (OPEN_ACL, FAIL)),
    ),
    s3(
        "aws.s3.bucket_not_public",
        "policy public without restriction",
        [bucket("open", PolicyIsPublic=True, PublicAccessBlock=None)],
        {"arn:aws:s3:::open": FAIL},
    ),
    s3(
        "aws.s3.bucket_not_public", "account block neutralises", [OPEN_ACL], ids((OPEN_ACL, PASS)), pab=ALL_ON
    ),
    s3(
        "aws.s3.bucket_default_encryption",
        "kms, sse-s3, none",
        [GOOD, SSE_S3, NO_SSE],
        ids((GOOD, PASS), (SSE_S3, PASS), (NO_SSE, FAIL)),
    ),
    s3(
        "aws.s3.bucket_default_encryption",
        "kms required",
        [GOOD, SSE_S3],
        ids((GOOD, PASS), (SSE_S3, FAIL)),
        params={"require_kms": True},
    ),
    s3(
        "aws.s3.bucket_versioning",
        "enabled or suspended",
        [GOOD, bucket("s", Versioning="Suspended")],
        {GOOD.resource_id: PASS, "arn:aws:s3:::s": FAIL},
    ),
    s3(
        "aws.s3.bucket_access_logging",
        "log bucket exempt",
        [GOOD, LOGS, NOT_LOGGED],
        ids((GOOD, PASS), (LOGS, NA), (NOT_LOGGED, FAIL)),
    ),
    # CloudTrail
    Scenario(
        "aws.cloudtrail.multi_region_trail",
        "org trail covers",
        {"aws.cloudtrail.trails": [ORG_TRAIL, SINGLE]},
        {ACCOUNT_SCOPE: PASS},
        scope=ACCOUNT_SCOPE,
    ),
    Scenario(
        "aws.cloudtrail.multi_region_trail",
        "single region only",
        {"aws.cloudtrail.trails": [SINGLE]},
        {ACCOUNT_SCOPE: FAIL},
        scope=ACCOUNT_SCOPE,
    ),
    Scenario(
        "aws.cloudtrail.multi_region_trail",
        "stopped or write-only",
        {"aws.cloudtrail.trails": [trail("a", IsLogging=False), trail("b", ManagementEvents="WriteOnly")]},
        {ACCOUNT_SCOPE: FAIL},
        scope=ACCOUNT_SCOPE,
    ),
    Scenario(
        "aws.cloudtrail.multi_region_trail",
        "no trail",
        {"aws.cloudtrail.trails": []},
        {ACCOUNT_SCOPE: FAIL},
        scope=ACCOUNT_SCOPE,
    ),
    Scenario(
        "aws.cloudtrail.log_file_validation",
        "own and org trails",
        {"aws.cloudtrail.trails": [trail("main"), SINGLE, ORG_TRAIL]},
        ids((trail("main"), PASS), (SINGLE, FAIL), (ORG_TRAIL, NA)),
        scope=ACCOUNT_SCOPE,
    ),
    Scenario(
        "aws.cloudtrail.kms_encryption",
        "with and without key",
        {"aws.cloudtrail.trails": [trail("main"), SINGLE]},
        ids((trail("main"), PASS), (SINGLE, FAIL)),
        scope=ACCOUNT_SCOPE,
    ),
    # EC2 / VPC
    regional(
        "aws.ec2.security_group_admin_ports",
        "world ssh, ipv6 rdp range, office ssh, all traffic",
        {"aws.ec2.security_groups": [WORLD_SSH, WORLD_RDP6, OFFICE_SSH, WORLD_ALL]},
        ids((WORLD_SSH, FAIL), (WORLD_RDP6, FAIL), (OFFICE_SSH, PASS), (WORLD_ALL, FAIL)),
    ),
    regional(
        "aws.ec2.security_group_admin_ports",
        "custom ports",
        {"aws.ec2.security_groups": [WORLD_SSH]},
        ids((WORLD_SSH, PASS)),
        params={"ports": [5432]},
    ),
    regional(
        "aws.ec2.security_group_all_traffic",
        "all protocols, full range, scoped",
        {"aws.ec2.security_groups": [WORLD_ALL, WORLD_RANGE, WORLD_SSH, DEFAULT_OPEN]},
        ids((WORLD_ALL, FAIL), (WORLD_RANGE, FAIL), (WORLD_SSH, PASS), (DEFAULT_OPEN, PASS)),
    ),
    regional(
        "aws.ec2.default_security_group_closed",
        "only default groups judged",
        {"aws.ec2.security_groups": [DEFAULT_OPEN, DEFAULT_CLOSED, WORLD_ALL]},
        ids((DEFAULT_OPEN, FAIL), (DEFAULT_CLOSED, PASS)),
    ),
    regional(
        "aws.ec2.ebs_default_encryption",
        "on",
        {"aws.ec2.ebs_encryption_default": [ebs_default(True)]},
        ids((ebs_default(True), PASS)),
    ),
    regional(
        "aws.ec2.ebs_default_encryption",
        "off",
        {"aws.ec2.ebs_encryption_default": [ebs_default(False)]},
        ids((ebs_default(False), FAIL)),
    ),
    regional(
        "aws.ec2.ebs_default_encryption",
        "not collected",
        {"aws.ec2.ebs_encryption_default": []},
        {REGION_SCOPE: ERROR},
    ),
    regional(
        "aws.ec2.volume_encryption",
        "mixed",
        {"aws.ec2.volumes": [volume("vol-1"), volume("vol-2", False)]},
        ids((volume("vol-1"), PASS), (volume("vol-2"), FAIL)),
    ),
    regional(
        "aws.ec2.vpc_flow_logs",
        "active, failed, none",
        {"aws.ec2.vpcs": [vpc("vpc-a", "ACTIVE"), vpc("vpc-b", "FAILED"), vpc("vpc-c")]},
        ids((vpc("vpc-a"), PASS), (vpc("vpc-b"), FAIL), (vpc("vpc-c"), FAIL)),
    ),
    regional(
        "aws.ec2.instance_imdsv2",
        "tokens",
        {
            "aws.ec2.instances": [
                instance("i-1"),
                instance("i-2", "optional"),
                instance("i-3", "optional", "terminated"),
                instance("i-4", "optional", endpoint="disabled"),
            ]
        },
        ids((instance("i-1"), PASS), (instance("i-2"), FAIL), (instance("i-3"), NA), (instance("i-4"), PASS)),
    ),
    # KMS
    regional(
        "aws.kms.key_rotation",
        "on, off, asymmetric",
        {"aws.kms.keys": [key("k1"), key("k2", False), key("k3", None, "RSA_2048")]},
        ids((key("k1"), PASS), (key("k2"), FAIL), (key("k3"), NA)),
    ),
    # RDS
    *[
        regional(
            check_id,
            "good and bad",
            {"aws.rds.instances": [db("prod"), DB_BAD]},
            ids((db("prod"), PASS), (DB_BAD, FAIL)),
        )
        for check_id in (
            "aws.rds.storage_encrypted",
            "aws.rds.not_publicly_accessible",
            "aws.rds.backup_retention",
            "aws.rds.deletion_protection",
            "aws.rds.multi_az",
        )
    ],
    regional(
        "aws.rds.backup_retention",
        "backups off, stricter minimum",
        {"aws.rds.instances": [db("prod"), DB_NO_BACKUP]},
        ids((db("prod"), FAIL), (DB_NO_BACKUP, FAIL)),
        params={"min_days": 30},
    ),
    # AWS Backup
    regional(
        "aws.backup.plan_coverage",
        "long enough or forever",
        {"aws.backup.plans": [plans(3, None)], "aws.ec2.volumes": [volume("v")], "aws.rds.instances": []},
        {plans().resource_id: PASS},
    ),
    regional(
        "aws.backup.plan_coverage",
        "too short",
        {"aws.backup.plans": [plans(3)], "aws.ec2.volumes": [], "aws.rds.instances": [db("x")]},
        {plans().resource_id: FAIL},
    ),
    regional(
        "aws.backup.plan_coverage",
        "nothing to back up",
        {"aws.backup.plans": [plans()], "aws.ec2.volumes": [], "aws.rds.instances": []},
        {plans().resource_id: NA},
    ),
    regional(
        "aws.backup.vault_lock",
        "locked and not",
        {"aws.backup.vaults": [vault("a", True), vault("b", False)]},
        ids((vault("a", True), PASS), (vault("b", False), FAIL)),
    ),
    # AWS Config
    regional(
        "aws.config.recorder_active",
        "recording all",
        {"aws.config.recorders": [recorders(recorder())]},
        {recorders().resource_id: PASS},
    ),
    regional(
        "aws.config.recorder_active",
        "pending counts",
        {"aws.config.recorders": [recorders(recorder(status="PENDING"))]},
        {recorders().resource_id: PASS},
    ),
    regional(
        "aws.config.recorder_active",
        "none",
        {"aws.config.recorders": [recorders()]},
        {recorders().resource_id: FAIL},
    ),
    regional(
        "aws.config.recorder_active",
        "stopped or partial",
        {"aws.config.recorders": [recorders(recorder(recording=False), recorder(all_supported=False))]},
        {recorders().resource_id: FAIL},
    ),
    # GuardDuty
    regional(
        "aws.guardduty.enabled",
        "enabled",
        {"aws.guardduty.detectors": [detectors("DISABLED", "ENABLED")]},
        {detectors().resource_id: PASS},
    ),
    regional(
        "aws.guardduty.enabled",
        "off",
        {"aws.guardduty.detectors": [detectors("DISABLED")]},
        {detectors().resource_id: FAIL},
    ),
    regional(
        "aws.guardduty.enabled",
        "never set up",
        {"aws.guardduty.detectors": [detectors()]},
        {detectors().resource_id: FAIL},
    ),
    regional(
        "aws.guardduty.high_findings_triaged",
        "old and new",
        {"aws.guardduty.detectors": [detectors("ENABLED")], "aws.guardduty.findings": [GD_OLD, GD_NEW]},
        ids((GD_OLD, FAIL), (GD_NEW, PASS)),
    ),
    regional(
        "aws.guardduty.high_findings_triaged",
        "none open",
        {"aws.guardduty.detectors": [detectors("ENABLED")], "aws.guardduty.findings": []},
        {detectors().resource_id: PASS},
    ),
    regional(
        "aws.guardduty.high_findings_triaged",
        "detector off",
        {"aws.guardduty.detectors": [detectors()], "aws.guardduty.findings": []},
        {detectors().resource_id: NA},
    ),
    # Security Hub, Inspector
    regional(
        "aws.securityhub.enabled", "on", {"aws.securityhub.hub": [hub(True)]}, {hub(True).resource_id: PASS}
    ),
    regional(
        "aws.securityhub.enabled",
        "off",
        {"aws.securityhub.hub": [hub(False)]},
        {hub(False).resource_id: FAIL},
    ),
    regional(
        "aws.securityhub.vulnerabilities_remediated",
        "old, new, not a vulnerability",
        {"aws.securityhub.hub": [hub(True)], "aws.securityhub.findings": [SH_OLD, SH_NEW, SH_MISCONFIG]},
        ids((SH_OLD, FAIL), (SH_NEW, PASS)),
    ),
    regional(
        "aws.securityhub.vulnerabilities_remediated",
        "none open",
        {"aws.securityhub.hub": [hub(True)], "aws.securityhub.findings": [sh_finding("low", 90, "LOW")]},
        {hub(True).resource_id: PASS},
    ),
    regional(
        "aws.securityhub.vulnerabilities_remediated",
        "hub off is never clean",
        {"aws.securityhub.hub": [hub(False)], "aws.securityhub.findings": []},
        {hub(False).resource_id: ERROR},
    ),
    regional(
        "aws.inspector.scanning_enabled",
        "ec2 and ecr",
        {"aws.inspector.status": [inspector(ec2="ENABLED", ecr="ENABLED", **{"lambda": "DISABLED"})]},
        {inspector().resource_id: PASS},
    ),
    regional(
        "aws.inspector.scanning_enabled",
        "ecr off",
        {"aws.inspector.status": [inspector(ec2="ENABLED", ecr="DISABLED")]},
        {inspector().resource_id: FAIL},
    ),
    # Governance
    Scenario(
        "aws.organizations.scp_guardrails",
        "custom scp attached",
        {"aws.organizations.policies": [ORG_OK, CUSTOM_SCP, FULL_ACCESS]},
        ids((ORG_OK, PASS)),
        scope=ACCOUNT_SCOPE,
    ),
    Scenario(
        "aws.organizations.scp_guardrails",
        "only FullAWSAccess",
        {"aws.organizations.policies": [ORG_OK, FULL_ACCESS, scp("unattached", targets=())]},
        ids((ORG_OK, FAIL)),
        scope=ACCOUNT_SCOPE,
    ),
    Scenario(
        "aws.organizations.scp_guardrails",
        "scps disabled",
        {"aws.organizations.policies": [ORG_NO_SCP, CUSTOM_SCP]},
        ids((ORG_NO_SCP, FAIL)),
        scope=ACCOUNT_SCOPE,
    ),
    Scenario(
        "aws.organizations.scp_guardrails",
        "no organization",
        {"aws.organizations.policies": [org(in_org=False)]},
        ids((org(in_org=False), FAIL)),
        scope=ACCOUNT_SCOPE,
    ),
    Scenario(
        "aws.account.security_contact",
        "set",
        {"aws.account.security_contact": [contact(True)]},
        ids((contact(True), PASS)),
        scope=ACCOUNT_SCOPE,
    ),
    Scenario(
        "aws.account.security_contact",
        "missing",
        {"aws.account.security_contact": [contact(False)]},
        ids((contact(False), FAIL)),
        scope=ACCOUNT_SCOPE,
    ),
]
