"""One directory of people and their accounts in every system, and the timeline a leaver finding tells.

Every account of every account source a check can see (`checks._accounts.READERS`) is linked to
HR's employees once per evaluation, through the shared resolution rules of `checks._identity`
(employee id, then aliases, then email; ambiguous links are never guessed). A leaver finding in one
system then reads the person's whole story: when they left, and what each of their accounts
everywhere still allows — "terminated 2026-10-31 (30 days ago); Okta finn@acme.com ACTIVE, last
login 2026-11-26 (26 days after termination); Google Workspace finn@acme.com suspended ...".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from agent.plugin.evidence import Evidence
from agent.plugin.model import Record
from checks._accounts import READERS, Account
from checks._dates import days_ago, days_between
from checks._identity import Match, Person, directory, termination


@dataclass(frozen=True)
class Linked:
    account: Account
    match: Match


def _fingerprint(records: Iterable[Record]) -> tuple[tuple[str, str, str], ...]:
    return tuple((r.scope, r.resource_id, r.hash) for r in records)


def linked(ev: Evidence, source: str) -> list[Linked]:
    """The accounts of one source in the view, each with the employee it links to (built once)."""
    records = ev.records(source)
    people = directory(ev)

    def build() -> list[Linked]:
        read = READERS[source]
        return [Linked(a, a.link(people)) for r in records for a in read(r)]

    return ev.memo(("directory.linked", source, id(people), _fingerprint(records)), build)


def holdings(ev: Evidence) -> dict[str, list[Account]]:
    """Every linked account in the view by employee id, in `READERS` order (systems, then records)."""
    sources = [s for s in READERS if s in ev.sources]
    people = directory(ev)

    def build() -> dict[str, list[Account]]:
        held: dict[str, list[Account]] = {}
        for source in sources:
            for item in linked(ev, source):
                if item.match.person is not None:
                    held.setdefault(item.match.person.employee_id, []).append(item.account)
        return held

    key = ("directory.holdings", id(people), *((s, _fingerprint(ev.records(s))) for s in sources))
    return ev.memo(key, build)


def after_leaving(person: Person, when: datetime | None) -> int | None:
    """Days after the termination date `when` fell (None: not after it, or either unknown)."""
    if when is None or person.termination_date is None:
        return None
    after = (when.date() - person.termination_date).days
    return after if after > 0 else None


def usage(account: Account, person: Person, now: datetime) -> str:
    """`last login 2026-11-26 (4 days ago), 26 days after termination`, or `never logged in`."""
    if account.last_used is None:
        return account.never
    when = account.last_used
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
        self.held = holdings(ev)

    def of(self, person: Person, first: Account | None = None) -> Timeline:
        """The person's leaving and every account they hold anywhere, `first` (the one judged) first.

        Context sources that could not be read are named, so a short timeline is never mistaken for
        a complete one.
        """
        return _told(self.ev, person, first, self.held.get(person.employee_id, []))


def _told(ev: Evidence, person: Person, first: Account | None, held: list[Account]) -> Timeline:
    told = [first, *(a for a in held if a.record is not first.record)] if first else held
    parts = [f"{person.label}: {termination(person, ev.now.date())}"]
    parts += [_entry(a, person, ev.now) for a in told]
    if ev.gaps:
        parts.append("not known: " + "; ".join(ev.gaps))
    return Timeline("; ".join(parts), (person.record, *(a.record for a in told)))
