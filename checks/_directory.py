"""One directory of people and their accounts in every system, and the timeline a leaver finding tells.

Every account of every account source a check can see (`checks._accounts.READERS`) is linked to
HR's employees once per evaluation, through the shared resolution rules of `checks._identity`
(employee id, then aliases, then email; ambiguous links are never guessed). A leaver finding in one
system then reads the person's whole story: when they left, and what each of their accounts
everywhere still allows — "terminated 2026-10-31 (30 days ago); Okta finn@acme.com ACTIVE, last
login 2026-11-26 (26 days after termination); Google Workspace finn@acme.com suspended ...".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from agent.plugin.evidence import Evidence
from agent.plugin.model import Record
from checks._accounts import READERS, Account
from checks._dates import days_ago, days_between
from checks._identity import EMPLOYEES, Match, Person, directory, termination


@dataclass(frozen=True)
class Linked:
    """A source's accounts and, in the same order, the employee each links to: two lists, not a
    pair per account, as an evaluation holds every account of every system (a pair each would be
    that many more objects for the garbage collector to go through, again and again)."""

    accounts: list[Account]
    matches: list[Match]

    def __iter__(self) -> Iterator[tuple[Account, Match]]:
        return zip(self.accounts, self.matches, strict=True)


def linked(ev: Evidence, source: str) -> Linked:
    """The accounts of one source in the view, each with the employee it links to (built once)."""

    def build() -> Linked:
        people, read = directory(ev), READERS[source]
        accounts = [a for r in ev.records(source) for a in read(r)]
        return Linked(accounts, [a.link(people) for a in accounts])

    return ev.memo(("directory.linked", source, ev.fingerprint(EMPLOYEES), ev.fingerprint(source)), build)


@dataclass(frozen=True)
class _Leavers:
    """Leavers' linked accounts by employee id, in `READERS` order (systems, then records), and the
    timeline entry of each once told: every leaver check of every system tells the same leavers."""

    held: dict[str, list[Account]]
    entries: dict[int, str] = field(default_factory=dict)  # by id() of an account in `held`


def _leavers(ev: Evidence) -> _Leavers:
    """The accounts of the people who have left by the view's day (only leavers' timelines are told)."""
    sources = [s for s in READERS if s in ev.sources]
    today = ev.now.date()

    def build() -> _Leavers:
        held: dict[str, list[Account]] = {}
        for source in sources:
            for account, match in linked(ev, source):
                if match.person is not None and match.person.has_left(today):
                    held.setdefault(match.person.employee_id, []).append(account)
        return _Leavers(held)

    fingerprints = ((s, ev.fingerprint(s)) for s in sources)
    return ev.memo(("directory.leavers", ev.now, ev.fingerprint(EMPLOYEES), *fingerprints), build)


def after_leaving(person: Person, when: datetime | None) -> int | None:
    """Days after the termination date `when` fell (None: not after it, or either unknown)."""
    if when is None or person.termination_date is None:
        return None
    after = (when.date() - person.termination_date).days
    return after if after > 0 else None


def usage(account: Account, person: Person, now: datetime) -> str:
    """`last login 2026-11-26 (4 days ago), 26 days after termination`, or `never logged in`."""
    when = account.last_used
    if when is None:
        return account.never
    text = f"{account.used} {when.date().isoformat()} ({days_ago(days_between(when, now))})"
    after = after_leaving(person, when)
    if after is not None:
        text += f", {after} day{'s' if after != 1 else ''} after termination"
    return text


def _entry(account: Account, person: Person, now: datetime) -> str:
    if not account.used:  # the system records no use of its own (a role binding, a membership)
        return account.describe()
    return f"{account.describe()}, {usage(account, person, now)}"


@dataclass(frozen=True)
class Timeline:
    text: str
    records: tuple[Record, ...]  # the person's HR record and every account record told


class Timelines:
    """Tells leavers' timelines from one view: the directory is fingerprinted once per check, not
    once per leaver (a check may tell thousands)."""

    def __init__(self, ev: Evidence) -> None:
        self.ev = ev
        self.leavers = _leavers(ev)

    def of(self, person: Person, first: Account | None = None) -> Timeline:
        """The leaver's leaving and every account they hold anywhere, `first` (the one judged) first.

        Context sources that could not be read are named, so a short timeline is never mistaken for
        a complete one.
        """
        held = self.leavers.held.get(person.employee_id, [])
        told = [first, *(a for a in held if a.record is not first.record)] if first else held
        parts = [f"{person.label}: {termination(person, self.ev.now.date())}"]
        parts += [self._entry(a, person, held) for a in told]
        if self.ev.gaps:
            parts.append("not known: " + "; ".join(self.ev.gaps))
        return Timeline("; ".join(parts), (person.record, *(a.record for a in told)))

    def _entry(self, account: Account, person: Person, held: list[Account]) -> str:
        if not any(a is account for a in held):
            return _entry(account, person, self.ev.now)
        entries = self.leavers.entries  # the account is kept alive by `held`: its id names it
        if id(account) not in entries:
            entries[id(account)] = _entry(account, person, self.ev.now)
        return entries[id(account)]
