"""`annexa run`: collect on a schedule, judge after every collection, serve health and metrics.

Sources sharing a cadence (`[schedule] interval`, or `[schedule.sources]` by name or glob)
form one job. Jobs run one at a time (each run is concurrent inside), coalesce missed
firings into one, are skipped when later than `misfire_grace`, and spread by `jitter`. On
start a job whose evidence is older than its interval runs at once, so a restarted agent
neither waits a full interval nor collects twice. SIGTERM lets the run in progress finish
within `shutdown_grace`, then aborts it (sealed `aborted`, nothing half-stored); a second
signal aborts at once.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor as JobExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text

from agent.config.cadence import Cadence
from agent.config.settings import Settings
from agent.daemon.endpoints import Endpoints
from agent.daemon.metrics import Metrics
from agent.integrations.hooks import after_run
from agent.logs import get_logger
from agent.plugin.registry import Registry
from agent.run.planning import nothing_enabled, select_collectors
from agent.run.runner import ABORT_GRACE, Runner
from agent.run.session import RunAborted
from agent.run.shard import Shard
from agent.store import Store
from agent.store.leases import Holder, LeaseHeld
from agent.store.observations import latest_observations
from agent.store.types import utcnow
from agent.web.app import Server, create_app
from agent.web.auth import configured_token

log = get_logger()


@dataclass(frozen=True)
class Job:
    cadence: Cadence
    sources: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"collect {self.cadence.label}"


def plan_jobs(registry: Registry, settings: Settings, patterns: list[str]) -> list[Job]:
    by_cadence: dict[Cadence, list[str]] = defaultdict(list)
    for spec in select_collectors(registry, settings, patterns):
        by_cadence[settings.schedule.cadence_for(spec.source)].append(spec.source)
    if not by_cadence:
        raise nothing_enabled(registry, "nothing to schedule")
    return [Job(cadence, tuple(sorted(sources))) for cadence, sources in by_cadence.items()]


class Daemon:
    def __init__(
        self, store: Store, settings: Settings, registry: Registry, patterns: list[str], shard: Shard
    ) -> None:
        self.store = store
        self.settings = settings
        self.registry = registry
        self.shard = shard
        self.jobs = plan_jobs(registry, settings, patterns)
        self.holder = Holder.new("run")
        self.metrics = Metrics(store, sorted({s for j in self.jobs for s in j.sources}), shard)
        self.stopping = threading.Event()
        self.cancel = threading.Event()  # set when the grace is over: abort the run in progress
        self.idle = threading.Event()
        self.idle.set()
        self.scheduler = BackgroundScheduler(
            timezone="UTC",
            executors={"default": JobExecutor(1)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": max(1, int(settings.schedule.misfire_grace.total_seconds())),
            },
        )
        self.scheduler.add_listener(self._missed, EVENT_JOB_MISSED)
        daemon = settings.daemon
        self.endpoints = Endpoints(daemon.host, daemon.port, self.metrics.registry, self._live, self._ready)
        self.dashboard: Server | None = None
        if settings.web.enabled:
            # A daemon's output is a log: it never makes a token to show, it takes one by reference.
            app = create_app(settings, store, registry, configured_token(settings.web))
            self.dashboard = Server(app, settings.web.host, settings.web.port)
            self.dashboard.bind_check()

    # -- probes -----------------------------------------------------------------------------
    def _live(self) -> tuple[bool, str]:
        if not self.scheduler.running:
            return False, "scheduler not running"
        return True, "ok"

    def _ready(self) -> tuple[bool, str]:
        if self.stopping.is_set():
            return False, "shutting down"
        if not self.scheduler.running:
            return False, "scheduler not running"
        with self.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True, "ok"

    # -- jobs -------------------------------------------------------------------------------
    def _missed(self, event: JobExecutionEvent) -> None:
        log.warning("run_missed", job=event.job_id, scheduled=str(event.scheduled_run_time))

    def run_job(self, job: Job) -> None:
        """One scheduled collection; never raises, so the scheduler keeps going whatever happens."""
        if self.stopping.is_set():
            return
        self.idle.clear()
        self.metrics.in_progress.set(1)
        started = time.monotonic()
        try:
            runner = Runner(
                self.store,
                self.settings,
                self.registry,
                shard=self.shard,
                holder=self.holder,
                skip_busy=True,
                cancel=self.cancel,
            )
            summary = runner.collect(list(job.sources), kind="scheduled")
            self.metrics.record_run(job.name, summary, time.monotonic() - started)
            after_run(self.store, self.settings, summary.run, self.metrics.count_outbound)
            log.info("scheduled_run_done", job=job.name, run=summary.run.id, status=summary.run.status)
        except LeaseHeld as exc:
            self.metrics.runs.labels("busy").inc()
            log.info("scheduled_run_skipped", job=job.name, reason=str(exc))
        except RunAborted as exc:
            self.metrics.runs.labels("aborted").inc()
            log.warning("scheduled_run_aborted", job=job.name, run=exc.run_id)
        except Exception as exc:
            self.metrics.runs.labels("error").inc()
            log.exception("scheduled_run_failed", job=job.name, error=f"{type(exc).__name__}: {exc}")
        finally:
            self.metrics.in_progress.set(0)
            self._refresh_metrics()
            self.idle.set()

    def _refresh_metrics(self) -> None:
        try:
            self.metrics.refresh()
        except Exception as exc:
            log.warning("metrics_refresh_failed", error=f"{type(exc).__name__}: {exc}")

    def _first_run(self, job: Job, now: datetime) -> datetime | None:
        """Now if the job's evidence (in this shard) is missing or older than its interval."""
        newest: dict[str, datetime] = {}
        for obs in latest_observations(self.store, job.sources, None):
            if self.shard.owns(obs.scope):
                newest[obs.source] = max(newest.get(obs.source, obs.collected_at), obs.collected_at)
        if len(newest) < len(job.sources):
            return now
        if job.cadence.interval is None:
            return None  # cron: its next time
        return max(now, min(newest.values()) + job.cadence.interval)

    # -- lifecycle --------------------------------------------------------------------------
    def _signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping.is_set():
            log.warning("shutdown_forced", signal=signal.Signals(signum).name)
            self.cancel.set()
        else:
            log.info("shutdown_requested", signal=signal.Signals(signum).name)
            self.stopping.set()

    def serve(self) -> None:
        previous = {sig: signal.signal(sig, self._signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._refresh_metrics()
            now = utcnow()
            jitter = self.settings.schedule.jitter
            for n, job in enumerate(self.jobs):
                options: dict[str, Any] = {}
                first = self._first_run(job, now)
                if first is not None:
                    options["next_run_time"] = first
                self.scheduler.add_job(
                    self.run_job,
                    job.cadence.trigger(jitter),
                    args=[job],
                    id=f"job-{n}",
                    name=job.name,
                    **options,
                )
                log.info("job_scheduled", job=job.name, sources=len(job.sources), first=str(first or "cron"))
            self.scheduler.start()
            self.endpoints.start()
            if self.dashboard is not None:
                self.dashboard.start()
            log.info("daemon_started", shard=self.shard.label, jobs=len(self.jobs), holder=self.holder.id)
            while not self.stopping.wait(1.0):
                pass
        finally:
            self._shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _shutdown(self) -> None:
        grace = self.settings.daemon.shutdown_grace.total_seconds()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)  # no new runs; the one in progress goes on
        if not self.idle.wait(grace):
            log.warning("shutdown_aborting_run", grace_seconds=grace)
            self.cancel.set()
            # The runner seals the run within ABORT_GRACE; allow for the final store writes too.
            if not self.idle.wait(ABORT_GRACE + 10):
                log.error("shutdown_run_still_busy")
        self.endpoints.stop()
        if self.dashboard is not None:
            self.dashboard.stop()
        log.info("daemon_stopped")
