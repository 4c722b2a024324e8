"""Okta's JSON for the simulated org's objects: users with `profile` and `_links`, factors, role
assignments, policies and their rules, in the shapes the Management API answers with."""

from __future__ import annotations

from typing import Any

from simulators.okta.world import CREATED, Factor, Policy, Role, Rule, User


def user_json(base: str, user: User) -> dict[str, Any]:
    href = f"{base}/api/v1/users/{user.id}"
    profile: dict[str, Any] = {
        "firstName": user.first_name,
        "lastName": user.last_name,
        "mobilePhone": None,
        "secondEmail": None,
        "login": user.login,
        "email": user.email or user.login,
    }
    if user.employee_number is not None:
        profile["employeeNumber"] = user.employee_number
    return {
        "id": user.id,
        "status": user.status,
        "created": user.created,
        "activated": user.activated,
        "statusChanged": user.status_changed,
        "lastLogin": user.last_login,
        "lastUpdated": user.status_changed or user.created,
        "passwordChanged": user.activated,
        "type": {"id": "oty00000000000000001"},
        "profile": profile,
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {"self": {"href": href}},
    }


def factor_json(base: str, user: User, item: Factor) -> dict[str, Any]:
    return {
        "id": item.id,
        "factorType": item.factor_type,
        "provider": item.provider,
        "vendorName": item.provider,
        "status": item.status,
        "created": user.created,
        "lastUpdated": user.created,
        "profile": {},
        "_links": {"self": {"href": f"{base}/api/v1/users/{user.id}/factors/{item.id}"}},
    }


def role_json(base: str, user: User, item: Role) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": item.id,
        "label": item.label,
        "type": item.type,
        "status": item.status,
        "created": CREATED,
        "lastUpdated": CREATED,
        "assignmentType": item.assignment_type,
        "_links": {"assignee": {"href": f"{base}/api/v1/users/{user.id}"}},
    }
    if item.type == "CUSTOM":
        doc |= {"role": f"cr0{item.id}", "resource-set": "iamResourceSet000001"}
    return doc


def people(
    include: list[str], exclude: list[str] | None = None, users: list[str] | None = None
) -> dict[str, Any]:
    groups: dict[str, Any] = {"include": include}
    if exclude is not None:
        groups["exclude"] = exclude
    people: dict[str, Any] = {"groups": groups}
    if users is not None:
        people["users"] = {"exclude": users}
    return people


def rule_json(policy: Policy, rule: Rule) -> dict[str, Any]:
    who = people(rule.groups_include, rule.groups_exclude, rule.users_exclude)
    if policy.type == "ACCESS_POLICY":
        method: dict[str, Any] = {"type": "ASSURANCE", "reauthenticateIn": "PT2H"}
        if rule.factor_mode is not None:
            method["factorMode"] = rule.factor_mode
        actions: dict[str, Any] = {"appSignOn": {"access": rule.access, "verificationMethod": method}}
        conditions: dict[str, Any] | None = {"people": who} if not rule.system else None
    else:
        signon: dict[str, Any] = {"access": rule.access, "primaryFactor": "PASSWORD_IDP_ANY_FACTOR"}
        if rule.require_factor is not None:
            signon |= {"requireFactor": rule.require_factor, "rememberDeviceByDefault": False}
        signon["session"] = {"usePersistentCookie": False, "maxSessionIdleMinutes": 120}
        actions = {"signon": signon}
        conditions = {"people": who, "network": {"connection": "ANYWHERE"}}
    return {
        "id": rule.id,
        "status": rule.status,
        "name": rule.name,
        "priority": rule.priority,
        "system": rule.system,
        "type": "ACCESS_POLICY" if policy.type == "ACCESS_POLICY" else "SIGN_ON",
        "conditions": conditions,
        "actions": actions,
        "created": CREATED,
        "lastUpdated": CREATED,
    }


def policy_json(base: str, policy: Policy) -> dict[str, Any]:
    conditions = {"people": people(policy.groups_include)} if policy.groups_include else None
    return {
        "id": policy.id,
        "status": policy.status,
        "name": policy.name,
        "description": f"{policy.name} ({policy.type})",
        "priority": policy.priority,
        "system": policy.system,
        "conditions": conditions,
        "created": CREATED,
        "lastUpdated": CREATED,
        "type": policy.type,
        "_links": {"rules": {"href": f"{base}/api/v1/policies/{policy.id}/rules"}},
    }
