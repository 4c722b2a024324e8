"""Populations and samples over an audit period, drawn from the store's sealed chain.

The period's evidence is exactly what a bundle of the same period holds (agent/bundle/selection.py:
the sealed entries finished in it, their counted runs' successful listings, the NC register as
sealed), so `annexa sample` and the sample inside `annexa export`'s bundle agree, and
`annexa verify` can re-derive the latter from the bundle alone (agent/bundle/samples.py).

Populations over collected evidence are declared by plugins (`@population`, checks/populations.py);
the one over the agent's own data, `ncs-closed`, is declared here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from agent.audit.sampling import SizeRule, plain_json, sample_document
from agent.config.settings import Settings
from agent.errors import AnnexaError, UsageError
from agent.plugin.model import Record
from agent.plugin.period_view import Listing, Member, Period
from agent.plugin.registry import PopulationSpec, Registry
from agent.store import Store
from agent.store.chain import COUNTED
from agent.store.schema import Blob, Observation, TreeEntry

if TYPE_CHECKING:
    from agent.bundle.selection import Selection

CHAIN_HEAD = "chain head at the period's end"
_EPOCH = datetime.min.replace(tzinfo=UTC)
GIVEN = "given"


class SampleFailed(AnnexaError):
    """The population could not be derived from the period's evidence (malformed records, say)."""

    exit_code = 1


def _when(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp")
    return datetime.fromisoformat(value)


def ncs_closed(period: Period) -> Iterator[Member]:
    """NCs whose closing step falls in the period (the last such step, if closed more than once),
    with who closed them, why, the effectiveness review recorded, and how long they were open."""
    for nc in period.ncs:
        steps = sorted(nc["history"], key=lambda s: (_when(s["at"]), s["id"]))
        closings = [
            s for s in steps if s["to_state"] == "closed" and period.start <= _when(s["at"]) < period.end
        ]
        if not closings:
            continue
        closed, opened, sealed = closings[-1], steps[0], nc["sealed"]
        answer = {
            "title": nc["title"],
            "check_id": nc["check_id"],
            "scope": nc["scope"],
            "severity": nc["severity"],
            "opened_at": opened["at"],
            "closed_at": closed["at"],
            "closed_by": closed["actor"],
            "reason": closed["reason"],
            "days_to_close": (_when(closed["at"]).date() - _when(opened["at"]).date()).days,
            "effectiveness_review": sealed["document"].get("effectiveness_review"),
            "state_at_head": nc["state"],
        }
        evidence = (
            {"nonconformity": nc["id"], "step": closed["hash"], "entry": closed["run_id"]},
            {"nonconformity": nc["id"], "version": sealed["version"], "hash": sealed["hash"]},
        )
        yield Member(str(nc["id"]), str(nc["title"]), answer, evidence)


AGENT_POPULATIONS = {
    "ncs-closed": PopulationSpec(
        name="ncs-closed",
        title="Nonconformities closed in the period",
        question="Who closed it, on what effectiveness review, and how long was it open?",
        needs=(),
        func=ncs_closed,
    )
}


def known(registry: Registry) -> list[str]:
    """Every population name `annexa sample` accepts; a family as `name:<source>`."""
    names = [
        *AGENT_POPULATIONS,
        *(n + (":<source>" if s.family else "") for n, s in registry.populations.items()),
    ]
    return sorted(names)


def find_population(registry: Registry, name: str) -> PopulationSpec:
    spec = AGENT_POPULATIONS.get(name) or registry.population(name)
    if spec is None:
        raise UsageError(f"unknown population {name!r} (known: {', '.join(known(registry))})")
    return spec


def size_rule(settings: Settings, size: int | None = None) -> SizeRule:
    """`--size` if given, else the configured `[samples]` rule."""
    if size is not None:
        return SizeRule(override=size)
    tiers = tuple((t.up_to, t.take) for t in settings.samples.sizes)
    return SizeRule(tiers, settings.samples.beyond)


# --- the period's evidence ------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One successful listing of a counted run, as the store or a bundle's runs.json names it."""

    source: str
    scope: str
    collected_at: datetime
    observation: str
    tree: str


RecordRows = Callable[[Seen], Iterable[tuple[str, str, dict[str, Any]]]]  # (resource id, hash, data)


def build_period(
    first: date,
    last: date,
    seen: Iterable[Seen],
    rows: RecordRows,
    ncs: Sequence[Mapping[str, Any]] = (),
) -> Period:
    """The period view over these listings; each reads its records when asked (the last few
    trees read are kept: consecutive listings of an unchanged source share one)."""

    @lru_cache(maxsize=8)
    def read(s: Seen) -> tuple[Record, ...]:
        return tuple(Record(rid, data, s.source, s.scope, h) for rid, h, data in rows(s))

    listings: dict[str, list[Listing]] = {}
    for s in sorted(seen, key=lambda s: (s.collected_at, s.scope, s.observation)):
        reader = partial(read, Seen(s.source, s.scope, _EPOCH, "", s.tree))  # one cache entry per tree
        listings.setdefault(s.source, []).append(
            Listing(s.source, s.scope, s.collected_at, s.observation, s.tree, reader)
        )
    return Period(first, last, {k: tuple(v) for k, v in listings.items()}, tuple(ncs))


def counted_listings(
    runs: Iterable[tuple[Any, Iterable[Mapping[str, Any]]]], sources: set[str]
) -> Iterator[Seen]:
    """The successful listings of `sources` in counted runs: each run as (its status, its
    observations as runs.json holds them: `agent.bundle.layout.observation_doc`)."""
    for status, observations in runs:
        if status not in COUNTED:
            continue
        for o in observations:
            if o["status"] == "ok" and o["tree_hash"] and o["source"] in sources:
                yield Seen(o["source"], o["scope"], _when(o["collected_at"]), o["hash"], o["tree_hash"])


def stored_rows(store: Store) -> RecordRows:
    """Reads a listing's records from the store (the canonical JSON each blob holds)."""

    def rows(s: Seen) -> list[tuple[str, str, dict[str, Any]]]:
        with store.read() as session:
            found = session.execute(
                select(col(TreeEntry.resource_id), col(Blob.hash), col(Blob.data))
                .join(Blob, col(Blob.hash) == TreeEntry.blob_hash)
                .where(col(TreeEntry.tree_hash) == s.tree)
                .order_by(col(TreeEntry.resource_id))
            ).all()
        return [(rid, h, json.loads(data)) for rid, h, data in found]

    return rows


def selected_period(store: Store, sel: Selection, first: date, last: date, sources: set[str]) -> Period:
    """The period view of what a bundle's selection holds, read from the store."""
    from agent.bundle.selection import nc_register

    return build_period(
        first,
        last,
        counted_listings(selected_runs(sel), sources),
        stored_rows(store),
        plain_json(nc_register(sel)),
    )


def selected_runs(sel: Selection) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each run of a bundle's selection as (its status, its observations as runs.json holds them):
    what `counted_listings` reads, from the store as from a bundle."""
    from agent.bundle.layout import observation_doc

    observations: dict[int | None, list[dict[str, Any]]] = {}
    for o in sel.rows[Observation]:
        observations.setdefault(o.run_id, []).append(observation_doc(o))
    return [(r.status, observations.get(r.id, [])) for r in sel.runs]


def period_days(
    start: date | None, end: date | None, finished: Iterable[datetime | None]
) -> tuple[date, date]:
    """The period's first and last day: as given, else those of its first and last entries."""
    days = [f.date() for f in finished if f is not None]
    if not days and (start is None or end is None):
        raise UsageError("no sealed entry in that period")
    return start or min(days), end or max(days)


def draw(
    store: Store,
    registry: Registry,
    settings: Settings,
    name: str,
    first: date,
    last: date,
    *,
    size: int | None = None,
    seed: str | None = None,
) -> dict[str, Any]:
    """`annexa sample`: the sample of one population over the days `first`..`last`."""
    from agent.bundle.selection import select_bundle

    spec = find_population(registry, name)
    sel = select_bundle(store, registry, first, last, [])
    period = selected_period(store, sel, first, last, set(spec.sources))
    missing = [s for s in spec.needs if not period.listings.get(s)]
    if missing:
        raise UsageError(
            f"population {name}: no sealed listing of {', '.join(missing)} between {first} and {last}: "
            "collect it first, or widen --from/--to"
        )
    head = sel.runs[-1].root_hash or ""
    doc = sample_document(
        spec, period, size_rule(settings, size), seed or head, GIVEN if seed else CHAIN_HEAD
    )
    if "error" in doc:
        raise SampleFailed(f"population {name} could not be derived: {doc['error']}")
    return doc
