"""`python -m agent.plugin.permissions github`: the GitHub App's permissions, as a manifest's
`default_permissions` object (JSON)."""

from __future__ import annotations

import json

from agent.errors import PluginError
from agent.plugin import permissions_document

# GitHub App permissions Annexa may ask for, by the name an app manifest uses. A collector that
# declares another name (a typo, a write) stops the generator rather than producing a manifest
# GitHub would refuse or that grants more than reading.
KNOWN = frozenset(
    {
        "administration",
        "members",
        "metadata",
        "organization_administration",
        "secret_scanning_alerts",
        "security_events",
        "vulnerability_alerts",
    }
)


@permissions_document("github")
def app_permissions(permissions: list[str]) -> str:
    """`{"members": "read", ...}`: the `default_permissions` of a GitHub App manifest, read-only."""
    granted: dict[str, str] = {}
    for declared in permissions:
        name, _, access = declared.partition(":")
        if name not in KNOWN or access != "read":
            raise PluginError(
                f"GitHub App permission {declared!r} is not a known read permission: "
                "add its manifest name to collectors.github.permissions.KNOWN"
            )
        granted[name] = access
    return json.dumps(granted, indent=2, sort_keys=True) + "\n"
