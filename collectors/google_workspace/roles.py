"""Administrator role assignments, each with its role's name and whether it is the super admin role.

roles.list is read whole first (a customer has tens of roles, not thousands), then
roleAssignments.list is streamed page by page and joined to it. An assignment naming a role the
listing did not return fails the source: who holds what cannot be judged from half the picture.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import InputDataError, collector
from agent.plugin.model import Record
from collectors.google_workspace.client import ROLES_SCOPE, text
from collectors.google_workspace.targets import WorkspaceCustomer

ROLES_PAGE = 100  # the most roles.list returns a page
ASSIGNMENTS_PAGE = 200  # the most roleAssignments.list returns a page
ROLE_FIELDS = "nextPageToken,items(roleId,roleName,isSuperAdminRole)"
ASSIGNMENT_FIELDS = "nextPageToken,items(roleAssignmentId,roleId,assignedTo,assigneeType,scopeType,orgUnitId)"
ASSIGNEE_TYPES = frozenset({"user", "group"})
SCOPE_TYPES = frozenset({"CUSTOMER", "ORG_UNIT"})


def _roles(target: WorkspaceCustomer) -> dict[str, tuple[str, bool]]:
    """Role id -> (name, is the super admin role)."""
    what = f"directory.roles.list customer={target.customer_id}"

    def request(directory: Any, token: str | None) -> Any:
        return directory.roles().list(
            customer=target.customer_id, maxResults=ROLES_PAGE, fields=ROLE_FIELDS, pageToken=token
        )

    roles: dict[str, tuple[str, bool]] = {}
    for role in target.api.listing(what, request, "items"):
        role_id = text(role, "roleId", what)
        super_admin = role.get("isSuperAdminRole", False)  # Google may leave a false flag out
        if not isinstance(super_admin, bool):
            raise InputDataError(f"{what}: role {role_id} with an isSuperAdminRole that is not a boolean")
        roles[role_id] = (text(role, "roleName", f"{what}: role {role_id}"), super_admin)
    return roles


def _one_of(item: dict[str, Any], key: str, allowed: frozenset[str], what: str) -> str:
    value = item.get(key)
    if value not in allowed:
        raise InputDataError(f"{what}: {key} {value!r} is not one of {', '.join(sorted(allowed))}")
    return str(value)


@collector(
    "google_workspace.role_assignments",
    scope="google_workspace_customer",
    freshness=timedelta(hours=24),
    permissions=[ROLES_SCOPE],
)
def role_assignments(target: WorkspaceCustomer) -> Iterator[Record]:
    """Each admin role assignment: the role (and whether it is super admin), who holds it, where."""
    roles = _roles(target)
    what = f"directory.roleAssignments.list customer={target.customer_id}"

    def request(directory: Any, token: str | None) -> Any:
        return directory.roleAssignments().list(
            customer=target.customer_id,
            maxResults=ASSIGNMENTS_PAGE,
            fields=ASSIGNMENT_FIELDS,
            pageToken=token,
        )

    for assignment in target.api.listing(what, request, "items"):
        assignment_id = text(assignment, "roleAssignmentId", what)
        where = f"{what}: assignment {assignment_id}"
        role_id = text(assignment, "roleId", where)
        if role_id not in roles:
            raise InputDataError(f"{where} names role {role_id}, which roles.list did not return")
        name, super_admin = roles[role_id]
        org_unit = assignment.get("orgUnitId")
        if org_unit is not None and not isinstance(org_unit, str):
            raise InputDataError(f"{where}: an orgUnitId that is not a string")
        yield Record(
            resource_id=assignment_id,
            data={
                "roleAssignmentId": assignment_id,
                "roleId": role_id,
                "roleName": name,
                "isSuperAdminRole": super_admin,
                "assignedTo": text(assignment, "assignedTo", where),
                "assigneeType": _one_of(assignment, "assigneeType", ASSIGNEE_TYPES, where),
                "scopeType": _one_of(assignment, "scopeType", SCOPE_TYPES, where),
                "orgUnitId": org_unit or None,
            },
        )
