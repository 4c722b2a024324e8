"""`python -m agent.plugin.permissions intune`: the Graph permissions Intune adds to the app registration.

Intune signs in with `[entra]`'s app registration, so this is the same manifest shape as
deploy/entra/graph-permissions.json, from the same table of Graph app-role ids.
"""

from __future__ import annotations

from agent.plugin import permissions_document
from collectors.entra.permissions import graph_required_access


@permissions_document("intune")
def intune_required_access(permissions: list[str]) -> str:
    """Intune's Graph application permissions, as `requiredResourceAccess`."""
    return graph_required_access(permissions)
