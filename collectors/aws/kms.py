"""KMS evidence, per region: customer managed keys with their state and automatic rotation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, permissions

DAY = timedelta(hours=24)
LIST_KEYS = Api("list_keys", "kms:ListKeys", items="Keys")
DESCRIBE_KEY = Api("describe_key", "kms:DescribeKey")
ROTATION_STATUS = Api("get_key_rotation_status", "kms:GetKeyRotationStatus")


@collector(
    "aws.kms.keys",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(LIST_KEYS, DESCRIBE_KEY, ROTATION_STATUS),
)
def keys(ctx: AwsRegion) -> Iterator[Record]:
    """Customer managed keys (AWS managed keys rotate on AWS's schedule and are left out)."""
    kms = ctx.client("kms")
    for key in LIST_KEYS.pages(kms):
        meta = DESCRIBE_KEY(kms, KeyId=key["KeyId"])["KeyMetadata"]
        if meta.get("KeyManager") != "CUSTOMER":
            continue
        symmetric = meta.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
        rotation = (
            ROTATION_STATUS(kms, KeyId=key["KeyId"]).get("KeyRotationEnabled")
            if symmetric and meta.get("KeyState") == "Enabled" and meta.get("Origin") == "AWS_KMS"
            else None
        )
        yield Record(
            resource_id=meta["Arn"],
            data={
                "KeyId": meta["KeyId"],
                **fields(meta, "KeyState", "KeySpec", "Origin"),
                "RotationEnabled": rotation,
            },
        )
