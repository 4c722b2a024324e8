"""One run: resolve targets, lease them, collect concurrently, store, then evaluate the dependent checks.

Every collector failure becomes an `error` observation, so the checks that needed it report
`error` for that scope. Ctrl-C, SIGTERM or the daemon's shutdown stops collection between
records: what was already committed stays, the run is sealed as `aborted`, and nothing
half-listed is stored. Targets are leased before the run starts, so two agents never work on
the same target at once and an agent that cannot have them writes nothing.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from agent.config.settings import Settings
from agent.errors import CollectorError
from agent.logs import get_logger
from agent.plugin.model import RunStatus
from agent.plugin.registry import CheckSpec, Registry
from agent.plugin.scopes import is_bare, target_key
from agent.redact import describe_error
from agent.run.evaluate import Evaluator, Outcome, active_checks
from agent.run.planning import Task, nothing_enabled, plan_tasks, select_collectors
from agent.run.session import Cancelled, RunSession
from agent.run.shard import ALL, Shard
from agent.store import Store
from agent.store.leases import Holder
from agent.store.observations import EvidenceBuffer, known_scopes, write_observation
from agent.store.runs import finish_run
from agent.store.schema import Run, id_of
from agent.store.types import utcnow

log = get_logger()

ABORT_GRACE = 5.0  # seconds in-flight collectors get to notice the stop
# Set when an aborted run left collector threads behind (stuck in a network read): the process
# should then exit without joining them.
ABANDONED = threading.Event()


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, label: str, ok: bool) -> None: ...
    def stop(self) -> None: ...


class _Stopped(Exception):
    """Raised inside a collector thread when the run is being aborted."""


@dataclass
class RunSummary:
    run: Run
    observations_ok: int = 0
    observations_failed: int = 0
    errors: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


class Runner:
    """Runs collections and re-evaluations for one agent.

    `shard` limits it to its share of the targets; `holder` is the identity its leases carry.
    With `skip_busy` (the daemon) targets another agent holds are left to it and the rest are
    collected; without it (a person's command) one busy target means nothing is done.
    `cancel` (set by the daemon's shutdown) aborts the run in progress like Ctrl-C does.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        registry: Registry,
        progress: Progress | None = None,
        *,
        shard: Shard = ALL,
        holder: Holder | None = None,
        skip_busy: bool = False,
        cancel: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.registry = registry
        self.progress = progress
        self.shard = shard
        self.holder = holder or Holder.new("collect")
        self.session = RunSession(store, self.holder, settings.runner.lease_ttl, skip_busy=skip_busy)
        self.cancel = cancel or threading.Event()
        self._stop = threading.Event()
        self._service_slots: dict[str, threading.BoundedSemaphore] = {}
        self._slots_lock = threading.Lock()

    def _keys(self, scopes: list[str]) -> set[str]:
        """The targets to lease: this shard's, of what is about to be collected or judged."""
        return {target_key(s) for s in scopes if not is_bare(s) and self.shard.owns(s)}

    def _interrupted(self) -> bool:
        return self.cancel.is_set() or self.session.lost.is_set()

    # -- collection -------------------------------------------------------------------------
    @contextmanager
    def _service_slot(self, service: str) -> Iterator[None]:
        with self._slots_lock:
            slot = self._service_slots.setdefault(
                service, threading.BoundedSemaphore(self.settings.runner.per_service)
            )
        with slot:
            yield

    def _collect(self, run: Run, task: Task) -> bool:
        started = utcnow()
        if task.error is not None:
            write_observation(self.store, run, task.spec.source, task.scope, started, error=task.error)
            return False
        if self._stop.is_set():
            raise _Stopped
        timeout = self.settings.runner.collector_timeout.total_seconds()
        buffer = EvidenceBuffer(task.spec.source)
        with self._service_slot(task.spec.service):
            deadline = time.monotonic() + timeout
            records = task.spec.func(task.target)
            try:
                for record in records:
                    if self._stop.is_set():
                        raise _Stopped
                    if time.monotonic() > deadline:
                        raise CollectorError(f"timed out after {timeout:.0f} s")
                    buffer.add(record)
            except _Stopped:
                raise
            except Exception as exc:
                error = describe_error(exc)
                log.warning("collector_failed", source=task.spec.source, scope=task.scope, error=error)
                write_observation(self.store, run, task.spec.source, task.scope, started, error=error)
                return False
            finally:
                close = getattr(records, "close", None)
                if callable(close):
                    close()
        write_observation(self.store, run, task.spec.source, task.scope, started, buffer)
        log.info("collected", source=task.spec.source, scope=task.scope, records=len(buffer.entries))
        return True

    def _drain(self, futures: dict[Future[bool], Task], summary: RunSummary) -> None:
        """Take each collector's result as it finishes, checking every half second whether the run
        was cancelled. Finished futures arrive on a queue: waiting on all pending ones again after
        each would cost time in the square of the number of tasks (a large organisation has tens
        of thousands)."""
        finished: queue.SimpleQueue[Future[bool]] = queue.SimpleQueue()
        for fut in futures:
            fut.add_done_callback(finished.put)
        for _ in range(len(futures)):
            fut = self._next_finished(finished)
            task = futures[fut]
            exc = fut.exception()
            ok = exc is None and fut.result()
            if exc is not None:
                summary.errors.append(f"{task.spec.source} {task.scope}: {describe_error(exc)}")
                log.error("observation_not_stored", source=task.spec.source, error=describe_error(exc))
            if ok:
                summary.observations_ok += 1
            else:
                summary.observations_failed += 1
            if self.progress:
                self.progress.advance(f"{task.spec.source} {task.scope}", ok)

    def _next_finished(self, finished: queue.SimpleQueue[Future[bool]]) -> Future[bool]:
        while True:
            if self._interrupted():
                raise Cancelled
            try:
                return finished.get(timeout=0.5)
            except queue.Empty:
                continue

    def _stop_collectors(self, pool: ThreadPoolExecutor, futures: list[Future[bool]]) -> None:
        """Stop between records; threads stuck in a network read past the grace are abandoned."""
        self._stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        _done, stuck = wait(futures, timeout=ABORT_GRACE)
        if stuck:
            ABANDONED.set()

    def _checks_for(self, sources: list[str] | None) -> list[CheckSpec]:
        checks = active_checks(self.registry, self.settings, only=sources)
        for spec in checks:  # unknown check parameters are a config error: fail before collecting
            self.settings.check_params(spec.id, spec.params)
        return checks

    def _judged_scopes(self, checks: list[CheckSpec]) -> list[str]:
        """Scopes already in the store that these checks judge, including targets no longer
        configured: they are leased and judged too, so their evidence goes stale visibly."""
        return known_scopes(self.store, {c.primary_source for c in checks})

    # -- the run ----------------------------------------------------------------------------
    def collect(self, patterns: list[str], kind: str = "collect") -> RunSummary:
        collectors = select_collectors(self.registry, self.settings, patterns)
        if not collectors:
            raise nothing_enabled(self.registry, "nothing to collect")
        checks = self._checks_for([c.source for c in collectors])
        tasks = plan_tasks(self.registry, self.settings, self.shard, collectors)
        keys = self._keys([t.scope for t in tasks] + self._judged_scopes(checks))
        with self.session.run(kind, patterns, keys) as (run, leased):
            tasks = [t for t in tasks if is_bare(t.scope) or target_key(t.scope) in leased]
            summary = RunSummary(run)
            pool = ThreadPoolExecutor(max_workers=self.settings.runner.workers, thread_name_prefix="collect")
            futures: dict[Future[bool], Task] = {}
            try:
                if self.progress:
                    self.progress.start(len(tasks))
                futures = {pool.submit(self._collect, run, t): t for t in tasks}
                self._drain(futures, summary)
                pool.shutdown(wait=True)
                summary.outcomes = self._evaluate(run, checks, leased, {t.spec.source for t in tasks})
            except (KeyboardInterrupt, Cancelled):
                self._stop_collectors(pool, list(futures))
                raise
            finally:
                if self.progress:
                    self.progress.stop()
            if summary.observations_failed == 0:
                status = RunStatus.COMPLETE
            elif summary.observations_ok == 0:
                status = RunStatus.FAILED
            else:
                status = RunStatus.PARTIAL
            summary.run = finish_run(self.store, id_of(run), status)
        return summary

    def check(self) -> RunSummary:
        """Re-judge stored evidence with the current checks and configuration, collecting nothing."""
        checks = self._checks_for(None)
        if not checks:
            raise nothing_enabled(self.registry, "no check is active")
        with self.session.run("check", [], self._keys(self._judged_scopes(checks))) as (run, leased):
            summary = RunSummary(run, outcomes=self._evaluate(run, checks, leased))
            summary.run = finish_run(self.store, id_of(run), RunStatus.COMPLETE)
        return summary

    def _evaluate(
        self, run: Run, checks: list[CheckSpec], leased: set[str], collected: set[str] | None = None
    ) -> list[Outcome]:
        """Judge the leased targets. A source with no evidence anywhere is reported by the shard
        that collected it (`collected`: this run's sources) or, re-judging, by shard 1 alone."""

        def owns(scope: str) -> bool:
            return is_bare(scope) or target_key(scope) in leased

        def judge_missing(source: str) -> bool:
            if self.shard.total == 1:
                return True
            return source in collected if collected is not None else self.shard.index == 1

        evaluator = Evaluator(
            self.store,
            self.settings,
            self.registry,
            run,
            utcnow(),
            owns,
            self.cancel,
            judge_missing=judge_missing,
        )
        return evaluator.evaluate(checks)
