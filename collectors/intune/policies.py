"""Intune device compliance policies and the platform each one is written for.

Graph lists every policy as its platform's subtype (`#microsoft.graph.windows10CompliancePolicy`,
...); the platform is read from that type, named as devices' `operatingSystem` families are, so
the coverage check can match policies to the platforms in use. Settings are not collected.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.entra.client import require_id
from collectors.intune.targets import IntuneTenant

WHAT = "GET /deviceManagement/deviceCompliancePolicies"
ODATA_PREFIX = "#microsoft.graph."
# Subtype name prefixes (case-insensitive, first match wins) → platform. Windows 10 Mobile and
# Windows Phone policies do not govern Windows PCs, so they are a platform of their own.
PLATFORMS = (
    ("windows10Mobile", "Windows Mobile"),
    ("windowsPhone", "Windows Mobile"),
    ("windows", "Windows"),
    ("macOS", "macOS"),
    ("ios", "iOS"),
    ("android", "Android"),
    ("aosp", "Android"),
)


def platform(odata_type: str | None) -> str:
    """`Windows` for `#microsoft.graph.windows10CompliancePolicy`; an unknown subtype keeps its name."""
    name = (odata_type or "").removeprefix(ODATA_PREFIX)
    folded = name.casefold()
    found = next((p for prefix, p in PLATFORMS if folded.startswith(prefix.casefold())), None)
    return found or name or "unknown"


@collector(
    "intune.policies.compliance",
    scope="intune_tenant",
    freshness=timedelta(hours=24),
    permissions=["DeviceManagementConfiguration.Read.All"],
)
def compliance_policies(tenant: IntuneTenant) -> Iterator[Record]:
    """Every device compliance policy, keyed by its id, with its name and the platform it applies to."""
    with tenant.graph() as graph:
        builder = graph.client.device_management.device_compliance_policies
        for policy in graph.pages(WHAT, builder):
            yield Record(
                resource_id=require_id(policy, WHAT),
                data={
                    "id": policy["id"],
                    "displayName": policy.get("displayName"),
                    "platform": platform(policy.get("@odata.type")),
                },
            )
