"""DynamoDB evidence, per region: each table's encryption key type and point-in-time recovery."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.plugin import collector
from agent.plugin.concurrency import ordered_map
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, permissions

DAY = timedelta(hours=24)
TABLES = Api("list_tables", "dynamodb:ListTables", items="TableNames")
DESCRIBE_TABLE = Api("describe_table", "dynamodb:DescribeTable")
CONTINUOUS_BACKUPS = Api("describe_continuous_backups", "dynamodb:DescribeContinuousBackups")


@collector(
    "aws.dynamodb.tables",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(TABLES, DESCRIBE_TABLE, CONTINUOUS_BACKUPS),
)
def tables(ctx: AwsRegion) -> Iterator[Record]:
    """Tables with their SSE type (absent: an AWS owned key) and point-in-time recovery status."""
    ddb = ctx.client("dynamodb")

    def read(name: str) -> Record:
        table = DESCRIBE_TABLE(ddb, TableName=name)["Table"]
        backups = CONTINUOUS_BACKUPS(ddb, TableName=name)["ContinuousBackupsDescription"]
        sse = table.get("SSEDescription") or {}
        pitr = backups.get("PointInTimeRecoveryDescription") or {}
        data = {
            "TableName": name,
            "SSEType": sse.get("SSEType"),
            "SSEStatus": sse.get("Status"),
            "KMSMasterKeyArn": sse.get("KMSMasterKeyArn"),
            "PointInTimeRecoveryStatus": pitr.get("PointInTimeRecoveryStatus", "DISABLED"),
        }
        return Record(resource_id=table["TableArn"], data=data)

    yield from ordered_map(TABLES.pages(ddb), read, ctx.account.settings.detail_concurrency, "dynamodb")
