"""Notifications: what a run or a person's action changed, one message per event kind, sent to
every enabled channel with retries.

Events are read from what the run or the action sealed (agent/notify/events.py, stale.py),
rendered by each channel (integrations/<name>/channel.py) and sent by agent/notify/dispatch.py.
"""

from __future__ import annotations

from agent.config.settings import Settings
from agent.integrations.hooks import Count
from agent.plugin.registry import Registry
from agent.store import Store
from agent.store.schema import Run


def notify_run(
    store: Store, settings: Settings, run: Run, count: Count | None, registry: Registry | None = None
) -> None:
    """Send what sealed `run` changed to the enabled channels. `registry` gives the collectors'
    freshness limits (the enabled systems' installed plugins when None)."""
    from agent.notify.dispatch import dispatch
    from agent.notify.events import run_messages
    from agent.notify.stale import stale_message
    from agent.plugin.loader import load_plugins

    if not settings.notify.channels():
        return
    messages = run_messages(store, settings, run)
    if registry is None:
        registry = load_plugins(systems=settings.enabled_systems())
    stale = stale_message(store, settings, registry, run)
    dispatch([*messages, *([stale] if stale else [])], settings.notify, count)


def notify_action(store: Store, settings: Settings, nc_id: int, action: str, count: Count | None) -> None:
    """Send a person's committed action on NC `nc_id` to the enabled channels."""
    from agent.notify.dispatch import dispatch
    from agent.notify.events import action_messages

    if not settings.notify.channels():
        return
    dispatch(action_messages(store, settings, nc_id, action), settings.notify, count)
