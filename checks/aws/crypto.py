"""AWS checks on cryptography and secrets: certificates, secret rotation, encryption at rest and in transit.

Data stores with more to judge than encryption (Redshift, OpenSearch, RDS snapshots) are in
checks/aws/datastores.py, which registers its encryption-at-rest checks through `register_at_rest`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._dates import days_between, parse_timestamp
from checks._judging import flag, or_nothing_to_judge
from checks.aws._common import arn_account, scope_account
from checks.aws.data import ACCOUNT_PAB, ENCRYPTION_AT_REST, _account_flags, _effective_flags

CERTIFICATES = "aws.acm.certificates"
SECRETS = "aws.secretsmanager.secrets"
QUEUES = "aws.sqs.queues"
TOPICS = "aws.sns.topics"
TABLES = "aws.dynamodb.tables"
FILE_SYSTEMS = "aws.efs.file_systems"
EBS_SNAPSHOTS = "aws.ec2.snapshots"
# The one condition of a Deny that refuses exactly the requests made without TLS (keys lower-cased).
TLS_ONLY_CONDITIONS = [[(op, "aws:securetransport", ["false"])] for op in ("Bool", "BoolIfExists")]
REFUSE_CLEAR_TEXT = "A network service should refuse clear-text connections rather than rely on clients."


def flagged(
    key: str, name: str, what: str = "encrypted at rest", good: bool = True
) -> Callable[[Record], Result]:
    """Judge a resource by one yes/no setting, naming it by its `name` field."""
    return flag(key, lambda rec, on: f"{rec.data[name]} is {'' if on else 'not '}{what}", good=good)


# --- Certificates and secrets ---------------------------------------------------------------------


@check(
    "aws.acm.certificate_expiry",
    title="ACM certificates in use are not about to expire",
    controls={
        "A.8.24": "Managing certificates through their lifecycle, renewal included, is part of key management.",
    },
    severity="minor",
    needs=[CERTIFICATES],
    rationale="An expired certificate breaks TLS for its users, who are then tempted to bypass the warning.",
    remediation="Renew or re-import the certificate (for ACM-issued ones, fix the DNS or e-mail validation "
    "that blocks automatic renewal) and deploy it before it expires.",
    params={"days": 30},
)
@or_nothing_to_judge("ACM certificates")
def certificate_expiry(ev: Evidence) -> Iterator[Result]:
    """A certificate in use must stay valid for more than `days`; unused ones are not applicable."""
    limit = int(ev.param("days"))
    for cert in ev.records(CERTIFICATES):
        name = cert.data.get("DomainName") or cert.resource_id
        if not cert.data.get("InUse"):
            yield Result.not_applicable(cert, f"{name} is not in use ({cert.data.get('Status')})")
            continue
        expires = parse_timestamp(cert.data.get("NotAfter"))
        if expires is None:
            yield Result.of(cert, passed=False, reason=f"{name} is in use and has no expiry date")
            continue
        left = days_between(ev.now, expires)
        when = f"expired on {expires.date()}" if left < 0 else f"expires on {expires.date()} ({left} days)"
        yield Result.of(
            cert, passed=left > limit, reason=f"{name} is in use and {when}, minimum {limit} days"
        )


@check(
    "aws.secretsmanager.rotation",
    title="Secrets Manager secrets rotate automatically and recently",
    controls={
        "A.5.17": "Secrets are authentication information; rotating them limits how long a leaked one works.",
        "A.8.24": "Keys and credentials kept as secrets need changing regularly, as key management requires.",
    },
    severity="minor",
    needs=[SECRETS],
    rationale="A secret that never changes stays valid for anyone who ever copied it.",
    remediation="Turn on automatic rotation with a rotation function (or a managed rotation) and a schedule "
    "of at most the required number of days; rotate it now if it is overdue.",
    params={"max_days": 90},
)
@or_nothing_to_judge("Secrets Manager secrets")
def secret_rotation(ev: Evidence) -> Iterator[Result]:
    """Rotation must be on, scheduled within `max_days`, and the last rotation (or, never rotated,
    the creation) at most `max_days` ago."""
    limit = int(ev.param("max_days"))
    for secret in ev.records(SECRETS):
        name = secret.data["Name"]
        if not secret.data.get("RotationEnabled"):
            yield Result.of(secret, passed=False, reason=f"{name}: automatic rotation is off")
            continue
        faults = []
        every = secret.data.get("AutomaticallyAfterDays")
        if every is not None and int(every) > limit:
            faults.append(f"rotates every {every} days")
        rotated = parse_timestamp(secret.data.get("LastRotatedDate"))
        since = rotated or parse_timestamp(secret.data.get("CreatedDate"))
        age = None if since is None else days_between(since, ev.now)
        last = f"last rotated {age} days ago" if rotated else f"never rotated, created {age} days ago"
        if age is None or age > limit:
            faults.append(last if age is not None else "never rotated, creation date unknown")
        shown = "; ".join(faults) or last
        yield Result.of(secret, passed=not faults, reason=f"{name}: {shown} (maximum {limit} days)")


# --- Encryption at rest ---------------------------------------------------------------------------


@check(
    "aws.sqs.queue_encryption",
    title="SQS queues encrypt messages at rest",
    controls={"A.8.24": ENCRYPTION_AT_REST},
    severity="minor",
    needs=[QUEUES],
    rationale="Messages often carry personal or business data and wait in the queue until consumed.",
    remediation="Enable server-side encryption on the queue: SSE-SQS, or SSE-KMS with a KMS key.",
    params={"require_kms": False},
)
@or_nothing_to_judge("SQS queues")
def queue_encryption(ev: Evidence) -> Iterator[Result]:
    """SSE-KMS passes; SSE-SQS passes unless `require_kms`; no encryption fails."""
    require_kms = bool(ev.param("require_kms"))
    for queue in ev.records(QUEUES):
        name, kms = queue.data["QueueName"], queue.data.get("KmsMasterKeyId")
        if kms:
            yield Result.of(queue, passed=True, reason=f"{name} is encrypted with KMS key {kms}")
        elif queue.data.get("SqsManagedSseEnabled"):
            wanted = " (SSE-KMS required)" if require_kms else ""
            yield Result.of(queue, passed=not require_kms, reason=f"{name} is encrypted with SSE-SQS{wanted}")
        else:
            yield Result.of(queue, passed=False, reason=f"{name} is not encrypted at rest")


@check(
    "aws.dynamodb.table_encryption",
    title="DynamoDB tables are encrypted with a KMS key",
    controls={
        "A.8.24": "Every table is encrypted; a KMS key puts the key under the account's policies and audit.",
    },
    severity="ofi",
    needs=[TABLES],
    rationale="DynamoDB always encrypts at rest, by default with a key AWS owns: no key policy restricts its "
    "use, no CloudTrail record shows it, and the organisation cannot revoke it. A KMS key (AWS managed "
    "or customer managed) gives the key management A.8.24 asks for; set require_kms to false to accept "
    "AWS owned keys.",
    remediation="Switch the table's encryption to an AWS managed (aws/dynamodb) or customer managed KMS key.",
    params={"require_kms": True},
)
@or_nothing_to_judge("DynamoDB tables")
def table_encryption(ev: Evidence) -> Iterator[Result]:
    """A table whose SSE is KMS and enabled passes; an AWS owned key passes only without `require_kms`."""
    require_kms = bool(ev.param("require_kms"))
    for table in ev.records(TABLES):
        name, kind, status = table.data["TableName"], table.data.get("SSEType"), table.data.get("SSEStatus")
        if kind is None:
            wanted = " (a KMS key is required)" if require_kms else ""
            yield Result.of(
                table, passed=not require_kms, reason=f"{name} is encrypted with an AWS owned key{wanted}"
            )
        else:
            key = table.data.get("KMSMasterKeyArn")
            yield Result.of(
                table,
                passed=kind == "KMS" and status == "ENABLED",
                reason=f"{name}: {kind} encryption {status} with key {key}",
            )


# Resources judged by one encryption flag: check id, title, source, flag, name field, what, rationale, remediation.
AtRestRow = tuple[str, str, str, str, str, str, str, str]
AT_REST_FLAGS: tuple[AtRestRow, ...] = (
    ("aws.sns.topic_encryption", "SNS topics encrypt messages at rest", TOPICS, "KmsMasterKeyId", "TopicName",
     "SNS topics", "SNS stores messages until delivered; without a KMS key they are kept unencrypted.",
     "Set a KMS key on the topic (server-side encryption); grant publishing services use of the key."),
    ("aws.efs.encryption", "EFS file systems are encrypted at rest", FILE_SYSTEMS, "Encrypted", "FileSystemId",
     "EFS file systems", "Shared file systems hold whatever applications write; unencrypted, their storage "
     "is exposed.", "Create an encrypted file system and move the data (encryption cannot be turned on later)."),
    ("aws.ec2.snapshot_encrypted", "EBS snapshots are encrypted", EBS_SNAPSHOTS, "Encrypted", "SnapshotId",
     "EBS snapshots", "A snapshot is a full copy of a disk, kept long after the volume, and shared or copied "
     "more easily.", "Copy the snapshot with encryption on (a KMS key), delete the unencrypted one, and turn "
     "on EBS encryption by default so new volumes and their snapshots are encrypted."),
)  # fmt: skip


def _at_rest(source: str, key: str, name: str, what: str) -> Callable[[Evidence], Iterator[Result]]:
    @or_nothing_to_judge(what)
    def judge(ev: Evidence) -> Iterator[Result]:
        """Every resource must have the flag on."""
        yield from map(flagged(key, name), ev.records(source))

    return judge


def register_at_rest(rows: Iterable[AtRestRow]) -> None:
    """One A.8.24 check per row: every resource of its source must have the row's flag on."""
    for check_id, title, source, key, name, what, rationale, remediation in rows:
        check(check_id, title=title, controls={"A.8.24": ENCRYPTION_AT_REST}, severity="minor",
              needs=[source], rationale=rationale, remediation=remediation)(_at_rest(source, key, name, what))  # fmt: skip


register_at_rest(AT_REST_FLAGS)


# --- Recovery -------------------------------------------------------------------------------------


@check(
    "aws.dynamodb.point_in_time_recovery",
    title="DynamoDB tables have point-in-time recovery",
    controls={"A.8.13": "Continuous backups let a table be restored to any second of the last 35 days."},
    severity="minor",
    needs=[TABLES],
    rationale="Without point-in-time recovery, a bad write or a deletion of items cannot be undone.",
    remediation="Enable point-in-time recovery on the table.",
)
@or_nothing_to_judge("DynamoDB tables")
def dynamodb_point_in_time_recovery(ev: Evidence) -> Iterator[Result]:
    """Point-in-time recovery must be ENABLED."""
    for table in ev.records(TABLES):
        status = table.data.get("PointInTimeRecoveryStatus")
        reason = f"{table.data['TableName']}: point-in-time recovery {status}"
        yield Result.of(table, passed=status == "ENABLED", reason=reason)


@check(
    "aws.efs.backup_policy",
    title="EFS file systems are backed up automatically",
    controls={"A.8.13": "The automatic backup policy makes AWS Backup keep copies of the file system."},
    severity="minor",
    needs=[FILE_SYSTEMS],
    rationale="Files deleted or encrypted by mistake or by ransomware are lost without a backup.",
    remediation="Turn on automatic backups for the file system (or cover it with an AWS Backup plan).",
)
@or_nothing_to_judge("EFS file systems")
def efs_backup_policy(ev: Evidence) -> Iterator[Result]:
    """The backup policy must be ENABLED (ENABLING counts: it is being switched on)."""
    for fs in ev.records(FILE_SYSTEMS):
        status = fs.data.get("BackupPolicyStatus")
        reason = f"{fs.data['FileSystemId']}: automatic backups {status}"
        yield Result.of(fs, passed=status in {"ENABLED", "ENABLING"}, reason=reason)


# --- S3: TLS only, and the CloudTrail log bucket --------------------------------------------------


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _tls_deny_covers(statement: dict[str, Any], bucket_arn: str) -> set[str]:
    """What a statement refuses without TLS for everyone and every action: the bucket, its objects.

    Only an unconditional-but-for-TLS Deny counts: another condition key would narrow it.
    """
    principal = statement.get("Principal")
    conditions = [
        (op, key.lower(), [str(v).lower() for v in _listed(value)])
        for op, block in (statement.get("Condition") or {}).items()
        for key, value in block.items()
    ]
    if (
        statement.get("Effect") != "Deny"
        or not (principal == "*" or (isinstance(principal, dict) and _listed(principal.get("AWS")) == ["*"]))
        or not {"*", "s3:*"} & set(_listed(statement.get("Action")))
        or conditions not in TLS_ONLY_CONDITIONS
    ):
        return set()
    resources = set(_listed(statement.get("Resource")))
    wanted = {"the bucket": bucket_arn, "its objects": f"{bucket_arn}/*"}
    return {what for what, arn in wanted.items() if "*" in resources or arn in resources}


@check(
    "aws.s3.bucket_tls_only",
    title="S3 buckets refuse requests made without TLS",
    controls={
        "A.5.14": "Data transferred to and from the bucket is protected in transit, whoever the client is.",
        "A.8.24": "Requiring TLS makes cryptography protect every transfer to and from the bucket.",
        "A.8.20": REFUSE_CLEAR_TEXT,
    },
    severity="minor",
    needs=["aws.s3.bucket_protection"],
    rationale="S3 answers plain HTTP too; only a bucket policy denying aws:SecureTransport false stops a "
    "client or an SDK setting from sending data in clear text.",
    remediation='Add a bucket policy statement: Effect Deny, Principal "*", Action "s3:*", Resource the '
    'bucket and bucket/*, Condition {"Bool": {"aws:SecureTransport": "false"}}.',
)
@or_nothing_to_judge("S3 buckets")
def bucket_tls_only(ev: Evidence) -> Iterator[Result]:
    """The bucket policy must deny non-TLS requests on the bucket and on its objects."""
    for bucket in ev.records("aws.s3.bucket_protection"):
        covered: set[str] = set()
        for statement in bucket.data.get("SecureTransportStatements") or []:
            covered |= _tls_deny_covers(statement, bucket.resource_id)
        missing = [w for w in ("the bucket", "its objects") if w not in covered]
        name = bucket.data["Name"]
        reason = (
            f"{name}: no policy statement denies requests without TLS on {' or '.join(missing)}"
            if missing
            else f"{name}: its policy denies every request made without TLS"
        )
        yield Result.of(bucket, passed=not missing, reason=reason)


def _log_bucket_faults(bucket: Record, protection: Record, account: dict[str, bool]) -> list[str]:
    """What leaves a log bucket's objects open to change, deletion or reading by anyone."""
    blocks = _effective_flags(bucket, account)
    faults = []
    if bucket.data.get("Versioning") != "Enabled":
        faults.append(f"versioning {bucket.data.get('Versioning') or 'Disabled'}")
    if not protection.data.get("ObjectLockEnabled") and protection.data.get("MFADelete") != "Enabled":
        faults.append("neither Object Lock nor MFA delete")
    if bucket.data.get("PolicyIsPublic") and not blocks["RestrictPublicBuckets"]:
        faults.append("a public bucket policy")
    if bucket.data.get("PublicAclGrants") and not blocks["IgnorePublicAcls"]:
        faults.append(f"public ACL grants {', '.join(bucket.data['PublicAclGrants'])}")
    return faults


@check(
    "aws.cloudtrail.log_bucket_protected",
    title="CloudTrail log buckets keep logs safe from change and deletion",
    controls={
        "A.5.28": "Evidence held in the trail's bucket must survive deletion and overwriting to be usable.",
        "A.5.33": "Audit logs are records that must be protected from loss, falsification and unauthorised access.",
        "A.8.15": "Logs must be protected against tampering and unauthorised access.",
    },
    severity="major",
    needs=["aws.cloudtrail.trails", "aws.s3.buckets", "aws.s3.bucket_protection", ACCOUNT_PAB],
    rationale="An intruder who can overwrite or delete a trail's log files erases the evidence of what they "
    "did; versioning with Object Lock (or MFA delete) keeps every version, and a public bucket leaks "
    "the account's activity.",
    remediation="On the trail's bucket: enable versioning, then Object Lock (new buckets, or via AWS "
    "Support for existing ones) or MFA delete (root user, CLI); remove public policy statements and ACL "
    "grants and turn on Block Public Access.",
)
@or_nothing_to_judge("CloudTrail trails")
def cloudtrail_log_bucket_protected(ev: Evidence) -> Iterator[Result]:
    """Each trail this account owns must deliver to one of its own buckets that is versioned, has
    Object Lock or MFA delete, and is not public.

    Fail-closed on what this scope cannot see: a trail whose bucket is not among the account's
    buckets (a central log archive account, usually) is `error`, never a pass, naming the bucket
    so that it can be checked where it lives. Organization trails shadowed into member accounts
    are judged in the account that owns them.
    """
    account, cited = _account_flags(ev)
    buckets = {b.data["Name"]: b for b in ev.records("aws.s3.buckets")}
    protections = {p.data["Name"]: p for p in ev.records("aws.s3.bucket_protection")}
    own = scope_account(ev.scope)
    for trail in ev.records("aws.cloudtrail.trails"):
        owner, name, target = (
            arn_account(trail.resource_id),
            trail.data["Name"],
            trail.data.get("S3BucketName"),
        )
        if owner != own:
            yield Result.not_applicable(trail, f"{name} belongs to account {owner}: judged in aws:{owner}")
        elif not target:
            yield Result.error(trail.resource_id, f"{name}: the evidence does not name its S3 bucket")
        elif target not in buckets or target not in protections:
            yield Result.error(
                trail.resource_id,
                f"{name} delivers to bucket {target}, not among this account's buckets: "
                "its protection cannot be judged here",
            )
        else:
            faults = _log_bucket_faults(buckets[target], protections[target], account)
            verdict = f"has {'; '.join(faults)}" if faults else "is versioned, locked and not public"
            yield Result.of(
                trail, buckets[target], protections[target], *cited, passed=not faults,
                reason=f"{name} delivers to {target}, which {verdict}",
            )  # fmt: skip
