"""Manual evidence: a person vouches for a control with a file no API could produce."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session
from sqlmodel import col

from agent.audit.catalog import annex_a
from agent.errors import UsageError
from agent.files import read_bounded
from agent.store import Store
from agent.store.chain import read_counted, record_entry
from agent.store.db import insert_missing
from agent.store.hashing import attestation_hash
from agent.store.runs import proven_by
from agent.store.schema import Attachment, Attestation, Run
from agent.store.types import utcnow

MAX_BYTES = 50 * 1024 * 1024


def attest(
    store: Store,
    control_id: str,
    file: Path,
    *,
    actor: str,
    note: str = "",
    valid_for_days: int | None = None,
) -> Attestation:
    if control_id not in annex_a():
        raise UsageError(f"{control_id!r} is not an Annex A 2022 control (A.5.1 to A.8.34)")
    if valid_for_days is not None and valid_for_days <= 0:
        raise UsageError("--valid-for must be a positive number of days")
    content = read_bounded(file, MAX_BYTES, "--file")
    digest = hashlib.sha256(content).hexdigest()
    now = utcnow()

    def act(s: Session, entry: Run) -> Attestation:
        insert_missing(s, Attachment, "hash", [{"hash": digest, "size": len(content), "content": content}])
        row = Attestation(
            control_id=control_id,
            attachment=digest,
            filename=file.name,
            note=note,
            actor=actor,
            at=now,
            expires_at=now + timedelta(days=valid_for_days) if valid_for_days else None,
            run_id=entry.id,
        )
        s.add(row)
        s.flush()
        row.hash = attestation_hash(row.model_dump(), entry.uid)
        return row

    return record_entry(store, "attest", act)


def attestations(store: Store, at: datetime | None = None) -> list[Attestation]:
    """Sealed attestations only: one written around the chain never vouches for a control.
    With `at`, those sealed by then (agent/audit/asof.py)."""

    def fetch(counted: ColumnElement[bool]) -> list[Attestation]:
        with store.read() as s:
            query = (
                select(Attestation)
                .join(Run, col(Run.id) == Attestation.run_id)
                .where(counted, *proven_by(at))
            )
            return list(s.execute(query.order_by(col(Attestation.id))).scalars())

    return read_counted(store, fetch)


def current(rows: list[Attestation], now: datetime) -> dict[str, Attestation]:
    """The newest attestation of each control valid at `now` (at <= now < expires_at)."""
    out: dict[str, Attestation] = {}
    for row in rows:
        if row.at <= now and (row.expires_at is None or row.expires_at > now):
            out[row.control_id] = row
    return out


def attestation_document(row: Attestation) -> dict[str, Any]:
    return {
        "control": row.control_id,
        "file": row.filename,
        "sha256": row.attachment,
        "by": row.actor,
        "at": row.at.isoformat(),
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "note": row.note,
    }
