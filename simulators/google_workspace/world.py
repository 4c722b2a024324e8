"""The simulated Google Workspace customer: its users, admin roles and role assignments in the
Directory API's own JSON, the service accounts allowed domain-wide delegation, and the bearer tokens
the server accepts.

Users are kept in insertion order (the listing's order) with indexes by email and domain, so seeding
50,000 is cheap and a page of a listing costs only its own users.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from simulators.localserver import Fault

SCOPE = "https://www.googleapis.com/auth/admin.directory."
USERS_READONLY, USERS_FULL = SCOPE + "user.readonly", SCOPE + "user"
ROLES_READONLY, ROLES_FULL = SCOPE + "rolemanagement.readonly", SCOPE + "rolemanagement"
READONLY_SCOPES = frozenset({USERS_READONLY, ROLES_READONLY})
STATIC_TOKEN = "ya29.simulated-static-access-token"  # the demo's; `world.grant()` registers it
NEVER = "1970-01-01T00:00:00.000Z"  # Google's lastLoginTime for a user who never signed in
SYSTEM_ROLES = (
    "_SEED_ADMIN_ROLE",
    "_GROUPS_ADMIN_ROLE",
    "_USER_MANAGEMENT_ADMIN_ROLE",
    "_HELP_DESK_ADMIN_ROLE",
)
_USER_FLAGS = dict.fromkeys(
    ("isAdmin", "isDelegatedAdmin", "suspended", "archived", "ipWhitelisted"), False
) | {
    "isEnrolledIn2Sv": False,
    "isEnforcedIn2Sv": False,
    "changePasswordAtNextLogin": False,
    "agreedToTerms": True,
    "isMailboxSetup": True,
    "includeInGlobalAddressList": True,
}


@dataclass(frozen=True)
class Grant:
    """What a bearer token may do: its scopes, and the user it acts as (None: an administrator's own)."""

    scopes: frozenset[str]
    subject: str | None = None


@dataclass(frozen=True)
class ServiceAccount:
    client_email: str
    client_id: str
    key_id: str
    public_key: rsa.RSAPublicKey  # checks the assertions it signs
    scopes: frozenset[str]  # what domain-wide delegation authorises its client id for


@dataclass
class WorkspaceWorld:
    """What the server answers from; tests, the demo and the benchmark fill it with the helpers."""

    customer_id: str = "C01simul8"
    users: list[dict[str, Any]] = field(default_factory=list)  # in insertion order: the listing's order
    by_email: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_domain: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    roles: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    service_accounts: dict[str, ServiceAccount] = field(default_factory=dict)  # by client email
    tokens: dict[str, Grant] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)  # regex on "METHOD /path?query" -> fault
    max_page: int | None = None  # caps pages below what the client asks, so tests page through few items
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def _id(self, base: int) -> str:
        return str(base + next(self._ids))

    def add_user(self, email: str, **fields: Any) -> dict[str, Any]:
        """A user as users.list (projection basic) renders it: `fields` are Google's own (`isAdmin`,
        `lastLoginTime`, `externalIds` ...) over a signed-up, never-signed-in, unprivileged user. Its
        domain becomes one of the customer's."""
        if email.lower() in self.by_email:
            raise ValueError(f"{email}: a user with this address exists")
        user_id = self._id(103_000_000_000_000_000_000)
        given = email.partition("@")[0].replace(".", " ").title()
        user: dict[str, Any] = {
            "kind": "admin#directory#user",
            "id": user_id,
            "etag": f'"sim/{user_id}"',
            "primaryEmail": email,
            "name": {"givenName": given, "familyName": "Sim", "fullName": f"{given} Sim"},
            "emails": [{"address": email, "primary": True}],
            "customerId": self.customer_id,
            "creationTime": "2024-01-15T09:00:00.000Z",
            "lastLoginTime": NEVER,
            "orgUnitPath": "/",
            **_USER_FLAGS,
            **fields,
        }
        self.users.append(user)
        self.by_email[email.lower()] = user
        self.by_domain.setdefault(email.partition("@")[2].lower(), []).append(user)
        return user

    def add_users(self, count: int, domain: str, **fields: Any) -> None:
        """`count` users `user00001@domain` ... alike but for their address (the benchmark's seed)."""
        for n in range(1, count + 1):
            self.add_user(f"user{n:05d}@{domain}", **fields)

    def add_role(self, name: str, *, super_admin: bool = False, system: bool = True) -> dict[str, Any]:
        role_id = self._id(3_894_208_461_000_000)
        role = {
            "kind": "admin#directory#role",
            "etag": f'"sim/{role_id}"',
            "roleId": role_id,
            "roleName": name,
            "roleDescription": name.strip("_").replace("_", " ").title(),
            "rolePrivileges": [{"serviceId": "00haapch16h1ysv", "privilegeName": "USERS_RETRIEVE"}],
            "isSystemRole": system,
            "isSuperAdminRole": super_admin,
        }
        self.roles.append(role)
        return role

    def add_system_roles(self) -> dict[str, dict[str, Any]]:
        """Google's predefined roles, by name; `_SEED_ADMIN_ROLE` is the super admin role."""
        return {n: self.add_role(n, super_admin=n == "_SEED_ADMIN_ROLE") for n in SYSTEM_ROLES}

    def assign(
        self, role: dict[str, Any], assigned_to: str, *, group: bool = False, org_unit_id: str | None = None
    ) -> dict[str, Any]:
        """`role` given to a user's (or, `group`, a group's) id, customer-wide or in one org unit."""
        assignment_id = self._id(9_191_000_000_000_000)
        doc = {
            "kind": "admin#directory#roleAssignment",
            "etag": f'"sim/{assignment_id}"',
            "roleAssignmentId": assignment_id,
            "roleId": role["roleId"],
            "assignedTo": assigned_to,
            "assigneeType": "group" if group else "user",
            "scopeType": "ORG_UNIT" if org_unit_id else "CUSTOMER",
        }
        if org_unit_id:
            doc["orgUnitId"] = org_unit_id
        self.assignments.append(doc)
        return doc

    def grant(self, token: str = STATIC_TOKEN, scopes: Iterable[str] = READONLY_SCOPES) -> str:
        """Accept `token` as an administrator's own, carrying `scopes`."""
        self.tokens[token] = Grant(frozenset(scopes))
        return token

    def add_service_account(
        self, client_email: str, public_key: rsa.RSAPublicKey, *, scopes: Iterable[str] = READONLY_SCOPES
    ) -> ServiceAccount:
        account = ServiceAccount(
            client_email,
            self._id(110_000_000_000_000_000_000),
            secrets.token_hex(20),
            public_key,
            frozenset(scopes),
        )
        self.service_accounts[client_email] = account
        return account
