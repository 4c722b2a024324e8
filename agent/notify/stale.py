"""Evidence that went stale: told once, by the first run to finish after it passed its limit.

Evidence ages between runs, so "stale at this run" would repeat the same message after every run
until someone fixes the collector. A source and scope is listed only when its newest sealed
observation crossed its freshness limit after the previous run finished: once per lapse.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import col

from agent.audit.asof import observations_at
from agent.config.settings import Settings
from agent.integrations.settings import EventKind
from agent.notify.events import delivery
from agent.notify.message import Item, Links, Message, message, plural
from agent.plugin.registry import Registry
from agent.store import Store
from agent.store.schema import Run, id_of


def stale_message(store: Store, settings: Settings, registry: Registry, run: Run) -> Message | None:
    """One message listing the evidence that went stale since the run before `run`, if any."""
    at = run.finished_at
    if at is None:
        return None
    since = _previous_finish(store, run, at)
    links = Links(settings.web.base_url)
    items = []
    active = {
        source: spec
        for source, spec in registry.collectors.items()
        if registry.collector_active(spec, settings)
    }
    for obs in observations_at(store, active, at):
        limit = settings.freshness_for(obs.source, active[obs.source].freshness)
        lapsed = obs.collected_at + limit
        if obs.status == "ok" and lapsed < at and (since is None or lapsed > since):
            what = (
                f"last collected {obs.collected_at:%Y-%m-%d %H:%M} UTC, {_hours(at - obs.collected_at)} old"
            )
            items.append(Item(obs.source, f"{what} (limit {_hours(limit)})", obs.scope, links.evidence()))
    if not items:
        return None
    run_id = id_of(run)
    kind = EventKind.EVIDENCE_STALE
    title = f"Evidence stale in {plural(len(items), 'scope', 'scopes')}"
    summary = (
        f"As of run {run_id}, this evidence is older than its freshness limit: checks that need it "
        "give error until it is collected again."
    )
    return message(kind, run_id, delivery(run, kind), title, summary, links.evidence(), items)


def _previous_finish(store: Store, run: Run, at: datetime) -> datetime | None:
    with store.read() as s:
        found: datetime | None = s.execute(
            select(func.max(col(Run.finished_at))).where(
                col(Run.finished_at) < at, col(Run.root_hash).is_not(None), col(Run.id) != run.id
            )
        ).scalar_one_or_none()
    return found


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.1f} h"
