"""Who holds admin roles: each user with a role assignment (their own or through a group), and
their roles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.okta.client import quoted
from collectors.okta.fields import optional_text, text
from collectors.okta.scopes import ROLES_READ
from collectors.okta.targets import OktaOrg

PAGE = 100  # the most the IAM listing gives per page


def _role(role: dict[str, Any], what: str) -> dict[str, Any]:
    return {
        "id": text(role, "id", what, kind="a role"),
        "type": text(role, "type", what, kind="a role"),
        "label": optional_text(role, "label", what),
        "status": optional_text(role, "status", what),
        "assignmentType": optional_text(role, "assignmentType", what),
    }


@collector("okta.admin_roles", scope="okta_org", freshness=timedelta(hours=24), permissions=[ROLES_READ])
def admin_roles(org: OktaOrg) -> Iterator[Record]:
    """Each user holding at least one admin role, with every role they hold: the IAM listing of
    users with role assignments, then each one's roles (users' own and their groups')."""
    what = "GET /api/v1/iam/assignees/users"
    for page in org.api.pages("/api/v1/iam/assignees/users", ROLES_READ, limit=PAGE):
        holders = [text(holder, "id", what, kind="a user") for holder in page]
        paths = [f"/api/v1/users/{quoted(user_id)}/roles" for user_id in holders]
        for user_id, found in zip(holders, org.api.listings(paths, ROLES_READ), strict=True):
            call = f"GET /api/v1/users/{user_id}/roles"
            roles = [_role(role, call) for role in found]
            if roles:  # unassigned since the listing: no longer an administrator
                yield Record(resource_id=user_id, data={"userId": user_id, "roles": roles})
