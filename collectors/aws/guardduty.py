"""GuardDuty evidence, per region: detectors and their protections, and unarchived high-severity findings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.aws.session import Api, AwsRegion, fields, iso, permissions

HOURS_6 = timedelta(hours=6)
DAY = timedelta(hours=24)
HIGH_SEVERITY = 7.0  # GuardDuty's own threshold for "High"
FINDINGS_PER_CALL = 50  # GetFindings' limit
LIST_DETECTORS = Api("list_detectors", "guardduty:ListDetectors", items="DetectorIds")
GET_DETECTOR = Api("get_detector", "guardduty:GetDetector")
LIST_FINDINGS = Api("list_findings", "guardduty:ListFindings", items="FindingIds")
GET_FINDINGS = Api("get_findings", "guardduty:GetFindings")


def _detector(gd: Any, detector_id: str) -> dict[str, Any]:
    """A detector's status and protections; the listing gives its id alone."""
    det = GET_DETECTOR(gd, DetectorId=detector_id)
    return {
        "DetectorId": detector_id,
        "Status": det.get("Status"),
        "Features": {f["Name"]: f.get("Status") for f in det.get("Features", [])},
    }


def _finding(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "Id": f["Id"],
        **fields(f, "Type", "Title"),
        "Severity": float(f.get("Severity") or 0),
        "ResourceType": f.get("Resource", {}).get("ResourceType"),
        "CreatedAt": iso(f.get("CreatedAt")),
        "UpdatedAt": iso(f.get("UpdatedAt")),
        "Archived": bool(f.get("Service", {}).get("Archived")),
    }


@collector(
    "aws.guardduty.detectors",
    scope="aws_region",
    freshness=DAY,
    permissions=permissions(LIST_DETECTORS, GET_DETECTOR),
)
def detectors(ctx: AwsRegion) -> Iterator[Record]:
    """One record per region listing its detectors; an empty list is evidence GuardDuty is off."""
    yield ctx.listing("guardduty", "detector", "detectors", LIST_DETECTORS, _detector)


@collector(
    "aws.guardduty.findings",
    scope="aws_region",
    freshness=HOURS_6,
    permissions=permissions(LIST_DETECTORS, LIST_FINDINGS, GET_FINDINGS),
)
def findings(ctx: AwsRegion) -> Iterator[Record]:
    """Unarchived findings of high severity (7+), the ones someone must triage."""
    gd = ctx.client("guardduty")
    criteria = {"Criterion": {"severity": {"Gte": int(HIGH_SEVERITY)}, "service.archived": {"Eq": ["false"]}}}
    for detector_id in LIST_DETECTORS.pages(gd):
        ids = list(LIST_FINDINGS.pages(gd, DetectorId=detector_id, FindingCriteria=criteria))
        for start in range(0, len(ids), FINDINGS_PER_CALL):
            batch = GET_FINDINGS(
                gd, DetectorId=detector_id, FindingIds=ids[start : start + FINDINGS_PER_CALL]
            )
            for f in batch.get("Findings", []):
                yield Record(resource_id=f["Arn"], data=_finding(f))
