"""AWS checks on data at rest: S3 exposure and protection, EBS and KMS encryption, RDS databases."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._judging import flag, or_nothing_to_judge
from checks.aws._common import arn_region, judge_each

BUCKETS = "aws.s3.buckets"
ACCOUNT_PAB = "aws.s3.account_public_access_block"
EBS_DEFAULT = "aws.ec2.ebs_encryption_default"
VOLUMES = "aws.ec2.volumes"
KEYS = "aws.kms.keys"
DATABASES = "aws.rds.instances"
PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})

ENCRYPTION_AT_REST = "Encryption at rest is the use of cryptography that protects stored information."


# --- S3 -------------------------------------------------------------------------------------------


def _account_flags(ev: Evidence) -> tuple[dict[str, bool], list[Record]]:
    rec = ev.one(ACCOUNT_PAB)
    config: Mapping[str, Any] = (rec.data.get("configuration") if rec else None) or {}
    return {f: bool(config.get(f)) for f in PAB_FLAGS}, [rec] if rec else []


def _effective_flags(bucket: Record, account: Mapping[str, bool]) -> dict[str, bool]:
    """A flag blocks when set on the bucket or on the account: S3 applies the stricter of the two."""
    own = bucket.data.get("PublicAccessBlock") or {}
    return {f: bool(own.get(f)) or account[f] for f in PAB_FLAGS}


@check(
    "aws.s3.account_public_access_block",
    title="S3 Block Public Access is on for the whole account",
    controls={
        "A.8.3": "The account-wide block stops any bucket from granting public access to its information.",
        "A.8.12": "It is a preventive control against leaking stored data to the Internet by mistake.",
    },
    severity="major",
    needs=[ACCOUNT_PAB],
    rationale="Without the account-level block, one mistaken bucket policy or ACL publishes data to the world.",
    remediation="Turn on all four Block Public Access settings at account level (S3 > Block Public Access "
    "settings for this account); grant exceptions through CloudFront or access points instead.",
)
def account_public_access_block(ev: Evidence) -> Iterator[Result]:
    """All four account-level Block Public Access settings must be on."""

    def judge(rec: Record) -> Result:
        config = rec.data.get("configuration") or {}
        off = [f for f in PAB_FLAGS if not config.get(f)]
        if not rec.data.get("configuration"):
            return Result.of(rec, passed=False, reason="the account has no S3 Block Public Access setting")
        reason = (
            f"account-level Block Public Access lacks {', '.join(off)}"
            if off
            else ("all four account-level Block Public Access settings are on")
        )
        return Result.of(rec, passed=not off, reason=reason)

    yield from judge_each(ev, ACCOUNT_PAB, "S3 account public access block", judge)


@check(
    "aws.s3.bucket_public_access_block",
    title="Every S3 bucket is covered by Block Public Access",
    controls={
        "A.8.3": "Block Public Access keeps each bucket's information restricted to authorised principals.",
    },
    severity="minor",
    needs=[BUCKETS, ACCOUNT_PAB],
    rationale="A bucket without Block Public Access relies on every future policy and ACL edit being right.",
    remediation="Enable all four Block Public Access settings on the bucket, or once for the whole account.",
)
@or_nothing_to_judge("S3 buckets")
def bucket_public_access_block(ev: Evidence) -> Iterator[Result]:
    """Each bucket must have all four settings on, from its own configuration or the account's."""
    account, cited = _account_flags(ev)
    for bucket in ev.records(BUCKETS):
        off = [f for f, on in _effective_flags(bucket, account).items() if not on]
        name = bucket.data["Name"]
        reason = (
            f"{name}: Block Public Access lacks {', '.join(off)}"
            if off
            else (f"{name}: all four Block Public Access settings apply")
        )
        yield Result.of(bucket, *cited, passed=not off, reason=reason)


@check(
    "aws.s3.bucket_not_public",
    title="No S3 bucket is public through its policy or ACL",
    controls={
        "A.8.3": "A public bucket gives anyone on the Internet access to the information it holds.",
        "A.8.12": "Public buckets are the most common cause of cloud data leaks.",
    },
    severity="major",
    needs=[BUCKETS, ACCOUNT_PAB],
    rationale="Objects in a public bucket can be listed and downloaded by anyone who finds its name.",
    remediation="Remove the public statements from the bucket policy and the AllUsers/AuthenticatedUsers "
    "grants from its ACL, then enable Block Public Access.",
)
@or_nothing_to_judge("S3 buckets")
def bucket_not_public(ev: Evidence) -> Iterator[Result]:
    """A bucket fails if its policy is public, or its ACL grants to everyone, unless blocked."""
    account, cited = _account_flags(ev)
    for bucket in ev.records(BUCKETS):
        flags = _effective_flags(bucket, account)
        ways = []
        if bucket.data.get("PolicyIsPublic") and not flags["RestrictPublicBuckets"]:
            ways.append("its bucket policy is public")
        grants = bucket.data.get("PublicAclGrants") or []
        if grants and not flags["IgnorePublicAcls"]:
            ways.append(f"its ACL grants {', '.join(grants)}")
        name = bucket.data["Name"]
        reason = f"{name} is public: {'; '.join(ways)}" if ways else f"{name} is not public"
        yield Result.of(bucket, *cited, passed=not ways, reason=reason)


@check(
    "aws.s3.bucket_default_encryption",
    title="S3 buckets encrypt new objects by default",
    controls={"A.8.24": ENCRYPTION_AT_REST},
    severity="minor",
    needs=[BUCKETS],
    rationale="Default encryption guarantees every object is stored encrypted, whoever uploads it.",
    remediation="Set default encryption on the bucket (SSE-KMS with a customer managed key where required).",
    params={"require_kms": False},
)
@or_nothing_to_judge("S3 buckets")
def bucket_default_encryption(ev: Evidence) -> Iterator[Result]:
    """SSE-S3 passes unless `require_kms`; SSE-KMS passes; no default encryption fails."""
    require_kms = bool(ev.param("require_kms"))
    for bucket in ev.records(BUCKETS):
        name = bucket.data["Name"]
        algorithms = sorted(
            {r.get("SSEAlgorithm") or "?" for r in bucket.data.get("DefaultEncryption") or []}
        )
        if not algorithms:
            yield Result.of(bucket, passed=False, reason=f"{name} has no default encryption")
            continue
        ok = bool(KMS_ALGORITHMS.intersection(algorithms)) or (not require_kms and "AES256" in algorithms)
        wanted = " (SSE-KMS required)" if require_kms and not ok else ""
        yield Result.of(
            bucket, passed=ok, reason=f"{name} encrypts by default with {', '.join(algorithms)}{wanted}"
        )


@check(
    "aws.s3.bucket_versioning",
    title="S3 buckets keep previous object versions",
    controls={
        "A.8.13": "Versioning keeps recoverable copies of objects overwritten or deleted by mistake or attack.",
    },
    severity="ofi",
    needs=[BUCKETS],
    rationale="Without versioning an overwrite or delete is final, and ransomware can replace every object.",
    remediation="Enable versioning on the bucket and a lifecycle rule expiring old versions.",
)
@or_nothing_to_judge("S3 buckets")
def bucket_versioning(ev: Evidence) -> Iterator[Result]:
    """Versioning must be Enabled (Suspended keeps old versions but no new ones)."""
    for bucket in ev.records(BUCKETS):
        state = bucket.data.get("Versioning") or "Disabled"
        yield Result.of(
            bucket, passed=state == "Enabled", reason=f"{bucket.data['Name']}: versioning {state}"
        )


@check(
    "aws.s3.bucket_access_logging",
    title="S3 buckets log access requests",
    controls={
        "A.8.15": "Server access logs record who read or changed which objects, as event logs must.",
    },
    severity="minor",
    needs=[BUCKETS],
    rationale="Without access logs a data leak from a bucket cannot be scoped or attributed.",
    remediation="Enable server access logging to a dedicated log bucket (or CloudTrail S3 data events).",
)
@or_nothing_to_judge("S3 buckets")
def bucket_access_logging(ev: Evidence) -> Iterator[Result]:
    """Each bucket logs access, except buckets that receive other buckets' logs (they would loop)."""
    targets = {
        b.data["Logging"]["TargetBucket"]: b
        for b in ev.records(BUCKETS)
        if (b.data.get("Logging") or {}).get("TargetBucket")
    }
    for bucket in ev.records(BUCKETS):
        name = bucket.data["Name"]
        logging = bucket.data.get("Logging")
        if logging:
            yield Result.of(bucket, passed=True, reason=f"{name} logs access to {logging['TargetBucket']}")
        elif name in targets:
            yield Result.not_applicable(bucket, f"{name} is an access-log bucket for other buckets")
        else:
            yield Result.of(bucket, passed=False, reason=f"{name} does not log access requests")


# --- EBS, KMS -------------------------------------------------------------------------------------


@check(
    "aws.ec2.ebs_default_encryption",
    title="EBS encryption by default is on in every region",
    controls={"A.8.24": ENCRYPTION_AT_REST},
    severity="minor",
    needs=[EBS_DEFAULT],
    rationale="With the default on, no new volume or snapshot can be created unencrypted by mistake.",
    remediation="Enable EBS encryption by default in the region (EC2 > Settings > Data protection).",
)
def ebs_default_encryption(ev: Evidence) -> Iterator[Result]:
    """The region-level default must encrypt new volumes."""
    judge = flag(
        "EbsEncryptionByDefault",
        lambda rec, on: (
            f"EBS encryption by default is {'on' if on else 'off'} in {arn_region(rec.resource_id)}"
        ),
    )
    yield from judge_each(ev, EBS_DEFAULT, "EBS default encryption", judge)


@check(
    "aws.ec2.volume_encryption",
    title="EBS volumes are encrypted",
    controls={"A.8.24": ENCRYPTION_AT_REST},
    severity="minor",
    needs=[VOLUMES],
    rationale="Unencrypted volumes and their snapshots expose data to anyone who can copy or share them.",
    remediation="Snapshot the volume, copy the snapshot with encryption, restore it, and swap the volumes.",
)
@or_nothing_to_judge("EBS volumes")
def volume_encryption(ev: Evidence) -> Iterator[Result]:
    """Every volume must be encrypted."""
    judge = flag("Encrypted", lambda vol, on: f"{vol.data['VolumeId']} is {'' if on else 'not '}encrypted")
    yield from map(judge, ev.records(VOLUMES))


@check(
    "aws.kms.key_rotation",
    title="Customer managed KMS keys rotate automatically",
    controls={"A.8.24": "Key management, part of the use of cryptography, includes changing keys regularly."},
    severity="minor",
    needs=[KEYS],
    rationale="Rotation limits how much data one key protects and how long a compromised key stays useful.",
    remediation="Enable automatic key rotation on the key (yearly, or a shorter period where required).",
)
@or_nothing_to_judge("customer managed KMS keys")
def key_rotation(ev: Evidence) -> Iterator[Result]:
    """Enabled symmetric keys with AWS-generated material must rotate; other keys cannot and are N/A."""
    for key in ev.records(KEYS):
        rotation = key.data.get("RotationEnabled")
        key_id = key.data["KeyId"]
        if rotation is None:
            state = f"{key.data.get('KeySpec')}, {key.data.get('KeyState')}, origin {key.data.get('Origin')}"
            yield Result.not_applicable(key, f"{key_id} cannot rotate automatically ({state})")
        else:
            yield Result.of(
                key,
                passed=bool(rotation),
                reason=f"{key_id}: automatic rotation {'on' if rotation else 'off'}",
            )


# --- RDS ------------------------------------------------------------------------------------------


def _db_setting(ev: Evidence, key: str, said: tuple[str, str]) -> Iterator[Result]:
    """Judge each DB instance by one yes/no setting; `said` words it on and off, after the name."""
    judge = flag(key, lambda db, on: f"{db.data['DBInstanceIdentifier']}{said[0] if on else said[1]}")
    yield from map(judge, ev.records(DATABASES))


@check(
    "aws.rds.storage_encrypted",
    title="RDS database storage is encrypted",
    controls={"A.8.24": ENCRYPTION_AT_REST},
    severity="minor",
    needs=[DATABASES],
    rationale="Unencrypted database storage, snapshots and replicas expose their data if copied or shared.",
    remediation="Restore an encrypted copy from a snapshot (encryption cannot be switched on in place).",
)
@or_nothing_to_judge("RDS instances")
def rds_storage_encrypted(ev: Evidence) -> Iterator[Result]:
    """Every DB instance must encrypt its storage."""
    yield from _db_setting(ev, "StorageEncrypted", (": storage encrypted", ": storage not encrypted"))


@check(
    "aws.rds.backup_retention",
    title="RDS automated backups are kept long enough",
    controls={
        "A.8.13": "Automated backups are the database's backup copies; retention sets how far back "
        "it can be restored."
    },
    severity="minor",
    needs=[DATABASES],
    rationale="Short retention means corruption noticed late can no longer be undone.",
    remediation="Set the backup retention period to at least the required number of days.",
    params={"min_days": 7},
)
@or_nothing_to_judge("RDS instances")
def rds_backup_retention(ev: Evidence) -> Iterator[Result]:
    """Retention must be at least `min_days` (0 means automated backups are off)."""
    limit = int(ev.param("min_days"))
    for db in ev.records(DATABASES):
        name = db.data["DBInstanceIdentifier"]
        days = int(db.data.get("BackupRetentionPeriod") or 0)
        reason = (
            f"{name}: automated backups kept {days} days (minimum {limit})"
            if days
            else (f"{name}: automated backups are off")
        )
        yield Result.of(db, passed=days >= limit, reason=reason)


@check(
    "aws.rds.deletion_protection",
    title="RDS databases have deletion protection",
    controls={"A.8.13": "Deleting an instance also deletes its automated backups unless they are retained."},
    severity="minor",
    needs=[DATABASES],
    rationale="One mistaken or malicious call can delete a production database and its automated backups.",
    remediation="Enable deletion protection on the DB instance.",
)
@or_nothing_to_judge("RDS instances")
def rds_deletion_protection(ev: Evidence) -> Iterator[Result]:
    """Every DB instance must have deletion protection."""
    yield from _db_setting(
        ev, "DeletionProtection", (": deletion protection on", ": deletion protection off")
    )


@check(
    "aws.rds.multi_az",
    title="RDS databases run in more than one availability zone",
    controls={
        "A.8.14": "A standby in another zone is the redundancy that keeps the database available.",
        "A.5.29": "A standby in another zone keeps the database, and the controls around it, running through a zone outage.",
    },
    severity="ofi",
    needs=[DATABASES],
    rationale="A single-AZ database is down for the whole of a zone outage or a failed host.",
    remediation="Convert the instance to a Multi-AZ deployment (or document why it is not needed).",
)
@or_nothing_to_judge("RDS instances")
def rds_multi_az(ev: Evidence) -> Iterator[Result]:
    """Every DB instance should be Multi-AZ."""
    yield from _db_setting(ev, "MultiAZ", (": Multi-AZ", ": single availability zone"))
