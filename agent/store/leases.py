"""Leases: which agent is collecting or judging which target right now.

Before a run touches a target (`aws:123456789012`) its agent leases it in the store; a daemon
and an on-demand `annexa collect`, or two sharded agents, therefore never work on the same
target at once. Every claim is a single conditional statement (insert if absent, take over
only if it is ours or has expired), so it holds on SQLite and PostgreSQL alike. Holders renew
while they work; a holder that dies stops renewing and its claim lapses after the TTL, or at
once when it ran on this host and its process is gone.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Result, delete, or_, select, update
from sqlmodel import col

from agent.errors import AnnexaError
from agent.logs import get_logger
from agent.store.db import Store, insert_ignoring_duplicates
from agent.store.runs import process_alive
from agent.store.schema import Lease
from agent.store.types import utcnow

log = get_logger()

EX_TEMPFAIL = 75  # sysexits.h: a temporary condition, try again later


@dataclass(frozen=True)
class Holder:
    """One agent process (or one runner within it): what a lease names as its owner."""

    id: str
    kind: str
    host: str
    pid: int

    @classmethod
    def new(cls, kind: str) -> Holder:
        host, pid = socket.gethostname(), os.getpid()
        return cls(f"{host}:{pid}:{uuid.uuid4().hex[:8]}", kind, host, pid)


@dataclass(frozen=True)
class Claim:
    """A lease someone else holds, as reported to whoever wanted it."""

    key: str
    kind: str
    host: str
    pid: int
    run_id: int | None
    expires_at: datetime

    def describe(self) -> str:
        run = f", run {self.run_id}" if self.run_id is not None else ""
        until = self.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f"{self.key} is held by `annexa {self.kind}` (pid {self.pid} on {self.host}{run}) until {until}"
        )


class LeaseHeld(AnnexaError):
    """Another agent is working on a target this command needs; nothing was written."""

    exit_code = EX_TEMPFAIL

    def __init__(self, claims: list[Claim]) -> None:
        more = f" (and {len(claims) - 1} more target(s))" if len(claims) > 1 else ""
        super().__init__(f"{claims[0].describe()}{more}: nothing collected, try again when it is done")
        self.claims = claims


def _claim(row: Lease) -> Claim:
    return Claim(row.key, row.kind, row.host, row.pid, row.run_id, row.expires_at)


def _affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (Session.execute is typed as returning a plain
    Result for any statement; a DML statement's is a CursorResult)."""
    assert isinstance(result, CursorResult)
    return result.rowcount


def release_dead(store: Store, now: datetime | None = None) -> int:
    """Drop leases of processes on this host that no longer exist, and leases long expired."""
    host = socket.gethostname()
    with store.read() as s:
        local = s.execute(select(col(Lease.holder), col(Lease.pid)).where(col(Lease.host) == host)).all()
    dead = {holder for holder, pid in local if pid != os.getpid() and not process_alive(pid)}
    with store.write() as s:
        gone = 0
        if dead:
            gone += _affected(s.execute(delete(Lease).where(col(Lease.holder).in_(dead))))
        gone += _affected(s.execute(delete(Lease).where(col(Lease.expires_at) < (now or utcnow()))))
    if gone:
        log.info("leases_released", count=gone, reason="holder gone or expired")
    return gone


def acquire(
    store: Store, holder: Holder, keys: Iterable[str], ttl: timedelta, *, all_or_nothing: bool
) -> tuple[set[str], list[Claim]]:
    """Lease `keys`; returns what we now hold and who holds the rest.

    With `all_or_nothing`, one key held elsewhere means nothing is taken (LeaseHeld).
    """
    release_dead(store)
    now = utcnow()
    fields = {
        "holder": holder.id,
        "kind": holder.kind,
        "host": holder.host,
        "pid": holder.pid,
        "run_id": None,
        "acquired_at": now,
        "expires_at": now + ttl,
    }
    got: set[str] = set()
    held: list[Claim] = []
    with store.write() as s:
        for key in sorted(set(keys)):  # one order for every agent: no deadlocks between them
            if insert_ignoring_duplicates(s, Lease, [{"key": key, **fields}]):
                got.add(key)
                continue
            taken = _affected(
                s.execute(
                    update(Lease)
                    .where(
                        col(Lease.key) == key,
                        or_(col(Lease.holder) == holder.id, col(Lease.expires_at) < now),
                    )
                    .values(**fields)
                )
            )
            if taken:
                got.add(key)
                continue
            row = s.get(Lease, key)
            if row is not None:
                held.append(_claim(row))
        if held and all_or_nothing:
            raise LeaseHeld(held)  # rolls back what this transaction claimed
    if held:
        log.warning("targets_busy", held=[c.describe() for c in held])
    return got, held


def attach_run(store: Store, holder: Holder, run_id: int) -> None:
    with store.write() as s:
        s.execute(update(Lease).where(col(Lease.holder) == holder.id).values(run_id=run_id))


def renew(store: Store, holder: Holder, keys: set[str], ttl: timedelta) -> set[str]:
    """Push our leases' expiry forward; returns the keys we lost (taken over after expiring)."""
    if not keys:
        return set()
    with store.write() as s:
        s.execute(
            update(Lease)
            .where(col(Lease.holder) == holder.id, col(Lease.key).in_(keys))
            .values(expires_at=utcnow() + ttl)
        )
        mine = set(
            s.execute(
                select(col(Lease.key)).where(col(Lease.holder) == holder.id, col(Lease.key).in_(keys))
            ).scalars()
        )
    lost = keys - mine
    if lost:
        log.error("leases_lost", keys=sorted(lost), holder=holder.id)
    return lost


def release(store: Store, holder: Holder) -> None:
    with store.write() as s:
        s.execute(delete(Lease).where(col(Lease.holder) == holder.id))


def current(store: Store) -> list[Claim]:
    with store.read() as s:
        return [_claim(r) for r in s.execute(select(Lease).order_by(col(Lease.key))).scalars()]
