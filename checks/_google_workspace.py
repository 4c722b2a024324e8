"""Reading the Google Workspace records the collectors emit: users, their 2-step verification, admins.

Shared by the Google Workspace checks and the cross-system identity checks, so a Workspace
account is named, and counted as active or not, the same way everywhere.
"""

from __future__ import annotations

from datetime import datetime

from agent.plugin.model import Record
from checks._dates import parse_timestamp

USERS = "google_workspace.users"
ROLE_ASSIGNMENTS = "google_workspace.role_assignments"
# What the Directory API answers for an account that never logged in (the collector writes null).
NEVER = "1970-01-01T00:00:00.000Z"


def email(user: Record) -> str:
    return str(user.data.get("primaryEmail") or user.resource_id)


def emails(user: Record) -> list[str]:
    """The primary email and every alias: the addresses an HR record may know the person by."""
    found = [user.data.get("primaryEmail"), *(user.data.get("aliases") or [])]
    return [str(e) for e in found if e]


def is_active(user: Record) -> bool:
    """Neither suspended nor archived; a flag that is absent reads as not set."""
    return user.data.get("suspended") is not True and user.data.get("archived") is not True


def state(user: Record) -> str:
    """`active`, `suspended (<reason>)` (`suspended` without one), `archived`, or both of the last two."""
    data = user.data
    parts = []
    if data.get("suspended") is True:
        reason = data.get("suspensionReason")
        parts.append(f"suspended ({reason})" if reason else "suspended")
    if data.get("archived") is True:
        parts.append("archived")
    return ", ".join(parts) or "active"


def last_login(user: Record) -> datetime | None:
    """lastLoginTime; None for never (null, or the epoch should it come through unconverted)."""
    value = user.data.get("lastLoginTime")
    return None if value == NEVER else parse_timestamp(value)


def created(user: Record) -> datetime | None:
    return parse_timestamp(user.data.get("creationTime"))


def enrolled_in_2sv(user: Record) -> bool | None:
    """isEnrolledIn2Sv; None when it is not a boolean (not reported): an error, never "not enrolled"."""
    value = user.data.get("isEnrolledIn2Sv")
    return value if isinstance(value, bool) else None


def is_super_admin(user: Record) -> bool:
    return user.data.get("isAdmin") is True
