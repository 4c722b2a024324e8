"""Cross-system people checks: leavers' accounts in Entra ID and AWS, accounts with no employee.

Accounts are linked to employees only through `checks._identity`; the primary source is the
identity system's, so each Entra tenant or AWS account gets its own verdict and nonconformity,
judged against the employees of every HR scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._dates import days_ago, days_between, parse_timestamp
from checks._entra import USERS, account_name, enabled_members, is_enabled, last_sign_in
from checks._identity import (
    AMBIGUOUS,
    EMPLOYEES,
    Directory,
    Match,
    Person,
    days_late,
    directory,
    exempt,
    termination,
)
from checks._judging import or_nothing_to_judge
from checks.aws._common import CREDENTIAL_REPORT, report_users

# --- linking accounts and telling a leaver's timeline ----------------------------------------------


def _link_user(people: Directory, user: Record) -> Match:
    data = user.data
    emails = [e for e in (data.get("mail"), data.get("userPrincipalName")) if e]
    return people.resolve(employee_id=data.get("employeeId"), emails=emails)


def _link_iam_user(people: Directory, row: Record) -> Match:
    """IAM user names are often email addresses; otherwise only an alias (name or ARN) links them."""
    name = str(row.data.get("user") or "")
    return people.resolve(emails=[name] if "@" in name else [], accounts=[name, row.resource_id])


def _sign_in_after(person: Person, when: datetime | None) -> int | None:
    """Days after the termination date the last sign-in happened (None: none after it)."""
    if when is None or person.termination_date is None:
        return None
    after = (when.date() - person.termination_date).days
    return after if after > 0 else None


def _sign_in_phrase(person: Person, when: datetime | None, now: datetime) -> str:
    if when is None:
        return "no sign-in recorded"
    text = f"last sign-in {when.date().isoformat()} ({days_ago(days_between(when, now))})"
    after = _sign_in_after(person, when)
    if after is not None:
        text += f", {after} day{'s' if after != 1 else ''} after termination"
    return text


def _leaver_timeline(person: Person, user: Record, now: datetime) -> str:
    """What an auditor asks for: when the person left, the account state, sign-ins since."""
    state = "account still enabled" if is_enabled(user) else "account disabled"
    return (
        f"{person.label}: {termination(person, now.date())}; {account_name(user)} {state}; "
        f"{_sign_in_phrase(person, last_sign_in(user), now)}"
    )


# --- leavers --------------------------------------------------------------------------------------


def _leaver_accounts(ev: Evidence) -> Iterator[tuple[Record, Person]]:
    """Entra accounts linked to someone who has left, whatever their state today."""
    people = directory(ev)
    today = ev.now.date()
    for user in ev.records(USERS):
        match = _link_user(people, user)
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
        timeline = _leaver_timeline(person, user, ev.now)
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
        after = _sign_in_after(person, last_sign_in(user))
        signed_in = after is not None and after > grace
        yield Result.of(
            user, person.record, passed=not signed_in, reason=_leaver_timeline(person, user, ev.now)
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
    for row in report_users(ev):
        person = _link_iam_user(people, row).person
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
        after = _sign_in_after(person, last)
        if after is not None:
            usage += f", {after} day(s) after termination"
        state = f"still has {', '.join(active)}" if active else "has no active credential"
        reason = f"{person.label}: {termination(person, today)}; IAM user {data.get('user')} {state}; {usage}"
        yield Result.of(row, person.record, passed=not active or late is None, reason=reason)


# --- accounts without an owner ---------------------------------------------------------------------


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
        match = _link_user(people, user)
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
