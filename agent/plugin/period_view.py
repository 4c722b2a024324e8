"""What a population sees and returns: the sealed listings of an audit period, and its members.

A population (`@population` in agent/plugin/declare.py) is a pure function over the evidence of a
period, like a check over the evidence of a run. It sees every sealed listing of the sources it
declared, in time order, and yields members: a stable id, a label, the answer to the auditor's
question for that member, and the records (and listings) that answer cites, with their hashes.
The agent builds the same view from the store and from a bundle's own files, so `annexa verify`
re-derives every sample a bundle carries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from agent.plugin.evidence import UnknownSource
from agent.plugin.model import Record


@dataclass(frozen=True)
class Listing:
    """One sealed observation of the period: a source listed in a scope at a time.

    Its records are read when asked for, not held: a year of daily listings of a large directory
    does not fit in memory, and a population walks them one at a time."""

    source: str
    scope: str
    collected_at: datetime
    observation: str  # the observation's hash, which its run's seal commits to
    tree: str  # the listing's content hash (its file in a bundle)
    read: Callable[[], Sequence[Record]] = field(compare=False, repr=False)

    @classmethod
    def of(
        cls,
        source: str,
        scope: str,
        collected_at: datetime,
        observation: str,
        tree: str,
        records: Sequence[Record],
    ) -> Listing:
        """A listing whose records are already at hand."""
        held = tuple(records)
        return cls(source, scope, collected_at, observation, tree, lambda: held)

    @property
    def records(self) -> Sequence[Record]:
        """By resource id."""
        return self.read()

    def cite(self, record: Record | None = None) -> dict[str, Any]:
        """A citation of this listing, and of one of its records (None: what the listing lacks)."""
        return {
            "source": self.source,
            "scope": self.scope,
            "collected_at": self.collected_at.isoformat(),
            "observation": self.observation,
            "tree": self.tree,
            "resource_id": None if record is None else record.resource_id,
            "record": None if record is None else record.hash,
        }


@dataclass(frozen=True)
class Member:
    """One member of a population. `answer` holds JSON values only: it goes into the sample as is."""

    id: str
    label: str
    answer: Mapping[str, Any] = field(default_factory=dict)
    evidence: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Period:
    """The sealed evidence of the days `first`..`last` (UTC): each source's listings in time order,
    and the NC register (each NC as sealed, with its history) for the agent's own populations."""

    first: date
    last: date
    listings: Mapping[str, tuple[Listing, ...]]
    ncs: tuple[Mapping[str, Any], ...] = ()
    readable: frozenset[str] | None = None  # None: every source; else the population's own

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The period is half-open: it ends at the start of the day after `last`."""
        return self.start + timedelta(days=(self.last - self.first).days + 1)

    def contains(self, day: date | None) -> bool:
        return day is not None and self.first <= day <= self.last

    def only(self, sources: tuple[str, ...]) -> Period:
        """The view a population gets: reading another source is a bug in it (`UnknownSource`)."""
        return Period(self.first, self.last, self.listings, self.ncs, frozenset(sources))

    def of(self, source: str) -> tuple[Listing, ...]:
        """Every listing of `source` in the period, oldest first (several scopes interleave)."""
        if self.readable is not None and source not in self.readable:
            raise UnknownSource(f"source {source!r} is not among the population's needs or context")
        return self.listings.get(source, ())

    def by_scope(self, source: str) -> dict[str, list[Listing]]:
        """`of(source)` grouped by scope, each oldest first, scopes sorted."""
        grouped: dict[str, list[Listing]] = {}
        for listing in self.of(source):
            grouped.setdefault(listing.scope, []).append(listing)
        return dict(sorted(grouped.items()))

    def latest(self, source: str) -> Iterator[tuple[Listing, Record]]:
        """Each resource (per scope) as the newest listing that holds it shows it, with that listing."""
        newest: dict[tuple[str, str], tuple[Listing, Record]] = {}
        for listing in self.of(source):
            for record in listing.records:
                newest[(listing.scope, record.resource_id)] = (listing, record)
        for key in sorted(newest):
            yield newest[key]
