"""As of a moment: what the store had proven then, the one definition every `--as-of` view reads.

Proven at T means written by a chain entry that counts (sealed on the chain, root re-deriving,
signature valid: see agent/store/chain.py) and that was finished at or before T. From those
entries: the newest evaluation of each check and scope, the newest observation of each source
and scope, each NC as its newest sealed version (the register as that entry left it), the NC
history, and the attestations. A run that finished after T did not exist yet for this view, even
if it started before; a later edit of the live NC row changes nothing here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlmodel import col

from agent.audit.nonconformities import ACTIVE, register_document, step_document
from agent.errors import Unverifiable, UsageError
from agent.store import Store
from agent.store.chain import read_counted
from agent.store.hashing import nc_hash
from agent.store.runs import newest_of_each, newest_per_scope, proven_by
from agent.store.schema import NcTransition, NcVersion, Observation, Run
from agent.store.types import utcnow

_EXAMPLE = "an ISO 8601 date or timestamp such as 2026-03-31 or 2026-03-31T12:00:00Z"


def parse_as_of(text: str, now: datetime) -> datetime:
    """`--as-of`: a date is the end of that day (UTC), a timestamp without a zone is UTC. Later
    than `now` is refused: nothing is proven about the future (today's date means now)."""
    raw = text.strip()
    try:
        if "T" not in raw.upper() and " " not in raw:
            day = date.fromisoformat(raw)
            if day > now.date():
                raise UsageError(f"--as-of {text!r} is in the future")
            return min(datetime.combine(day, time.max, tzinfo=UTC), now)
        moment = datetime.fromisoformat(raw)
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise UsageError(f"--as-of {text!r} is not {_EXAMPLE}") from None
    if moment > now:
        raise UsageError(f"--as-of {text!r} is in the future")
    return moment


def as_of_option(text: str | None) -> datetime | None:
    """The moment an `--as-of` value names, checked against the clock; None (the latest) without one."""
    return None if text is None else parse_as_of(text, utcnow())


def observations_at(store: Store, sources: Iterable[str], at: datetime) -> list[Observation]:
    """The newest counted observation of each (source, scope) proven by `at`."""
    wanted = sorted(set(sources))
    if not wanted:
        return []
    only = col(Observation.source).in_(wanted)
    return read_counted(
        store,
        lambda counted: newest_per_scope(
            store,
            Observation,
            col(Observation.source),
            col(Observation.collected_at),
            counted,
            newest_of_each(Observation, "source", "collected_at", counted, at, only),
        ),
    )


def nc_versions_at(store: Store, at: datetime, nc_id: int | None = None) -> list[NcVersion]:
    """Each NC (or just `nc_id`) as its newest version a counted entry finished by `at` committed,
    ordered by NC id; an NC not yet opened then is absent. A version edited since it was sealed
    stops the view (Unverifiable): the register it would show is not the one that was proven."""
    only = () if nc_id is None else (col(NcVersion.nc_id) == nc_id,)

    def fetch(counted: ColumnElement[bool]) -> list[NcVersion]:
        newest = (
            select(col(NcVersion.nc_id), func.max(NcVersion.version).label("version"))
            .join(Run, col(Run.id) == NcVersion.run_id)
            .where(counted, *proven_by(at), *only)
            .group_by(col(NcVersion.nc_id))
            .subquery()
        )
        query = (
            select(NcVersion)
            .join(
                newest,
                (newest.c.nc_id == NcVersion.nc_id) & (newest.c.version == NcVersion.version),
            )
            .order_by(col(NcVersion.nc_id))
        )
        with store.read() as s:
            return list(s.execute(query).scalars())

    versions = read_counted(store, fetch)
    for v in versions:
        if nc_hash(v.document) != v.hash:  # edited in the database after its entry sealed it
            raise Unverifiable(
                f"NC-{v.nc_id:04d} version {v.version} does not match its sealed hash: "
                "run `annexa verify --store`"
            )
    return versions


def registers_at(store: Store, at: datetime, states: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The NC register as of `at` (the `nc list --json` shape), only `states` if given."""
    wanted = set(states or ())
    docs = [register_document(v.document) for v in nc_versions_at(store, at)]
    return [d for d in docs if not wanted or d["state"] in wanted]


def active_at(store: Store, at: datetime) -> list[dict[str, Any]]:
    """The NCs not closed or rejected as of `at`."""
    return registers_at(store, at, [s.value for s in ACTIVE])


def nc_at(store: Store, nc_id: int, at: datetime) -> dict[str, Any] | None:
    """One NC's register entry and history as of `at` (the `nc show` shape), None if not opened yet."""
    versions = nc_versions_at(store, at, nc_id)
    if not versions:
        return None
    return {**register_document(versions[0].document), "transitions": history_at(store, nc_id, at)}


def history_at(store: Store, nc_id: int, at: datetime) -> list[dict[str, Any]]:
    """The NC's sealed steps up to `at` (the shape of `nonconformities.history`)."""

    def fetch(counted: ColumnElement[bool]) -> list[NcTransition]:
        with store.read() as s:
            query = (
                select(NcTransition)
                .join(Run, col(Run.id) == NcTransition.run_id)
                .where(counted, *proven_by(at), col(NcTransition.nc_id) == nc_id)
                .order_by(col(NcTransition.id))
            )
            return list(s.execute(query).scalars())

    return [step_document(t) for t in read_counted(store, fetch)]


def runs_at(store: Store, at: datetime, limit: int = 10) -> list[Run]:
    """The newest sealed entries finished by `at`, newest first."""
    with store.read() as s:
        query = (
            select(Run)
            .where(col(Run.root_hash).is_not(None), *proven_by(at))
            .order_by(col(Run.finished_at).desc(), col(Run.id).desc())
            .limit(limit)
        )
        return list(s.execute(query).scalars())
