"""Tickets: an accepted nonconformity opens an issue in each enabled tracker, and its life cycle
is mirrored there; a tracker never changes an NC (only verification in Annexa closes one), but its
status shows beside the NC (`tickets_of`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.tickets.links import TicketLink, tickets_of
from agent.tickets.sync import synchronise

if TYPE_CHECKING:
    from agent.config.settings import Settings
    from agent.integrations.hooks import Count
    from agent.store import Store
    from agent.store.schema import Run

__all__ = ["TicketLink", "sync_action", "sync_run", "tickets_of"]


def sync_run(store: Store, settings: Settings, run: Run, count: Count | None) -> None:
    """After `run`: open the tickets still missing, tell them what they missed, refresh their status."""
    synchronise(store, settings, count, None, refresh=True)


def sync_action(store: Store, settings: Settings, nc_id: int, action: str, count: Count | None) -> None:
    """Mirror a person's committed `action` on NC `nc_id` in its tickets (opened on accept)."""
    synchronise(store, settings, count, [nc_id], refresh=False)
