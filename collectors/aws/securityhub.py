"""Security Hub evidence, per region: whether the hub is enabled, its enabled standards, and active
critical/high findings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, iso, permissions

HOURS_6 = timedelta(hours=6)
DAY = timedelta(hours=24)
# InvalidAccessException: the answer of an account or region where Security Hub was never enabled.
DESCRIBE_HUB = Api("describe_hub", "securityhub:DescribeHub", absent=("InvalidAccessException",))
GET_FINDINGS = Api("get_findings", "securityhub:GetFindings", items="Findings")
ENABLED_STANDARDS = Api(
    "get_enabled_standards", "securityhub:GetEnabledStandards", items="StandardsSubscriptions"
)
ACTIVE_SEVERE = {
    "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
    "WorkflowStatus": [
        {"Value": "NEW", "Comparison": "EQUALS"},
        {"Value": "NOTIFIED", "Comparison": "EQUALS"},
    ],
    "SeverityLabel": [
        {"Value": "CRITICAL", "Comparison": "EQUALS"},
        {"Value": "HIGH", "Comparison": "EQUALS"},
    ],
}


@collector("aws.securityhub.hub", scope="aws_region", freshness=DAY, permissions=permissions(DESCRIBE_HUB))
def hub(ctx: AwsRegion) -> Iterator[Record]:
    """Whether Security Hub is enabled in the region (its absence is recorded, not an error)."""
    resp = DESCRIBE_HUB(ctx.client("securityhub"))
    yield Record(
        resource_id=ctx.arn("securityhub", "hub/default"),
        data={"Enabled": resp is not None, "SubscribedAt": iso((resp or {}).get("SubscribedAt"))},
    )


@collector(
    "aws.securityhub.standards",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(DESCRIBE_HUB, ENABLED_STANDARDS),
)
def standards(ctx: AwsRegion) -> Iterator[Record]:
    """The region's standards subscriptions and their status; a region without the hub has none."""
    client = ctx.client("securityhub")
    enabled = DESCRIBE_HUB(client) is not None
    subscriptions = ENABLED_STANDARDS.pages(client) if enabled else ()
    yield Record(
        resource_id=ctx.arn("securityhub", "standards"),
        data={
            "HubEnabled": enabled,
            "StandardsSubscriptions": [fields(s, "StandardsArn", "StandardsStatus") for s in subscriptions],
        },
    )


def _finding(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "Id": f["Id"],
        **fields(f, "Title", "ProductArn", "RecordState"),
        "Types": list(f.get("Types", [])),
        "SeverityLabel": f.get("Severity", {}).get("Label"),
        "Resources": [r.get("Id") for r in f.get("Resources", [])],
        "WorkflowStatus": f.get("Workflow", {}).get("Status"),
        "CreatedAt": iso(f.get("CreatedAt")),
    }


@collector(
    "aws.securityhub.findings",
    scope="aws_region",
    freshness=HOURS_6,
    permissions=permissions(DESCRIBE_HUB, GET_FINDINGS),
)
def findings(ctx: AwsRegion) -> Iterator[Record]:
    """Active, unresolved critical and high findings (including Inspector's vulnerability findings).

    A region without Security Hub yields nothing here; the checks join `aws.securityhub.hub`
    so that never reads as "no findings".
    """
    client = ctx.client("securityhub")
    if DESCRIBE_HUB(client) is None:
        return
    for f in GET_FINDINGS.pages(client, Filters=ACTIVE_SEVERE):
        yield Record(resource_id=f["Id"], data=_finding(f))
