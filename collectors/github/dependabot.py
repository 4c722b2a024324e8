"""Open Dependabot alerts across the organisation, from the organisation-wide listing (cursor paged)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import InputDataError, collector
from agent.plugin.model import Record
from collectors.github.targets import GithubOrg

SEVERITIES = ("critical", "high", "medium", "low")


def _fields(alert: dict[str, Any], what: str) -> dict[str, Any]:
    advisory = alert.get("security_advisory") or {}
    severity = advisory.get("severity") or (alert.get("security_vulnerability") or {}).get("severity")
    if severity not in SEVERITIES:
        raise InputDataError(f"{what}: an alert without a known severity")
    package = ((alert.get("dependency") or {}).get("package") or {}).get("name")
    return {"severity": severity, "package": str(package or "")}


@collector(
    "github.alerts.dependabot",
    scope="github_org",
    freshness=timedelta(hours=24),
    permissions=["vulnerability_alerts:read"],
)
def dependabot_alerts(org: GithubOrg) -> Iterator[Record]:
    """Each open Dependabot alert: repository, severity, package and when it was raised."""
    yield from org.api.open_alerts("dependabot", _fields)
