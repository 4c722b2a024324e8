"""RDS snapshot evidence, per region: the account's manual DB and DB cluster snapshots, who may
restore them, whether they are encrypted, and their tags. Automated snapshots cannot be shared and
inherit their instance's encryption (judged from the instance), so only manual ones are listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.concurrency import ordered_map
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, flags, permissions, tags

DAY = timedelta(hours=24)
DB_SNAPSHOTS = Api("describe_db_snapshots", "rds:DescribeDBSnapshots", items="DBSnapshots")
DB_SNAPSHOT_ATTRIBUTES = Api("describe_db_snapshot_attributes", "rds:DescribeDBSnapshotAttributes")
CLUSTER_SNAPSHOTS = Api(
    "describe_db_cluster_snapshots", "rds:DescribeDBClusterSnapshots", items="DBClusterSnapshots"
)
CLUSTER_SNAPSHOT_ATTRIBUTES = Api(
    "describe_db_cluster_snapshot_attributes", "rds:DescribeDBClusterSnapshotAttributes"
)
# (listing, attributes call, the kind's prefix in AWS's field names: DB or DBCluster, its encryption flag)
KINDS = (
    (DB_SNAPSHOTS, DB_SNAPSHOT_ATTRIBUTES, "DB", "Encrypted"),
    (CLUSTER_SNAPSHOTS, CLUSTER_SNAPSHOT_ATTRIBUTES, "DBCluster", "StorageEncrypted"),
)


def _reader(ctx: AwsRegion, attributes: Api, kind: str, encrypted: str) -> Callable[[dict[str, Any]], Record]:
    """Reads one snapshot's `restore` attribute: the accounts that may restore it, `all` for anyone.
    Its encryption comes with the listing, under AWS's name for the kind."""

    def read(snap: dict[str, Any]) -> Record:
        name = snap[f"{kind}SnapshotIdentifier"]
        answer = attributes(ctx.client("rds"), **{f"{kind}SnapshotIdentifier": name})
        listed = answer[f"{kind}SnapshotAttributesResult"].get(f"{kind}SnapshotAttributes", [])
        restore: list[str] = next(
            (a.get("AttributeValues", []) for a in listed if a.get("AttributeName") == "restore"), []
        )
        return Record(
            resource_id=snap[f"{kind}SnapshotArn"],
            data={
                f"{kind}SnapshotIdentifier": name,
                "restore": restore,
                **flags(snap, encrypted),
                **fields(snap, "KmsKeyId"),
                "Tags": tags(snap, "TagList"),
            },
        )

    return read


@collector(
    "aws.rds.snapshots",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(
        DB_SNAPSHOTS, DB_SNAPSHOT_ATTRIBUTES, CLUSTER_SNAPSHOTS, CLUSTER_SNAPSHOT_ATTRIBUTES
    ),
)
def snapshots(ctx: AwsRegion) -> Iterator[Record]:
    """Manual DB snapshots and DB cluster snapshots with the accounts allowed to restore them and
    their encryption."""
    for listing, attributes, kind, encrypted in KINDS:
        found = listing.pages(ctx.client("rds"), SnapshotType="manual")
        yield from ordered_map(
            found,
            _reader(ctx, attributes, kind, encrypted),
            ctx.account.settings.detail_concurrency,
            "rds-snapshots",
        )
