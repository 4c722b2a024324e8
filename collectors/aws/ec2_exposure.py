"""EC2 evidence on exposure, per region: network ACLs' inbound rules, and whether the account's
own EBS snapshots and AMIs are shared with everyone (with their tags, which the listings return).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.concurrency import ordered_map
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, permissions, tags

DAY = timedelta(hours=24)
NETWORK_ACLS = Api("describe_network_acls", "ec2:DescribeNetworkAcls", items="NetworkAcls")
SNAPSHOTS = Api("describe_snapshots", "ec2:DescribeSnapshots", items="Snapshots")
SNAPSHOT_ATTRIBUTE = Api("describe_snapshot_attribute", "ec2:DescribeSnapshotAttribute")
IMAGES = Api("describe_images", "ec2:DescribeImages", items="Images")


def _network_acl(acl: dict[str, Any]) -> dict[str, Any]:
    """The subnets it guards and its inbound entries (AWS evaluates them by ascending rule number)."""
    return {
        **fields(acl, "NetworkAclId", "VpcId", "IsDefault"),
        "SubnetIds": sorted(a["SubnetId"] for a in acl.get("Associations", []) if a.get("SubnetId")),
        "Ingress": [
            fields(e, "RuleNumber", "Protocol", "RuleAction", "CidrBlock", "Ipv6CidrBlock", "PortRange")
            for e in acl.get("Entries", [])
            if not e.get("Egress")
        ],
    }


@collector("aws.ec2.network_acls", scope="aws_region", freshness=DAY, permissions=permissions(NETWORK_ACLS))
def network_acls(ctx: AwsRegion) -> Iterator[Record]:
    """Network ACLs with their subnet associations and inbound rules."""
    yield from NETWORK_ACLS.records(
        ctx.client("ec2"), lambda acl: ctx.arn("ec2", f"network-acl/{acl['NetworkAclId']}"), _network_acl
    )


def _snapshot(ctx: AwsRegion, snap: dict[str, Any]) -> Record:
    """Who may create volumes from the snapshot: `{"Group": "all"}` is everyone, `UserId` one account."""
    sid = snap["SnapshotId"]
    answer = SNAPSHOT_ATTRIBUTE(ctx.client("ec2"), SnapshotId=sid, Attribute="createVolumePermission")
    # Snapshot and image ARNs carry no account: the ids are unique across accounts.
    return Record(
        resource_id=f"arn:{ctx.account.partition}:ec2:{ctx.region}::snapshot/{sid}",
        data={
            "SnapshotId": sid,
            "Encrypted": bool(snap.get("Encrypted")),
            "CreateVolumePermissions": answer.get("CreateVolumePermissions", []),
            "Tags": tags(snap),
        },
    )


@collector(
    "aws.ec2.snapshots",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(SNAPSHOTS, SNAPSHOT_ATTRIBUTE),
)
def snapshots(ctx: AwsRegion) -> Iterator[Record]:
    """EBS snapshots the account owns, with their encryption and create-volume permissions."""
    listing = SNAPSHOTS.pages(ctx.client("ec2"), OwnerIds=["self"])
    yield from ordered_map(
        listing, lambda snap: _snapshot(ctx, snap), ctx.account.settings.detail_concurrency, "ec2-snapshots"
    )


@collector("aws.ec2.images", scope="aws_region", freshness=DAY, permissions=permissions(IMAGES))
def images(ctx: AwsRegion) -> Iterator[Record]:
    """AMIs the account owns; `Public` is AWS's answer to whether anyone may launch them."""
    partition = ctx.account.partition
    yield from IMAGES.records(
        ctx.client("ec2"),
        lambda image: f"arn:{partition}:ec2:{ctx.region}::image/{image['ImageId']}",
        lambda image: {
            **fields(image, "ImageId", "Name"),
            "Public": bool(image.get("Public")),
            "Tags": tags(image),
        },
        Owners=["self"],
    )
