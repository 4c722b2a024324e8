"""AWS Config evidence, per region: configuration recorders, what they record, and their status;
rules and their compliance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, flags, iso, permissions

DAY = timedelta(hours=24)
RECORDERS = Api("describe_configuration_recorders", "config:DescribeConfigurationRecorders")
RECORDER_STATUS = Api("describe_configuration_recorder_status", "config:DescribeConfigurationRecorderStatus")
RULES = Api("describe_config_rules", "config:DescribeConfigRules", items="ConfigRules")
RULE_COMPLIANCE = Api(
    "describe_compliance_by_config_rule",
    "config:DescribeComplianceByConfigRule",
    items="ComplianceByConfigRules",
)


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


def _rule(rule: dict[str, Any], compliance: dict[str, Any] | None) -> dict[str, Any]:
    """A rule, what it evaluates with, and its compliance (None when Config reports none for it)."""
    source = rule.get("Source", {})
    counted = (compliance or {}).get("ComplianceContributorCount") or {}
    return {
        **fields(rule, "ConfigRuleName", "ConfigRuleState"),
        **fields(source, "Owner", "SourceIdentifier"),
        "ComplianceType": (compliance or {}).get("ComplianceType"),
        "NonCompliantCount": counted.get("CappedCount"),
        "CapExceeded": bool(counted.get("CapExceeded")),
    }


@collector(
    "aws.config.rules",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(RULES, RULE_COMPLIANCE),
)
def rules(ctx: AwsRegion) -> Iterator[Record]:
    """Config rules with their compliance; compliance is asked only where rules exist."""
    config = ctx.client("config")
    found = list(RULES.pages(config))
    if not found:
        return
    compliance = {c["ConfigRuleName"]: c.get("Compliance") for c in RULE_COMPLIANCE.pages(config)}
    for rule in found:
        yield Record(
            resource_id=rule["ConfigRuleArn"], data=_rule(rule, compliance.get(rule["ConfigRuleName"]))
        )
