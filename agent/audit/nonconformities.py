"""Nonconformities: opened and kept up to date by check outcomes, moved on by people.

One NC per (check, scope). The machine may open a draft, update it, close a draft nobody
accepted once the check passes, and reopen a closed one on regression. It never closes an
NC a person accepted (it marks it ready for verification), and an `error` outcome never
changes an NC: missing evidence proves nothing either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.orm import Session
from sqlmodel import col

from agent.plugin.model import Result, Status
from agent.plugin.registry import CheckSpec
from agent.store.db import chunks, insert_all
from agent.store.hashing import nc_hash, transition_hash
from agent.store.schema import NcTransition, NcVersion, Nonconformity, Run, id_of

SYSTEM_ACTOR = "annexa"
MAX_NC_ID = 2**31 - 1  # the id column is a 32-bit INTEGER on PostgreSQL


class NcState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    ACTION_PLANNED = "action_planned"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"


ACCEPTED = {NcState.OPEN, NcState.ACTION_PLANNED, NcState.RESOLVED}
ACTIVE = {NcState.DRAFT, *ACCEPTED}


def transition(
    session: Session,
    nc: Nonconformity,
    to: NcState | None,
    *,
    actor: str,
    reason: str,
    at: datetime,
    run: Run,
) -> None:
    """One step of the NC's history, hashed for the seal of `run` (None: the NC is being opened)."""
    step = _step(nc, to, actor, reason, at, run)
    session.add(step)
    session.flush()
    _sealed(step, nc, run)


def _step(
    nc: Nonconformity, to: NcState | None, actor: str, reason: str, at: datetime, run: Run
) -> NcTransition:
    return NcTransition(
        nc_id=id_of(nc),
        at=at,
        actor=actor,
        from_state=None if to is None else nc.state,
        to_state=(to or NcState(nc.state)).value,
        reason=reason,
        run_id=run.id,
    )


def _sealed(step: NcTransition, nc: Nonconformity, run: Run) -> None:
    """Hash a stored step (its id fixes its place) and move the NC to where it leads."""
    step.hash = transition_hash(step.model_dump(), run.uid)
    if nc.state != step.to_state:
        nc.state = step.to_state


def nc_record(nc: Nonconformity) -> dict[str, Any]:
    """Every field of the register: what a seal commits to for each version of the NC."""
    return {
        "id": nc.id,
        "version": nc.version,
        "check_id": nc.check_id,
        "scope": nc.scope,
        "title": nc.title,
        "controls": list(nc.controls),
        "suggested_severity": nc.suggested_severity,
        "severity": nc.severity,
        "state": nc.state,
        "first_seen": nc.first_seen.isoformat(),
        "last_seen": nc.last_seen.isoformat(),
        "last_run_id": nc.last_run_id,
        "failing_resources": list(nc.failing_resources),
        "evidence_hashes": list(nc.evidence_hashes),
        "ready_for_verification": nc.ready_for_verification,
        "nature": nc.nature,
        "correction": nc.correction,
        "root_cause": nc.root_cause,
        "corrective_action": nc.corrective_action,
        "owner": nc.owner,
        "due_date": nc.due_date.isoformat() if nc.due_date else None,
        "effectiveness_review": nc.effectiveness_review,
    }


def commit_version(session: Session, nc: Nonconformity, run: Run) -> None:
    """Record the NC as it now stands, for the seal of `run` to commit to."""
    nc.version += 1
    if nc.id is None:  # a new NC gets its id here; a known one needs no round trip before its version
        session.flush()
    session.add(_version(nc, run))


def _version(nc: Nonconformity, run: Run) -> NcVersion:
    document = nc_record(nc)
    return NcVersion(
        nc_id=id_of(nc), version=nc.version, run_id=id_of(run), hash=nc_hash(document), document=document
    )


def _was_accepted(session: Session, nc: Nonconformity) -> bool:
    states = session.execute(
        select(col(NcTransition.to_state)).where(col(NcTransition.nc_id) == nc.id)
    ).scalars()
    return any(s in {x.value for x in ACCEPTED} for s in states)


def _failing_summary(failing: Sequence[Result]) -> str:
    names = ", ".join(r.resource_id for r in failing[:3])
    more = f" and {len(failing) - 3} more" if len(failing) > 3 else ""
    return f"{len(failing)} failing resource(s): {names}{more}"


def ncs_of(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Nonconformity]:
    """The NCs of these (check, scope)s, locked for this transaction (in id order, so two agents
    judging overlapping scopes never wait on each other's rows in opposite orders)."""
    found: dict[tuple[str, str], Nonconformity] = {}
    pair = tuple_(col(Nonconformity.check_id), col(Nonconformity.scope))
    for chunk in chunks(sorted(set(keys))):
        rows = session.execute(
            select(Nonconformity).where(pair.in_(chunk)).order_by(col(Nonconformity.id)).with_for_update()
        ).scalars()
        found.update(((nc.check_id, nc.scope), nc) for nc in rows)
    return found


@dataclass
class _Change:
    """What one evaluation does to its NC: open it, take a step in its history (to a state, or
    None when opening), set fields; applied to all of a batch together by `record_outcomes`."""

    nc: Nonconformity
    opened: bool = False
    step: tuple[NcState | None, str] | None = None
    fields: dict[str, Any] = field(default_factory=dict)


def record_outcomes(
    session: Session, judged: Sequence[tuple[CheckSpec, str, Sequence[Result]]], run: Run, at: datetime
) -> list[Nonconformity | None]:
    """Apply (check, scope) evaluations to their NCs; returns each one's NC, None if it has none.

    A few statements for the whole batch: the NCs opened, then the steps of their histories, then
    their versions go in together, in the order of `judged` (ids as if applied one by one)."""
    ncs = ncs_of(session, [(spec.id, scope) for spec, scope, _ in judged])
    changes = [
        _change(session, spec, scope, results, run, at, ncs.get((spec.id, scope)))
        for spec, scope, results in judged
    ]
    _insert_opened(session, [c.nc for c in changes if c is not None and c.opened])
    steps = [
        (c.nc, _step(c.nc, c.step[0], SYSTEM_ACTOR, c.step[1], at, run))
        for c in changes
        if c is not None and c.step is not None
    ]
    _insert_steps(session, steps, run)
    versions = []
    for c in changes:
        if c is None:
            continue
        for name, value in c.fields.items():
            setattr(c.nc, name, value)
        if not c.opened:  # one opened was inserted as its first version stands
            c.nc.version += 1
        versions.append(_version(c.nc, run))
    insert_all(session, versions)
    return [
        c.nc if c is not None else ncs.get((spec.id, scope))
        for c, (spec, scope, _) in zip(changes, judged, strict=True)
    ]


def _insert_opened(session: Session, opened: list[Nonconformity]) -> None:
    """Insert new NCs with one executemany (the ORM would send one statement each) and read their
    ids back by their unique (check, scope)."""
    if not opened:
        return
    insert_all(session, opened)
    pair = tuple_(col(Nonconformity.check_id), col(Nonconformity.scope))
    ids: dict[tuple[str, str], int | None] = {}
    for chunk in chunks([(nc.check_id, nc.scope) for nc in opened]):
        query = select(col(Nonconformity.id), col(Nonconformity.check_id), col(Nonconformity.scope))
        for nc_id, check, scope in session.execute(query.where(pair.in_(chunk))):
            ids[(check, scope)] = nc_id
    for nc in opened:
        nc.id = ids[(nc.check_id, nc.scope)]


def _insert_steps(session: Session, steps: list[tuple[Nonconformity, NcTransition]], run: Run) -> None:
    """Insert history steps with one executemany, read their ids back (one step per NC in a batch,
    the only one of this run not hashed yet), hash them and store the hashes with one more."""
    if not steps:
        return
    insert_all(session, [step for _, step in steps])
    ids: dict[int, int | None] = {}
    for chunk in chunks([id_of(nc) for nc, _ in steps]):
        query = select(col(NcTransition.nc_id), col(NcTransition.id)).where(
            col(NcTransition.run_id) == run.id,
            col(NcTransition.nc_id).in_(chunk),
            col(NcTransition.hash).is_(None),
        )
        for nc_id, step_id in session.execute(query):
            ids[nc_id] = step_id
    for nc, step in steps:
        step.id = ids[id_of(nc)]
        _sealed(step, nc, run)
    session.execute(update(NcTransition), [{"id": step.id, "hash": step.hash} for _, step in steps])


def _change(
    session: Session,
    spec: CheckSpec,
    scope: str,
    results: Sequence[Result],
    run: Run,
    at: datetime,
    nc: Nonconformity | None,
) -> _Change | None:
    """What a check's results in a scope do to its NC (`nc`, None if it has none yet)."""
    failing = sorted((r for r in results if r.status == Status.FAIL), key=lambda r: r.resource_id)
    errored = {r.resource_id for r in results if r.status == Status.ERROR}

    if failing:
        seen: dict[str, Any] = {
            "evidence_hashes": sorted({h for r in failing for h in r.evidence}),
            "last_seen": at,
            "last_run_id": run.id,
            "ready_for_verification": False,
        }
        if nc is None:
            opened = Nonconformity(
                check_id=spec.id,
                scope=scope,
                title=spec.title,
                controls=list(spec.controls),
                suggested_severity=spec.severity.value,
                severity=spec.severity.value,
                state=NcState.DRAFT.value,
                first_seen=at,
                failing_resources=[r.resource_id for r in failing],
                nature=spec.rationale,
                version=1,
                **seen,
            )
            return _Change(
                opened, opened=True, step=(None, f"check failed in run {run.id}: {_failing_summary(failing)}")
            )
        still_unknown = set(nc.failing_resources) & errored
        seen["failing_resources"] = sorted({r.resource_id for r in failing} | still_unknown)
        step: tuple[NcState | None, str] | None = None
        if nc.state == NcState.CLOSED:
            reopened = NcState.OPEN if _was_accepted(session, nc) else NcState.DRAFT
            step = (reopened, f"regression in run {run.id}: {_failing_summary(failing)}")
        elif nc.state == NcState.RESOLVED:
            step = (
                NcState.OPEN,
                f"still failing after resolution, in run {run.id}: {_failing_summary(failing)}",
            )
        return _Change(nc, step=step, fields=seen)

    if nc is None or errored:
        return None
    if nc.state == NcState.DRAFT:
        why = f"check passed in run {run.id}: no failing resource remains"
        return _Change(nc, step=(NcState.CLOSED, why), fields={"last_run_id": run.id})
    if nc.state in ACCEPTED and not nc.ready_for_verification:
        return _Change(nc, fields={"ready_for_verification": True, "last_run_id": run.id})
    return None


def nc_document(nc: Nonconformity) -> dict[str, Any]:
    """The `nc list --json` shape (design notes contract) plus the fields an auditor asks for."""
    return register_document(nc_record(nc))


def register_document(record: dict[str, Any]) -> dict[str, Any]:
    """An NC's register entry from its record (a row's, or a sealed version's)."""
    keys = (
        "check_id", "title", "controls", "severity", "suggested_severity", "state", "scope",
        "failing_resources", "first_seen", "last_seen", "last_run_id", "ready_for_verification",
        "evidence_hashes",
    )  # fmt: skip
    return {"id": f"NC-{record['id']:04d}", **{k: record[k] for k in keys}}


def open_by_severity(session: Session) -> dict[str, int]:
    """How many NCs are not closed or rejected, per severity."""
    rows = session.execute(
        select(col(Nonconformity.severity), func.count())
        .where(col(Nonconformity.state).in_([st.value for st in ACTIVE]))
        .group_by(col(Nonconformity.severity))
    ).all()
    return {severity: count for severity, count in rows}


def list_ncs(session: Session, states: list[str] | None = None) -> list[Nonconformity]:
    query = select(Nonconformity).order_by(col(Nonconformity.id))
    if states:
        query = query.where(col(Nonconformity.state).in_(states))
    return list(session.execute(query).scalars())


def parse_ref(ref: str) -> int | None:
    """`NC-0007`, `nc-7` or `7`."""
    text = ref.strip().upper().removeprefix("NC-")
    return int(text) if text.isascii() and text.isdigit() else None


def history(session: Session, nc: Nonconformity) -> list[dict[str, Any]]:
    rows = session.execute(
        select(NcTransition).where(col(NcTransition.nc_id) == nc.id).order_by(col(NcTransition.id))
    ).scalars()
    return [step_document(t) for t in rows]


def step_document(t: NcTransition) -> dict[str, Any]:
    """One step of an NC's history as `nc show` lists it."""
    return {
        "at": t.at.isoformat(),
        "actor": t.actor,
        "from_state": t.from_state,
        "to_state": t.to_state,
        "reason": t.reason,
        "run_id": t.run_id,
    }
