"""The sequence every run goes through: lease its targets, start, keep alive, and seal however it ends.

Collection and re-judging differ only in what they do inside; sharing this sequence keeps the
guarantees in one place: nothing is written without the leases, a run that stops half-way is
sealed `aborted` with the reason, and the leases are released whatever happens.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from agent.logs import get_logger
from agent.plugin.model import RunStatus
from agent.redact import describe_error
from agent.store import Store, leases
from agent.store.leases import Holder, LeaseHeld
from agent.store.runs import finish_run, heartbeat, reap_dead_runs, start_run
from agent.store.schema import Run, id_of

log = get_logger()

HEARTBEAT_EVERY = 60.0


class Cancelled(Exception):
    """Raised inside a run when it is being stopped (Ctrl-C, shutdown, a lost lease)."""


class RunAborted(Exception):
    def __init__(self, run_id: int) -> None:
        super().__init__(f"run {run_id} aborted")
        self.run_id = run_id


class RunSession:
    """One agent's runs against one store, under the identity `holder` its leases carry.

    With `skip_busy` (the daemon) targets another agent holds are left to it; without it (a
    person's command) one busy target means nothing is done. `lost` is set when another agent
    takes a target over mid-run: the run then stops rather than overlap.
    """

    def __init__(self, store: Store, holder: Holder, ttl: timedelta, *, skip_busy: bool = False) -> None:
        self.store = store
        self.holder = holder
        self.ttl = ttl
        self.skip_busy = skip_busy
        self.lost = threading.Event()

    @contextmanager
    def run(self, kind: str, patterns: list[str], keys: set[str]) -> Iterator[tuple[Run, set[str]]]:
        """A started run and the targets leased for it; stopped by Ctrl-C or `Cancelled`, it is
        sealed `aborted` and `RunAborted` raised. The body seals a run that ends normally."""
        reap_dead_runs(self.store)
        with self._leased(keys) as leased:
            run = start_run(self.store, kind, patterns)
            leases.attach_run(self.store, self.holder, id_of(run))
            with self._heartbeat(run, leased):
                try:
                    yield run, leased
                except (KeyboardInterrupt, Cancelled):
                    reason = (
                        "a leased target was taken over by another agent"
                        if self.lost.is_set()
                        else "interrupted"
                    )
                    finish_run(self.store, id_of(run), RunStatus.ABORTED, error=reason)
                    log.warning("run_aborted", run=run.id, reason=reason)
                    raise RunAborted(id_of(run)) from None

    @contextmanager
    def _leased(self, keys: set[str]) -> Iterator[set[str]]:
        got, held = leases.acquire(self.store, self.holder, keys, self.ttl, all_or_nothing=not self.skip_busy)
        try:
            if held and not got:
                raise LeaseHeld(held)
            yield got
        finally:
            leases.release(self.store, self.holder)

    @contextmanager
    def _heartbeat(self, run: Run, keys: set[str]) -> Iterator[None]:
        """Keeps the run visibly alive and our leases renewed for as long as it lasts."""
        every = min(HEARTBEAT_EVERY, self.ttl.total_seconds() / 3)
        done = threading.Event()

        def beat() -> None:
            while not done.wait(every):
                try:
                    heartbeat(self.store, id_of(run))
                    if leases.renew(self.store, self.holder, keys, self.ttl):
                        self.lost.set()  # another agent took a target over: stop, do not overlap
                except Exception as exc:  # a database hiccup must not kill the run; the next beat retries
                    log.warning("heartbeat_failed", run=run.id, error=describe_error(exc))

        thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(timeout=5)
