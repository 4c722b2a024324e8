"""Tickets: an accepted nonconformity opens an issue in each enabled tracker, and its life cycle
is mirrored there; a tracker never changes an NC."""

from __future__ import annotations

from agent.config.settings import Settings
from agent.integrations.hooks import Count
from agent.store import Store
from agent.store.schema import Run


def sync_run(store: Store, settings: Settings, run: Run, count: Count | None) -> None:
    """Open the tickets still missing and refresh the known tickets' status after `run`."""


def sync_action(store: Store, settings: Settings, nc_id: int, action: str, count: Count | None) -> None:
    """Mirror a person's committed action on NC `nc_id` in its tickets."""
