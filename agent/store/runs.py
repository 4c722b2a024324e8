"""Run lifecycle: start, heartbeat, finish with a chained root hash, and reaping dead runs."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Mapped, aliased
from sqlmodel import col

from agent.logs import get_logger
from agent.plugin.model import RunStatus
from agent.plugin.scopes import without_superseded
from agent.store.chain import linked, new_run, seal
from agent.store.db import Store
from agent.store.schema import CheckRun, Lease, Observation, Run
from agent.store.types import utcnow

log = get_logger()

STALE_HEARTBEAT = timedelta(minutes=10)
# The tables read as "the newest row per (key, scope)".
PerScope = TypeVar("PerScope", Observation, CheckRun)


def start_run(store: Store, kind: str, selection: list[str]) -> Run:
    run = new_run(kind, selection)
    with store.write() as s:
        s.add(run)
        s.flush()
        s.refresh(run)
    log.info("run_started", run=run.id, kind=kind)
    return run


def heartbeat(store: Store, run_id: int) -> None:
    with store.write() as s:
        run = s.get(Run, run_id)
        if run is not None and run.status == RunStatus.RUNNING.value:
            run.heartbeat_at = utcnow()


def finish_run(store: Store, run_id: int, status: RunStatus, error: str | None = None) -> Run:
    """Seal the run: status, end time, and a signed root linked to the current head of the chain."""

    def attempt() -> Run:
        with store.write() as s:
            run = s.get(Run, run_id, with_for_update=True)
            if run is None:
                raise LookupError(f"run {run_id} does not exist")
            if run.root_hash is not None:
                return run
            run.status = status.value
            run.finished_at = utcnow()
            run.error = error
            seal(s, run, store.keys)
            return run

    run = linked(attempt, f"run {run_id}")
    log.info("run_finished", run=run_id, status=status.value, root=run.root_hash)
    return run


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_dead_runs(store: Store, now: datetime | None = None) -> list[int]:
    """Mark as aborted every run left `running` by a process that no longer exists.

    On this host the process id tells; elsewhere (a shared database) a heartbeat older than
    STALE_HEARTBEAT does.
    """
    now = now or utcnow()
    host = socket.gethostname()
    with store.read() as s:
        running = s.execute(select(Run).where(col(Run.status) == RunStatus.RUNNING.value)).scalars().all()
    dead = [
        r.id
        for r in running
        if r.id is not None
        and (
            (r.host == host and not process_alive(r.pid) and r.pid != os.getpid())
            or now - r.heartbeat_at > STALE_HEARTBEAT
        )
    ]
    for run_id in dead:
        finish_run(
            store, run_id, RunStatus.ABORTED, error="the agent process ended without finishing the run"
        )
        with store.write() as s:
            s.execute(delete(Lease).where(col(Lease.run_id) == run_id))
        log.warning("run_reaped", run=run_id)
    return dead


def _name(attribute: Mapped[Any]) -> str:
    """The model attribute a column stands for (`col()` types it as Mapped; it is instrumented)."""
    assert isinstance(attribute, InstrumentedAttribute)
    return attribute.key


def newest_per_scope(
    store: Store,
    model: type[PerScope],
    key: Mapped[str],
    at: Mapped[datetime],
    *where: ColumnElement[bool],
) -> list[PerScope]:
    """The newest row of `model` per (key, scope) in the runs `where` admits, ordered by key and
    scope, without stand-in scopes a newer row for their parts replaced (see agent/plugin/scopes.py)."""
    ranked = (
        select(
            col(model.id),
            func.row_number()
            .over(partition_by=(key, col(model.scope)), order_by=(at.desc(), col(model.id).desc()))
            .label("rank"),
        )
        .join(Run, col(Run.id) == model.run_id)
        .where(*where)
        .subquery()
    )
    key_name, at_name = _name(key), _name(at)
    by_key: dict[str, list[PerScope]] = {}
    with store.read() as s:
        for row in s.execute(
            select(model).join(ranked, ranked.c.id == model.id).where(ranked.c.rank == 1)
        ).scalars():
            by_key.setdefault(getattr(row, key_name), []).append(row)
    return [
        row
        for name in sorted(by_key)
        for row in without_superseded(by_key[name], lambda r: r.scope, lambda r: getattr(r, at_name))
    ]


def proven_by(at: datetime | None) -> tuple[ColumnElement[bool], ...]:
    """The SQL condition, on `Run`, that an entry had been finished by `at` (none when `at` is None:
    the latest). Combined with the counted-runs condition by every reader."""
    if at is None:
        return ()
    return (col(Run.finished_at).is_not(None) & (col(Run.finished_at) <= at),)


def newest_of_each(
    model: type[PerScope],
    key: str,
    when: str,
    counted: ColumnElement[bool],
    at: datetime | None,
    *where: ColumnElement[bool],
) -> ColumnElement[bool]:
    """SQL condition: the row is the newest of its (`key`, scope) by `when` among the counted
    entries finished by `at` (the latest if None), ordered like `newest_per_scope`. One probe of
    the (key, scope, time) index per pair (ix_check_run_latest, ix_observation_latest) instead of
    ranking every row ever written: a year of daily evaluations costs about what a day's does.
    Rows are written before their entry is finished, so the probe starts at `at`."""
    probe: Any = aliased(model)  # typed Any: its columns are read by name
    probe_key, probe_when, probe_id = getattr(probe, key), getattr(probe, when), probe.id
    pairs = (
        select(getattr(model, key).label("key"), col(model.scope).label("scope"))
        .where(*where)
        .distinct()
        .subquery()
    )
    newest = (
        select(probe_id)
        .join(Run, col(Run.id) == probe.run_id)
        .where(
            probe_key == pairs.c.key,
            probe.scope == pairs.c.scope,
            counted,
            *proven_by(at),
            *(() if at is None else (probe_when <= at,)),
        )
        .order_by(probe_when.desc(), probe_id.desc())
        .limit(1)
        .correlate(pairs)
        .scalar_subquery()
    )
    return col(model.id).in_(select(newest).select_from(pairs))


def latest_run(store: Store) -> Run | None:
    with store.read() as s:
        return s.execute(select(Run).order_by(col(Run.id).desc()).limit(1)).scalar_one_or_none()
