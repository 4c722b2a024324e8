"""CloudTrail evidence, once per account: every trail visible from the home region with its status.

Multi-region and organization trails appear in every region as "shadow" trails, so one region
shows all trails that can cover the whole account, including an Organization trail owned by the
management account. Status and event selectors are read in each trail's home region.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsAccount, flags, iso, permissions

DAY = timedelta(hours=24)
DESCRIBE_TRAILS = Api("describe_trails", "cloudtrail:DescribeTrails")
TRAIL_STATUS = Api("get_trail_status", "cloudtrail:GetTrailStatus")
EVENT_SELECTORS = Api("get_event_selectors", "cloudtrail:GetEventSelectors")


def _management_events(selectors: dict[str, Any], custom: bool) -> str:
    """Which management events the trail records: All, ReadOnly, WriteOnly or None.

    Without custom selectors a trail records all management events. Advanced selectors are
    summarised conservatively: management events count only when a selector asks for them.
    """
    if not custom:
        return "All"
    kinds = {
        s.get("ReadWriteType", "All")
        for s in selectors.get("EventSelectors") or []
        if s.get("IncludeManagementEvents", True)
    }
    for adv in selectors.get("AdvancedEventSelectors") or []:
        fields = {f["Field"]: f.get("Equals", []) for f in adv.get("FieldSelectors", [])}
        if fields.get("eventCategory") == ["Management"]:
            ro = fields.get("readOnly")
            kinds.add("All" if not ro else ("ReadOnly" if ro == ["true"] else "WriteOnly"))
    if "All" in kinds or {"ReadOnly", "WriteOnly"} <= kinds:
        return "All"
    return next(iter(kinds), "None")


@collector(
    "aws.cloudtrail.trails",
    scope="aws_account",
    freshness=DAY,
    permissions=permissions(DESCRIBE_TRAILS, TRAIL_STATUS, EVENT_SELECTORS),
)
def trails(ctx: AwsAccount) -> Iterator[Record]:
    """Trails with multi-region, log-file validation, KMS key, CloudWatch Logs group, logging status and
    management events."""
    listed = DESCRIBE_TRAILS(ctx.client("cloudtrail"), includeShadowTrails=True)["trailList"]
    for trail in {t["TrailARN"]: t for t in listed}.values():
        home = ctx.client("cloudtrail", trail["HomeRegion"])
        status = TRAIL_STATUS(home, Name=trail["TrailARN"])
        selectors = EVENT_SELECTORS(home, TrailName=trail["TrailARN"])
        yield Record(
            resource_id=trail["TrailARN"],
            data={
                "Name": trail["Name"],
                "HomeRegion": trail["HomeRegion"],
                **flags(trail, "IsMultiRegionTrail", "IsOrganizationTrail", "LogFileValidationEnabled"),
                "KmsKeyId": trail.get("KmsKeyId"),
                "CloudWatchLogsLogGroupArn": trail.get("CloudWatchLogsLogGroupArn"),
                "S3BucketName": trail.get("S3BucketName"),
                "IsLogging": bool(status.get("IsLogging")),
                "LatestDeliveryTime": iso(status.get("LatestDeliveryTime")),
                "ManagementEvents": _management_events(selectors, bool(trail.get("HasCustomEventSelectors"))),
            },
        )
