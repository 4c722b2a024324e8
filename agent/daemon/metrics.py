"""What the daemon tells Prometheus: runs, collection time, API errors, evidence age, open NCs.

Counters move as runs finish. Evidence age is computed at scrape time from the newest
successful collection of each source (the oldest across this agent's scopes, so one stale
account shows), which is refreshed from the store after every run; open NCs likewise.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlmodel import col

from agent import __version__
from agent.audit.nonconformities import open_by_severity
from agent.run.runner import RunSummary
from agent.run.shard import Shard
from agent.store import Store
from agent.store.observations import latest_observations
from agent.store.schema import Observation
from agent.store.types import utcnow

SEVERITIES = ("major", "minor", "ofi")
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, float("inf"))


class _EvidenceAge(Collector):
    def __init__(self, newest: dict[str, datetime], lock: threading.Lock) -> None:
        self._newest = newest
        self._lock = lock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "annexa_evidence_age_seconds",
            "Age of the oldest latest successful collection of each source across this agent's scopes",
            labels=["source"],
        )
        now = utcnow()
        with self._lock:
            for source, at in sorted(self._newest.items()):
                family.add_metric([source], (now - at).total_seconds())
        yield family


class Metrics:
    def __init__(self, store: Store, sources: list[str], shard: Shard) -> None:
        self.store = store
        self.sources = sources
        self.shard = shard
        self.registry = CollectorRegistry(auto_describe=True)
        self.runs = Counter(
            "annexa_runs", "Scheduled runs by how they ended", ["status"], registry=self.registry
        )
        self.duration = Histogram(
            "annexa_collection_duration_seconds",
            "Wall time of a scheduled collection and its checks",
            ["job"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.api_errors = Counter(
            "annexa_api_errors",
            "Observations that failed (API errors, access denied, timeouts) by source",
            ["source"],
            registry=self.registry,
        )
        self.open_ncs = Gauge(
            "annexa_open_nonconformities",
            "Nonconformities not closed or rejected, store-wide, by severity",
            ["severity"],
            registry=self.registry,
        )
        self.outbound = Counter(
            "annexa_notifications",
            "Messages to channels and updates to trackers, by integration and outcome (sent, failed)",
            ["integration", "outcome"],
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "annexa_run_in_progress", "1 while a scheduled run is collecting", registry=self.registry
        )
        Gauge("annexa_build_info", "The agent's version", ["version"], registry=self.registry).labels(
            __version__
        ).set(1)
        self._newest: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self.registry.register(_EvidenceAge(self._newest, self._lock))
        for status in ("complete", "partial", "failed", "aborted", "busy", "error"):
            self.runs.labels(status)
        for severity in SEVERITIES:
            self.open_ncs.labels(severity)

    def record_run(self, job: str, summary: RunSummary, seconds: float) -> None:
        self.runs.labels(summary.run.status).inc()
        self.duration.labels(job).observe(seconds)
        with self.store.read() as s:
            failed = s.execute(
                select(col(Observation.source), func.count())
                .where(col(Observation.run_id) == summary.run.id, col(Observation.status) == "error")
                .group_by(col(Observation.source))
            ).all()
        for source, count in failed:
            self.api_errors.labels(source).inc(count)

    def count_outbound(self, integration: str, outcome: str) -> None:
        self.outbound.labels(integration, outcome).inc()

    def refresh(self) -> None:
        """Re-read evidence ages and open NCs from the store (all agents' work, this shard's scopes)."""
        newest: dict[str, datetime] = {}
        for obs in latest_observations(self.store, self.sources, None):
            if obs.status == "ok" and self.shard.owns(obs.scope):
                seen = newest.get(obs.source)
                newest[obs.source] = obs.collected_at if seen is None else min(seen, obs.collected_at)
        with self.store.read() as s:
            counts = open_by_severity(s)
        with self._lock:
            self._newest.clear()
            self._newest.update(newest)
        for severity in SEVERITIES:
            self.open_ncs.labels(severity).set(counts.get(severity, 0))
