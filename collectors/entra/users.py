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
from collectors.entra.client import fields, iso, nested, require_id
from collectors.entra.targets import EntraTenant

WHAT = "GET /users"
PAGE_SIZE = 999
PLAIN = [  # stored as Graph writes them
    "id",
    "displayName",
    "userPrincipalName",
    "mail",
    "accountEnabled",
    "userType",
    "employeeId",
    "externalUserState",
]
SELECT = [*PLAIN, "createdDateTime", "signInActivity"]
SIGN_INS = ["lastSignInDateTime", "lastNonInteractiveSignInDateTime", "lastSuccessfulSignInDateTime"]


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
        for user in graph.pages(WHAT, builder, RequestConfiguration(query_parameters=query)):
            activity = nested(user, "signInActivity", dict, WHAT)
            yield Record(
                resource_id=require_id(user, WHAT),
                data={
                    **fields(user, PLAIN),
                    "createdDateTime": iso(user, "createdDateTime", WHAT),
                    **{name: iso(activity, name, WHAT) for name in SIGN_INS},
                },
            )
