"""CloudWatch evidence, per region: metric alarms, reduced to the metric they watch and their actions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from operator import itemgetter
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, permissions

DAY = timedelta(hours=24)
ALARMS = Api("describe_alarms", "cloudwatch:DescribeAlarms", items="MetricAlarms")
# Lists only metrics with data in the last two weeks: evidence that a service is in use.
LIST_METRICS = Api("list_metrics", "cloudwatch:ListMetrics", items="Metrics")


def _alarm(alarm: dict[str, Any]) -> dict[str, Any]:
    """An alarm on one metric keeps AWS's MetricName and Namespace; a metric-math alarm lists the
    metrics of its queries under `Metrics`, so either kind can be joined to a metric filter."""
    return {
        **fields(alarm, "AlarmName", "MetricName", "Namespace", "AlarmActions", "StateValue"),
        "ActionsEnabled": bool(alarm.get("ActionsEnabled")),
        "Metrics": [
            fields(q["MetricStat"]["Metric"], "MetricName", "Namespace")
            for q in alarm.get("Metrics", [])
            if "MetricStat" in q
        ],
    }


@collector("aws.cloudwatch.alarms", scope="aws_region", freshness=DAY, permissions=permissions(ALARMS))
def alarms(ctx: AwsRegion) -> Iterator[Record]:
    """Metric alarms with the metric they watch, whether actions are enabled and the actions."""
    yield from ALARMS.records(ctx.client("cloudwatch"), itemgetter("AlarmArn"), _alarm)
