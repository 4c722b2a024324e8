"""Manual evidence: a person vouches for a control with a file no API could produce."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agent.catalog import annex_a
from agent.errors import UsageError
from agent.store import Store
from agent.store.db import insert_missing
from agent.store.schema import Attachment, Attestation
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
    try:
        if file.stat().st_size > MAX_BYTES:
            raise UsageError(
                f"{file}: larger than {MAX_BYTES // 2**20} MiB; attach a summary or a link instead"
            )
        content = file.read_bytes()
    except IsADirectoryError:
        raise UsageError(f"--file {file} is a directory") from None
    except OSError as exc:
        raise UsageError(f"--file {file}: {exc.strerror}") from None
    digest = hashlib.sha256(content).hexdigest()
    now = utcnow()
    row = Attestation(
        control_id=control_id,
        attachment=digest,
        filename=file.name,
        note=note,
        actor=actor,
        at=now,
        expires_at=now + timedelta(days=valid_for_days) if valid_for_days else None,
    )
    with store.write() as s:
        insert_missing(s, Attachment, "hash", [{"hash": digest, "size": len(content), "content": content}])
        s.add(row)
    return row


def attestations(store: Store) -> list[Attestation]:
    with store.read() as s:
        return list(s.execute(select(Attestation).order_by(Attestation.id)).scalars())  # type: ignore[arg-type]


def current(rows: list[Attestation], now: datetime) -> dict[str, Attestation]:
    """The newest unexpired attestation of each control."""
    out: dict[str, Attestation] = {}
    for row in rows:
        if row.expires_at is None or row.expires_at > now:
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
