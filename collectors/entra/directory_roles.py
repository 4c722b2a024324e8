"""Activated directory roles and their members: who holds Global Administrator and the like."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.directory_roles.item.members.members_request_builder import MembersRequestBuilder

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.entra.client import Item, require_id
from collectors.entra.targets import EntraTenant

ROLES = "GET /directoryRoles"
MEMBER_TYPES = {
    "#microsoft.graph.user": "user",
    "#microsoft.graph.group": "group",
    "#microsoft.graph.servicePrincipal": "servicePrincipal",
}


def _member(item: Item, what: str) -> dict[str, str]:
    return {"id": require_id(item, what), "type": MEMBER_TYPES.get(item.get("@odata.type") or "", "other")}


@collector(
    "entra.directory_roles",
    scope="entra_tenant",
    freshness=timedelta(hours=24),
    permissions=["RoleManagement.Read.Directory"],
)
def directory_roles(tenant: EntraTenant) -> Iterator[Record]:
    """Each activated role with its template id and the ids and kinds of its direct members."""
    query = MembersRequestBuilder.MembersRequestBuilderGetQueryParameters(select=["id"])
    with tenant.graph() as graph:
        for role in list(graph.pages(ROLES, graph.client.directory_roles)):
            role_id = require_id(role, ROLES)
            what = f"GET /directoryRoles/{role_id}/members"
            members = graph.client.directory_roles.by_directory_role_id(role_id).members
            listed = graph.pages(what, members, RequestConfiguration(query_parameters=query))
            yield Record(
                resource_id=role_id,
                data={
                    "id": role_id,
                    "displayName": role.get("displayName"),
                    "roleTemplateId": role.get("roleTemplateId"),
                    "members": sorted((_member(m, what) for m in listed), key=lambda m: m["id"]),
                },
            )
