"""Entra ID checks: dormant accounts, guests, MFA registration and enforcement, privileged roles."""

from __future__ import annotations

from collections.abc import Iterator

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._dates import days_ago, days_between, parse_timestamp
from checks._entra import (
    AUTH_METHODS,
    CONDITIONAL_ACCESS,
    DIRECTORY_ROLES,
    USERS,
    account_name,
    enabled_members,
    is_enabled,
    is_guest,
    last_sign_in,
    mfa_registered,
    registrations,
)
from checks._judging import or_nothing_to_judge

GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
# Built-in roles Microsoft marks as privileged; extend with `privileged_roles` (template ids).
PRIVILEGED_ROLES = [
    GLOBAL_ADMIN,
    "e8611ab8-c189-46e8-94e1-60213ab1f814",  # Privileged Role Administrator
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",  # Privileged Authentication Administrator
    "194ae4cb-b126-40b2-bd5b-6091b380977d",  # Security Administrator
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",  # Application Administrator
    "158c047a-c907-4556-b7ef-446551a6b5f7",  # Cloud Application Administrator
    "c4e39bd9-1100-46d3-8c65-fb160da0071f",  # Authentication Administrator
    "29232cdf-9323-42fd-ade2-1d097af3e4de",  # Exchange Administrator
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",  # SharePoint Administrator
    "fe930be7-5e62-47db-91af-98c3a49a38b1",  # User Administrator
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",  # Conditional Access Administrator
    "729827e3-9c14-49f7-bb1b-9608f156bbb8",  # Helpdesk Administrator
]


# --- unused accounts, guests ----------------------------------------------------------------------


@check(
    "entra.users.inactive",
    title="Enabled Entra ID member accounts have been used recently",
    controls={
        "A.5.18": "Access no longer needed is removed; disuse is the signal.",
        "A.8.2": "Dormant accounts keep privileges nobody is exercising or watching.",
    },
    severity="minor",
    needs=[USERS],
    rationale="Dormant accounts are a favourite foothold: nobody notices when they are used again.",
    remediation="Confirm with the owner's manager whether the access is still needed; disable the account if not.",
    params={"max_inactive_days": 90},
)
@or_nothing_to_judge("enabled member accounts")
def inactive_accounts(ev: Evidence) -> Iterator[Result]:
    """Last sign-in within the limit, or created within it when the account never signed in."""
    limit = int(ev.param("max_inactive_days"))
    for user in enabled_members(ev):
        last = last_sign_in(user)
        name = account_name(user)
        if last is not None:
            idle = days_between(last, ev.now)
            reason = f"{name}: last sign-in {last.date().isoformat()} ({days_ago(idle)}, limit {limit} days)"
        else:
            created = parse_timestamp(user.data.get("createdDateTime"))
            idle = days_between(created, ev.now) if created else limit + 1
            since = f"created {days_ago(idle)}" if created else "creation date unknown"
            reason = f"{name}: never signed in, {since} (limit {limit} days)"
        yield Result.of(user, passed=idle <= limit, reason=reason)


@check(
    "entra.guests.review_age",
    title="Guest accounts are younger than their review age",
    controls={
        "A.5.18": "External users' access is reviewed and renewed at a set interval.",
        "A.5.19": "Access granted to suppliers' people is bounded in time.",
    },
    severity="minor",
    needs=[USERS],
    rationale="Guests outlive the projects they were invited for; nobody offboards an external person.",
    remediation="Review the guest with its sponsor: remove it, or re-invite it to restart the clock, and set up "
    "Entra access reviews for guests.",
    params={"max_guest_age_days": 180},
)
@or_nothing_to_judge("enabled guests")
def guests_review_age(ev: Evidence) -> Iterator[Result]:
    """Each enabled guest must have been invited within the review age."""
    limit = int(ev.param("max_guest_age_days"))
    for user in ev.records(USERS):
        if not (is_guest(user) and is_enabled(user)):
            continue
        created = parse_timestamp(user.data.get("createdDateTime"))
        age = days_between(created, ev.now) if created else None
        when = f"invited {days_ago(age)}" if age is not None else "invitation date unknown"
        reason = f"guest {account_name(user)}: {when} (review age {limit} days)"
        yield Result.of(user, passed=age is not None and age <= limit, reason=reason)


# --- MFA and privileged roles ---------------------------------------------------------------------


@check(
    "entra.mfa.member_not_registered",
    title="Enabled Entra ID members have MFA registered",
    controls={
        "A.8.5": "Secure authentication needs a second factor each user has registered.",
        "A.5.17": "Authentication information includes a factor beyond the password.",
    },
    severity="minor",
    needs=[USERS, AUTH_METHODS],
    rationale="A user without a registered method cannot be challenged for MFA; whoever registers first owns it.",
    remediation="Have the user register an authenticator (or a FIDO2 key); require registration via conditional access.",
)
@or_nothing_to_judge("enabled member accounts")
def member_mfa_registered(ev: Evidence) -> Iterator[Result]:
    """Each enabled member must appear in the registration report with MFA registered."""
    details = registrations(ev)
    for user in enabled_members(ev):
        detail = details.get(user.resource_id)
        name = account_name(user)
        if detail is None:
            yield Result.of(user, passed=False, reason=f"{name}: no MFA registration details reported")
            continue
        methods = ", ".join(detail.data.get("methodsRegistered") or []) or "none"
        ok = mfa_registered(detail)
        reason = f"{name}: MFA {'registered' if ok else 'not registered'} (methods: {methods})"
        yield Result.of(user, detail, passed=ok, reason=reason)


def _requires_mfa(policy: Record) -> bool:
    d = policy.data
    return (
        d.get("state") == "enabled"
        and "All" in (d.get("includeUsers") or [])
        and "All" in (d.get("includeApplications") or [])
        and ("mfa" in (d.get("builtInControls") or []) or bool(d.get("authenticationStrength")))
    )


@check(
    "entra.mfa.conditional_access",
    title="MFA is enforced for all users (conditional access or security defaults)",
    controls={"A.8.5": "Secure authentication is enforced by policy, not left to each user."},
    severity="major",
    needs=[CONDITIONAL_ACCESS],
    rationale="Registered MFA protects nothing unless sign-ins are required to use it.",
    remediation="Create an enabled conditional access policy for all users and all cloud apps requiring MFA (or an "
    "authentication strength), excluding only documented break-glass accounts; or enable security defaults.",
)
def conditional_access_mfa(ev: Evidence) -> Iterator[Result]:
    """One verdict per tenant, citing every policy; exclusions are named so they can be reviewed."""
    records = ev.records(CONDITIONAL_ACCESS)
    defaults = next((r for r in records if r.data.get("kind") == "security_defaults"), None)
    resource = f"{ev.scope}:mfa-enforcement"
    if defaults is None:
        yield Result.error(resource, "the conditional access evidence has no security defaults record")
        return
    enforcing = [p for p in records if p.data.get("kind") == "policy" and _requires_mfa(p)]
    if enforcing:
        names = []
        for p in enforcing:
            excluded = len(p.data.get("excludeUsers") or []) + len(p.data.get("excludeGroups") or [])
            names.append(
                f"{p.data.get('displayName')!r}" + (f" ({excluded} exclusion(s))" if excluded else "")
            )
        reason = f"MFA required for all users and apps by {', '.join(names)}"
    elif defaults.data.get("isEnabled") is True:
        reason = "MFA enforced by security defaults"
    else:
        reason = "no enabled conditional access policy requires MFA for all users and apps; security defaults are off"
    passed = bool(enforcing) or defaults.data.get("isEnabled") is True
    yield Result.of(*records, passed=passed, reason=reason, resource_id=resource)


@check(
    "entra.roles.privileged_without_mfa",
    title="Privileged directory role holders have MFA registered",
    controls={
        "A.8.2": "Privileged access rights deserve the strongest authentication.",
        "A.8.5": "Administrators authenticate with more than a password.",
    },
    severity="major",
    needs=[DIRECTORY_ROLES, AUTH_METHODS, USERS],
    rationale="One phished administrator password gives away the whole tenant.",
    remediation="Register phishing-resistant MFA for the administrator now, or remove the role assignment.",
    params={"privileged_roles": PRIVILEGED_ROLES},
)
@or_nothing_to_judge("users holding privileged roles")
def privileged_without_mfa(ev: Evidence) -> Iterator[Result]:
    """Each user holding a privileged role (by template id) must have MFA registered."""
    wanted = set(ev.param("privileged_roles"))
    held: dict[str, list[Record]] = {}
    for role in ev.records(DIRECTORY_ROLES):
        if role.data.get("roleTemplateId") in wanted:
            for member in role.data.get("members") or []:
                if member.get("type") == "user":
                    held.setdefault(str(member["id"]), []).append(role)
    details = registrations(ev)
    users = ev.index(USERS, lambda r: r.resource_id)
    for user_id, roles in sorted(held.items()):
        user, detail = users.get(user_id), details.get(user_id)
        name = account_name(user) if user else user_id
        ok = mfa_registered(detail)
        role_names = ", ".join(sorted({str(r.data.get("displayName")) for r in roles}))
        reason = f"{name} ({role_names}): MFA {'registered' if ok else 'not registered'}"
        cited = [r for r in (user, detail) if r is not None]
        yield Result.of(*cited, *roles, passed=ok, reason=reason, resource_id=user_id)


@check(
    "entra.roles.global_admin_count",
    title="Global Administrators are few",
    controls={"A.8.2": "Allocation of the most privileged role is restricted to as few people as needed."},
    severity="minor",
    needs=[DIRECTORY_ROLES],
    rationale="Every Global Administrator can do anything in the tenant; each one more is one more target.",
    remediation="Move administrators to least-privileged roles (or PIM-eligible assignments) until the count is "
    "within the limit.",
    params={"max_global_admins": 4},
)
def global_admin_count(ev: Evidence) -> Iterator[Result]:
    """The Global Administrator role's direct members must not exceed the configured limit."""
    limit = int(ev.param("max_global_admins"))
    role = next(
        (r for r in ev.records(DIRECTORY_ROLES) if r.data.get("roleTemplateId") == GLOBAL_ADMIN), None
    )
    if role is None:
        yield Result.error(ev.scope, "no Global Administrator role in the directory roles evidence")
        return
    count = len(role.data.get("members") or [])
    reason = f"{count} Global Administrator(s) (limit {limit})"
    yield Result.of(role, passed=count <= limit, reason=reason)
