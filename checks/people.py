"""People and identity checks: joiners, movers, leavers, MFA, privileged roles (Entra, HR, AWS).

Cross-source checks link accounts to employees only through `checks.identity`; their primary
source is the identity system's, so each Entra tenant or AWS account gets its own verdict and
nonconformity, judged against the employees of every HR scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from agent.evidence import Evidence
from agent.model import Record, Result
from agent.registry import check
from checks._dates import days_ago, days_between, parse_timestamp
from checks._judging import or_nothing_to_judge
from checks._people_accounts import (
    AUTH_METHODS,
    CONDITIONAL_ACCESS,
    CREDENTIAL_REPORT,
    DIRECTORY_ROLES,
    USERS,
    account_name,
    days_late,
    directory,
    enabled_members,
    exempt,
    iam_users,
    is_enabled,
    is_guest,
    last_sign_in,
    leaver_timeline,
    link_iam_user,
    link_user,
    mfa_registered,
    registrations,
    sign_in_after,
    termination,
)
from checks.identity import AMBIGUOUS, EMPLOYEES, Person

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


# --- leavers --------------------------------------------------------------------------------------


def _leaver_accounts(ev: Evidence) -> Iterator[tuple[Record, Person]]:
    """Entra accounts linked to someone who has left, whatever their state today."""
    people = directory(ev)
    today = ev.now.date()
    for user in ev.records(USERS):
        match = link_user(people, user)
        if match.person is not None and match.person.has_left(today):
            yield user, match.person


@check(
    "people.leaver.entra_account_enabled",
    title="Leavers' Entra ID accounts are disabled within the grace period",
    controls={
        "A.5.18": "Access rights are removed when employment ends.",
        "A.6.5": "Responsibilities after termination start with access ending on the leaving date.",
        "A.5.16": "An identity's lifecycle ends with its owner's employment.",
    },
    severity="minor",
    needs=[USERS, EMPLOYEES],
    rationale="An enabled account of someone who left can still be used, by them or by whoever has their password.",
    remediation="Disable the account (and revoke its sessions), then fix the offboarding step that missed it.",
    params={"grace_days": 1},
)
@or_nothing_to_judge("leavers' Entra accounts")
def leaver_account_enabled(ev: Evidence) -> Iterator[Result]:
    """Each leaver's account: disabled, or still enabled within or past the grace period."""
    grace = int(ev.param("grace_days"))
    today = ev.now.date()
    for user, person in _leaver_accounts(ev):
        timeline = leaver_timeline(person, user, ev.now)
        late = days_late(person, today, grace)
        if is_enabled(user) and person.termination_date is None:
            reason = f"{timeline}; no grace period without a termination date"
        elif is_enabled(user) and late is not None:
            reason = f"{timeline}; {late} day(s) past the {grace}-day grace period"
        elif is_enabled(user):
            reason = f"{timeline}; within the {grace}-day grace period"
        else:
            reason = timeline
        yield Result.of(user, person.record, passed=not is_enabled(user) or late is None, reason=reason)


@check(
    "people.leaver.entra_sign_in_after_leaving",
    title="Nobody signs in to Entra ID after leaving",
    controls={
        "A.5.18": "Access that outlived employment was actually used.",
        "A.6.5": "A former employee exercised access after termination.",
        "A.8.5": "Authentication succeeded for an identity that should no longer authenticate.",
    },
    severity="major",
    needs=[USERS, EMPLOYEES],
    rationale="A sign-in after the termination date is access by someone no longer entitled to it: a possible incident.",
    remediation="Disable the account, revoke sessions, review the sign-in and audit logs since the termination date "
    "and handle it as a security incident if the use was not authorised.",
    params={"grace_days": 0},
)
@or_nothing_to_judge("leavers' Entra accounts")
def leaver_sign_in_after_leaving(ev: Evidence) -> Iterator[Result]:
    """Fail each leaver's account whose last sign-in came after the termination date (plus grace)."""
    grace = int(ev.param("grace_days"))
    for user, person in _leaver_accounts(ev):
        after = sign_in_after(person, last_sign_in(user))
        signed_in = after is not None and after > grace
        yield Result.of(
            user, person.record, passed=not signed_in, reason=leaver_timeline(person, user, ev.now)
        )


@check(
    "people.leaver.aws_iam_user",
    title="Leavers hold no AWS IAM user credentials",
    controls={
        "A.5.18": "Access rights in AWS are removed when employment ends.",
        "A.6.5": "Long-lived keys keep working after the person has left.",
    },
    severity="major",
    needs=[CREDENTIAL_REPORT, EMPLOYEES],
    rationale="IAM users' passwords and access keys are not governed by the identity provider: offboarding in "
    "Entra ID leaves them working.",
    remediation="Delete the IAM user's login profile and access keys (or the user); move people to federated access.",
    params={"grace_days": 1},
)
@or_nothing_to_judge("IAM users of leavers")
def leaver_aws_iam_user(ev: Evidence) -> Iterator[Result]:
    """IAM users linked (by email-like name or alias) to a leaver must have no active credential."""
    grace = int(ev.param("grace_days"))
    people = directory(ev)
    today = ev.now.date()
    for row in iam_users(ev):
        person = link_iam_user(people, row).person
        if person is None or not person.has_left(today):
            continue
        data = row.data
        active = ["console password"] if data.get("password_enabled") == "true" else []
        active += [f"access key {n}" for n in (1, 2) if data.get(f"access_key_{n}_active") == "true"]
        used = [
            parse_timestamp(data.get(f))
            for f in ("password_last_used", "access_key_1_last_used_date", "access_key_2_last_used_date")
        ]
        last = max((u for u in used if u is not None), default=None)
        late = days_late(person, today, grace)
        usage = f"last used {last.date().isoformat()}" if last else "never used"
        after = sign_in_after(person, last)
        if after is not None:
            usage += f", {after} day(s) after termination"
        state = f"still has {', '.join(active)}" if active else "has no active credential"
        reason = f"{person.label}: {termination(person, today)}; IAM user {data.get('user')} {state}; {usage}"
        yield Result.of(row, person.record, passed=not active or late is None, reason=reason)


# --- accounts without an owner, unused accounts, guests ---------------------------------------------


@check(
    "people.entra.account_without_employee",
    title="Every enabled Entra ID member account belongs to a current employee",
    controls={
        "A.5.16": "Each identity is linked to the person accountable for it.",
        "A.5.18": "Accounts nobody owns are never reviewed or removed.",
    },
    severity="minor",
    needs=[USERS, EMPLOYEES],
    rationale="An account that no HR record explains is either a missed leaver, a shared account or an intruder's.",
    remediation="Link the account to its employee (employeeId or an [hr] alias), exempt it as a documented service "
    "or break-glass account, or disable it.",
    params={"exempt_accounts": []},
)
@or_nothing_to_judge("enabled member accounts")
def account_without_employee(ev: Evidence) -> Iterator[Result]:
    """Enabled member accounts must link to exactly one employee; ambiguous links are failures too."""
    patterns = list(ev.param("exempt_accounts"))
    people = directory(ev)
    for user in enabled_members(ev):
        name = account_name(user)
        if exempt(name, patterns):
            yield Result.not_applicable(user, f"{name} is exempted by exempt_accounts")
            continue
        match = link_user(people, user)
        cited = [match.person.record] if match.person else [p.record for p in match.candidates]
        if match.status == AMBIGUOUS:
            reason = (
                f"{name} links to several employees ({match.describe()}): fix the HR emails or add an alias"
            )
        elif match.person is None:
            reason = f"{name} is enabled but belongs to no employee in HR (no matching employee id, email or alias)"
        else:
            reason = f"{name} belongs to {match.describe()}"
        yield Result.of(user, *cited, passed=match.person is not None, reason=reason)


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


# --- HR people controls ---------------------------------------------------------------------------


def _current(ev: Evidence) -> Iterator[tuple[Record, Person]]:
    """Employees not gone: active, on leave, and joiners yet to start."""
    today = ev.now.date()
    for person in directory(ev):
        if not person.has_left(today):
            yield person.record, person


def _fact_missing(ev: Evidence, fact: str) -> Result | None:
    """An error when HR evidence does not carry the fact at all: absence is not compliance."""
    records = ev.records(EMPLOYEES)
    if records and not any(fact in r.data for r in records):
        return Result.error(ev.scope, f"hr.employees carries no {fact}: map it in [hr.columns]")
    return None


def _signed(ev: Evidence, fact: str, what: str) -> Iterator[Result]:
    """Current employees must have `fact` recorded (true or a date); joiners may until their start."""
    if (missing := _fact_missing(ev, fact)) is not None:
        yield missing
        return
    today = ev.now.date()
    for record, person in _current(ev):
        value = record.data.get(fact)
        done = value is True or isinstance(value, str)
        pending = not done and person.hire_date is not None and person.hire_date > today
        if done:
            reason = f"{person.label}: {what} signed" + (f" on {value}" if isinstance(value, str) else "")
        elif pending:
            reason = f"{person.label}: starts {person.hire_date}; {what} not signed yet"
        else:
            reason = f"{person.label}: no signed {what} recorded in HR"
        yield Result.of(record, passed=done or pending, reason=reason)


@check(
    "hr.people.screening_before_start",
    title="Background screening is recorded before each employee's start date",
    controls={"A.6.1": "Candidates are screened before joining, proportionate to the role's risks."},
    severity="minor",
    needs=[EMPLOYEES],
    rationale="Screening after someone has started means they had access before anyone checked them.",
    remediation="Complete and record the screening; fix the hiring workflow so access waits for it.",
)
@or_nothing_to_judge("current employees")
def screening_before_start(ev: Evidence) -> Iterator[Result]:
    """A screening date on or before the hire date (or a yes) for every current employee."""
    if (missing := _fact_missing(ev, "screening_completed")) is not None:
        yield missing
        return
    today = ev.now.date()
    for record, person in _current(ev):
        value = record.data.get("screening_completed")
        start = person.hire_date
        if isinstance(value, str):
            screened = date.fromisoformat(value)
            late = start is not None and screened > start
            detail = f"screened {value}" + (
                f", {(screened - start).days} day(s) after starting {start}" if late else ""
            )
            yield Result.of(record, passed=not late, reason=f"{person.label}: {detail}")
        elif value is True:
            yield Result.of(record, passed=True, reason=f"{person.label}: screening recorded (no date)")
        else:
            pending = start is not None and start > today
            detail = f"starts {start}; screening pending" if pending else "no screening recorded"
            yield Result.of(record, passed=pending, reason=f"{person.label}: {detail}")


@check(
    "hr.people.terms_signed",
    title="Every employee has signed the terms and conditions of employment",
    controls={"A.6.2": "Employment agreements state the employee's information security responsibilities."},
    severity="minor",
    needs=[EMPLOYEES],
    rationale="Security duties that were never agreed to cannot be enforced.",
    remediation="Have the employee sign the current terms of employment and record it in the HR system.",
)
@or_nothing_to_judge("current employees")
def terms_signed(ev: Evidence) -> Iterator[Result]:
    """Terms of employment recorded as signed for every current employee."""
    yield from _signed(ev, "terms_signed", "terms of employment")


@check(
    "hr.people.nda_signed",
    title="Every employee has signed a confidentiality agreement",
    controls={"A.6.6": "Confidentiality or non-disclosure agreements are signed by personnel."},
    severity="minor",
    needs=[EMPLOYEES],
    rationale="Without a signed NDA, disclosure of confidential information has no agreed consequence.",
    remediation="Have the employee sign the NDA and record it in the HR system.",
)
@or_nothing_to_judge("current employees")
def nda_signed(ev: Evidence) -> Iterator[Result]:
    """An NDA recorded as signed for every current employee."""
    yield from _signed(ev, "nda_signed", "NDA")


@check(
    "hr.people.training_overdue",
    title="Security awareness training is current",
    controls={"A.6.3": "Personnel receive security awareness training, refreshed regularly."},
    severity="minor",
    needs=[EMPLOYEES],
    rationale="Phishing and data handling mistakes fall as training lapses.",
    remediation="Assign the training to the employee and record its completion date in HR.",
    params={"valid_days": 365, "new_joiner_days": 30},
)
@or_nothing_to_judge("current employees")
def training_overdue(ev: Evidence) -> Iterator[Result]:
    """Training completed within `valid_days`; joiners have `new_joiner_days` from their start."""
    if (missing := _fact_missing(ev, "training_completed")) is not None:
        yield missing
        return
    valid, joiner = int(ev.param("valid_days")), int(ev.param("new_joiner_days"))
    today = ev.now.date()
    for record, person in _current(ev):
        value = record.data.get("training_completed")
        if isinstance(value, str):
            age = (today - date.fromisoformat(value)).days
            reason = f"{person.label}: trained {value} ({days_ago(age)}, valid {valid} days)"
            yield Result.of(record, passed=age <= valid, reason=reason)
        elif value is True:
            yield Result.of(record, passed=True, reason=f"{person.label}: training recorded (no date)")
        else:
            since = (today - person.hire_date).days if person.hire_date else None
            started = "start date unknown" if since is None else f"started {days_ago(since)}"
            if since is not None and since < 0:
                started = f"starts {person.hire_date}"
            reason = f"{person.label}: no training recorded, {started} (joiners have {joiner} days)"
            yield Result.of(record, passed=since is not None and since <= joiner, reason=reason)
