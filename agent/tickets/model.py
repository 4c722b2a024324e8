"""What the core and a tracker plugin say to each other: a small protocol, plain values, two errors.

The core names no tracker: it loads the class a tracker's settings name (`implementation`) and
speaks only this protocol. Every string in these values that came from a collected system (titles,
scopes, resource ids, people's notes) is data: the tracker escapes it for its own markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class NcSummary:
    """What a new ticket tells about its NC, and where to read the rest."""

    ref: str
    check_id: str
    title: str
    controls: list[str]
    severity: str
    state: str
    scope: str
    failing_resources: list[str]
    first_seen: datetime
    last_seen: datetime
    link: str


@dataclass(frozen=True)
class Note:
    """One step of the NC's history told on its ticket: `headline` (what happened, by whom) and `text`."""

    ref: str
    headline: str
    text: str
    link: str


@dataclass(frozen=True)
class Ticket:
    key: str
    url: str


@dataclass(frozen=True)
class TicketStatus:
    """The ticket's status by name, and whether the tracker counts it as done."""

    name: str
    done: bool


class TrackerError(Exception):
    """A request the tracker refused or could not be made; the message is one line without secrets."""


class TrackerUnavailable(TrackerError):
    """A failure worth trying again (rate limit, 5xx, no connection); `retry_after` as the tracker asked."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Tracker(Protocol):
    """An issue tracker. Each method is one attempt: the core retries TrackerUnavailable."""

    def open(self, nc: NcSummary) -> Ticket:
        """Create the NC's issue."""
        ...

    def comment(self, key: str, note: Note) -> None: ...

    def close(self, key: str, note: Note) -> bool:
        """Tell the ticket the NC was closed and move it to the configured closing status when it
        can; returns whether it did (False: commented only)."""
        ...

    def status(self, keys: Sequence[str]) -> dict[str, TicketStatus]:
        """The current status of those of `keys` the tracker still has."""
        ...
