"""`python -m agent.plugin.permissions entra`: the app registration's Graph permissions, as JSON."""

from __future__ import annotations

import json

from agent.errors import PluginError
from agent.plugin import permissions_document

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Microsoft Graph's application permissions (app roles) by name: the ids are the same in every
# tenant and listed in Graph's permissions reference. A collector that declares a permission missing
# here stops the generator, rather than producing a manifest that silently lacks it.
GRAPH_APP_ROLES = {
    "AuditLog.Read.All": "b0afded3-3588-46d8-8b3d-9842eff778da",
    "DeviceManagementConfiguration.Read.All": "dc377aa6-52d8-4e23-b271-2a7ae04cedf3",
    "DeviceManagementManagedDevices.Read.All": "2f51be20-0bb4-4fed-bf7b-db946066c75e",
    "Policy.Read.All": "246dd0d5-5bd0-4def-940b-0421030a5b68",
    "RoleManagement.Read.Directory": "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "UserAuthenticationMethod.Read.All": "38d9df27-64da-44fd-b7c5-a6fbac20248f",
}


@permissions_document("entra")
def graph_required_access(permissions: list[str]) -> str:
    """An app registration's `requiredResourceAccess` (as `az ad app update --required-resource-accesses`
    takes it): Graph application permissions (`Role`), which need an administrator's consent."""
    unknown = [name for name in permissions if name not in GRAPH_APP_ROLES]
    if unknown:
        raise PluginError(
            f"Microsoft Graph permission {unknown[0]} has no known app-role id: add it to "
            "collectors.entra.permissions.GRAPH_APP_ROLES from Graph's permissions reference"
        )
    access = [{"id": GRAPH_APP_ROLES[name], "type": "Role"} for name in permissions]
    return json.dumps([{"resourceAppId": GRAPH_APP_ID, "resourceAccess": access}], indent=2) + "\n"
