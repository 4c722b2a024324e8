"""Bringing each enabled tracker's tickets up to date with the register.

For one tracker, in order: open the tickets accepted NCs lack, tell the tickets the steps they
have not been told (closing applies the tracker's closing transition), then, after a run, read
the status of the tickets of NCs still in progress. The register is the only source of truth:
nothing read from a tracker moves an NC.

A failing request is logged, counted and left for the next run, which finds the same work again
(the store says what each ticket has been told). A tracker that stays unavailable after its
attempts is left alone until then, so a run waits for it at most once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ParamSpec, TypeVar, cast

from agent.audit.nonconformities import NcState
from agent.integrations.retry import Backoff, retried
from agent.logs import get_logger
from agent.store import Store
from agent.store.schema import id_of
from agent.tickets import links
from agent.tickets.model import Tracker, TrackerError, TrackerUnavailable
from agent.tickets.notes import nc_link, note, summary

if TYPE_CHECKING:
    from agent.config.settings import Settings
    from agent.integrations.hooks import Count
    from agent.integrations.settings import TrackerSettings

log = get_logger()
T = TypeVar("T")
P = ParamSpec("P")

STATUS_BATCH = 50  # keys per status request

# A tracker plugin's class: built from its settings section and the timeout of one request (seconds).
TrackerFactory = Callable[["TrackerSettings", float], Tracker]


def load(section: TrackerSettings, timeout: float) -> Tracker:
    """The tracker named by `section.implementation` ("package.module:attribute")."""
    module, _, attribute = type(section).implementation.partition(":")
    factory = cast(TrackerFactory, getattr(importlib.import_module(module), attribute))
    return factory(section, timeout)


@dataclass
class _Sync:
    store: Store
    name: str
    tracker: Tracker
    backoff: Backoff
    base_url: str
    count: Count | None

    def counted(self, outcome: str) -> None:
        if self.count is not None:
            self.count(self.name, outcome)

    def _attempt(
        self, event: str, about: dict[str, object], call: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`call` with retries. A failure is logged as `event` with `about` and counted, then raised
        as _Refused (the caller moves on to its next item) or, when the tracker is still unavailable
        after its attempts, as _Down (its work waits for the next run)."""
        try:
            return retried(self.backoff, lambda: call(*args, **kwargs), TrackerUnavailable)
        except TrackerError as exc:
            log.warning(event, tracker=self.name, error=str(exc), **about)
            self.counted("failed")
            raise (_Down if isinstance(exc, TrackerUnavailable) else _Refused) from None

    def open_missing(self, nc_ids: Sequence[int] | None) -> None:
        for nc, step in links.without_ticket(self.store, self.name, nc_ids):
            told = summary(nc, nc_link(self.base_url, nc))
            try:
                ticket = self._attempt("ticket_open_failed", {"nc": nc.ref}, self.tracker.open, told)
            except _Refused:
                continue
            links.save_opened(self.store, self.name, id_of(nc), ticket, step)
            log.info("ticket_opened", tracker=self.name, nc=nc.ref, key=ticket.key)
            self.counted("sent")

    def tell_steps(self, nc_ids: Sequence[int] | None) -> None:
        """Each ticket told its NC's steps in order; one that fails stops that ticket (no step skipped)."""
        for link, nc, steps in links.behind(self.store, self.name, nc_ids):
            about: dict[str, object] = {"nc": nc.ref, "key": link.key}
            for step in steps:
                told = note(nc, step, nc_link(self.base_url, nc))
                if told is not None:
                    tell = self.tracker.close if step.to_state == NcState.CLOSED else self.tracker.comment
                    try:
                        self._attempt("ticket_update_failed", about, tell, link.key, told)
                    except _Refused:
                        break
                    log.info("ticket_updated", tracker=self.name, to=step.to_state, **about)
                    self.counted("sent")
                links.save_mirrored(self.store, id_of(link), id_of(step))

    def refresh(self) -> None:
        keys = links.unfinished(self.store, self.name)
        for start in range(0, len(keys), STATUS_BATCH):
            batch = keys[start : start + STATUS_BATCH]
            try:
                statuses = self._attempt(
                    "ticket_status_failed", {"tickets": len(batch)}, self.tracker.status, batch
                )
            except _Refused:
                continue
            links.save_statuses(self.store, self.name, statuses)


class _Refused(Exception):
    """A request the tracker refused, already logged and counted: the caller moves on."""


class _Down(Exception):
    """A tracker unavailable after its attempts, already logged and counted."""


def synchronise(
    store: Store, settings: Settings, count: Count | None, nc_ids: Sequence[int] | None, refresh: bool
) -> None:
    """Each enabled tracker brought up to date for `nc_ids` (None: every NC); never raises."""
    notify = settings.notify
    backoff = Backoff.of(notify)
    for name, section in settings.trackers().items():
        try:
            job = _Sync(
                store,
                name,
                load(section, notify.timeout.total_seconds()),
                backoff,
                settings.web.base_url,
                count,
            )
            job.open_missing(nc_ids)
            job.tell_steps(nc_ids)
            if refresh:
                job.refresh()
        except _Down:
            log.info("tracker_left_until_next_run", tracker=name)
        except (TrackerError, ValueError) as exc:  # ValueError: a secret reference that does not resolve
            _gave_up(name, str(exc), count)
        except Exception as exc:  # a plugin's bug: its message may hold a URL, so only its type is told
            _gave_up(name, type(exc).__name__, count)


def _gave_up(name: str, error: str, count: Count | None) -> None:
    log.error("tracker_failed", tracker=name, error=error)
    if count is not None:
        count(name, "failed")
