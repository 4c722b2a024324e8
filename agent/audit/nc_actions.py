"""What people do to a nonconformity: accept, plan, resolve, close, reject (ISO 27001 clause 10.2).

Each action is allowed only from certain states, records who did it, when and why, and changes
nothing when refused. Closing needs a recorded effectiveness review and a check that no longer fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from agent.audit.nonconformities import (
    MAX_NC_ID,
    NcState,
    commit_version,
    history,
    nc_document,
    parse_ref,
    transition,
)
from agent.errors import UsageError
from agent.plugin.model import Severity
from agent.store import Store
from agent.store.chain import record_entry
from agent.store.results import latest_check_runs
from agent.store.schema import Nonconformity, Run
from agent.store.types import utcnow

ALLOWED: dict[str, tuple[set[NcState], NcState]] = {
    "accept": ({NcState.DRAFT}, NcState.OPEN),
    "plan": ({NcState.OPEN, NcState.ACTION_PLANNED}, NcState.ACTION_PLANNED),
    "resolve": ({NcState.OPEN, NcState.ACTION_PLANNED}, NcState.RESOLVED),
    "close": ({NcState.RESOLVED}, NcState.CLOSED),
    "reject": ({NcState.DRAFT, NcState.OPEN}, NcState.REJECTED),
}


@dataclass(frozen=True)
class Change:
    """The clause 10.2 facts an action may record; None leaves a field as it is."""

    reason: str = ""
    severity: Severity | None = None
    nature: str | None = None
    correction: str | None = None
    root_cause: str | None = None
    corrective_action: str | None = None
    owner: str | None = None
    due_date: date | None = None
    effectiveness_review: str | None = None


def find(session: Session, ref: str) -> Nonconformity:
    number = parse_ref(ref)
    if number is None:
        raise UsageError(f"{ref!r} is not a nonconformity id such as NC-0001")
    nc = session.get(Nonconformity, number, with_for_update=True) if number <= MAX_NC_ID else None
    if nc is None:
        raise UsageError(f"no nonconformity {ref}")
    return nc


def _still_failing(store: Store, nc: Nonconformity) -> bool:
    """Only a validly sealed evaluation may show that the check passes now."""
    latest = [cr for cr in latest_check_runs(store, nc.check_id) if cr.scope == nc.scope]
    return not latest or latest[0].outcome not in {"pass", "not_applicable"}


def _require(value: str | None, what: str, action: str) -> None:
    if not (value or "").strip():
        raise UsageError(f"nc {action} needs {what}")


def apply(store: Store, ref: str, action: str, actor: str, change: Change) -> dict[str, Any]:
    """Validate and apply one action as a sealed chain entry of its own; returns the NC's
    document with its history. A refused action writes nothing."""

    def act(session: Session, entry: Run) -> dict[str, Any]:
        nc = _apply(store, session, entry, ref, action, actor, change)
        return {**nc_document(nc), "transitions": history(session, nc)}

    return record_entry(store, "nc", act)


def _apply(
    store: Store, session: Session, entry: Run, ref: str, action: str, actor: str, change: Change
) -> Nonconformity:
    nc = find(session, ref)
    sources, target = ALLOWED[action]
    if NcState(nc.state) not in sources:
        allowed = (
            ", ".join(sorted(a for a, (src, _) in ALLOWED.items() if NcState(nc.state) in src)) or "none"
        )
        raise UsageError(f"{nc.ref} is {nc.state}: cannot {action} it (possible now: {allowed})")
    if action == "plan":
        _require(change.corrective_action or nc.corrective_action, "--action (the corrective action)", action)
        _require(change.owner or nc.owner, "--owner", action)
        if (change.due_date or nc.due_date) is None:
            raise UsageError("nc plan needs --due (the corrective action's due date)")
    if action == "resolve":
        _require(change.reason, "--note (what was done)", action)
    if action == "close":
        _require(change.effectiveness_review, "--effectiveness (how the action was verified)", action)
        if _still_failing(store, nc):
            raise UsageError(
                f"{nc.ref}: the latest evaluation of {nc.check_id} in {nc.scope} is not a pass; "
                "collect again once fixed, then close"
            )
    if action == "reject":
        _require(change.reason, "--reason (why this is not a nonconformity)", action)
    for field in ("nature", "correction", "root_cause", "corrective_action", "owner", "due_date"):
        value = getattr(change, field)
        if value is not None:
            setattr(nc, field, value)
    if change.effectiveness_review is not None:
        nc.effectiveness_review = change.effectiveness_review
    notes = [change.reason] if change.reason else []
    if change.severity is not None and change.severity.value != nc.severity:
        notes.append(f"severity {nc.severity} -> {change.severity.value}")
        nc.severity = change.severity.value
    transition(session, nc, target, actor=actor, reason="; ".join(notes) or action, at=utcnow(), run=entry)
    if target == NcState.CLOSED:
        nc.ready_for_verification = False
    commit_version(session, nc, entry)
    return nc
