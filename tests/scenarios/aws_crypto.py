"""Scenarios for the AWS cryptography, secrets and data-protection checks, with records shaped exactly
as the acm, secretsmanager, sqs, sns, dynamodb, efs, ec2 and s3 collectors emit them (Redshift,
OpenSearch and RDS snapshots: aws_datastores.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agent.plugin.model import Record, Status
from tests.scenarios import ERROR, FAIL, NA, NOW, PASS, Scenario
from tests.scenarios.aws_exposure import ebs_snapshot
from tests.scenarios.aws_services import (
    ACCOUNT,
    ACCOUNT_SCOPE,
    ALL_ON,
    OTHER,
    REGION_SCOPE,
    account_pab,
    ago,
    arn,
    bucket,
    ids,
    regional,
    trail,
)


def cert(domain: str, days_left: int | None, in_use: bool = True, status: str = "ISSUED") -> Record:
    data = {
        "DomainName": domain,
        "Status": status,
        "Type": "AMAZON_ISSUED",
        "KeyAlgorithm": "RSA-2048",
        "RenewalEligibility": "ELIGIBLE",
        "InUse": in_use,
        "NotAfter": None if days_left is None else (NOW + timedelta(days=days_left)).isoformat(),
    }
    return Record(arn("acm", f"certificate/{domain}"), data)


def secret(name: str, rotation: bool = True, every: int | None = 30, rotated: int | None = 10,
           created: int | None = 400) -> Record:  # fmt: skip
    data = {
        "Name": name,
        "OwningService": None,
        "RotationEnabled": rotation,
        "AutomaticallyAfterDays": every,
        "LastRotatedDate": None if rotated is None else ago(rotated),
        "CreatedDate": None if created is None else ago(created),
    }
    return Record(arn("secretsmanager", f"secret:{name}"), data)


def queue(name: str, kms: str | None = None, sse_sqs: bool = False) -> Record:
    data = {"QueueName": name, "KmsMasterKeyId": kms, "SqsManagedSseEnabled": sse_sqs}
    return Record(arn("sqs", name), data)


def topic(name: str, kms: str | None = "alias/aws/sns") -> Record:
    return Record(arn("sns", name), {"TopicName": name, "KmsMasterKeyId": kms})


def table(
    name: str, sse: str | None = "KMS", status: str | None = "ENABLED", pitr: str = "ENABLED"
) -> Record:
    data = {
        "TableName": name,
        "SSEType": sse,
        "SSEStatus": status if sse else None,
        "KMSMasterKeyArn": arn("kms", "key/t") if sse else None,
        "PointInTimeRecoveryStatus": pitr,
    }
    return Record(arn("dynamodb", f"table/{name}"), data)


def file_system(fid: str, encrypted: bool = True, backup: str = "ENABLED") -> Record:
    data = {
        "FileSystemId": fid,
        "Name": None,
        "KmsKeyId": "k" if encrypted else None,
        "Encrypted": encrypted,
        "BackupPolicyStatus": backup,
    }
    return Record(arn("elasticfilesystem", f"file-system/{fid}"), data)


def tls_deny(name: str, resource: Any = None, **overrides: Any) -> dict[str, Any]:
    statement = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": resource or [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return statement | overrides


def protection(name: str, *statements: dict[str, Any], lock: bool = False, mfa: str = "Disabled") -> Record:
    data = {
        "Name": name,
        "SecureTransportStatements": list(statements),
        "ObjectLockEnabled": lock,
        "ObjectLockDefaultRetention": {"Mode": "COMPLIANCE", "Days": 365} if lock else None,
        "MFADelete": mfa,
    }
    return Record(f"arn:aws:s3:::{name}", data)


# --- scenarios -------------------------------------------------------------------------------------

SOON, LATER, EXPIRED, IDLE = (
    cert("soon.example", 10),
    cert("later.example", 200),
    cert("old.example", -3),
    cert("idle.example", 5, in_use=False),
)
UNDATED = cert("undated.example", None)
FRESH, STALE, OFF, SLOW = (
    secret("fresh"),
    secret("stale", rotated=120),
    secret("off", False),
    secret("slow", every=180),
)
NEW_NEVER, OLD_NEVER = secret("new", rotated=None, created=20), secret("old", rotated=None, created=200)
SSE_KMS, SSE_SQS, PLAIN_Q = queue("kms", "alias/q"), queue("sqs", sse_sqs=True), queue("plain")
OWNED, KMS_TABLE, DISABLING = table("owned", None), table("kms"), table("moving", status="UPDATING")
NO_PITR = table("nopitr", pitr="DISABLED")
FS_GOOD, FS_BAD = file_system("fs-good"), file_system("fs-bad", False, "DISABLED")
TLS_OK = protection("tls", tls_deny("tls"))
TLS_BUCKET_ONLY = protection("half", tls_deny("half", "arn:aws:s3:::half"))
TLS_NARROWED = protection(
    "narrow",
    tls_deny(
        "narrow",
        Condition={"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:SourceVpce": "v"}},
    ),
)
TLS_ALLOW = protection("allow", tls_deny("allow", Effect="Allow"))
TLS_ONE_PRINCIPAL = protection("role", tls_deny("role", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/x"}))
TLS_WILDCARD = protection("wild", tls_deny("wild", "*", Principal={"AWS": "*"}, Action=["*"],
                                          Condition={"BoolIfExists": {"AWS:SecureTransport": False}}))  # fmt: skip
NO_POLICY = protection("none")

TRAILS, BUCKETS, PROTECTION, PAB = (
    "aws.cloudtrail.trails",
    "aws.s3.buckets",
    "aws.s3.bucket_protection",
    "aws.s3.account_public_access_block",
)
LOCKED, MFA, OPEN_LOGS = bucket("locked"), bucket("mfa"), bucket("open", Versioning="Suspended",
                                                                   PolicyIsPublic=True, PublicAccessBlock=None)  # fmt: skip
T_LOCKED, T_MFA, T_OPEN = (trail("locked", S3BucketName="locked"), trail("mfa", S3BucketName="mfa"),
                           trail("open", S3BucketName="open"))  # fmt: skip
PUBLIC, T_PUBLIC = (
    bucket("pub", PolicyIsPublic=True, PublicAccessBlock=None),
    trail("pub", S3BucketName="pub"),
)
T_ELSEWHERE, T_UNNAMED = trail("central", S3BucketName="log-archive"), trail("unnamed")
T_ORG = trail("org", account=OTHER, IsOrganizationTrail=True, S3BucketName="org-logs")
LOG_BUCKETS = {
    BUCKETS: [LOCKED, MFA, OPEN_LOGS],
    PROTECTION: [protection("locked", lock=True), protection("mfa", mfa="Enabled"), protection("open")],
    PAB: [account_pab(None)],
}


def account_level(check_id: str, name: str, records: dict[str, list[Record]], expected: dict[str, Status],
                  **kw: Any) -> Scenario:  # fmt: skip
    return Scenario(check_id, name, records, expected, scope=ACCOUNT_SCOPE, **kw)


SNAP_SEALED = ebs_snapshot("snap-sealed")
SNAP_PLAIN = ebs_snapshot("snap-plain", encrypted=False)

SCENARIOS: list[Scenario] = [
    # ACM
    regional(
        "aws.acm.certificate_expiry",
        "soon, later, expired, idle, undated",
        {"aws.acm.certificates": [SOON, LATER, EXPIRED, IDLE, UNDATED]},
        ids((SOON, FAIL), (LATER, PASS), (EXPIRED, FAIL), (IDLE, NA), (UNDATED, FAIL)),
    ),
    regional(
        "aws.acm.certificate_expiry",
        "shorter notice",
        {"aws.acm.certificates": [SOON]},
        ids((SOON, PASS)),
        params={"days": 7},
    ),
    regional("aws.acm.certificate_expiry", "none", {"aws.acm.certificates": []}, {REGION_SCOPE: NA}),
    # Secrets Manager
    regional(
        "aws.secretsmanager.rotation",
        "fresh, stale, off, slow schedule, never rotated young and old",
        {"aws.secretsmanager.secrets": [FRESH, STALE, OFF, SLOW, NEW_NEVER, OLD_NEVER]},
        ids((FRESH, PASS), (STALE, FAIL), (OFF, FAIL), (SLOW, FAIL), (NEW_NEVER, PASS), (OLD_NEVER, FAIL)),
    ),
    regional(
        "aws.secretsmanager.rotation",
        "longer maximum",
        {"aws.secretsmanager.secrets": [STALE, SLOW]},
        ids((STALE, PASS), (SLOW, PASS)),
        params={"max_days": 180},
    ),
    regional(
        "aws.secretsmanager.rotation",
        "never rotated, creation unknown",
        {"aws.secretsmanager.secrets": [secret("blind", rotated=None, created=None)]},
        {arn("secretsmanager", "secret:blind"): FAIL},
    ),
    # Encryption at rest
    regional(
        "aws.sqs.queue_encryption",
        "kms, sse-sqs, none",
        {"aws.sqs.queues": [SSE_KMS, SSE_SQS, PLAIN_Q]},
        ids((SSE_KMS, PASS), (SSE_SQS, PASS), (PLAIN_Q, FAIL)),
    ),
    regional(
        "aws.sqs.queue_encryption",
        "kms required",
        {"aws.sqs.queues": [SSE_KMS, SSE_SQS]},
        ids((SSE_KMS, PASS), (SSE_SQS, FAIL)),
        params={"require_kms": True},
    ),
    regional(
        "aws.sns.topic_encryption",
        "key or none",
        {"aws.sns.topics": [topic("alerts"), topic("plain", None)]},
        ids((topic("alerts"), PASS), (topic("plain"), FAIL)),
    ),
    regional(
        "aws.dynamodb.table_encryption",
        "kms required by default",
        {"aws.dynamodb.tables": [OWNED, KMS_TABLE, DISABLING]},
        ids((OWNED, FAIL), (KMS_TABLE, PASS), (DISABLING, FAIL)),
    ),
    regional(
        "aws.dynamodb.table_encryption",
        "aws owned accepted",
        {"aws.dynamodb.tables": [OWNED]},
        ids((OWNED, PASS)),
        params={"require_kms": False},
    ),
    regional(
        "aws.efs.encryption",
        "encrypted or not",
        {"aws.efs.file_systems": [FS_GOOD, FS_BAD]},
        ids((FS_GOOD, PASS), (FS_BAD, FAIL)),
    ),
    regional(
        "aws.ec2.snapshot_encrypted",
        "encrypted or not",
        {"aws.ec2.snapshots": [SNAP_SEALED, SNAP_PLAIN]},
        ids((SNAP_SEALED, PASS), (SNAP_PLAIN, FAIL)),
    ),
    # Recovery
    regional(
        "aws.dynamodb.point_in_time_recovery",
        "on or off",
        {"aws.dynamodb.tables": [KMS_TABLE, NO_PITR]},
        ids((KMS_TABLE, PASS), (NO_PITR, FAIL)),
    ),
    regional(
        "aws.efs.backup_policy",
        "on or off",
        {"aws.efs.file_systems": [FS_GOOD, file_system("fs-new", backup="ENABLING"), FS_BAD]},
        {FS_GOOD.resource_id: PASS, file_system("fs-new").resource_id: PASS, FS_BAD.resource_id: FAIL},
    ),
    # S3 TLS only
    account_level(
        "aws.s3.bucket_tls_only",
        "full deny, wildcard deny; half, narrowed, allow, one principal, no policy",
        {
            PROTECTION: [
                TLS_OK,
                TLS_WILDCARD,
                TLS_BUCKET_ONLY,
                TLS_NARROWED,
                TLS_ALLOW,
                TLS_ONE_PRINCIPAL,
                NO_POLICY,
            ]
        },
        ids(
            (TLS_OK, PASS),
            (TLS_WILDCARD, PASS),
            (TLS_BUCKET_ONLY, FAIL),
            (TLS_NARROWED, FAIL),
            (TLS_ALLOW, FAIL),
            (TLS_ONE_PRINCIPAL, FAIL),
            (NO_POLICY, FAIL),
        ),
    ),
    account_level(
        "aws.s3.bucket_tls_only",
        "split statements cover both",
        {
            PROTECTION: [
                protection(
                    "split",
                    tls_deny("split", "arn:aws:s3:::split"),
                    tls_deny("split", "arn:aws:s3:::split/*"),
                )
            ]
        },
        {"arn:aws:s3:::split": PASS},
    ),
    account_level("aws.s3.bucket_tls_only", "no buckets", {PROTECTION: []}, {ACCOUNT_SCOPE: NA}),
    # CloudTrail log bucket
    account_level(
        "aws.cloudtrail.log_bucket_protected",
        "locked, mfa delete, open; elsewhere, unnamed, org trail",
        {TRAILS: [T_LOCKED, T_MFA, T_OPEN, T_ELSEWHERE, T_UNNAMED, T_ORG], **LOG_BUCKETS},
        ids(
            (T_LOCKED, PASS),
            (T_MFA, PASS),
            (T_OPEN, FAIL),
            (T_ELSEWHERE, ERROR),
            (T_UNNAMED, ERROR),
            (T_ORG, NA),
        ),
    ),
    *[
        account_level(
            "aws.cloudtrail.log_bucket_protected",
            f"locked but public, account block {pab}",
            {
                TRAILS: [T_PUBLIC],
                BUCKETS: [PUBLIC],
                PROTECTION: [protection("pub", lock=True)],
                PAB: [account_pab(pab)],
            },
            ids((T_PUBLIC, verdict)),
        )
        for pab, verdict in ((None, FAIL), (ALL_ON, PASS))
    ],
    account_level(
        "aws.cloudtrail.log_bucket_protected",
        "no trails",
        {TRAILS: [], **LOG_BUCKETS},
        {ACCOUNT_SCOPE: NA},
    ),
]
