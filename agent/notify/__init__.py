"""Notifications: what a run or a person's action changed, one message per event kind, sent to
every enabled channel with retries."""

from __future__ import annotations

from agent.config.settings import Settings
from agent.integrations.hooks import Count
from agent.store import Store
from agent.store.schema import Run


def notify_run(store: Store, settings: Settings, run: Run, count: Count | None) -> None:
    """Send what sealed `run` changed to the enabled channels."""


def notify_action(store: Store, settings: Settings, nc_id: int, action: str, count: Count | None) -> None:
    """Send a person's committed action on NC `nc_id` to the enabled channels."""
