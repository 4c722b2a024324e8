"""RDS evidence, per region: database instances' encryption, exposure, backups and protection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, permissions

DAY = timedelta(hours=24)
DB_INSTANCES = Api("describe_db_instances", "rds:DescribeDBInstances", items="DBInstances")


@collector("aws.rds.instances", scope="aws_region", freshness=DAY, permissions=permissions(DB_INSTANCES))
def instances(ctx: AwsRegion) -> Iterator[Record]:
    """DB instances with storage encryption, public accessibility, backup retention and deletion protection."""
    for db in DB_INSTANCES.pages(ctx.client("rds")):
        yield Record(
            resource_id=db["DBInstanceArn"],
            data={
                "DBInstanceIdentifier": db["DBInstanceIdentifier"],
                "Engine": db.get("Engine"),
                "Status": db.get("DBInstanceStatus"),
                "StorageEncrypted": bool(db.get("StorageEncrypted")),
                "KmsKeyId": db.get("KmsKeyId"),
                "PubliclyAccessible": bool(db.get("PubliclyAccessible")),
                "BackupRetentionPeriod": int(db.get("BackupRetentionPeriod") or 0),
                "DeletionProtection": bool(db.get("DeletionProtection")),
                "MultiAZ": bool(db.get("MultiAZ")),
            },
        )
