"""Stage 1 documents: what is in scope, as scope.json and scope.html in every bundle.

An auditor's Stage 1 asks what the ISMS covers and how evidence is gathered: the systems enabled,
the targets actually collected in the bundle's runs (not what the configuration hopes to reach),
each collector with the permissions it needs, its schedule and how long its evidence stays fresh,
and the controls excluded with their justification. Built from what the registry declares and the
settings' schedule and control sections only: no system's section is copied, so no secret and no
reference to one (an environment variable's name, a key file's path) can leak into a bundle.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from agent.audit.catalog import annex_a
from agent.bundle.review import BundleWriter
from agent.bundle.selection import Selection
from agent.config.cadence import Cadence
from agent.config.settings import Settings
from agent.plugin.registry import CollectorSpec, Registry
from agent.store.schema import Observation

SCOPE = "scope.json"
SCOPE_PAGE = "scope.html"


def _seconds(span: timedelta) -> int:
    return int(span.total_seconds())


class _Periods:
    """A cron cadence's longest gap is simulated (agent/config/cadence.py): once per expression."""

    def __init__(self) -> None:
        self.known: dict[Cadence, int] = {}

    def of(self, cadence: Cadence) -> int:
        if cadence not in self.known:
            self.known[cadence] = _seconds(cadence.period)
        return self.known[cadence]


def _collected(observations: Iterable[Observation]) -> dict[str, dict[str, list[Observation]]]:
    """The bundle's observations by source and scope, oldest first."""
    out: dict[str, dict[str, list[Observation]]] = {}
    for o in sorted(observations, key=lambda o: (o.collected_at, o.id or 0)):
        out.setdefault(o.source, {}).setdefault(o.scope, []).append(o)
    return out


def _scopes(seen: dict[str, list[Observation]], freshness: timedelta, head: datetime) -> list[dict[str, Any]]:
    """Each target collected, its latest collection, and whether its latest good evidence was still
    fresh when the bundle's last entry was sealed."""
    docs = []
    for scope, rows in sorted(seen.items()):
        last, good = rows[-1], [o for o in rows if o.status == "ok"]
        docs.append(
            {
                "scope": scope,
                "collections": len(rows),
                "last_collected_at": last.collected_at.isoformat(),
                "last_status": last.status,
                "last_error": last.error,
                "fresh_at_head": bool(good) and head - good[-1].collected_at <= freshness,
            }
        )
    return docs


def _collector(
    spec: CollectorSpec,
    settings: Settings,
    seen: dict[str, list[Observation]],
    head: datetime,
    periods: _Periods,
) -> dict[str, Any]:
    cadence = settings.schedule.cadence_for(spec.source)
    freshness = settings.freshness_for(spec.source, spec.freshness)
    return {
        "source": spec.source,
        "description": spec.description,
        "target_kind": spec.scope_kind,
        "permissions": sorted(spec.permissions),
        "schedule": cadence.label,
        "schedule_period_seconds": periods.of(cadence),
        "freshness_seconds": _seconds(freshness),
        "scopes": _scopes(seen, freshness, head),
    }


def scope_document(
    settings: Settings, registry: Registry, observations: Iterable[Observation], head: datetime
) -> dict[str, Any]:
    """The systems enabled with their collectors and collected targets, the sources the bundle holds
    that no enabled collector produces now, and the configured exclusions."""
    collected = _collected(observations)
    periods = _Periods()
    systems = []
    for name in sorted(settings.enabled_systems()):
        specs = sorted(
            (
                c
                for c in registry.collectors.values()
                if c.system == name and registry.collector_active(c, settings)
            ),
            key=lambda c: c.source,
        )
        collectors = [_collector(c, settings, collected.get(c.source, {}), head, periods) for c in specs]
        resolving = {p for k in registry.scope_kinds.values() if k.system == name for p in k.permissions}
        systems.append(
            {
                "system": name,
                "targets": sorted({s["scope"] for c in collectors for s in c["scopes"]}),
                "permissions": sorted({p for c in specs for p in c.permissions} | resolving),
                "collectors": collectors,
            }
        )
    produced = {c["source"] for s in systems for c in s["collectors"]}
    catalog = annex_a()
    return {
        "systems": systems,
        "other_sources": [
            {"source": source, "scopes": sorted(scopes)}
            for source, scopes in sorted(collected.items())
            if source not in produced
        ],
        "schedule": {
            "default": settings.schedule.interval.label,
            "jitter_seconds": _seconds(settings.schedule.jitter),
        },
        "excluded_controls": [
            {"control": cid, "title": catalog[cid].title if cid in catalog else "", "justification": why}
            for cid, why in sorted(settings.controls.excluded.items())
        ],
        "disabled_checks": sorted(settings.checks.disabled),
    }


def write_scope(w: BundleWriter, settings: Settings, registry: Registry, sel: Selection) -> dict[str, Any]:
    """scope.json and its page, for the bundle's runs."""
    from agent.bundle.pages import render_page

    head = sel.runs[-1].finished_at
    assert head is not None  # a sealed run has finished
    doc = scope_document(settings, registry, sel.rows[Observation], head)
    w.json(SCOPE, doc)
    w.write(
        SCOPE_PAGE, render_page("scope.html.j2", title="Scope: systems, collectors, exclusions", scope=doc)
    )
    return doc
