"""Every user of the org, whatever their status, with the factors each has enrolled."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.errors import InputDataError
from agent.plugin import collector
from agent.plugin.model import Record
from collectors.okta.client import quoted
from collectors.okta.fields import optional_text, text
from collectors.okta.scopes import USERS_READ
from collectors.okta.targets import OktaOrg

STATUSES = (
    "STAGED",
    "PROVISIONED",
    "ACTIVE",
    "RECOVERY",
    "PASSWORD_EXPIRED",
    "LOCKED_OUT",
    "SUSPENDED",
    "DEPROVISIONED",
)
DEPROVISIONED = "DEPROVISIONED"
# Okta's default listing omits DEPROVISIONED users; a filter naming every status lists them all,
# from the same (consistent) source as the default listing, unlike `search`.
EVERY_STATUS = " or ".join(f'status eq "{status}"' for status in STATUSES)
PAGE = 200  # the most Okta gives per page of users
TIMES = ("created", "activated", "statusChanged", "lastLogin")


def _user(user: dict[str, Any], what: str) -> dict[str, Any]:
    """The fields of a user the checks read (and no other personal data)."""
    user_id = text(user, "id", what, kind="a user")
    status = user.get("status")
    if status not in STATUSES:
        raise InputDataError(f"{what}: user {user_id} has an unknown status {status!r}")
    profile = user.get("profile")
    if not isinstance(profile, dict):
        raise InputDataError(f"{what}: user {user_id} has no profile")
    return {
        "id": user_id,
        "status": status,
        "login": text(profile, "login", what, kind=f"user {user_id}'s profile"),
        "email": optional_text(profile, "email", what),
        "employeeNumber": optional_text(profile, "employeeNumber", what),
        **{key: optional_text(user, key, what) for key in TIMES},
    }


def _factor(factor: dict[str, Any], what: str) -> dict[str, Any]:
    return {
        "id": text(factor, "id", what, kind="a factor"),
        "factorType": text(factor, "factorType", what, kind="a factor"),
        "provider": optional_text(factor, "provider", what),
        "status": text(factor, "status", what, kind="a factor"),
    }


@collector("okta.users", scope="okta_org", freshness=timedelta(hours=24), permissions=[USERS_READ])
def users(org: OktaOrg) -> Iterator[Record]:
    """Each user of every status, DEPROVISIONED included, with their enrolled factors (none listed,
    None, for a DEPROVISIONED user). A factor listing that fails fails the whole listing: a user is
    never recorded without the factors they have."""
    what = "GET /api/v1/users"
    for page in org.api.pages("/api/v1/users", USERS_READ, filter=EVERY_STATUS, limit=PAGE):
        people = [_user(user, what) for user in page]
        enrolled = [p["id"] for p in people if p["status"] != DEPROVISIONED]
        paths = [f"/api/v1/users/{quoted(user_id)}/factors" for user_id in enrolled]
        factors = dict(zip(enrolled, org.api.listings(paths, USERS_READ), strict=True))
        for person in people:
            found = factors.get(person["id"])
            call = f"GET /api/v1/users/{person['id']}/factors"
            listed = None if found is None else [_factor(f, call) for f in found]
            yield Record(resource_id=person["id"], data={**person, "factors": listed})
