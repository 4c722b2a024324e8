"""AWS Config evidence, per region: configuration recorders, what they record, and their status."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, flags, iso, permissions

DAY = timedelta(hours=24)
RECORDERS = Api("describe_configuration_recorders", "config:DescribeConfigurationRecorders")
RECORDER_STATUS = Api("describe_configuration_recorder_status", "config:DescribeConfigurationRecorderStatus")


@collector(
    "aws.config.recorders",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(RECORDERS, RECORDER_STATUS),
)
def recorders(ctx: AwsRegion) -> Iterator[Record]:
    """One record per region listing its recorders; an empty list is evidence that none exists."""
    config = ctx.client("config")
    found = RECORDERS(config).get("ConfigurationRecorders", [])
    statuses = {s["name"]: s for s in RECORDER_STATUS(config).get("ConfigurationRecordersStatus", [])}
    listed = []
    for rec in found:
        group = rec.get("recordingGroup", {})
        status = statuses.get(rec["name"], {})
        listed.append(
            {
                "name": rec["name"],
                **flags(group, "allSupported", "includeGlobalResourceTypes"),
                "recording": bool(status.get("recording")),
                "lastStatus": status.get("lastStatus"),
                "lastStatusChangeTime": iso(status.get("lastStatusChangeTime")),
            }
        )
    yield Record(resource_id=ctx.arn("config", "configuration-recorder"), data={"recorders": listed})
