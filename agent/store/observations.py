"""Writing observations atomically and reading the latest usable ones back."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlmodel import col

from agent import __version__
from agent.canonical import canonical_json, sha256_hex
from agent.errors import InputDataError
from agent.plugin.model import Record, RunStatus
from agent.store.chain import read_counted
from agent.store.db import Store, chunks, insert_ignoring_duplicates, insert_missing, table_of
from agent.store.hashing import observation_hash, tree_hash
from agent.store.runs import newest_of_each, newest_per_scope
from agent.store.schema import Blob, Observation, Run, Tree, TreeEntry, id_of
from agent.store.types import utcnow

DECODED_TOGETHER = 10_000  # records read and decoded as one JSON document
SHARED_UP_TO = 32  # characters of the string values made one object when equal


class RunSealed(Exception):
    """A collector finished after its run was sealed (aborted); its evidence is dropped."""


@dataclass
class EvidenceBuffer:
    """Canonicalises and hashes records as a collector streams them; duplicate resource ids are a bug."""

    source: str
    entries: dict[str, str] = field(default_factory=dict)
    blobs: dict[str, str] = field(default_factory=dict)

    def add(self, record: Record) -> None:
        if (
            not isinstance(record, Record)
            or not isinstance(record.resource_id, str)
            or not record.resource_id
        ):
            raise InputDataError(
                f"{self.source}: collector yielded something that is not a Record with an id"
            )
        if record.resource_id in self.entries:
            raise InputDataError(f"{self.source}: resource {record.resource_id!r} listed twice")
        text = canonical_json(record.data)
        digest = sha256_hex(text)
        self.entries[record.resource_id] = digest
        self.blobs.setdefault(digest, text)

    def tree(self) -> tuple[str, list[tuple[str, str]]]:
        items = sorted(self.entries.items())
        return tree_hash(items), items


def write_observation(
    store: Store,
    run: Run,
    source: str,
    scope: str,
    started_at: datetime,
    buffer: EvidenceBuffer | None = None,
    error: str | None = None,
) -> Observation:
    """Store one observation and its evidence in a single transaction (an error one has no evidence)."""
    obs = Observation(
        run_id=id_of(run),
        source=source,
        scope=scope,
        started_at=started_at,
        collected_at=utcnow(),
        status="error" if error is not None else "ok",
        error=error,
        agent_version=__version__,
        hash="",
    )
    with store.write() as s:
        # Locks the run row: an observation can never slip into a run already sealed (aborted).
        owner = s.get(Run, run.id, with_for_update=True)
        if owner is None or owner.status != RunStatus.RUNNING.value:
            raise RunSealed(f"run {run.id} is no longer running; {source} at {scope} not stored")
        if error is None and buffer is not None:
            tree_hash, items = buffer.tree()
            insert_missing(s, Blob, "hash", [{"hash": h, "data": d} for h, d in buffer.blobs.items()])
            # Only the writer that created the tree adds its entries: a concurrent agent storing
            # the same listing waits for ours to commit and then finds it complete. (One small row:
            # the conflict clause says whether it is new, no SELECT first.)
            if insert_ignoring_duplicates(s, Tree, [{"hash": tree_hash, "count": len(items)}]):
                for chunk in chunks(items):
                    s.execute(
                        table_of(TreeEntry).insert(),
                        [{"tree_hash": tree_hash, "resource_id": r, "blob_hash": b} for r, b in chunk],
                    )
            obs.tree_hash = tree_hash
            obs.record_count = len(items)
        obs.hash = observation_hash(obs.model_dump(), run.uid)
        s.add(obs)
    return obs


def latest_observations(store: Store, sources: Iterable[str], current_run: int | None) -> list[Observation]:
    """The newest observation of each (source, scope) among validly sealed counted runs and the
    current one, without stand-ins replaced by a newer listing of their parts (see agent/plugin/scopes.py)."""
    wanted = sorted(set(sources))
    if not wanted:
        return []
    only = col(Observation.source).in_(wanted)

    def fetch(counted: ColumnElement[bool]) -> list[Observation]:
        admitted = or_(counted, col(Run.id) == current_run)
        # The newest per pair by one index probe each, not a rank over every observation ever made.
        newest = newest_of_each(Observation, "source", "collected_at", admitted, None, only)
        return newest_per_scope(
            store, Observation, col(Observation.source), col(Observation.collected_at), admitted, newest
        )

    return read_counted(store, fetch)


def known_scopes(store: Store, sources: Iterable[str]) -> list[str]:
    """Every scope any of these sources was ever observed in."""
    wanted = sorted(set(sources))
    if not wanted:
        return []
    with store.read() as s:
        return sorted(
            s.execute(
                select(col(Observation.scope)).where(col(Observation.source).in_(wanted)).distinct()
            ).scalars()
        )


def load_records(store: Store, obs: Observation) -> list[Record]:
    """The observation's records by resource id, held while its checks run: each batch is decoded
    as one JSON array (the decoder then makes each key string once per batch, not once per record)
    and equal short values are one string (statuses, types, dates), together half the memory of
    decoding record by record."""
    if obs.tree_hash is None:
        return []
    records: list[Record] = []
    seen: dict[str, str] = {}
    with store.read() as s:
        result = s.execute(
            select(col(TreeEntry.resource_id), col(Blob.hash), col(Blob.data))
            .join(Blob, col(Blob.hash) == TreeEntry.blob_hash)
            .where(col(TreeEntry.tree_hash) == obs.tree_hash)
            .order_by(col(TreeEntry.resource_id))
            .execution_options(yield_per=DECODED_TOGETHER)
        )
        for rows in result.partitions():
            decoded = _share_values(json.loads(f"[{','.join(data for _, _, data in rows)}]"), seen)
            records += (
                Record(rid, data, obs.source, obs.scope, h)
                for (rid, h, _), data in zip(rows, decoded, strict=True)
            )
    return records


def _share_values(values: Any, seen: dict[str, str]) -> Any:
    """Replace, in place, each short string inside a decoded list or dict by the first equal one
    `seen` (replacing a value while iterating over a dict's items leaves its size unchanged)."""
    for key, item in values.items() if type(values) is dict else enumerate(values):
        if type(item) is str:
            if len(item) <= SHARED_UP_TO:
                values[key] = seen.setdefault(item, item)
        elif type(item) is list or type(item) is dict:
            _share_values(item, seen)
    return values
