"""KMS evidence, per region: customer managed keys with their state and automatic rotation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.model import Record
from agent.registry import collector
from collectors.aws.session import AwsRegion, aws_errors, paginate

DAY = timedelta(hours=24)


@collector(
    "aws.kms.keys",
    scope="aws_region",
    freshness=DAY,
    permissions=["kms:ListKeys", "kms:DescribeKey", "kms:GetKeyRotationStatus"],
)
def keys(ctx: AwsRegion) -> Iterator[Record]:
    """Customer managed keys (AWS managed keys rotate on AWS's schedule and are left out)."""
    kms = ctx.client("kms")
    for key in paginate(kms, "list_keys", "Keys"):
        with aws_errors("kms"):
            meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if meta.get("KeyManager") != "CUSTOMER":
                continue
            symmetric = meta.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
            rotation = (
                kms.get_key_rotation_status(KeyId=key["KeyId"]).get("KeyRotationEnabled")
                if symmetric and meta.get("KeyState") == "Enabled" and meta.get("Origin") == "AWS_KMS"
                else None
            )
        yield Record(
            resource_id=meta["Arn"],
            data={
                "KeyId": meta["KeyId"],
                "KeyState": meta.get("KeyState"),
                "KeySpec": meta.get("KeySpec"),
                "Origin": meta.get("Origin"),
                "RotationEnabled": rotation,
            },
        )
