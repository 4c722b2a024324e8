"""Google Workspace checks: 2-step verification of users and administrators, its enforcement, admin count,
dormancy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._google_workspace import (
    ROLE_ASSIGNMENTS,
    USERS,
    created,
    email,
    enrolled_in_2sv,
    is_active,
    is_super_admin,
    last_login,
)
from checks._judging import judge_inactive, or_nothing_to_judge

TWO_SV = "2-step verification"


def _active(ev: Evidence) -> list[Record]:
    return [u for u in ev.records(USERS) if is_active(u)]


def _judge_2sv(user: Record, who: str, *cited: Record) -> Result:
    """Pass when enrolled in 2SV; a flag the evidence does not carry is an error, never a verdict."""
    enrolled = enrolled_in_2sv(user)
    if enrolled is None:
        return Result.error(user.resource_id, f"{who}: {TWO_SV} enrolment not reported")
    state = "enrolled" if enrolled else "not enrolled"
    return Result.of(user, *cited, passed=enrolled, reason=f"{who}: {state} in {TWO_SV}")


# --- 2-step verification ---------------------------------------------------------------------------


@check(
    "google_workspace.mfa.user_not_enrolled",
    title="Active Google Workspace users are enrolled in 2-step verification",
    controls={
        "A.8.5": "Secure authentication needs a second factor each user has enrolled.",
        "A.5.17": "Authentication information includes a factor beyond the password.",
    },
    severity="minor",
    needs=[USERS],
    rationale="A user not enrolled in 2-step verification signs in with the password alone; one phished "
    "password opens the mailbox, the drive and every app signed in with Google.",
    remediation="Have the user enroll a security key or Google prompts, and enforce 2-step verification for "
    "their organisational unit so enrolment is not optional.",
)
@or_nothing_to_judge("active users")
def user_not_enrolled(ev: Evidence) -> Iterator[Result]:
    """Each active (neither suspended nor archived) user must be enrolled in 2SV."""
    for user in _active(ev):
        yield _judge_2sv(user, email(user))


@check(
    "google_workspace.mfa.enforced",
    title="2-step verification is enforced for every Google Workspace user",
    controls={
        "A.8.5": "Secure authentication is enforced by policy, not left to each user.",
        "A.5.17": "The organisation, not each user, decides that a second factor is part of every sign-in.",
    },
    severity="major",
    needs=[USERS],
    rationale="Where 2-step verification is only allowed, each user decides whether to use it and may turn "
    "it off again; enrolment protects nothing the policy does not require.",
    remediation="Admin console → Security → 2-Step Verification: enforce it for every organisational unit "
    "(after an enrolment period), with exceptions only for documented break-glass accounts.",
)
def enforced(ev: Evidence) -> Iterator[Result]:
    """One verdict per customer: every active user has 2SV enforced; the failure counts the users
    where it is not, per organisational unit, so the policy can be fixed where it is off."""
    resource = f"{ev.scope}:2sv-enforcement"
    active = _active(ev)
    if not active:
        # A customer always has an active super admin: a listing without any active user is not
        # evidence that the policy covers everyone, it is evidence that something is missing.
        yield Result.error(resource, f"no active user in the evidence: {TWO_SV} enforcement cannot be judged")
        return
    lax = [u for u in active if u.data.get("isEnforcedIn2Sv") is not True]
    if not lax:
        reason = f"{TWO_SV} is enforced for all {len(active)} active user(s)"
        yield Result.of(*active, passed=True, reason=reason, resource_id=resource)
        return
    units = Counter(str(u.data.get("orgUnitPath") or "(no organisational unit)") for u in lax)
    shown = ", ".join(f"{unit} ({n})" for unit, n in sorted(units.items(), key=lambda i: (-i[1], i[0])))
    reason = f"{TWO_SV} is not enforced for {len(lax)} of {len(active)} active user(s): {shown}"
    yield Result.of(*lax, passed=False, reason=reason, resource_id=resource)


# --- administrators --------------------------------------------------------------------------------


def _role_names(roles: list[Record], *, super_admin: bool = False) -> list[str]:
    """Role names once each, the super admin role (`_SEED_ADMIN_ROLE` in the API) as `super admin`."""
    names = {
        "super admin" if r.data.get("isSuperAdminRole") is True else str(r.data.get("roleName"))
        for r in roles
    }
    return sorted(names | ({"super admin"} if super_admin else set()))


@check(
    "google_workspace.admins.without_mfa",
    title="Google Workspace administrators are enrolled in 2-step verification",
    controls={
        "A.8.2": "Privileged access rights deserve the strongest authentication.",
        "A.8.5": "Administrators authenticate with more than a password.",
    },
    severity="major",
    needs=[USERS, ROLE_ASSIGNMENTS],
    rationale="A Workspace administrator can read any mailbox, reset any password and change sign-in for the "
    "whole domain: one phished password gives all of that away.",
    remediation="Enroll a security key for the administrator now (and enforce 2SV for the admins' "
    "organisational unit), or remove the admin role.",
)
@or_nothing_to_judge("active administrators")
def admins_without_mfa(ev: Evidence) -> Iterator[Result]:
    """Active super admins, delegated admins and holders of a role assigned to them as users must be
    enrolled in 2SV. A role assigned to a user missing from the user listing is an error."""
    assigned: dict[str, list[Record]] = {}
    for rec in ev.records(ROLE_ASSIGNMENTS):
        if rec.data.get("assigneeType") == "user":
            assigned.setdefault(str(rec.data.get("assignedTo")), []).append(rec)
    users = ev.index(USERS, lambda r: r.resource_id)
    for uid, roles in sorted(assigned.items()):
        if uid not in users:
            held = ", ".join(_role_names(roles))
            yield Result.error(
                uid, f"role holder {uid} ({held}) is not in the google_workspace.users evidence"
            )
    for user in _active(ev):
        roles = assigned.get(user.resource_id, [])
        names = _role_names(roles, super_admin=is_super_admin(user))
        if not names and user.data.get("isDelegatedAdmin") is True:
            names = ["delegated admin"]  # through a group's role assignment, which is not expanded
        if names:
            yield _judge_2sv(user, f"{email(user)} ({', '.join(names)})", *roles)


@check(
    "google_workspace.admins.count",
    title="Google Workspace super administrators are few",
    controls={"A.8.2": "Allocation of the most privileged role is restricted to as few people as needed."},
    severity="minor",
    needs=[USERS],
    rationale="A super administrator can do anything in the Workspace, including reading every mailbox; each "
    "one more is one more target.",
    remediation="Give administrators the narrower prebuilt or custom admin roles their work needs until the "
    "count of super admins is within the limit.",
    params={"max_admins": 4},
)
def admins_count(ev: Evidence) -> Iterator[Result]:
    """One verdict per customer: active super admins at most `max_admins`. None at all is an error:
    every customer has one, so the listing is incomplete."""
    limit = int(ev.param("max_admins"))
    admins = [u for u in _active(ev) if is_super_admin(u)]
    if not admins:
        yield Result.error(ev.scope, "no active super admin in the evidence: every customer has one")
        return
    names = ", ".join(sorted(email(u) for u in admins))
    reason = f"{len(admins)} active super admin(s) (limit {limit}): {names}"
    yield Result.of(*admins, passed=len(admins) <= limit, reason=reason, resource_id=ev.scope)


# --- dormant accounts -----------------------------------------------------------------------------


@check(
    "google_workspace.users.inactive",
    title="Active Google Workspace users have logged in recently",
    controls={
        "A.5.18": "Access no longer needed is removed; disuse is the signal.",
        "A.8.2": "Dormant accounts keep privileges nobody is exercising or watching.",
    },
    severity="minor",
    needs=[USERS],
    rationale="A dormant Workspace account keeps its mailbox, files and every app signed in with Google, and "
    "nobody notices when it is used again.",
    remediation="Confirm with the owner's manager whether the access is still needed; suspend the user if not, "
    "or exempt a documented service account with exempt_accounts (email patterns).",
    params={"max_inactive_days": 90, "exempt_accounts": []},
)
@or_nothing_to_judge("active users")
def users_inactive(ev: Evidence) -> Iterator[Result]:
    """Last login within the limit, or created within it when the user never logged in."""
    yield from judge_inactive(ev, _active(ev), email, last_login, created)
