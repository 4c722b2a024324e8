"""The store's side of tickets: which NCs need one, which history steps a ticket has not been told,
and the links the dashboard shows. Reads and writes are short transactions of their own: no
tracker request is ever made while the store is locked."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from agent.audit.nonconformities import ACCEPTED, NcState
from agent.store import Store
from agent.store.db import chunks
from agent.store.schema import NcTicket, NcTransition, Nonconformity
from agent.store.types import utcnow
from agent.tickets.model import Ticket, TicketStatus

FINISHED = [NcState.CLOSED.value, NcState.REJECTED.value]


@dataclass(frozen=True)
class TicketLink:
    """An NC's ticket as the dashboard shows it: `done` is the tracker's word, never the NC's state."""

    tracker: str
    key: str
    url: str
    status: str
    done: bool
    synced_at: datetime | None


def tickets_of(store: Store, nc_ids: Iterable[int]) -> dict[int, list[TicketLink]]:
    """The tickets of each of `nc_ids` that has any, by tracker name."""
    found: dict[int, list[TicketLink]] = {}
    with store.read() as session:
        for chunk in chunks(sorted(set(nc_ids))):
            query = select(NcTicket).where(col(NcTicket.nc_id).in_(chunk))
            for row in session.execute(query.order_by(col(NcTicket.nc_id), col(NcTicket.tracker))).scalars():
                link = TicketLink(row.tracker, row.key, row.url, row.status, row.status_done, row.synced_at)
                found.setdefault(row.nc_id, []).append(link)
    return found


def _among(column: Any, nc_ids: Sequence[int] | None) -> list[ColumnElement[bool]]:
    """No condition for None (every NC), else `column` in `nc_ids`."""
    return [] if nc_ids is None else [col(column).in_(nc_ids)]


def without_ticket(
    store: Store, tracker: str, nc_ids: Sequence[int] | None
) -> list[tuple[Nonconformity, int]]:
    """Accepted NCs (of `nc_ids`, else all) with no ticket in `tracker`, each with its latest step's id."""
    linked = select(col(NcTicket.nc_id)).where(col(NcTicket.tracker) == tracker)
    latest = (
        select(col(NcTransition.nc_id), func.max(col(NcTransition.id)).label("step"))
        .group_by(col(NcTransition.nc_id))
        .subquery()
    )
    query = (
        select(Nonconformity, latest.c.step)
        .join(latest, latest.c.nc_id == col(Nonconformity.id))
        .where(
            col(Nonconformity.state).in_([s.value for s in ACCEPTED]),
            col(Nonconformity.id).not_in(linked),
            *_among(Nonconformity.id, nc_ids),
        )
        .order_by(col(Nonconformity.id))
    )
    with store.read() as session:
        return [(nc, step) for nc, step in session.execute(query).all()]


def behind(
    store: Store, tracker: str, nc_ids: Sequence[int] | None
) -> list[tuple[NcTicket, Nonconformity, list[NcTransition]]]:
    """Tickets with steps of their NC's history they have not been told, oldest step first."""
    query = (
        select(NcTicket, Nonconformity, NcTransition)
        .join(Nonconformity, col(Nonconformity.id) == col(NcTicket.nc_id))
        .join(NcTransition, col(NcTransition.nc_id) == col(NcTicket.nc_id))
        .where(
            col(NcTicket.tracker) == tracker,
            col(NcTransition.id) > col(NcTicket.mirrored_step),
            *_among(NcTicket.nc_id, nc_ids),
        )
        .order_by(col(NcTicket.nc_id), col(NcTransition.id))
    )
    grouped: dict[int, tuple[NcTicket, Nonconformity, list[NcTransition]]] = {}
    with store.read() as session:
        for link, nc, step in session.execute(query).all():
            grouped.setdefault(link.nc_id, (link, nc, []))[2].append(step)
    return list(grouped.values())


def unfinished(store: Store, tracker: str) -> list[str]:
    """The keys of `tracker`'s tickets whose NC is not closed or rejected: those whose status is read."""
    query = (
        select(col(NcTicket.key))
        .join(Nonconformity, col(Nonconformity.id) == col(NcTicket.nc_id))
        .where(col(NcTicket.tracker) == tracker, col(Nonconformity.state).not_in(FINISHED))
        .order_by(col(NcTicket.key))
    )
    with store.read() as session:
        return list(session.execute(query).scalars())


def save_opened(store: Store, tracker: str, nc_id: int, ticket: Ticket, step: int) -> None:
    with store.write() as session:
        session.add(
            NcTicket(
                nc_id=nc_id,
                tracker=tracker,
                key=ticket.key,
                url=ticket.url,
                opened_at=utcnow(),
                mirrored_step=step,
            )
        )


def save_mirrored(store: Store, link_id: int, step: int) -> None:
    with store.write() as session:
        row = session.get(NcTicket, link_id)
        if row is not None and row.mirrored_step < step:
            row.mirrored_step = step


def save_statuses(store: Store, tracker: str, statuses: dict[str, TicketStatus]) -> None:
    now = utcnow()
    with store.write() as session:
        for chunk in chunks(sorted(statuses)):
            _update(session, tracker, chunk, statuses, now)


def _update(
    session: Session, tracker: str, keys: Sequence[str], statuses: dict[str, TicketStatus], now: datetime
) -> None:
    query = select(NcTicket).where(col(NcTicket.tracker) == tracker, col(NcTicket.key).in_(keys))
    for row in session.execute(query).scalars():
        status = statuses[row.key]
        row.status, row.status_done, row.synced_at = status.name[:255], status.done, now
