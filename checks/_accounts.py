"""Every system's accounts read one way: who they may belong to, whether they still give access,
when they were last used.

The one directory of people (`checks._directory`) links the accounts of every source in
`READERS` to HR's employees, so a leaver's timeline and an orphan account read the same whichever
identity provider, cloud or code host holds them. A new identity system adds one reader here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from agent.plugin.model import Record
from checks import _entra, _github, _google_workspace, _okta
from checks._dates import parse_timestamp
from checks._gcp_iam import POLICIES as GCP_POLICIES
from checks._gcp_iam import email_of, grants, undeleted
from checks._identity import Directory, Match
from checks.aws._common import CREDENTIAL_REPORT, ROOT_ROW


@dataclass(frozen=True)
class Account:
    """One account in one system, as the people checks need to see it."""

    system: str  # how a reason names the system: "Okta", "AWS IAM"
    name: str  # the account's login, UPN, user name or member
    record: Record
    active: bool  # it still gives access (enabled, not suspended, holds a credential or a role)
    state: str  # what a timeline says of it: "ACTIVE", "suspended", "still has access key 1"
    last_used: datetime | None = None
    employee_id: str | None = None
    emails: tuple[str, ...] = ()
    others: tuple[str, ...] = ()  # identifiers that are not mailboxes: they link through aliases only
    owned: bool = True  # a member account a person should own (guests and machines are not)
    used: str = "last used"  # how the system words `last_used`; "" where it records no use
    never: str = "never used"  # and its absence

    def link(self, people: Directory) -> Match:
        return people.resolve(employee_id=self.employee_id, emails=self.emails, accounts=self.others)

    def describe(self) -> str:
        """`Okta finn@acme.com ACTIVE`: the account as one entry of a timeline."""
        return f"{self.system} {self.name} {self.state}"


def _entra_accounts(user: Record) -> Iterator[Account]:
    data = user.data
    enabled = _entra.is_enabled(user)
    yield Account(
        "Entra ID",
        _entra.account_name(user),
        user,
        enabled,
        "enabled" if enabled else "disabled",
        _entra.last_sign_in(user),
        data.get("employeeId"),
        tuple(e for e in (data.get("mail"), data.get("userPrincipalName")) if e),
        owned=_entra.is_member(user),
        used="last sign-in",
        never="no sign-in recorded",
    )


def _okta_accounts(user: Record) -> Iterator[Account]:
    data = user.data
    yield Account(
        "Okta",
        _okta.login(user),
        user,
        _okta.is_active(user),
        _okta.state(user),
        _okta.last_login(user),
        data.get("employeeNumber"),
        tuple(e for e in (data.get("email"), data.get("login")) if e),
        used="last login",
        never="never logged in",
    )


def _workspace_accounts(user: Record) -> Iterator[Account]:
    yield Account(
        "Google Workspace",
        _google_workspace.email(user),
        user,
        _google_workspace.is_active(user),
        _google_workspace.state(user),
        _google_workspace.last_login(user),
        user.data.get("employeeId"),
        tuple(_google_workspace.emails(user)),
        used="last login",
        never="never logged in",
    )


IAM_LAST_USED = ("password_last_used", "access_key_1_last_used_date", "access_key_2_last_used_date")


def iam_credentials(row: Record) -> list[str]:
    """The credentials an IAM user still holds: a console password, active access keys."""
    data = row.data
    held = ["console password"] if data.get("password_enabled") == "true" else []
    return held + [f"access key {n}" for n in (1, 2) if data.get(f"access_key_{n}_active") == "true"]


def _iam_accounts(row: Record) -> Iterator[Account]:
    """IAM user names are often email addresses; otherwise only an alias (name or ARN) links them."""
    name = str(row.data.get("user") or "")
    if name == ROOT_ROW or row.resource_id.endswith(":root"):
        return
    held = iam_credentials(row)
    used = [parse_timestamp(row.data.get(f)) for f in IAM_LAST_USED]
    account = row.resource_id.split(":")[4] if row.resource_id.count(":") >= 5 else row.scope
    state = f"still has {', '.join(held)}" if held else "has no active credential"
    yield Account(
        "AWS IAM user",
        f"{name} ({account})",
        row,
        bool(held),
        state,
        max((u for u in used if u is not None), default=None),
        emails=(name,) if "@" in name else (),
        others=(name, row.resource_id),
    )


def _gcp_accounts(policy: Record) -> Iterator[Account]:
    """Each user member of a readable IAM policy, with the roles it holds there."""
    if policy.data.get("error") is not None:
        return
    roles: dict[str, list[str]] = {}
    for grant in grants(policy):
        member = undeleted(grant.member)
        if member.startswith("user:") and (email := email_of(member)):
            roles.setdefault(email, []).append(grant.role)
    for email, held in roles.items():
        yield Account(
            "GCP", email, policy, True, f"holds {', '.join(sorted(set(held)))} on {policy.resource_id}",
            emails=(email,), used="",
        )  # fmt: skip


def _github_accounts(member: Record) -> Iterator[Account]:
    email = member.data.get("email")
    yield Account(
        "GitHub",
        _github.login(member),
        member,
        True,
        f"organisation {member.data.get('role') or 'member'}",
        emails=(email,) if email else (),
        others=(_github.login(member),),
        used="",
    )


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
