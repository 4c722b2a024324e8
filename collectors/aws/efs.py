"""EFS evidence, per region: each file system's encryption at rest and automatic backup policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.concurrency import ordered_map
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, permissions

DAY = timedelta(hours=24)
FILE_SYSTEMS = Api("describe_file_systems", "elasticfilesystem:DescribeFileSystems", items="FileSystems")
# A file system on which no backup policy was ever set answers PolicyNotFound: backups are off.
BACKUP_POLICY = Api(
    "describe_backup_policy", "elasticfilesystem:DescribeBackupPolicy", absent=("PolicyNotFound",)
)


@collector(
    "aws.efs.file_systems",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(FILE_SYSTEMS, BACKUP_POLICY),
)
def file_systems(ctx: AwsRegion) -> Iterator[Record]:
    """File systems with encryption, KMS key and the status of their automatic backup policy."""
    efs = ctx.client("efs")

    def read(fs: dict[str, Any]) -> Record:
        policy = BACKUP_POLICY(efs, FileSystemId=fs["FileSystemId"]) or {}
        data = {
            **fields(fs, "FileSystemId", "Name", "KmsKeyId"),
            "Encrypted": bool(fs.get("Encrypted")),
            "BackupPolicyStatus": (policy.get("BackupPolicy") or {}).get("Status", "DISABLED"),
        }
        return Record(resource_id=fs["FileSystemArn"], data=data)

    yield from ordered_map(FILE_SYSTEMS.pages(efs), read, ctx.account.settings.detail_concurrency, "efs")
