"""RDS evidence, per region: database instances' encryption, exposure, backups and protection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from operator import itemgetter
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, flags, permissions

DAY = timedelta(hours=24)
DB_INSTANCES = Api("describe_db_instances", "rds:DescribeDBInstances", items="DBInstances")


def _instance(db: dict[str, Any]) -> dict[str, Any]:
    """What the RDS checks judge of an instance; AWS leaves false flags out, read here as false."""
    return {
        "DBInstanceIdentifier": db["DBInstanceIdentifier"],
        "Status": db.get("DBInstanceStatus"),
        "BackupRetentionPeriod": int(db.get("BackupRetentionPeriod") or 0),
        **fields(db, "Engine", "KmsKeyId"),
        **flags(db, "StorageEncrypted", "PubliclyAccessible", "DeletionProtection", "MultiAZ"),
    }


@collector("aws.rds.instances", scope="aws_region", freshness=DAY, permissions=permissions(DB_INSTANCES))
def instances(ctx: AwsRegion) -> Iterator[Record]:
    """DB instances with storage encryption, public accessibility, backup retention and deletion protection."""
    yield from DB_INSTANCES.records(ctx.client("rds"), itemgetter("DBInstanceArn"), _instance)
