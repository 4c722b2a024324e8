"""Entra ID users, members and guests alike: enabled state, type, employee id and last sign-in.

Only the fields the people checks need are selected (`$select`), which keeps pages small and
the evidence free of phone numbers, addresses and the like.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.users.users_request_builder import UsersRequestBuilder

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.entra.client import iso, require_id
from collectors.entra.targets import EntraTenant

PAGE_SIZE = 999
SELECT = [
    "id",
    "displayName",
    "userPrincipalName",
    "mail",
    "accountEnabled",
    "userType",
    "employeeId",
    "createdDateTime",
    "externalUserState",
    "signInActivity",
]


@collector(
    "entra.users",
    scope="entra_tenant",
    freshness=timedelta(hours=24),
    permissions=["User.Read.All", "AuditLog.Read.All"],
)
def users(tenant: EntraTenant) -> Iterator[Record]:
    """Every user with enabled state, type (Member/Guest), employee id, creation and last sign-ins."""
    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=SELECT, top=PAGE_SIZE)
    with tenant.graph() as graph:
        builder = graph.client.users
        for user in graph.pages("GET /users", builder, RequestConfiguration(query_parameters=query)):
            activity = user.sign_in_activity
            yield Record(
                resource_id=require_id(user, "GET /users"),
                data={
                    "id": user.id,
                    "displayName": user.display_name,
                    "userPrincipalName": user.user_principal_name,
                    "mail": user.mail,
                    "accountEnabled": user.account_enabled,
                    "userType": user.user_type,
                    "employeeId": user.employee_id,
                    "createdDateTime": iso(user.created_date_time),
                    "externalUserState": user.external_user_state,
                    "lastSignInDateTime": iso(activity.last_sign_in_date_time) if activity else None,
                    "lastNonInteractiveSignInDateTime": (
                        iso(activity.last_non_interactive_sign_in_date_time) if activity else None
                    ),
                    "lastSuccessfulSignInDateTime": (
                        iso(activity.last_successful_sign_in_date_time) if activity else None
                    ),
                },
            )
