"""What a ticket is told about its NC: the summary it opens with, and one note per later step.

Accepting is the ticket itself, so it adds no note; every other step a person or the machine
takes (planned, resolved, reopened, closed, rejected) becomes a comment.
"""

from __future__ import annotations

from agent.audit.nonconformities import NcState
from agent.store.schema import NcTransition, Nonconformity
from agent.tickets.model import NcSummary, Note


def nc_link(base_url: str, nc: Nonconformity) -> str:
    return f"{base_url.rstrip('/')}/ncs/{nc.ref}"


def summary(nc: Nonconformity, link: str) -> NcSummary:
    return NcSummary(
        ref=nc.ref,
        check_id=nc.check_id,
        title=nc.title,
        controls=list(nc.controls),
        severity=nc.severity,
        state=nc.state,
        scope=nc.scope,
        failing_resources=list(nc.failing_resources),
        first_seen=nc.first_seen,
        last_seen=nc.last_seen,
        link=link,
    )


def note(nc: Nonconformity, step: NcTransition, link: str) -> Note | None:
    """The comment for `step`, None for a step the ticket needs no word about."""
    if step.from_state is None or step.from_state == step.to_state:
        return None
    to, by = NcState(step.to_state), step.actor
    if to == NcState.OPEN and step.from_state == NcState.DRAFT:
        return None
    if to == NcState.OPEN:
        return Note(nc.ref, f"{nc.ref} reopened in Annexa by {by}", step.reason, link)
    if to == NcState.ACTION_PLANNED:
        due = nc.due_date.isoformat() if nc.due_date else "not set"
        text = f"Corrective action: {nc.corrective_action or ''}\nOwner: {nc.owner or ''}\nDue: {due}"
        return Note(nc.ref, f"{nc.ref} corrective action planned in Annexa by {by}", text, link)
    if to == NcState.RESOLVED:
        return Note(nc.ref, f"{nc.ref} resolved in Annexa by {by}", step.reason, link)
    if to == NcState.CLOSED:
        review = nc.effectiveness_review or step.reason
        return Note(nc.ref, f"{nc.ref} closed in Annexa after verification by {by}", review, link)
    if to == NcState.REJECTED:
        return Note(nc.ref, f"{nc.ref} rejected in Annexa by {by}", step.reason, link)
    return None
