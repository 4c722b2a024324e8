"""Reading the Okta records the collectors emit: users, their factors, admin role holders.

Shared by the Okta checks and the cross-system identity checks, so an Okta account is named,
and counted as active or not, the same way everywhere. Malformed values raise (the check then
reports `error`), never read as "no factor" or "never logged in".
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from agent.plugin.model import Record
from checks._dates import parse_timestamp

USERS = "okta.users"
ADMIN_ROLES = "okta.admin_roles"
POLICIES = "okta.policies"

# Every other status (STAGED, PROVISIONED, RECOVERY, LOCKED_OUT, ... or one Okta adds later) can
# still sign in or be activated, so it counts as active: unknown is judged, never skipped.
INACTIVE_STATUSES = frozenset({"DEPROVISIONED", "SUSPENDED"})
# Knowledge or mailbox only: whoever has the password usually has these too.
WEAK_FACTORS = ("question", "email")


def login(user: Record) -> str:
    data = user.data
    return str(data.get("login") or data.get("email") or user.resource_id)


def is_active(user: Record) -> bool:
    return str(user.data.get("status") or "") not in INACTIVE_STATUSES


def state(user: Record) -> str:
    """`ACTIVE` (or the other status that counts as active), `DEPROVISIONED 2026-11-02` when not active."""
    status = str(user.data.get("status") or "UNKNOWN")
    if is_active(user):
        return status
    changed = parse_timestamp(user.data.get("statusChanged"))
    return f"{status} {changed.date().isoformat()}" if changed else status


def last_login(user: Record) -> datetime | None:
    return parse_timestamp(user.data.get("lastLogin"))


def created(user: Record) -> datetime | None:
    return parse_timestamp(user.data.get("created"))


def mfa_factors(user: Record, ignored: Collection[str] = WEAK_FACTORS) -> list[str] | None:
    """The factorType of each ACTIVE enrolled factor not in `ignored` (case-insensitive); None when
    the user's factors were not listed (a deprovisioned user's are not)."""
    factors = user.data.get("factors")
    if factors is None:
        return None
    if not isinstance(factors, list) or not all(isinstance(f, dict) for f in factors):
        raise ValueError(f"{login(user)}: factors is not a list of factors")
    skip = {str(i).lower() for i in ignored}
    return [
        str(f.get("factorType"))
        for f in factors
        if f.get("status") == "ACTIVE" and str(f.get("factorType")).lower() not in skip
    ]


def holder_id(holder: Record) -> str:
    """The user id of an `okta.admin_roles` record."""
    return str(holder.data.get("userId") or holder.resource_id)


def role_names(holder: Record) -> list[str]:
    """The role types a holder has (a custom role by its label), sorted and once each."""
    names = set()
    for role in holder.data.get("roles") or []:
        kind = str(role.get("type") or "")
        names.add(str(role.get("label") or kind) if kind in ("", "CUSTOM") else kind)
    return sorted(names)


def holds_any(holder: Record, roles: Collection[str]) -> bool:
    """Whether a holder has one of `roles`, named by type or (a custom role) by label, case-insensitively."""
    wanted = {r.casefold() for r in roles}
    held = holder.data.get("roles") or []
    return any(str(r.get(k) or "").casefold() in wanted for r in held for k in ("type", "label"))
