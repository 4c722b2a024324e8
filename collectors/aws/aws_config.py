"""AWS Config evidence, per region: configuration recorders, what they record, and their status."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.model import Record
from agent.registry import collector
from collectors.aws.session import AwsRegion, aws_errors, iso

DAY = timedelta(hours=24)


@collector(
    "aws.config.recorders",
    scope="aws_region",
    freshness=DAY,
    permissions=["config:DescribeConfigurationRecorders", "config:DescribeConfigurationRecorderStatus"],
)
def recorders(ctx: AwsRegion) -> Iterator[Record]:
    """One record per region listing its recorders; an empty list is evidence that none exists."""
    config = ctx.client("config")
    with aws_errors("config"):
        found = config.describe_configuration_recorders().get("ConfigurationRecorders", [])
        statuses = {
            s["name"]: s
            for s in config.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
        }
    listed = []
    for rec in found:
        group = rec.get("recordingGroup", {})
        status = statuses.get(rec["name"], {})
        listed.append(
            {
                "name": rec["name"],
                "allSupported": bool(group.get("allSupported")),
                "includeGlobalResourceTypes": bool(group.get("includeGlobalResourceTypes")),
                "recording": bool(status.get("recording")),
                "lastStatus": status.get("lastStatus"),
                "lastStatusChangeTime": iso(status.get("lastStatusChangeTime")),
            }
        )
    yield Record(resource_id=ctx.arn("config", "configuration-recorder"), data={"recorders": listed})
