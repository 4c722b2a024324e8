"""Reading Entra and AWS account records for the people checks, and telling a leaver's timeline.

Kept apart from the checks so each check stays a short statement of its rule; linking an
account to a person always goes through `checks.identity`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from fnmatch import fnmatchcase
from typing import Any

from agent.evidence import Evidence
from agent.model import Record
from checks._dates import days_ago, days_between, parse_timestamp
from checks.identity import EMPLOYEES, Directory, Match, Person

USERS = "entra.users"
AUTH_METHODS = "entra.auth_methods"
CONDITIONAL_ACCESS = "entra.conditional_access"
DIRECTORY_ROLES = "entra.directory_roles"
CREDENTIAL_REPORT = "aws.iam.credential_report"
SIGN_IN_FIELDS = ("lastSignInDateTime", "lastNonInteractiveSignInDateTime", "lastSuccessfulSignInDateTime")
ROOT_ROW = "<root_account>"


_last_directory: dict[tuple[str, ...], Directory] = {}
_directory_lock = threading.Lock()


def directory(ev: Evidence) -> Directory:
    """The employees of every HR scope the check can see (aliases travel inside the records).

    Every people check of a run reads the same HR evidence, so the last directory is kept and
    reused when the records' content hashes are the same: a memo of a pure function.
    """
    records = ev.records(EMPLOYEES)
    key = tuple(r.hash for r in records)
    with _directory_lock:
        if all(key) and key in _last_directory:
            return _last_directory[key]
    built = Directory.from_records(records)
    with _directory_lock:
        _last_directory.clear()
        _last_directory[key] = built
    return built


def account_name(user: Record) -> str:
    data = user.data
    return str(data.get("userPrincipalName") or data.get("displayName") or user.resource_id)


def is_enabled(user: Record) -> bool:
    return user.data.get("accountEnabled") is True


def is_member(user: Record) -> bool:
    return str(user.data.get("userType") or "Member").lower() == "member"


def is_guest(user: Record) -> bool:
    return str(user.data.get("userType") or "").lower() == "guest"


def enabled_members(ev: Evidence) -> Iterator[Record]:
    return (u for u in ev.records(USERS) if is_enabled(u) and is_member(u))


def last_sign_in(user: Record) -> datetime | None:
    """The latest sign-in of any kind Graph reports (interactive or not)."""
    stamps = [parse_timestamp(user.data.get(f)) for f in SIGN_IN_FIELDS]
    known = [s for s in stamps if s is not None]
    return max(known) if known else None


def link_user(people: Directory, user: Record) -> Match:
    data = user.data
    emails = [e for e in (data.get("mail"), data.get("userPrincipalName")) if e]
    return people.resolve(employee_id=data.get("employeeId"), emails=emails)


def link_iam_user(people: Directory, row: Record) -> Match:
    """IAM user names are often email addresses; otherwise only an alias (name or ARN) links them."""
    name = str(row.data.get("user") or "")
    return people.resolve(emails=[name] if "@" in name else [], accounts=[name, row.resource_id])


def iam_users(ev: Evidence) -> Iterator[Record]:
    for row in ev.records(CREDENTIAL_REPORT):
        if row.data.get("user") != ROOT_ROW and not row.resource_id.endswith(":root"):
            yield row


def exempt(name: str, patterns: Sequence[str]) -> bool:
    if not patterns:
        return False
    lowered = name.lower()
    return any(fnmatchcase(lowered, p.lower()) for p in patterns)


def days_late(person: Person, today: date, grace_days: int) -> int | None:
    """Days past the termination date plus grace; None while within grace. Unknown date: due now."""
    if person.termination_date is None:
        return 0
    late = (today - person.termination_date).days - grace_days
    return late if late > 0 else None


def termination(person: Person, today: date) -> str:
    """`terminated 2026-09-30 (32 days ago)`, or that HR holds no date."""
    if person.termination_date is None:
        return "terminated in HR (no termination date recorded)"
    ago = days_ago((today - person.termination_date).days)
    verb = "terminated" if person.termination_date <= today else "terminating"
    return f"{verb} {person.termination_date.isoformat()} ({ago})"


def sign_in_after(person: Person, when: datetime | None) -> int | None:
    """Days after the termination date the last sign-in happened (None: none after it)."""
    if when is None or person.termination_date is None:
        return None
    after = (when.date() - person.termination_date).days
    return after if after > 0 else None


def sign_in_phrase(person: Person, when: datetime | None, now: datetime) -> str:
    if when is None:
        return "no sign-in recorded"
    text = f"last sign-in {when.date().isoformat()} ({days_ago(days_between(when, now))})"
    after = sign_in_after(person, when)
    if after is not None:
        text += f", {after} day{'s' if after != 1 else ''} after termination"
    return text


def leaver_timeline(person: Person, user: Record, now: datetime) -> str:
    """What an auditor asks for: when the person left, the account state, sign-ins since."""
    state = "account still enabled" if is_enabled(user) else "account disabled"
    return (
        f"{person.label}: {termination(person, now.date())}; {account_name(user)} {state}; "
        f"{sign_in_phrase(person, last_sign_in(user), now)}"
    )


def registrations(ev: Evidence) -> Mapping[Any, Record]:
    """MFA registration details keyed by user object id."""
    return ev.index(AUTH_METHODS, lambda r: r.data.get("id") or r.resource_id)


def mfa_registered(registration: Record | None) -> bool:
    return registration is not None and registration.data.get("isMfaRegistered") is True
