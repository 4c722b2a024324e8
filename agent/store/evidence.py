"""Writing observations atomically and reading the latest usable ones back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from agent import __version__
from agent.canonical import canonical_json, sha256_hex
from agent.errors import InputDataError
from agent.model import Record, RunStatus
from agent.store.db import Store
from agent.store.hashing import observation_hash, tree_hash
from agent.store.runs import COUNTED
from agent.store.schema import Blob, Observation, Run, Tree, TreeEntry
from agent.store.types import utcnow

BATCH = 500


class RunSealed(Exception):
    """A collector finished after its run was sealed (aborted); its evidence is dropped."""


def _chunks(items: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def insert_missing(session: Session, model: type, key: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows whose key is not stored yet; concurrent writers of the same content are harmless."""
    dialect = session.get_bind().dialect.name
    column = getattr(model, key)
    for chunk in _chunks(rows):
        known = set(session.execute(select(column).where(column.in_([r[key] for r in chunk]))).scalars())
        fresh = [r for r in chunk if r[key] not in known]
        if not fresh:
            continue
        if dialect in ("sqlite", "postgresql"):
            insert = sqlite_insert if dialect == "sqlite" else pg_insert
            session.execute(insert(model).values(fresh).on_conflict_do_nothing())
        else:
            session.execute(model.__table__.insert(), fresh)  # type: ignore[attr-defined]


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
        run_id=run.id,  # type: ignore[arg-type]
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
            if s.get(Tree, tree_hash) is None:
                insert_missing(s, Tree, "hash", [{"hash": tree_hash, "count": len(items)}])
                for chunk in _chunks(items):
                    s.execute(
                        TreeEntry.__table__.insert(),  # type: ignore[attr-defined]
                        [{"tree_hash": tree_hash, "resource_id": r, "blob_hash": b} for r, b in chunk],
                    )
            obs.tree_hash = tree_hash
            obs.record_count = len(items)
        obs.hash = observation_hash(obs.model_dump(), run.uid)
        s.add(obs)
    return obs


def latest_observations(store: Store, sources: Iterable[str], current_run: int | None) -> list[Observation]:
    """The newest observation of each (source, scope) among counted runs and the current one."""
    wanted = sorted(set(sources))
    if not wanted:
        return []
    counted = or_(Run.status.in_(COUNTED), Run.id == current_run)  # type: ignore[attr-defined]
    ranked = (
        select(
            Observation.id,
            func.row_number()
            .over(
                partition_by=(Observation.source, Observation.scope),
                order_by=(Observation.collected_at.desc(), Observation.id.desc()),  # type: ignore[attr-defined,union-attr]
            )
            .label("rank"),
        )
        .join(Run, Run.id == Observation.run_id)
        .where(Observation.source.in_(wanted), counted)  # type: ignore[attr-defined]
        .subquery()
    )
    with store.read() as s:
        rows = s.execute(
            select(Observation).join(ranked, ranked.c.id == Observation.id).where(ranked.c.rank == 1)
        ).scalars()
        return sorted(rows, key=lambda o: (o.source, o.scope))


def load_records(store: Store, obs: Observation) -> list[Record]:
    if obs.tree_hash is None:
        return []
    with store.read() as s:
        rows = s.execute(
            select(TreeEntry.resource_id, Blob.hash, Blob.data)
            .join(Blob, Blob.hash == TreeEntry.blob_hash)
            .where(TreeEntry.tree_hash == obs.tree_hash)
            .order_by(TreeEntry.resource_id)
        ).all()
    return [Record(rid, json.loads(data), obs.source, obs.scope, h) for rid, h, data in rows]
