"""What the core calls once something has been committed: a run sealed, a person's NC action.

Both tell the enabled channels and bring the enabled trackers' tickets up to date. Neither ever
raises: the run or the action is already stored, and an unreachable chat or tracker must not
undo or fail it. Failures are logged and counted through `count`, the daemon's metrics.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.config.settings import Settings
from agent.store import Store
from agent.store.schema import Run

# (integration name, outcome: "sent" or "failed"): what the daemon counts in its metrics.
Count = Callable[[str, str], None]


def after_run(store: Store, settings: Settings, run: Run, count: Count | None = None) -> None:
    """One message per event kind the sealed `run` gave rise to; tickets synchronised."""


def after_nc_action(
    store: Store, settings: Settings, nc_id: int, action: str, count: Count | None = None
) -> None:
    """A person's committed action on NC `nc_id`: the channels told, the tracker's ticket opened,
    commented on or transitioned."""
