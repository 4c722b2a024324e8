"""Populations an auditor samples from, derived from the sealed evidence of an audit period.

Each reads records the way the checks do (`checks._identity` for people, `checks._accounts` for
every system's accounts), never its own way. Accounts and grants are followed through the period's
listings of their scope: the scope's first listing in the period is the baseline (what was there
when the period's evidence starts), so an account is *created* when a later listing first holds
it, and *removed* when, having given access, it stops: disabled, suspended, or no longer listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from agent.plugin import population
from agent.plugin.model import Record
from agent.plugin.period_view import Listing, Member, Period
from checks import _entra, _github, _google_workspace, _okta
from checks._accounts import ACCOUNT_SOURCES, READERS, Account
from checks._identity import EMPLOYEES, Directory, Person
from checks.google_workspace import _role_names

T = TypeVar("T")
_Read = Callable[[Record], Iterable[tuple[str, T, bool]]]  # (key, item, gives access) per record


@dataclass
class Trace(Generic[T]):
    """One account, grant or resource through its scope's listings of the period."""

    scope: str
    key: str
    opening: Listing  # the scope's first listing in the period: the baseline
    closing: Listing  # and its last
    first: tuple[Listing, T]  # the first listing holding it, and it there
    newest: tuple[Listing, T]  # the newest listing of a changed content holding it
    last_on: tuple[Listing, T] | None = None  # the last listing where it gave access
    off_since: tuple[Listing, T | None] | None = field(default=None)  # since when it has not, if so

    @property
    def created(self) -> bool:
        return self.first[0] is not self.opening

    @property
    def removed(self) -> bool:
        return self.last_on is not None and self.off_since is not None


def traces(period: Period, source: str, read: _Read[T]) -> list[Trace[T]]:
    """Every key `read` finds in the listings of `source`, traced per scope, scopes and keys sorted.
    A listing whose content is that of the one before it changes nothing and is skipped."""
    out: list[Trace[T]] = []
    for scope, listings in period.by_scope(source).items():
        known: dict[str, Trace[T]] = {}
        previous = ""
        for listing in listings:
            if listing.tree == previous:
                continue
            previous = listing.tree
            present: dict[str, tuple[T, bool]] = {}
            for record in listing.records:
                for key, item, on in read(record):
                    held = present.get(key)
                    present[key] = (item, on) if held is None else (held[0], held[1] or on)
            for key, (item, on) in present.items():
                trace = known.get(key)
                if trace is None:
                    trace = known[key] = Trace(
                        scope, key, listings[0], listings[-1], (listing, item), (listing, item)
                    )
                trace.newest = (listing, item)
                if on:
                    trace.last_on, trace.off_since = (listing, item), None
                elif trace.off_since is None:
                    trace.off_since = (listing, item)
            for key, trace in known.items():
                if key not in present and trace.off_since is None:
                    trace.off_since = (listing, None)
        out.extend(known[k] for k in sorted(known))
    return out


def _at(listing: Listing) -> str:
    return listing.collected_at.isoformat()


def _accounts(source: str) -> _Read[Account]:
    read = READERS[source]
    return lambda record: ((a.name, a, a.active) for a in read(record))


def _people(period: Period) -> tuple[Directory, dict[tuple[str, str], Listing]]:
    """HR's employees as the newest listing of each shows them, and where each record was listed."""
    latest = list(period.latest(EMPLOYEES))
    where = {(r.scope, r.resource_id): listing for listing, r in latest}
    return Directory.from_records(r for _, r in latest), where


def _cite_person(person: Person, where: dict[tuple[str, str], Listing]) -> dict[str, Any]:
    return where[(person.record.scope, person.record.resource_id)].cite(person.record)


# --- joiners and leavers ---------------------------------------------------------------------------


def _against(value: Any, start: date | None) -> dict[str, Any]:
    """A fact HR records (an ISO date, true/false or nothing) against the start date."""
    if isinstance(value, str):
        done = date.fromisoformat(value)
        before = None if start is None else (start - done).days
        return {
            "recorded": value,
            "days_before_start": before,
            "in_time": None if before is None else before >= 0,
        }
    return {"recorded": value, "days_before_start": None, "in_time": False if not value else None}


@population(
    "joiners",
    title="Joiners: employees whose start date falls in the period",
    question="Were they screened, and did they sign the terms of employment and the NDA, by their start date?",
    needs=[EMPLOYEES],
)
def joiners(period: Period) -> Iterator[Member]:
    """Each employee whose HR hire date is in the period, with the screening, terms and NDA dates
    HR holds against it (`in_time` null: recorded without a date, or no start date)."""
    people, where = _people(period)
    for person in people:
        if not period.contains(person.hire_date):
            continue
        data, start = person.record.data, person.hire_date
        answer = {
            "employee_id": person.employee_id,
            "status": person.status,
            "start_date": start.isoformat() if start else None,
            "screening": _against(data.get("screening_completed"), start),
            "terms": _against(data.get("terms_signed"), start),
            "nda": _against(data.get("nda_signed"), start),
        }
        yield Member(person.employee_id, person.label, answer, (_cite_person(person, where),))


def _leaver_account(person: Person, trace: Trace[Account]) -> tuple[dict[str, Any], dict[str, Any]]:
    """When the account was first seen no longer giving access (for good), or that it still did."""
    account = trace.newest[1]
    entry: dict[str, Any] = {"system": account.system, "account": account.name, "scope": trace.scope}
    if trace.off_since is None:
        assert trace.last_on is not None
        entry |= {"disabled_at": None, "state": account.state, "still_active_at": _at(trace.closing)}
        return entry, trace.last_on[0].cite(trace.last_on[1].record)
    listing, seen = trace.off_since
    after = None
    if person.termination_date is not None:
        after = (listing.collected_at.date() - person.termination_date).days
    entry |= {
        "disabled_at": _at(listing),
        "state": seen.state if seen is not None else "no longer listed",
        "days_after_termination": after,
        "already_at_period_start": listing is trace.opening,
    }
    return entry, listing.cite(None if seen is None else seen.record)


@population(
    "leavers",
    title="Leavers: employees whose termination date falls in the period",
    question="When was each of their accounts, in every identity system, first seen disabled or removed?",
    needs=[EMPLOYEES],
    context=ACCOUNT_SOURCES,
)
def leavers(period: Period) -> Iterator[Member]:
    """Each employee whose HR termination date is in the period (one terminated without a date
    cannot be placed in it), with every account linked to them in each system listed in the period."""
    people, where = _people(period)
    leaving = [p for p in people if period.contains(p.termination_date)]
    if not leaving:
        return
    held: dict[str, list[Trace[Account]]] = {}
    systems = [s for s in ACCOUNT_SOURCES if period.of(s)]
    for source in systems:
        for trace in traces(period, source, _accounts(source)):
            match = trace.newest[1].link(people)
            if match.person is not None:
                held.setdefault(match.person.employee_id, []).append(trace)
    for person in leaving:
        told = [_leaver_account(person, t) for t in held.get(person.employee_id, [])]
        answer = {
            "employee_id": person.employee_id,
            "termination_date": person.termination_date.isoformat() if person.termination_date else None,
            "status": person.status,
            "systems_read": systems,
            "accounts": [entry for entry, _ in told],
        }
        yield Member(
            person.employee_id, person.label, answer, (_cite_person(person, where), *(c for _, c in told))
        )


# --- accounts created and removed, per identity system ---------------------------------------------


def _accounts_created(source: str) -> Callable[[Period], Iterator[Member]]:
    def created(period: Period) -> Iterator[Member]:
        for t in traces(period, source, _accounts(source)):
            if t.created:
                listing, account = t.first
                answer = {
                    "system": account.system,
                    "account": account.name,
                    "scope": t.scope,
                    "first_seen": _at(listing),
                    "state": account.state,
                    "baseline": _at(t.opening),
                }
                yield Member(
                    f"{t.scope} {t.key}",
                    f"{account.system} {account.name}",
                    answer,
                    (listing.cite(account.record),),
                )

    return created


def _accounts_removed(source: str) -> Callable[[Period], Iterator[Member]]:
    def removed(period: Period) -> Iterator[Member]:
        for t in traces(period, source, _accounts(source)):
            if t.removed and t.last_on is not None and t.off_since is not None:
                (on, account), (off, seen) = t.last_on, t.off_since
                answer = {
                    "system": account.system,
                    "account": account.name,
                    "scope": t.scope,
                    "last_seen_active": _at(on),
                    "removed_at": _at(off),
                    "state": seen.state if seen is not None else "no longer listed",
                }
                cited = (on.cite(account.record), off.cite(None if seen is None else seen.record))
                yield Member(f"{t.scope} {t.key}", f"{account.system} {account.name}", answer, cited)

    return removed


for _source in ACCOUNT_SOURCES:
    _system = _source.split(".", 1)[0]
    population(
        f"accounts-created:{_system}",
        title=f"Accounts first listed in {_system} ({_source}) during the period",
        question="Was each account's creation requested and approved, and for whom?",
        needs=[_source],
    )(_accounts_created(_source))
    population(
        f"accounts-removed:{_system}",
        title=f"Accounts in {_system} ({_source}) that stopped giving access during the period",
        question="Was each removal requested, and was it done on time?",
        needs=[_source],
    )(_accounts_removed(_source))


# --- privileged grants -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Roles:
    """Where a system lists who holds admin roles, and where it names them."""

    source: str
    grants: Callable[[Record], Iterable[tuple[str, str]]]  # (holder id, role) per record
    users: str | None = None  # the source whose resource ids are the holder ids
    name: Callable[[Record], str] | None = None


def _entra_grants(role: Record) -> Iterator[tuple[str, str]]:
    for member in role.data.get("members") or []:
        if member.get("type") == "user":
            yield str(member["id"]), str(role.data.get("displayName"))


def _workspace_grants(assignment: Record) -> Iterator[tuple[str, str]]:
    if assignment.data.get("assigneeType") == "user":
        yield str(assignment.data.get("assignedTo")), _role_names([assignment])[0]


def _github_owners(member: Record) -> Iterator[tuple[str, str]]:
    if member.data.get("role") == "admin":
        yield _github.login(member), "organisation owner"


ROLE_SOURCES = {
    "okta": Roles(
        _okta.ADMIN_ROLES,
        lambda r: ((_okta.holder_id(r), role) for role in _okta.role_names(r)),
        _okta.USERS,
        _okta.login,
    ),
    "entra": Roles(_entra.DIRECTORY_ROLES, _entra_grants, _entra.USERS, _entra.account_name),
    "google_workspace": Roles(
        _google_workspace.ROLE_ASSIGNMENTS,
        _workspace_grants,
        _google_workspace.USERS,
        _google_workspace.email,
    ),
    "github": Roles(_github.MEMBERS, _github_owners),
}


def _grants_given(roles: Roles) -> Callable[[Period], Iterator[Member]]:
    def given(period: Period) -> Iterator[Member]:
        named: dict[tuple[str, str], tuple[Listing, Record]] = {}
        if roles.users is not None:
            named = {(r.scope, r.resource_id): (ls, r) for ls, r in period.latest(roles.users)}

        def read(record: Record) -> Iterator[tuple[str, tuple[str, str, Record], bool]]:
            return ((f"{h} {role}", (h, role, record), True) for h, role in roles.grants(record))

        for t in traces(period, roles.source, read):
            if not t.created:
                continue
            listing, (holder, role, record) = t.first
            user = named.get((t.scope, holder))
            name = roles.name(user[1]) if user is not None and roles.name is not None else None
            answer = {
                "holder": holder,
                "holder_name": name,
                "role": role,
                "scope": t.scope,
                "first_seen": _at(listing),
                "baseline": _at(t.opening),
            }
            cited = (listing.cite(record), *((user[0].cite(user[1]),) if user is not None else ()))
            yield Member(f"{t.scope} {t.key}", f"{name or holder}: {role}", answer, cited)

    return given


for _system, _roles in ROLE_SOURCES.items():
    population(
        f"privileged-grants:{_system}",
        title=f"Admin roles in {_system} first held during the period",
        question="Was each grant of privileged access requested, approved and justified?",
        needs=[_roles.source],
        context=[_roles.users] if _roles.users else [],
    )(_grants_given(_roles))


# --- every resource of a source ----------------------------------------------------------------------


@population(
    "resources",
    title="Resources of {source} listed during the period",
    question="What did each look like when last listed in the period?",
    family=True,
)
def resources(period: Period) -> Iterator[Member]:
    """Every resource of the source in any scope, first and last listed, as its newest listing shows it."""
    for source in sorted(period.readable or ()):
        for t in traces(period, source, lambda r: ((r.resource_id, r, True),)):
            listing, record = t.newest
            answer = {
                "scope": t.scope,
                "resource_id": record.resource_id,
                "first_seen": _at(t.first[0]),
                "still_listed_at": None if t.off_since is not None else _at(t.closing),
                "gone_since": None if t.off_since is None else _at(t.off_since[0]),
            }
            yield Member(f"{t.scope} {t.key}", record.resource_id, answer, (listing.cite(record),))
