"""Every user of the customer (or of `[google_workspace] domain`), with what identity checks need:
suspension and archiving, administrator flags, 2-Step Verification, last sign-in and the HR link.

The listing asks only for those fields (`fields=`), 500 users a page, and is streamed page by page.
The flags must come back as booleans: a user without one (a field mask that lost it, an answer cut
short) fails the listing rather than reading as "not an admin" or "not enrolled".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.plugin import InputDataError, collector
from agent.plugin.model import Record
from collectors.google_workspace.client import USERS_SCOPE, text
from collectors.google_workspace.targets import WorkspaceCustomer

PAGE_SIZE = 500  # the most users.list returns a page
NEVER = "1970-01-01T00:00:00.000Z"  # lastLoginTime of a user who never signed in
FLAGS = ("suspended", "archived", "isAdmin", "isDelegatedAdmin", "isEnrolledIn2Sv", "isEnforcedIn2Sv")
FIELDS = (
    "nextPageToken,users(id,primaryEmail,aliases,externalIds(type,value),suspensionReason,"
    f"lastLoginTime,creationTime,orgUnitPath,{','.join(FLAGS)})"
)


def employee_id(user: dict[str, Any], what: str) -> str | None:
    """The value of the first external id of type `organization` (the HR employee id), else None."""
    external = user.get("externalIds") or []
    if not isinstance(external, list) or not all(isinstance(e, dict) for e in external):
        raise InputDataError(f"{what}: externalIds that are not a list of objects")
    value = next((e.get("value") for e in external if e.get("type") == "organization"), None)
    return value if isinstance(value, str) and value else None


def _optional(user: dict[str, Any], key: str, what: str) -> str | None:
    value = user.get(key)
    if value is not None and not isinstance(value, str):
        raise InputDataError(f"{what}: a {key} that is not a string")
    return value


def user_record(user: dict[str, Any], what: str) -> Record:
    user_id = text(user, "id", what)
    where = f"{what}: user {user_id}"
    flags = {flag: user.get(flag) for flag in FLAGS}
    missing = next((flag for flag, value in flags.items() if not isinstance(value, bool)), None)
    if missing:
        raise InputDataError(f"{where} without a boolean {missing}")
    aliases = user.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise InputDataError(f"{where}: aliases that are not a list of strings")
    last_login = _optional(user, "lastLoginTime", where)
    data = {
        "id": user_id,
        "primaryEmail": text(user, "primaryEmail", where),
        "aliases": aliases,
        "employeeId": employee_id(user, where),
        "suspended": flags["suspended"],
        "suspensionReason": _optional(user, "suspensionReason", where),
        "archived": flags["archived"],
        "isAdmin": flags["isAdmin"],
        "isDelegatedAdmin": flags["isDelegatedAdmin"],
        "isEnrolledIn2Sv": flags["isEnrolledIn2Sv"],
        "isEnforcedIn2Sv": flags["isEnforcedIn2Sv"],
        "lastLoginTime": None if last_login == NEVER else last_login,
        "creationTime": _optional(user, "creationTime", where),
        "orgUnitPath": _optional(user, "orgUnitPath", where),
    }
    return Record(resource_id=user_id, data=data)


@collector(
    "google_workspace.users",
    scope="google_workspace_customer",
    freshness=timedelta(hours=24),
    permissions=[USERS_SCOPE],
)
def users(target: WorkspaceCustomer) -> Iterator[Record]:
    """Each user: suspended or archived, admin flags, 2SV enrolment and enforcement, last sign-in."""
    domain = target.api.settings.domain
    where = {"domain": domain} if domain else {"customer": target.customer_id}
    what = "directory.users.list " + " ".join(f"{key}={value}" for key, value in where.items())

    def request(directory: Any, token: str | None) -> Any:
        return directory.users().list(
            **where, maxResults=PAGE_SIZE, projection="basic", fields=FIELDS, pageToken=token
        )

    for user in target.api.listing(what, request, "users"):
        yield user_record(user, what)
