"""Open code-scanning alerts across the organisation, from the organisation-wide listing.

GitHub lists the alerts of every repository where code scanning is available; a 403 or 404 for the
whole organisation says the token may not read them (not an owner or security manager, or no
`security_events` permission), never that there are none, so it fails the source.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import InputDataError, collector
from agent.plugin.model import Record
from collectors.github.dependabot import SEVERITIES
from collectors.github.targets import GithubOrg


def _fields(alert: dict[str, Any], what: str) -> dict[str, Any]:
    """The rule's security severity (None for a rule that is not about security) and the tool."""
    severity = (alert.get("rule") or {}).get("security_severity_level")
    if severity is not None and severity not in SEVERITIES:
        raise InputDataError(f"{what}: an alert with an unknown security severity {severity!r}")
    tool = (alert.get("tool") or {}).get("name")
    return {"severity": severity, "tool": str(tool or "")}


@collector(
    "github.alerts.code_scanning",
    scope="github_org",
    freshness=timedelta(hours=24),
    permissions=["security_events:read"],
)
def code_scanning_alerts(org: GithubOrg) -> Iterator[Record]:
    """Each open code-scanning alert: repository, security severity, tool and when it was raised."""
    yield from org.api.open_alerts("code-scanning", _fields)
