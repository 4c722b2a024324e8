"""Sign-on policies: the global session policies (OKTA_SIGN_ON) and the authentication policies
(ACCESS_POLICY), each with its rules, as they decide who must present a second factor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.errors import InputDataError
from agent.plugin import collector
from agent.plugin.model import Record
from collectors.okta.client import quoted
from collectors.okta.fields import ids, optional_text, path, text
from collectors.okta.scopes import POLICIES_READ
from collectors.okta.targets import OktaOrg

SIGN_ON, ACCESS = "OKTA_SIGN_ON", "ACCESS_POLICY"
ACCESS_VALUES = ("ALLOW", "DENY")
FACTOR_MODES = ("1FA", "2FA")
PAGE = 200


def _rule(rule: dict[str, Any], kind: str, what: str) -> dict[str, Any]:
    rule_id = text(rule, "id", what, kind="a rule")
    people = path(rule, what, "conditions", "people")
    if kind == SIGN_ON:
        action = path(rule, what, "actions", "signon")
        require = path(action, what, "requireFactor")
        if require is not None and not isinstance(require, bool):
            raise InputDataError(f"{what}: rule {rule_id}'s requireFactor is not a boolean")
        mode = None
    else:
        action = path(rule, what, "actions", "appSignOn")
        require = None
        mode = path(action, what, "verificationMethod", "factorMode")
        if mode is not None and mode not in FACTOR_MODES:
            raise InputDataError(f"{what}: rule {rule_id} has an unknown factorMode {mode!r}")
    access = path(action, what, "access")
    if access not in ACCESS_VALUES:
        raise InputDataError(f"{what}: rule {rule_id} has no ALLOW or DENY access")
    return {
        "id": rule_id,
        "name": optional_text(rule, "name", what),
        "status": optional_text(rule, "status", what),
        "priority": rule.get("priority"),
        "system": rule.get("system") is True,
        "groupsIncluded": ids(path(people, what, "groups", "include"), what, "groups.include"),
        "groupsExcluded": ids(path(people, what, "groups", "exclude"), what, "groups.exclude"),
        "usersExcluded": ids(path(people, what, "users", "exclude"), what, "users.exclude"),
        "access": access,
        "requireFactor": require,
        "factorMode": mode,
    }


def _policy(policy: dict[str, Any], kind: str, what: str) -> dict[str, Any]:
    policy_id = text(policy, "id", what, kind="a policy")
    if policy.get("type") != kind:
        raise InputDataError(f"{what}: policy {policy_id} is not of type {kind}")
    included = path(policy, what, "conditions", "people", "groups", "include")
    return {
        "id": policy_id,
        "name": optional_text(policy, "name", what),
        "type": kind,
        "status": optional_text(policy, "status", what),
        "priority": policy.get("priority"),
        "system": policy.get("system") is True,
        "groupsIncluded": ids(included, what, "conditions.people.groups.include"),
    }


@collector("okta.policies", scope="okta_org", freshness=timedelta(hours=24), permissions=[POLICIES_READ])
def policies(org: OktaOrg) -> Iterator[Record]:
    """Each OKTA_SIGN_ON and ACCESS_POLICY policy with its rules."""
    what = "GET /api/v1/policies"
    for kind in (SIGN_ON, ACCESS):
        for page in org.api.pages("/api/v1/policies", POLICIES_READ, type=kind, limit=PAGE):
            found = [_policy(policy, kind, what) for policy in page]
            paths = [f"/api/v1/policies/{quoted(p['id'])}/rules" for p in found]
            for policy, rules in zip(found, org.api.listings(paths, POLICIES_READ), strict=True):
                call = f"GET /api/v1/policies/{policy['id']}/rules"
                data = {**policy, "rules": [_rule(rule, kind, call) for rule in rules]}
                yield Record(resource_id=policy["id"], data=data)
