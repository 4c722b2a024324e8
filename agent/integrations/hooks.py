"""What the core calls once something has been committed: a run sealed, a person's NC action.

Both tell the enabled channels (agent/notify) and bring the enabled trackers' tickets up to date
(agent/tickets). Neither ever raises: the run or the action is already stored, and an unreachable
chat or tracker must not undo or fail it. Failures are logged and counted through `count`, the
daemon's metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from agent.logs import get_logger

if TYPE_CHECKING:
    from agent.config.settings import Settings
    from agent.store import Store
    from agent.store.schema import Run

log = get_logger()

# (integration name, outcome: "sent" or "failed"): what the daemon counts in its metrics.
Count = Callable[[str, str], None]


def _guarded(what: str, call: Callable[[], None]) -> None:
    try:
        call()
    except Exception as exc:  # the committed work stands whatever an integration does
        log.error("integration_failed", part=what, error=f"{type(exc).__name__}: {exc}")


def after_run(store: Store, settings: Settings, run: Run, count: Count | None = None) -> None:
    """One message per event kind the sealed `run` gave rise to; tickets synchronised."""
    from agent.notify import notify_run
    from agent.tickets import sync_run

    _guarded("notify", lambda: notify_run(store, settings, run, count))
    _guarded("tickets", lambda: sync_run(store, settings, run, count))


def after_nc_action(
    store: Store, settings: Settings, nc_id: int, action: str, count: Count | None = None
) -> None:
    """A person's committed action on NC `nc_id`: the channels told, the tracker's ticket opened,
    commented on or transitioned."""
    from agent.notify import notify_action
    from agent.tickets import sync_action

    _guarded("notify", lambda: notify_action(store, settings, nc_id, action, count))
    _guarded("tickets", lambda: sync_action(store, settings, nc_id, action, count))
