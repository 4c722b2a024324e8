"""Tables of the evidence store.

Evidence is stored like git objects: a blob per distinct resource record, a tree per distinct
observation content (resource id -> blob), so an unchanged source costs one observation row
per run. Check results are stored the same way: a result set per distinct verdict list.
Each finished run, and each person's NC action, attestation or bundle review, is a chain entry: a
sealed root over what it wrote (see agent/store/hashing.py), signed when a key is configured and
chained to the previous root; `prev_root_hash` is unique, so the chain cannot fork.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Column, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from agent.store.types import JsonColumn, UTCDateTime

HASH = 64


class _Stored(Protocol):
    @property
    def id(self) -> int | None: ...


def id_of(row: _Stored) -> int:
    """The id the database gave `row`; a row has none only before its first flush."""
    assert row.id is not None, f"{type(row).__name__} has not been flushed"
    return row.id


class _Table(SQLModel):
    """The base of every table: pydantic builds a table's validator when it is first used, not when
    the module is imported (most commands use a few of the tables)."""

    model_config = {"defer_build": True}


def _json_list() -> Any:
    """A JSON list column, empty unless given. Its default is a Python function, not `list`:
    pydantic inspects the factory's signature on every construction, and a builtin's is parsed
    from text (~0.1 ms each, two per new NC)."""
    return Field(default_factory=_no_items, sa_column=Column(JsonColumn, nullable=False))


def _no_items() -> list[str]:
    return []


def _hash_fk(target: str, *, primary_key: bool = False, nullable: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(
            String(HASH),
            ForeignKey(target),
            primary_key=primary_key,
            nullable=nullable,
            index=not primary_key,
        ),
    )


class Run(_Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16, index=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(sa_type=UTCDateTime)
    host: str = Field(max_length=255)
    pid: int
    agent_version: str = Field(max_length=64)
    selection: list[str] = _json_list()
    error: str | None = Field(default=None, sa_column=Column(Text))
    root_hash: str | None = Field(default=None, sa_column=Column(String(HASH), unique=True))
    prev_root_hash: str | None = Field(default=None, sa_column=Column(String(HASH), unique=True))
    seal: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonColumn, nullable=True))
    signature: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))


class Blob(_Table, table=True):
    hash: str = Field(sa_column=Column(String(HASH), primary_key=True))
    data: str = Field(sa_column=Column(Text, nullable=False))


class Tree(_Table, table=True):
    hash: str = Field(sa_column=Column(String(HASH), primary_key=True))
    count: int


class TreeEntry(_Table, table=True):
    __tablename__ = "tree_entry"
    tree_hash: str = _hash_fk("tree.hash", primary_key=True)
    resource_id: str = Field(sa_column=Column(String(1024), primary_key=True))
    blob_hash: str = _hash_fk("blob.hash")


class Observation(_Table, table=True):
    __table_args__ = (Index("ix_observation_latest", "source", "scope", "collected_at"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    source: str = Field(max_length=128)
    scope: str = Field(max_length=512)
    started_at: datetime = Field(sa_type=UTCDateTime)
    collected_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(max_length=8)
    error: str | None = Field(default=None, sa_column=Column(Text))
    record_count: int = 0
    tree_hash: str | None = _hash_fk("tree.hash", nullable=True)
    agent_version: str = Field(max_length=64)
    hash: str = Field(sa_column=Column(String(HASH), unique=True, nullable=False))


class ResultSet(_Table, table=True):
    __tablename__ = "result_set"
    hash: str = Field(sa_column=Column(String(HASH), primary_key=True))
    count: int


class ResultRow(_Table, table=True):
    __tablename__ = "result"
    set_hash: str = _hash_fk("result_set.hash", primary_key=True)
    resource_id: str = Field(sa_column=Column(String(1024), primary_key=True))
    status: str = Field(max_length=16)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    evidence: list[str] = _json_list()


class CheckRun(_Table, table=True):
    """One check evaluated in one scope during one run."""

    __tablename__ = "check_run"
    __table_args__ = (Index("ix_check_run_latest", "check_id", "scope", "evaluated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    check_id: str = Field(max_length=128)
    scope: str = Field(max_length=512)
    evaluated_at: datetime = Field(sa_type=UTCDateTime)
    outcome: str = Field(max_length=16)
    passed: int = 0
    failed: int = 0
    errored: int = 0
    not_applicable: int = 0
    result_set: str = _hash_fk("result_set.hash")
    hash: str = Field(sa_column=Column(String(HASH), unique=True, nullable=False))


class Nonconformity(_Table, table=True):
    __table_args__ = (UniqueConstraint("check_id", "scope", name="uq_nc_check_scope"),)

    id: int | None = Field(default=None, primary_key=True)
    check_id: str = Field(max_length=128)
    scope: str = Field(max_length=512)
    title: str = Field(sa_column=Column(Text, nullable=False))
    controls: list[str] = _json_list()
    suggested_severity: str = Field(max_length=8)
    severity: str = Field(max_length=8)
    state: str = Field(max_length=24, index=True)
    first_seen: datetime = Field(sa_type=UTCDateTime)
    last_seen: datetime = Field(sa_type=UTCDateTime)
    last_run_id: int | None = Field(default=None, foreign_key="run.id")
    failing_resources: list[str] = _json_list()
    evidence_hashes: list[str] = _json_list()
    ready_for_verification: bool = False
    nature: str | None = Field(default=None, sa_column=Column(Text))
    correction: str | None = Field(default=None, sa_column=Column(Text))
    root_cause: str | None = Field(default=None, sa_column=Column(Text))
    corrective_action: str | None = Field(default=None, sa_column=Column(Text))
    owner: str | None = Field(default=None, max_length=255)
    due_date: date | None = None
    effectiveness_review: str | None = Field(default=None, sa_column=Column(Text))
    version: int = 0

    @property
    def ref(self) -> str:
        return f"NC-{self.id:04d}"


class NcTransition(_Table, table=True):
    __tablename__ = "nc_transition"

    id: int | None = Field(default=None, primary_key=True)
    nc_id: int = Field(foreign_key="nonconformity.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=255)
    from_state: str | None = Field(default=None, max_length=24)
    to_state: str = Field(max_length=24)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    run_id: int | None = Field(default=None, foreign_key="run.id")
    hash: str | None = Field(default=None, sa_column=Column(String(HASH), nullable=True))


class NcVersion(_Table, table=True):
    """The whole NC as a chain entry left it: what the register showed, committed by that entry's seal."""

    __tablename__ = "nc_version"
    __table_args__ = (UniqueConstraint("nc_id", "version", name="uq_nc_version"),)

    id: int | None = Field(default=None, primary_key=True)
    nc_id: int = Field(foreign_key="nonconformity.id", index=True)
    version: int
    run_id: int = Field(foreign_key="run.id", index=True)
    hash: str = Field(sa_column=Column(String(HASH), nullable=False))
    document: dict[str, Any] = Field(sa_column=Column(JsonColumn, nullable=False))


class NcTicket(_Table, table=True):
    """The issue a tracker holds for an NC: its key, its link, and its status when last read.

    Not sealed, and not part of the chain: it mirrors the register outwards and decides nothing
    a control, the SoA or an NC shows (a ticket done in the tracker never moves the NC). A seal
    that committed to it would break whenever a tracker's status is refreshed.
    """

    __tablename__ = "nc_ticket"
    __table_args__ = (UniqueConstraint("nc_id", "tracker", name="uq_nc_ticket_tracker"),)

    id: int | None = Field(default=None, primary_key=True)
    nc_id: int = Field(foreign_key="nonconformity.id", index=True)
    tracker: str = Field(max_length=64)
    key: str = Field(max_length=255)
    url: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="", max_length=255)
    status_done: bool = False
    opened_at: datetime = Field(sa_type=UTCDateTime)
    synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    mirrored_step: int = 0  # the last NcTransition id the ticket has been told about


class Attachment(_Table, table=True):
    """A file a person supplied as evidence (a policy, minutes of a management review), by content."""

    hash: str = Field(sa_column=Column(String(HASH), primary_key=True))
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Attestation(_Table, table=True):
    """Manual evidence for a control no API can prove: who vouched for which file, when, until when."""

    id: int | None = Field(default=None, primary_key=True)
    control_id: str = Field(max_length=16, index=True)
    attachment: str = _hash_fk("attachment.hash")
    filename: str = Field(max_length=255)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    actor: str = Field(max_length=255)
    at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    run_id: int | None = Field(default=None, foreign_key="run.id", index=True)
    hash: str | None = Field(default=None, sa_column=Column(String(HASH), nullable=True))


class Review(_Table, table=True):
    """A person's sign-off on an exported bundle, bound to its manifest's digest and chain head.

    Sealed by a chain entry of its own like an attestation, but it is about a bundle, not a control:
    nothing that judges a control (status, the SoA, NC logic) reads this table.
    """

    id: int | None = Field(default=None, primary_key=True)
    bundle_digest: str = Field(sa_column=Column(String(HASH), nullable=False, index=True))
    bundle_head: str = Field(sa_column=Column(String(HASH), nullable=False))
    exporter: str = Field(max_length=255)
    decision: str = Field(max_length=8)
    actor: str = Field(max_length=255)
    note: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_type=UTCDateTime)
    run_id: int = Field(foreign_key="run.id", index=True)
    hash: str | None = Field(default=None, sa_column=Column(String(HASH), nullable=True))


# The tables whose rows a run's seal commits to.
SealedRow = TypeVar("SealedRow", Observation, CheckRun, NcVersion, NcTransition, Attestation, Review)


class Lease(_Table, table=True):
    """A target (`aws:123456789012`) claimed by one agent while it collects or judges it.

    Another agent that wants the same target is told who holds it; a holder that dies stops
    renewing, and its claim lapses at `expires_at`.
    """

    key: str = Field(sa_column=Column(String(512), primary_key=True))
    holder: str = Field(max_length=255, index=True)
    kind: str = Field(max_length=16)
    host: str = Field(max_length=255)
    pid: int
    run_id: int | None = Field(default=None, foreign_key="run.id")
    acquired_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
