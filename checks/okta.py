"""Okta checks: second factors of users and administrators, MFA in sign-on policies, admin count, dormancy."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._judging import as_list, judge_inactive, or_nothing_to_judge
from checks._okta import (
    ADMIN_ROLES,
    POLICIES,
    USERS,
    WEAK_FACTORS,
    created,
    holder_id,
    holds_any,
    is_active,
    last_login,
    login,
    mfa_factors,
    role_names,
)

SIGN_ON, ACCESS = "OKTA_SIGN_ON", "ACCESS_POLICY"
SUPER_ADMIN = "SUPER_ADMIN"
IGNORED_HELP = "ignored_factor_types (factor types that do not count as a second factor)"


def _factors(user: Record, ignored: Collection[str]) -> tuple[bool, str] | None:
    """Whether the user has a counted factor, and the phrase saying which; None when not listed."""
    counted = mfa_factors(user, ignored)
    if counted is None:
        return None
    if counted:
        return True, f"enrolled in {', '.join(sorted(set(counted)))}"
    weak = sorted(set(mfa_factors(user, ()) or []))
    if weak:
        return False, f"only {', '.join(weak)} enrolled, which do not count as a second factor"
    return False, "no active factor enrolled"


# Statuses of an account whose person has not signed in yet: enrollment comes with activation.
NOT_ACTIVATED = frozenset({"STAGED", "PROVISIONED"})


# --- users' and administrators' factors -----------------------------------------------------------


@check(
    "okta.mfa.user_not_enrolled",
    title="Active Okta users have a second factor enrolled",
    controls={
        "A.8.5": "Secure authentication needs a second factor each user has enrolled.",
        "A.5.17": "Authentication information includes a factor beyond the password.",
    },
    severity="minor",
    needs=[USERS],
    rationale="A user without an enrolled factor cannot be challenged for MFA; security questions and email "
    "codes fall to whoever has the password or the mailbox.",
    remediation="Have the user enroll Okta Verify, a FIDO2 key or another possession factor, and require "
    f"enrollment in the authenticator enrollment policy; see {IGNORED_HELP}.",
    params={"ignored_factor_types": list(WEAK_FACTORS)},
)
@or_nothing_to_judge("active users")
def user_not_enrolled(ev: Evidence) -> Iterator[Result]:
    """Each active user must have at least one ACTIVE factor whose type is not ignored; a user not
    activated yet (a joiner before the first sign-in) enrolls at activation and is not judged."""
    ignored = as_list(ev.param("ignored_factor_types"), "ignored_factor_types")
    for user in ev.records(USERS):
        if not is_active(user):
            continue
        if user.data.get("status") in NOT_ACTIVATED:
            yield Result.not_applicable(user, f"{login(user)}: {user.data['status']}, not activated yet")
            continue
        verdict = _factors(user, ignored)
        if verdict is None:
            yield Result.error(user.resource_id, f"{login(user)}: the user's factors were not listed")
            continue
        passed, text = verdict
        yield Result.of(user, passed=passed, reason=f"{login(user)}: {text}")


@check(
    "okta.admins.without_mfa",
    title="Okta administrators have a second factor enrolled",
    controls={
        "A.8.2": "Privileged access rights deserve the strongest authentication.",
        "A.8.5": "Administrators authenticate with more than a password.",
    },
    severity="major",
    needs=[ADMIN_ROLES, USERS],
    rationale="An Okta administrator controls sign-in to every application behind Okta: one phished password "
    "gives all of them away.",
    remediation="Enroll a phishing-resistant factor (FIDO2 key, Okta Verify with FastPass) for the administrator "
    f"now, or remove the admin role; see {IGNORED_HELP}.",
    params={"ignored_factor_types": list(WEAK_FACTORS)},
)
@or_nothing_to_judge("active users holding admin roles")
def admins_without_mfa(ev: Evidence) -> Iterator[Result]:
    """Each active admin role holder must have a counted factor; a holder Okta did not list as a
    user is an error (its status and factors are unknown), never left out."""
    ignored = as_list(ev.param("ignored_factor_types"), "ignored_factor_types")
    users = ev.index(USERS, lambda r: r.resource_id)
    for holder in ev.records(ADMIN_ROLES):
        uid, roles = holder_id(holder), ", ".join(role_names(holder))
        user = users.get(uid)
        if user is None:
            yield Result.error(uid, f"admin role holder {uid} ({roles}) is not in the okta.users evidence")
            continue
        if not is_active(user):
            continue
        verdict = _factors(user, ignored)
        if verdict is None:
            yield Result.error(uid, f"{login(user)} ({roles}): the user's factors were not listed")
            continue
        passed, text = verdict
        yield Result.of(
            user, holder, passed=passed, reason=f"{login(user)} ({roles}): {text}", resource_id=uid
        )


@check(
    "okta.admins.count",
    title="Okta super administrators are few",
    controls={"A.8.2": "Allocation of the most privileged role is restricted to as few people as needed."},
    severity="minor",
    needs=[ADMIN_ROLES, USERS],
    rationale="A super administrator can change every policy, user and application in Okta; each one more is "
    "one more target.",
    remediation="Move administrators to narrower roles (org, app, group or custom admin) until the count is "
    "within the limit; keep counted_roles to the roles that can do everything.",
    params={"counted_roles": [SUPER_ADMIN], "max_admins": 4},
)
def admins_count(ev: Evidence) -> Iterator[Result]:
    """One verdict for the org: active holders of the counted roles (by type, or a custom role's
    label) at most `max_admins`. A holder missing from the user listing is counted: it may be active."""
    counted = as_list(ev.param("counted_roles"), "counted_roles")
    limit = int(ev.param("max_admins"))
    users = ev.index(USERS, lambda r: r.resource_id)
    cited: list[Record] = []
    names: list[str] = []
    for holder in ev.records(ADMIN_ROLES):
        user = users.get(holder_id(holder))
        if not holds_any(holder, counted) or (user is not None and not is_active(user)):
            continue
        cited += [holder] if user is None else [holder, user]
        names.append(login(user) if user else f"{holder_id(holder)} (not in okta.users)")
    if not names and SUPER_ADMIN.casefold() in {r.casefold() for r in counted}:
        reason = (
            f"no active {SUPER_ADMIN} in the evidence: every Okta org has one, so the evidence is incomplete"
        )
        yield Result.error(ev.scope, reason)
        return
    shown = f": {', '.join(sorted(names))}" if names else ""
    reason = f"{len(names)} active holder(s) of {', '.join(counted)} (limit {limit}){shown}"
    yield Result.of(*cited, passed=len(names) <= limit, reason=reason, resource_id=ev.scope)


# --- sign-on policies -----------------------------------------------------------------------------


def _allowing(policy: Record) -> list[dict[str, Any]]:
    """The ACTIVE rules of a policy that let someone in (anything but DENY: unknown access allows)."""
    rules = policy.data.get("rules") or []
    return [r for r in rules if r.get("status") == "ACTIVE" and r.get("access") != "DENY"]


def _review(
    policies: list[Record], enforces: Callable[[dict[str, Any]], bool], says: Callable[[dict[str, Any]], str]
) -> tuple[list[str], list[str]]:
    """The rules that allow without MFA (as `says` words them), and the exclusions of those that enforce it."""
    offending: list[str] = []
    exclusions: list[str] = []
    for policy in policies:
        for rule in _allowing(policy):
            name = f"{policy.data.get('name')!r} rule {rule.get('name')!r}"
            if not enforces(rule):
                offending.append(f"{name}{says(rule)}")
                continue
            parts = [
                f"{what} {', '.join(map(str, ids))}"
                for what, ids in (
                    ("user(s)", rule.get("usersExcluded")),
                    ("group(s)", rule.get("groupsExcluded")),
                )
                if ids
            ]
            if parts:
                exclusions.append(f"{name} excludes {' and '.join(parts)}")
    return offending, exclusions


def _active_of(records: list[Record], kind: str) -> list[Record]:
    return [p for p in records if p.data.get("type") == kind and p.data.get("status") == "ACTIVE"]


@check(
    "okta.mfa.policy_enforced",
    title="Okta sign-on policies require a second factor",
    controls={
        "A.8.5": "Secure authentication is enforced by policy, not left to each user.",
        "A.5.17": "The organisation, not each user, decides that a second factor is part of every sign-in.",
    },
    severity="major",
    needs=[POLICIES],
    rationale="Enrolled factors protect nothing unless sign-in is required to use them; one rule allowing "
    "password-only sign-in is the way in for a phished password.",
    remediation="Require a factor in every rule of the global session policy that allows sign-in (or set every "
    "authentication policy rule that allows access to 2FA), excluding only documented break-glass accounts.",
)
def policy_enforced(ev: Evidence) -> Iterator[Result]:
    """One verdict per org: every allowing sign-on rule requires a factor, or else every allowing
    authentication policy rule requires 2FA; rules that do not, and exclusions, are named."""
    records = ev.records(POLICIES)
    resource = f"{ev.scope}:mfa-enforcement"
    if not any(p.data.get("type") == SIGN_ON for p in records):
        yield Result.error(resource, f"no {SIGN_ON} policy in the evidence: every Okta org has one")
        return
    sign_on, access = _active_of(records, SIGN_ON), _active_of(records, ACCESS)
    bad_sign_on, excluded_sign_on = _review(sign_on, lambda r: r.get("requireFactor") is True, lambda r: "")
    bad_access, excluded_access = _review(
        access,
        lambda r: r.get("factorMode") == "2FA",
        lambda r: f" ({r.get('factorMode') or 'no factor mode'})",
    )
    if sign_on and not bad_sign_on:
        passed, excluded = True, excluded_sign_on
        reason = f"every active sign-on policy rule allowing sign-in requires a factor ({len(sign_on)} policy(ies))"
    elif access and not bad_access:
        passed, excluded = True, excluded_access
        reason = (
            f"MFA enforced per app: every active authentication policy rule allowing access requires 2FA "
            f"({len(access)} policy(ies)); sign-on rules without a factor: {'; '.join(bad_sign_on) or 'none active'}"
        )
    else:
        passed, excluded = False, excluded_sign_on + excluded_access
        no_factor = "; ".join(bad_sign_on) or f"no active {SIGN_ON} policy"
        one_factor = "; ".join(bad_access) or f"no active {ACCESS}"
        reason = (
            f"MFA not enforced: sign-on rules allowing sign-in without a factor: {no_factor}; "
            f"authentication policy rules allowing access without 2FA: {one_factor}"
        )
    if excluded:
        reason += f"; review the exclusions: {'; '.join(excluded)}"
    yield Result.of(*records, passed=passed, reason=reason, resource_id=resource)


# --- dormant accounts -----------------------------------------------------------------------------


@check(
    "okta.users.inactive",
    title="Active Okta users have logged in recently",
    controls={
        "A.5.18": "Access no longer needed is removed; disuse is the signal.",
        "A.8.2": "Dormant accounts keep privileges nobody is exercising or watching.",
    },
    severity="minor",
    needs=[USERS],
    rationale="A dormant Okta account still opens every application assigned to it, and nobody notices when "
    "it is used again.",
    remediation="Confirm with the owner's manager whether the access is still needed; suspend or deactivate "
    "the user if not, or exempt a documented service account with exempt_accounts (login patterns).",
    params={"max_inactive_days": 90, "exempt_accounts": []},
)
@or_nothing_to_judge("active users")
def users_inactive(ev: Evidence) -> Iterator[Result]:
    """Last login within the limit, or created within it when the user never logged in."""
    active = (u for u in ev.records(USERS) if is_active(u))
    yield from judge_inactive(ev, active, login, last_login, created)
