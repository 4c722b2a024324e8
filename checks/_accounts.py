"""Every system's accounts read one way: who they may belong to, whether they still give access,
when they were last used.

The one directory of people (`checks._directory`) links the accounts of every source in
`READERS` to HR's employees, so a leaver's timeline and an orphan account read the same whichever
identity provider, cloud or code host holds them. A new identity system adds one `Kind` and one
reader here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from agent.plugin.model import Record
from checks import _entra, _github, _google_workspace, _okta
from checks._dates import parse_timestamp
from checks._gcp_iam import POLICIES as GCP_POLICIES
from checks._gcp_iam import email_of, grants, undeleted
from checks._identity import Directory, Match
from checks.aws._common import CREDENTIAL_REPORT, ROOT_ROW

Identifiers = tuple[Iterable[str], Iterable[str]]  # (mailboxes, identifiers that link through aliases only)


def _unrecorded(_record: Record) -> datetime | None:
    return None


@dataclass(frozen=True)
class Kind:
    """One system's accounts: how reasons word them, and how what only some findings need is read
    from an account's record when asked (an evaluation links every account; few are leavers')."""

    system: str  # how a reason names the system: "Okta", "AWS IAM"
    state: Callable[[Account], str]  # what a timeline says of one: "ACTIVE", "still has access key 1"
    identifiers: Callable[[Account], Identifiers]
    last_used: Callable[[Record], datetime | None] = _unrecorded
    used: str = "last used"  # how the system words `last_used`; "" where it records no use
    never: str = "never used"  # and its absence


class Account(NamedTuple):
    """One account in one system, as the people checks need to see it. A named tuple, not a frozen
    dataclass: an evaluation builds one per account of every system, three times as fast."""

    kind: Kind
    name: str  # the account's login, UPN, user name or member
    record: Record
    active: bool  # it still gives access (enabled, not suspended, holds a credential or a role)
    employee_id: str | None = None
    owned: bool = True  # a member account a person should own (guests and machines are not)

    @property
    def system(self) -> str:
        return self.kind.system

    @property
    def state(self) -> str:
        return self.kind.state(self)

    @property
    def last_used(self) -> datetime | None:
        return self.kind.last_used(self.record)

    @property
    def used(self) -> str:
        return self.kind.used

    @property
    def never(self) -> str:
        return self.kind.never

    def link(self, people: Directory) -> Match:
        emails, others = self.kind.identifiers(self)
        return people.resolve(employee_id=self.employee_id, emails=emails, accounts=others)

    def describe(self) -> str:
        """`Okta finn@acme.com ACTIVE`: the account as one entry of a timeline."""
        return f"{self.system} {self.name} {self.state}"


def _present(*values: object) -> tuple[str, ...]:
    return tuple(str(v) for v in values if v)


ENTRA = Kind(
    "Entra ID",
    lambda a: "enabled" if a.active else "disabled",
    lambda a: (_present(a.record.data.get("mail"), a.record.data.get("userPrincipalName")), ()),
    _entra.last_sign_in,
    used="last sign-in",
    never="no sign-in recorded",
)
OKTA = Kind(
    "Okta",
    lambda a: _okta.state(a.record),
    lambda a: (_present(a.record.data.get("email"), a.record.data.get("login")), ()),
    _okta.last_login,
    used="last login",
    never="never logged in",
)
WORKSPACE = Kind(
    "Google Workspace",
    lambda a: _google_workspace.state(a.record),
    lambda a: (_google_workspace.emails(a.record), ()),
    _google_workspace.last_login,
    used="last login",
    never="never logged in",
)


def _entra_accounts(user: Record) -> Iterator[Account]:
    enabled = _entra.is_enabled(user)
    name = _entra.account_name(user)
    yield Account(ENTRA, name, user, enabled, user.data.get("employeeId"), _entra.is_member(user))


def _okta_accounts(user: Record) -> Iterator[Account]:
    yield Account(OKTA, _okta.login(user), user, _okta.is_active(user), user.data.get("employeeNumber"))


def _workspace_accounts(user: Record) -> Iterator[Account]:
    email = _google_workspace.email(user)
    yield Account(WORKSPACE, email, user, _google_workspace.is_active(user), user.data.get("employeeId"))


IAM_LAST_USED = ("password_last_used", "access_key_1_last_used_date", "access_key_2_last_used_date")


def iam_credentials(row: Record) -> list[str]:
    """The credentials an IAM user still holds: a console password, active access keys."""
    data = row.data
    held = ["console password"] if data.get("password_enabled") == "true" else []
    return held + [f"access key {n}" for n in (1, 2) if data.get(f"access_key_{n}_active") == "true"]


def _iam_state(account: Account) -> str:
    held = iam_credentials(account.record)
    return f"still has {', '.join(held)}" if held else "has no active credential"


def _iam_last_used(row: Record) -> datetime | None:
    used = [parse_timestamp(row.data.get(f)) for f in IAM_LAST_USED]
    return max((u for u in used if u is not None), default=None)


def _iam_identifiers(account: Account) -> Identifiers:
    """IAM user names are often email addresses; otherwise only an alias (name or ARN) links them."""
    name = str(account.record.data.get("user") or "")
    return ((name,) if "@" in name else ()), (name, account.record.resource_id)


IAM = Kind("AWS IAM user", _iam_state, _iam_identifiers, _iam_last_used)


def _iam_accounts(row: Record) -> Iterator[Account]:
    name = str(row.data.get("user") or "")
    if name == ROOT_ROW or row.resource_id.endswith(":root"):
        return
    account = row.resource_id.split(":")[4] if row.resource_id.count(":") >= 5 else row.scope
    yield Account(IAM, f"{name} ({account})", row, bool(iam_credentials(row)))


def _user_roles(policy: Record) -> dict[str, list[str]]:
    """The roles each user member holds in a readable IAM policy, by email."""
    roles: dict[str, list[str]] = {}
    for grant in grants(policy):
        member = undeleted(grant.member)
        if member.startswith("user:") and (email := email_of(member)):
            roles.setdefault(email, []).append(grant.role)
    return roles


def _gcp_state(account: Account) -> str:
    held = _user_roles(account.record)[account.name]
    return f"holds {', '.join(sorted(set(held)))} on {account.record.resource_id}"


GCP = Kind("GCP", _gcp_state, lambda a: ((a.name,), ()), used="")


def _gcp_accounts(policy: Record) -> Iterator[Account]:
    """Each user member of a readable IAM policy (an account whose email is its name)."""
    if policy.data.get("error") is not None:
        return
    for email in _user_roles(policy):
        yield Account(GCP, email, policy, True)


GITHUB = Kind(
    "GitHub",
    lambda a: f"organisation {a.record.data.get('role') or 'member'}",
    lambda a: (_present(a.record.data.get("email")), (a.name,)),
    used="",
)


def _github_accounts(member: Record) -> Iterator[Account]:
    yield Account(GITHUB, _github.login(member), member, True)


# Every source whose records are accounts, in the order a timeline lists systems.
READERS: dict[str, Callable[[Record], Iterator[Account]]] = {
    _okta.USERS: _okta_accounts,
    _google_workspace.USERS: _workspace_accounts,
    _entra.USERS: _entra_accounts,
    CREDENTIAL_REPORT: _iam_accounts,
    GCP_POLICIES: _gcp_accounts,
    _github.MEMBERS: _github_accounts,
}
ACCOUNT_SOURCES = tuple(READERS)
