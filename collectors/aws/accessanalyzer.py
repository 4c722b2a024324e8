"""IAM Access Analyzer evidence, per region: the analyzers, and the active findings of those that
look for access from outside the account or organization (the zone of trust).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, iso, permissions

DAY = timedelta(hours=24)
HOURS_6 = timedelta(hours=6)
# Analyzers of external access; the *_UNUSED_ACCESS types report unused access instead.
EXTERNAL_ACCESS = frozenset({"ACCOUNT", "ORGANIZATION"})
ANALYZERS = Api("list_analyzers", "access-analyzer:ListAnalyzers", items="analyzers")
FINDINGS = Api("list_findings", "access-analyzer:ListFindings", items="findings")
ACTIVE = {"status": {"eq": ["ACTIVE"]}}


def _analyzers(ctx: AwsRegion) -> list[dict[str, Any]]:
    return [fields(a, "arn", "name", "type", "status") for a in ANALYZERS.pages(ctx.client("accessanalyzer"))]


@collector(
    "aws.accessanalyzer.analyzers", scope="aws_region", freshness=DAY, permissions=permissions(ANALYZERS)
)
def analyzers(ctx: AwsRegion) -> Iterator[Record]:
    """One record per region listing its analyzers; an empty list is evidence that none exists."""
    yield Record(resource_id=ctx.arn("access-analyzer", "analyzers"), data={"analyzers": _analyzers(ctx)})


def _finding(analyzer: str, f: dict[str, Any]) -> dict[str, Any]:
    return {
        "analyzerArn": analyzer,
        **fields(f, "id", "resource", "resourceType", "resourceOwnerAccount", "principal", "action"),
        "isPublic": bool(f.get("isPublic")),
        "condition": dict(f.get("condition") or {}),
        "createdAt": iso(f.get("createdAt")),
    }


@collector(
    "aws.accessanalyzer.findings",
    scope="aws_region",
    freshness=HOURS_6,
    permissions=permissions(ANALYZERS, FINDINGS),
)
def findings(ctx: AwsRegion) -> Iterator[Record]:
    """Active findings of every active external-access analyzer in the region.

    A region without one yields nothing here; the check joins `aws.accessanalyzer.analyzers` so
    that never reads as "no external access".
    """
    client = ctx.client("accessanalyzer")
    for analyzer in _analyzers(ctx):
        if analyzer["type"] not in EXTERNAL_ACCESS or analyzer["status"] != "ACTIVE":
            continue
        for f in FINDINGS.pages(client, analyzerArn=analyzer["arn"], filter=ACTIVE):
            yield Record(
                resource_id=f"{analyzer['arn']}/finding/{f['id']}", data=_finding(analyzer["arn"], f)
            )
