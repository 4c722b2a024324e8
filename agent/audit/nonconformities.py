"""Nonconformities: opened and kept up to date by check outcomes, moved on by people.

One NC per (check, scope). The machine may open a draft, update it, close a draft nobody
accepted once the check passes, and reopen a closed one on regression. It never closes an
NC a person accepted (it marks it ready for verification), and an `error` outcome never
changes an NC: missing evidence proves nothing either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from agent.plugin.model import Result, Status
from agent.plugin.registry import CheckSpec
from agent.store.db import chunks
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
    step = NcTransition(
        nc_id=id_of(nc),
        at=at,
        actor=actor,
        from_state=None if to is None else nc.state,
        to_state=(to or NcState(nc.state)).value,
        reason=reason,
        run_id=run.id,
    )
    session.add(step)
    session.flush()
    step.hash = transition_hash(step.model_dump(), run.uid)
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
    document = nc_record(nc)
    session.add(
        NcVersion(
            nc_id=id_of(nc),
            version=nc.version,
            run_id=id_of(run),
            hash=nc_hash(document),
            document=document,
        )
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


def _by_checks(
    session: Session, nc: Nonconformity, to: NcState | None, reason: str, run: Run, at: datetime
) -> None:
    """A step the checks take (not a person), in the run whose outcome caused it."""
    transition(session, nc, to, actor=SYSTEM_ACTOR, reason=reason, at=at, run=run)


def ncs_of(session: Session, check_id: str, scopes: Sequence[str]) -> dict[str, Nonconformity]:
    """The NCs of a check in these scopes, by scope, locked for this transaction (in id order, so
    two agents judging overlapping scopes never wait on each other's rows in opposite orders)."""
    found: dict[str, Nonconformity] = {}
    for chunk in chunks(sorted(set(scopes))):
        rows = session.execute(
            select(Nonconformity)
            .where(col(Nonconformity.check_id) == check_id, col(Nonconformity.scope).in_(chunk))
            .order_by(col(Nonconformity.id))
            .with_for_update()
        ).scalars()
        found.update((nc.scope, nc) for nc in rows)
    return found


def record_outcome(
    session: Session,
    spec: CheckSpec,
    scope: str,
    results: Sequence[Result],
    run: Run,
    at: datetime,
    nc: Nonconformity | None,
) -> Nonconformity | None:
    """Apply one (check, scope) evaluation to its NC (`nc`, from `ncs_of`, None if it has none yet);
    returns the NC if there is one."""
    failing = sorted((r for r in results if r.status == Status.FAIL), key=lambda r: r.resource_id)
    errored = {r.resource_id for r in results if r.status == Status.ERROR}

    if failing:
        if nc is None:
            nc = Nonconformity(
                check_id=spec.id,
                scope=scope,
                title=spec.title,
                controls=list(spec.controls),
                suggested_severity=spec.severity.value,
                severity=spec.severity.value,
                state=NcState.DRAFT.value,
                first_seen=at,
                last_seen=at,
                nature=spec.rationale,
            )
            session.add(nc)
            session.flush()
            _by_checks(
                session, nc, None, f"check failed in run {run.id}: {_failing_summary(failing)}", run, at
            )
        elif nc.state == NcState.CLOSED:
            reopened = NcState.OPEN if _was_accepted(session, nc) else NcState.DRAFT
            _by_checks(
                session, nc, reopened, f"regression in run {run.id}: {_failing_summary(failing)}", run, at
            )
        elif nc.state == NcState.RESOLVED:
            why = f"still failing after resolution, in run {run.id}: {_failing_summary(failing)}"
            _by_checks(session, nc, NcState.OPEN, why, run, at)
        still_unknown = set(nc.failing_resources) & errored
        nc.failing_resources = sorted({r.resource_id for r in failing} | still_unknown)
        nc.evidence_hashes = sorted({h for r in failing for h in r.evidence})
        nc.last_seen = at
        nc.last_run_id = run.id
        nc.ready_for_verification = False
        commit_version(session, nc, run)
        return nc

    if nc is None or errored:
        return nc
    if nc.state == NcState.DRAFT:
        _by_checks(
            session, nc, NcState.CLOSED, f"check passed in run {run.id}: no failing resource remains", run, at
        )
    elif nc.state in ACCEPTED and not nc.ready_for_verification:
        nc.ready_for_verification = True
    else:
        return nc
    nc.last_run_id = run.id
    commit_version(session, nc, run)
    return nc


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
