"""Conditional access policies and whether security defaults are on: how MFA is enforced."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.entra.client import Item, names, nested, require_id
from collectors.entra.targets import EntraTenant

POLICIES = "GET /identity/conditionalAccess/policies"
SECURITY_DEFAULTS = "GET /policies/identitySecurityDefaultsEnforcementPolicy"
SECURITY_DEFAULTS_ID = "securityDefaults"
USER_LISTS = [
    "includeUsers",
    "excludeUsers",
    "includeGroups",
    "excludeGroups",
    "includeRoles",
    "excludeRoles",
]
APP_LISTS = ["includeApplications", "excludeApplications"]


def _policy(policy: Item) -> Item:
    conditions = nested(policy, "conditions", dict, POLICIES)
    users = nested(conditions, "users", dict, POLICIES)
    apps = nested(conditions, "applications", dict, POLICIES)
    grant = nested(policy, "grantControls", dict, POLICIES)
    strength = nested(grant, "authenticationStrength", dict, POLICIES)
    return {
        "kind": "policy",
        "id": policy["id"],
        "displayName": policy.get("displayName"),
        "state": policy.get("state"),
        **{f: names(users, f, POLICIES) for f in USER_LISTS},
        **{f: names(apps, f, POLICIES) for f in APP_LISTS},
        "clientAppTypes": names(conditions, "clientAppTypes", POLICIES),
        "builtInControls": names(grant, "builtInControls", POLICIES),
        "grantOperator": grant.get("operator"),
        "authenticationStrength": strength.get("displayName") or strength.get("id") or None,
    }


@collector(
    "entra.conditional_access",
    scope="entra_tenant",
    freshness=timedelta(hours=24),
    permissions=["Policy.Read.All"],
)
def conditional_access(tenant: EntraTenant) -> Iterator[Record]:
    """Each conditional access policy (state, who and what it covers, grant controls), plus security defaults."""
    with tenant.graph() as graph:
        for policy in graph.pages(POLICIES, graph.client.identity.conditional_access.policies):
            yield Record(resource_id=require_id(policy, POLICIES), data=_policy(policy))
        defaults_policy = graph.client.policies.identity_security_defaults_enforcement_policy
        defaults = graph.get(SECURITY_DEFAULTS, defaults_policy.to_get_request_information)
        yield Record(
            resource_id=SECURITY_DEFAULTS_ID,
            data={"kind": "security_defaults", "isEnabled": defaults.get("isEnabled") is True},
        )
