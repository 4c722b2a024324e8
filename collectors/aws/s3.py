"""S3 evidence, collected once per account (bucket names are global): public access, encryption,
versioning and access logging of every bucket, the account-wide public access block, and how
each bucket protects its objects (TLS-only policy, Object Lock, MFA delete).

Each bucket's settings are read from the bucket's own region. A "not configured" answer is
evidence (recorded as absent); access denied or any other failure fails the whole listing.
The two per-bucket collectors share, through `AwsAccount.once`, what both read: the bucket
listing, each bucket's location and its versioning, sent once per run however they interleave.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.concurrency import ordered_map
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsAccount, iso, permissions

DAY = timedelta(hours=24)
PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
}
NO_PUBLIC_ACCESS_BLOCK = ("NoSuchPublicAccessBlockConfiguration",)
ACCOUNT_PUBLIC_ACCESS_BLOCK = Api(
    "get_public_access_block", "s3:GetAccountPublicAccessBlock", absent=NO_PUBLIC_ACCESS_BLOCK
)
LIST_BUCKETS = Api("list_buckets", "s3:ListAllMyBuckets", items="Buckets")
BUCKET_LOCATION = Api("get_bucket_location", "s3:GetBucketLocation")
BUCKET_VERSIONING = Api("get_bucket_versioning", "s3:GetBucketVersioning")
# Every read of one bucket's settings, made in this order; None where a setting is absent.
BUCKET_DETAILS = (
    Api("get_public_access_block", "s3:GetBucketPublicAccessBlock", absent=NO_PUBLIC_ACCESS_BLOCK),
    Api("get_bucket_policy_status", "s3:GetBucketPolicyStatus", absent=("NoSuchBucketPolicy",)),
    # Real AWS answers SSE-S3 for buckets created since 2023; older buckets and emulators say "none".
    Api(
        "get_bucket_encryption",
        "s3:GetEncryptionConfiguration",
        absent=("ServerSideEncryptionConfigurationNotFoundError",),
    ),
    BUCKET_VERSIONING,
    Api("get_bucket_logging", "s3:GetBucketLogging"),
    Api("get_bucket_acl", "s3:GetBucketAcl"),
)
# How a bucket protects its objects, a source of its own (judged apart from exposure), read in this order.
PROTECTION_DETAILS = (
    Api("get_bucket_policy", "s3:GetBucketPolicy", absent=("NoSuchBucketPolicy",)),
    Api(
        "get_object_lock_configuration",
        "s3:GetBucketObjectLockConfiguration",
        absent=("ObjectLockConfigurationNotFoundError",),
    ),
    BUCKET_VERSIONING,
)
# The reads both collectors make of every bucket: sent once per run (`AwsAccount.once`).
SHARED_DETAILS = frozenset(BUCKET_DETAILS) & frozenset(PROTECTION_DETAILS)
# GetBucketLocation's legacy answers for the two oldest regions.
LEGACY_LOCATIONS = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}


@collector(
    "aws.s3.account_public_access_block",
    scope="aws_account",
    freshness=DAY,
    permissions=permissions(ACCOUNT_PUBLIC_ACCESS_BLOCK),
)
def account_public_access_block(ctx: AwsAccount) -> Iterator[Record]:
    """The account-wide S3 public access block; its absence is recorded, not skipped."""
    resp = ACCOUNT_PUBLIC_ACCESS_BLOCK(ctx.client("s3control"), AccountId=ctx.account_id)
    config = (resp or {}).get("PublicAccessBlockConfiguration")
    yield Record(resource_id=ctx.arn("s3", "", "account-public-access-block"), data={"configuration": config})


def _region(ctx: AwsAccount, bucket: dict[str, Any]) -> str:
    if bucket.get("BucketRegion"):
        return str(bucket["BucketRegion"])
    location = ctx.once(BUCKET_LOCATION, ctx.client("s3"), Bucket=bucket["Name"])
    constraint: str | None = location.get("LocationConstraint")
    if constraint is None:
        return LEGACY_LOCATIONS[None]
    return LEGACY_LOCATIONS.get(constraint, constraint)


def _detail(ctx: AwsAccount, s3: Any, api: Api, name: str) -> Any:
    """One setting of bucket `name`, read once per run when the other collector reads it too."""
    return ctx.once(api, s3, Bucket=name) if api in SHARED_DETAILS else api(s3, Bucket=name)


def _public_grants(acl: dict[str, Any]) -> list[str]:
    """Only grants to everyone or to any AWS user: other grantees are not needed as evidence."""
    return sorted(
        f"{PUBLIC_GROUPS[g['Grantee']['URI']]}:{g['Permission']}"
        for g in acl.get("Grants", [])
        if g.get("Grantee", {}).get("URI") in PUBLIC_GROUPS
    )


def _bucket(ctx: AwsAccount, bucket: dict[str, Any]) -> dict[str, Any]:
    name = bucket["Name"]
    region = _region(ctx, bucket)
    s3 = ctx.client("s3", region)
    pab, status, encryption, versioning, logging, acl = (
        _detail(ctx, s3, api, name) for api in BUCKET_DETAILS
    )
    rules = (encryption or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    logging_enabled = logging.get("LoggingEnabled")
    return {
        "Name": name,
        "Region": region,
        "CreationDate": iso(bucket.get("CreationDate")),
        "PublicAccessBlock": (pab or {}).get("PublicAccessBlockConfiguration"),
        "PolicyIsPublic": None if status is None else bool(status["PolicyStatus"].get("IsPublic")),
        "PublicAclGrants": _public_grants(acl),
        "DefaultEncryption": [
            {
                "SSEAlgorithm": r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
                "KMSMasterKeyID": r["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID"),
            }
            for r in rules
            if "ApplyServerSideEncryptionByDefault" in r
        ],
        "Versioning": versioning.get("Status", "Disabled"),
        "Logging": {"TargetBucket": logging_enabled["TargetBucket"]} if logging_enabled else None,
    }


@collector(
    "aws.s3.buckets",
    scope="aws_account",
    freshness=DAY,
    permissions=permissions(LIST_BUCKETS, BUCKET_LOCATION, *BUCKET_DETAILS),
)
def buckets(ctx: AwsAccount) -> Iterator[Record]:
    """Every bucket with its public access settings, default encryption, versioning and logging."""
    listing = ctx.once_pages(LIST_BUCKETS, ctx.client("s3"))
    for data in ordered_map(
        listing, lambda bucket: _bucket(ctx, bucket), ctx.settings.detail_concurrency, "s3"
    ):
        yield Record(resource_id=f"arn:{ctx.partition}:s3:::{data['Name']}", data=data)


def _secure_transport_statements(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The policy's statements with a condition on aws:SecureTransport, as written: the only ones a
    TLS-only judgement reads (condition keys are case-insensitive)."""
    document = json.loads(policy["Policy"]) if policy else {}
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    return [
        s
        for s in statements
        if any(k.lower() == "aws:securetransport" for c in (s.get("Condition") or {}).values() for k in c)
    ]


def _protection(ctx: AwsAccount, bucket: dict[str, Any]) -> dict[str, Any]:
    name = bucket["Name"]
    s3 = ctx.client("s3", _region(ctx, bucket))
    policy, lock, versioning = (_detail(ctx, s3, api, name) for api in PROTECTION_DETAILS)
    lock_config = (lock or {}).get("ObjectLockConfiguration") or {}
    return {
        "Name": name,
        "SecureTransportStatements": _secure_transport_statements(policy),
        "ObjectLockEnabled": lock_config.get("ObjectLockEnabled") == "Enabled",
        "ObjectLockDefaultRetention": (lock_config.get("Rule") or {}).get("DefaultRetention"),
        "MFADelete": versioning.get("MFADelete", "Disabled"),
    }


@collector(
    "aws.s3.bucket_protection",
    scope="aws_account",
    freshness=DAY,
    permissions=permissions(LIST_BUCKETS, BUCKET_LOCATION, *PROTECTION_DETAILS),
)
def bucket_protection(ctx: AwsAccount) -> Iterator[Record]:
    """Every bucket's policy statements on aws:SecureTransport, Object Lock and MFA delete."""
    listing = ctx.once_pages(LIST_BUCKETS, ctx.client("s3"))
    for data in ordered_map(
        listing, lambda bucket: _protection(ctx, bucket), ctx.settings.detail_concurrency, "s3"
    ):
        yield Record(resource_id=f"arn:{ctx.partition}:s3:::{data['Name']}", data=data)
