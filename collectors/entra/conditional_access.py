"""Conditional access policies and whether security defaults are on: how MFA is enforced."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.entra.client import enum_value, require_id
from collectors.entra.targets import EntraTenant

POLICIES = "GET /identity/conditionalAccess/policies"
SECURITY_DEFAULTS = "GET /policies/identitySecurityDefaultsEnforcementPolicy"
SECURITY_DEFAULTS_ID = "securityDefaults"


def _policy(policy: Any) -> dict[str, Any]:
    conditions = policy.conditions
    users = conditions.users if conditions else None
    apps = conditions.applications if conditions else None
    grant = policy.grant_controls
    strength = grant.authentication_strength if grant else None
    return {
        "kind": "policy",
        "id": policy.id,
        "displayName": policy.display_name,
        "state": enum_value(policy.state),
        "includeUsers": list(users.include_users or []) if users else [],
        "excludeUsers": list(users.exclude_users or []) if users else [],
        "includeGroups": list(users.include_groups or []) if users else [],
        "excludeGroups": list(users.exclude_groups or []) if users else [],
        "includeRoles": list(users.include_roles or []) if users else [],
        "excludeRoles": list(users.exclude_roles or []) if users else [],
        "includeApplications": list(apps.include_applications or []) if apps else [],
        "excludeApplications": list(apps.exclude_applications or []) if apps else [],
        "clientAppTypes": [enum_value(t) for t in (conditions.client_app_types or [])] if conditions else [],
        "builtInControls": [enum_value(c) for c in (grant.built_in_controls or [])] if grant else [],
        "grantOperator": grant.operator if grant else None,
        "authenticationStrength": strength.display_name or strength.id if strength else None,
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
        defaults = graph.call(
            SECURITY_DEFAULTS, graph.client.policies.identity_security_defaults_enforcement_policy.get
        )
        yield Record(
            resource_id=SECURITY_DEFAULTS_ID,
            data={"kind": "security_defaults", "isEnabled": bool(defaults and defaults.is_enabled)},
        )
