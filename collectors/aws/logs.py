"""CloudWatch Logs evidence, per region: log groups with their retention, KMS key and metric filters.

The metric filters are what turns CloudTrail events delivered to a log group into metrics that
alarms watch, so each group carries its own filters: the checks join them to trails and alarms.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, permissions

DAY = timedelta(hours=24)
LOG_GROUPS = Api("describe_log_groups", "logs:DescribeLogGroups", items="logGroups")
METRIC_FILTERS = Api("describe_metric_filters", "logs:DescribeMetricFilters", items="metricFilters")


def _filter(f: dict[str, Any]) -> dict[str, Any]:
    return {
        **fields(f, "filterName", "filterPattern"),
        "metricTransformations": [
            fields(t, "metricName", "metricNamespace") for t in f.get("metricTransformations", [])
        ],
    }


@collector(
    "aws.logs.log_groups",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(LOG_GROUPS, METRIC_FILTERS),
)
def log_groups(ctx: AwsRegion) -> Iterator[Record]:
    """Log groups with retention (absent: never expires), KMS key and their metric filters."""
    logs = ctx.client("logs")
    filters: dict[str, list[dict[str, Any]]] = {}
    for f in METRIC_FILTERS.pages(logs):
        filters.setdefault(f["logGroupName"], []).append(_filter(f))
    for group in LOG_GROUPS.pages(logs):
        name = group["logGroupName"]
        yield Record(
            # `arn` ends in `:*` (as CloudTrail's CloudWatchLogsLogGroupArn does); `logGroupArn` is newer.
            resource_id=group.get("logGroupArn") or group["arn"].removesuffix(":*"),
            data={
                **fields(group, "logGroupName", "retentionInDays", "kmsKeyId"),
                "metricFilters": filters.get(name, []),
            },
        )
