"""What a sealed run or a person's committed action gave rise to, read from the rows it sealed.

A run's NC steps (`NcTransition.run_id`) say which NCs it opened, reopened and closed; its NC
versions say which accepted NCs it found fixed (ready for verification); its status whether it
failed. Each kind becomes one message listing every NC it concerns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session
from sqlmodel import col

from agent.audit.nonconformities import NcState
from agent.config.settings import Settings
from agent.integrations.settings import EventKind
from agent.notify.message import Item, Links, Message, message, plural
from agent.plugin.model import RunStatus
from agent.store import Store
from agent.store.db import chunks
from agent.store.schema import NcTransition, NcVersion, Nonconformity, Observation, Run, id_of

_CLOSED = NcState.CLOSED.value
_RESOLVED = NcState.RESOLVED.value


def nc_item(document: dict[str, Any], links: Links) -> Item:
    ref = f"NC-{document['id']:04d}"
    return Item(ref, document["title"], document["scope"], links.nc(ref), document["severity"])


def run_messages(store: Store, settings: Settings, run: Run) -> list[Message]:
    """One message per NC event kind of `run`, and one if the run failed."""
    links = Links(settings.web.base_url)
    run_id = id_of(run)
    with store.read() as s:
        steps = list(
            s.execute(
                select(NcTransition).where(col(NcTransition.run_id) == run_id).order_by(col(NcTransition.id))
            ).scalars()
        )
        ready = _newly_ready(s, run_id)
        documents = _documents(s, run_id, {t.nc_id for t in steps} | set(ready))
        failed = _failed_observations(s, run_id) if run.status == RunStatus.FAILED.value else []
    kinds: dict[EventKind, list[int]] = {kind: [] for kind in EventKind}
    for step in steps:
        kind = _step_kind(step)
        if kind is not None:
            kinds[kind].append(step.nc_id)
    kinds[EventKind.NC_READY_FOR_VERIFICATION] = ready
    out = []
    for kind, (title, summary, link) in _nc_texts(run_id, links).items():
        items = [nc_item(documents[nc_id], links) for nc_id in kinds[kind] if nc_id in documents]
        if items:
            noun = plural(len(items), "nonconformity", "nonconformities")
            out.append(message(kind, run_id, delivery(run, kind), f"{noun} {title}", summary, link, items))
    if run.status == RunStatus.FAILED.value:
        out.append(_run_failed(run, failed, links))
    return out


def delivery(run: Run, kind: EventKind) -> str:
    """The same for every attempt and every agent that would send it: receivers can deduplicate."""
    return f"{run.uid}-{kind.value}"


def _step_kind(step: NcTransition) -> EventKind | None:
    if step.from_state is None:
        return EventKind.NC_OPENED
    if step.to_state == _CLOSED:
        return EventKind.NC_CLOSED
    if step.from_state in {_CLOSED, _RESOLVED}:  # fixed (or said to be), and failing again
        return EventKind.NC_REGRESSED
    return None


def _nc_texts(run_id: int, links: Links) -> dict[EventKind, tuple[str, str, str]]:
    return {
        EventKind.NC_OPENED: (
            "opened",
            f"Run {run_id} found checks failing that the register did not hold. They wait as drafts "
            "for someone to accept or reject them.",
            links.ncs(NcState.DRAFT.value),
        ),
        EventKind.NC_REGRESSED: (
            "regressed",
            f"Checks that had been fixed fail again in run {run_id}.",
            links.run(run_id),
        ),
        EventKind.NC_READY_FOR_VERIFICATION: (
            "ready for verification",
            f"The checks of these accepted nonconformities pass in run {run_id}: verify that the "
            "corrective action worked, then close them.",
            links.run(run_id),
        ),
        EventKind.NC_CLOSED: (
            "closed",
            f"The checks of these drafts pass in run {run_id}. Nobody had accepted them, so Annexa "
            "closed them.",
            links.run(run_id),
        ),
    }


def _newly_ready(session: Session, run_id: int) -> list[int]:
    """NCs whose version sealed by this run is ready for verification and whose previous was not."""
    candidates = list(
        session.execute(
            select(col(NcVersion.nc_id), col(NcVersion.version), col(NcVersion.document))
            .join(Nonconformity, col(Nonconformity.id) == col(NcVersion.nc_id))
            .where(col(NcVersion.run_id) == run_id, col(Nonconformity.ready_for_verification).is_(True))
            .order_by(col(NcVersion.nc_id))
        )
    )
    now_ready = [(nc_id, version) for nc_id, version, doc in candidates if doc["ready_for_verification"]]
    before: dict[int, bool] = {}
    pair = tuple_(col(NcVersion.nc_id), col(NcVersion.version))
    for chunk in chunks([(nc_id, version - 1) for nc_id, version in now_ready]):
        query = select(col(NcVersion.nc_id), col(NcVersion.document)).where(pair.in_(chunk))
        before.update((nc_id, bool(doc["ready_for_verification"])) for nc_id, doc in session.execute(query))
    return [nc_id for nc_id, _ in now_ready if not before.get(nc_id, False)]


def _documents(session: Session, run_id: int, nc_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Each NC as this run's newest version of it sealed it."""
    found: dict[int, tuple[int, dict[str, Any]]] = {}
    for chunk in chunks(sorted(nc_ids)):
        query = select(col(NcVersion.nc_id), col(NcVersion.version), col(NcVersion.document)).where(
            col(NcVersion.run_id) == run_id, col(NcVersion.nc_id).in_(chunk)
        )
        for nc_id, version, doc in session.execute(query):
            if nc_id not in found or found[nc_id][0] < version:
                found[nc_id] = (version, doc)
    return {nc_id: doc for nc_id, (_, doc) in found.items()}


def _failed_observations(session: Session, run_id: int) -> list[Observation]:
    query = (
        select(Observation)
        .where(col(Observation.run_id) == run_id, col(Observation.status) != "ok")
        .order_by(col(Observation.source), col(Observation.scope))
    )
    return list(session.execute(query).scalars())


def _run_failed(run: Run, failed: list[Observation], links: Links) -> Message:
    run_id = id_of(run)
    items = [Item(o.source, o.error or "not collected", o.scope, links.evidence()) for o in failed]
    why = f": {run.error}" if run.error else ""
    summary = f"Run {run_id} ({run.kind}) collected no evidence{why}. Checks that need it give error."
    kind = EventKind.RUN_FAILED
    return message(
        kind, run_id, delivery(run, kind), f"Run {run_id} failed", summary, links.run(run_id), items
    )


def action_messages(store: Store, settings: Settings, nc_id: int, action: str) -> list[Message]:
    """A person's close is news (nc_closed, saying who verified it); accepting, planning, resolving
    and rejecting are the register's daily work, seen in the dashboard and the tracker."""
    if action != "close":
        return []
    with store.read() as s:
        found = s.execute(
            select(NcTransition, Run)
            .join(Run, col(Run.id) == col(NcTransition.run_id))
            .where(col(NcTransition.nc_id) == nc_id)
            .order_by(col(NcTransition.id).desc())
            .limit(1)
        ).first()
        if found is None or found[0].to_state != _CLOSED:
            return []
        step, entry = found
        document = _documents(s, id_of(entry), [nc_id]).get(nc_id)
    if document is None:
        return []
    links = Links(settings.web.base_url)
    item = nc_item(document, links)
    review = document.get("effectiveness_review") or ""
    summary = (
        f"{step.actor} closed {item.ref} ({item.title}, {item.scope}) after verifying that the "
        f"corrective action worked: {review}"
    )
    kind = EventKind.NC_CLOSED
    title = f"{item.ref} closed by {step.actor}"
    return [message(kind, id_of(entry), delivery(entry, kind), title, summary, item.link, [item])]
