"""Authentication-method registration per user (the MFA registration report)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.reports.authentication_methods.user_registration_details.user_registration_details_request_builder import (
    UserRegistrationDetailsRequestBuilder,
)

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.entra.client import fields, iso, names, require_id
from collectors.entra.targets import EntraTenant

WHAT = "GET /reports/authenticationMethods/userRegistrationDetails"
PAGE_SIZE = 999
PLAIN = ["id", "userPrincipalName", "isMfaRegistered", "isMfaCapable", "isAdmin", "userType"]
SELECT = [*PLAIN, "methodsRegistered", "lastUpdatedDateTime"]


@collector(
    "entra.auth_methods",
    scope="entra_tenant",
    freshness=timedelta(hours=24),
    permissions=["AuditLog.Read.All", "UserAuthenticationMethod.Read.All"],
)
def auth_methods(tenant: EntraTenant) -> Iterator[Record]:
    """Whether each user has MFA registered and which methods, keyed by the user's object id."""
    query = UserRegistrationDetailsRequestBuilder.UserRegistrationDetailsRequestBuilderGetQueryParameters(
        select=SELECT, top=PAGE_SIZE
    )
    with tenant.graph() as graph:
        builder = graph.client.reports.authentication_methods.user_registration_details
        for detail in graph.pages(WHAT, builder, RequestConfiguration(query_parameters=query)):
            yield Record(
                resource_id=require_id(detail, WHAT),
                data={
                    **fields(detail, PLAIN),
                    "methodsRegistered": sorted(names(detail, "methodsRegistered", WHAT)),
                    "lastUpdatedDateTime": iso(detail, "lastUpdatedDateTime", WHAT),
                },
            )
