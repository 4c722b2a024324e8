"""Reading the Entra ID records the collectors emit: users, their sign-ins and MFA registrations.

Shared by the Entra checks and the cross-system people checks, so an account is named, and
counted as enabled, member or guest, the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from agent.plugin.evidence import Evidence
from agent.plugin.model import Record
from checks._dates import parse_timestamp

USERS = "entra.users"
AUTH_METHODS = "entra.auth_methods"
CONDITIONAL_ACCESS = "entra.conditional_access"
DIRECTORY_ROLES = "entra.directory_roles"
SIGN_IN_FIELDS = ("lastSignInDateTime", "lastNonInteractiveSignInDateTime", "lastSuccessfulSignInDateTime")


def account_name(user: Record) -> str:
    data = user.data
    return str(data.get("userPrincipalName") or data.get("displayName") or user.resource_id)


def is_enabled(user: Record) -> bool:
    """Only an explicit `accountEnabled: false` disables: a missing or null flag (not selected, not
    returned) is judged as enabled, so a leaver's account is never passed on what Graph did not say."""
    return user.data.get("accountEnabled") is not False


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


def registrations(ev: Evidence) -> Mapping[Any, Record]:
    """MFA registration details keyed by user object id."""
    return ev.index(AUTH_METHODS, lambda r: r.data.get("id") or r.resource_id)


def mfa_registered(registration: Record | None) -> bool:
    return registration is not None and registration.data.get("isMfaRegistered") is True
