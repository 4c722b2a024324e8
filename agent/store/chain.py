"""The chain of sealed entries: sealing a run, recording a person's action as an entry of its own,
and telling which runs are validly sealed, so that only those are ever counted.

A run is counted when it is on the chain from the genesis root, its root re-derives from its seal
and its predecessor, and, when the store has a key, its signature is valid. Everything else (a run
that says `complete` without a seal, a forged root, a re-signed or unsigned seal) is never read by
status, controls, the SoA, export or NC logic; `annexa verify --store` names it.
"""

from __future__ import annotations

import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import ColumnElement, exists, false, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from agent import __version__
from agent.logs import get_logger
from agent.plugin.model import RunStatus
from agent.store.hashing import GENESIS, root_of, seal_message, seal_of
from agent.store.schema import Attestation, CheckRun, NcTransition, NcVersion, Observation, Review, Run
from agent.store.types import utcnow

if TYPE_CHECKING:
    from agent.store.db import Store

log = get_logger()

# Runs whose evidence checks may rely on; an aborted run's data stays, but is never judged.
COUNTED = (RunStatus.COMPLETE.value, RunStatus.PARTIAL.value, RunStatus.FAILED.value)
CHAIN_ATTEMPTS = 20
T = TypeVar("T")


@dataclass(frozen=True)
class SealKeys:
    """The agent's Ed25519 key: the private half signs seals, the public half checks them on read."""

    public: Ed25519PublicKey
    private: Ed25519PrivateKey | None = None

    def sign(self, root: str) -> str:
        assert self.private is not None
        return self.private.sign(seal_message(root)).hex()

    def valid(self, root: str, signature: str | None) -> bool:
        from agent.bundle.signing import signature_valid

        if not signature:
            return False
        try:
            raw = bytes.fromhex(signature)
        except ValueError:
            return False
        return signature_valid(self.public, raw, seal_message(root))


def chain_head(session: Session) -> str:
    later = aliased(Run)
    head = session.execute(
        select(col(Run.root_hash)).where(
            col(Run.root_hash).is_not(None),
            ~exists().where(col(later.prev_root_hash) == Run.root_hash),
        )
    ).scalar_one_or_none()
    return head or GENESIS


def seal(session: Session, run: Run, keys: SealKeys | None) -> None:
    """Link `run` after the current head with a root over everything it wrote, signed if we can."""
    rid = run.id

    def hashes(column: Any, model: Any) -> list[Any]:
        return list(session.execute(select(column).where(model.run_id == rid)).scalars())

    versions = session.execute(
        select(col(NcVersion.nc_id), col(NcVersion.version), col(NcVersion.hash)).where(
            col(NcVersion.run_id) == rid
        )
    ).all()
    prev = chain_head(session)
    run.prev_root_hash = prev
    run.seal = seal_of(
        run.model_dump(),
        observations=hashes(Observation.hash, Observation),
        checks=hashes(CheckRun.hash, CheckRun),
        ncs=[list(v) for v in versions],
        transitions=hashes(NcTransition.hash, NcTransition),
        attestations=hashes(Attestation.hash, Attestation),
        reviews=hashes(Review.hash, Review),
    )
    run.root_hash = root_of(prev, run.seal)
    run.signature = keys.sign(run.root_hash) if keys is not None and keys.private is not None else None


def linked(attempt: Callable[[], T], what: str) -> T:
    """Retry a sealing transaction that lost the race for the chain head to another agent."""
    for n in range(CHAIN_ATTEMPTS):
        try:
            return attempt()
        except IntegrityError:
            log.info("chain_conflict", entry=what, attempt=n + 1)
            time.sleep(random.uniform(0, 0.05 * (n + 1)))
    raise RuntimeError(f"could not link {what} into the chain")


def new_run(kind: str, selection: list[str], status: RunStatus = RunStatus.RUNNING) -> Run:
    now = utcnow()
    return Run(
        uid=uuid.uuid4().hex,
        kind=kind,
        status=status.value,
        started_at=now,
        heartbeat_at=now,
        host=socket.gethostname(),
        pid=os.getpid(),
        agent_version=__version__,
        selection=selection,
    )


def record_entry(store: Store, kind: str, act: Callable[[Session, Run], T]) -> T:
    """A person's action (an NC step, an attestation, a review) as a chain entry of its own, in one
    transaction: the entry, what the action writes, and the seal commit together or not at all."""

    def attempt() -> T:
        with store.write() as s:
            entry = new_run(kind, [], RunStatus.COMPLETE)
            s.add(entry)
            s.flush()
            result = act(s, entry)
            s.flush()
            entry.finished_at = utcnow()
            seal(s, entry, store.keys)
            return result

    return linked(attempt, f"a {kind} entry")


@dataclass
class ChainState:
    """Every finished run, classified once: which are validly sealed on the chain, and why not."""

    ordered: list[Run] = field(default_factory=list)  # on the chain from genesis, in order
    problems: dict[int, str] = field(default_factory=dict)  # run id -> why it does not count
    legacy: list[int] = field(default_factory=list)  # sealed before seals were committed in full

    def valid(self) -> Iterator[Run]:
        return (r for r in self.ordered if r.id not in self.problems)


def chain_state(session: Session, keys: SealKeys | None, *, signatures: bool = True) -> ChainState:
    """Walk the chain from the genesis root and classify every finished run. Reads leave the
    signatures to `read_counted`, which checks only those of the runs it actually reads."""
    runs = list(session.execute(select(Run).where(col(Run.status) != RunStatus.RUNNING.value)).scalars())
    state = ChainState()
    sealed = [r for r in runs if r.root_hash is not None]
    for r in runs:
        if r.root_hash is None and r.id is not None:
            state.problems[r.id] = f"says {r.status} but has no seal"
    by_prev: dict[str | None, Run] = {r.prev_root_hash: r for r in sealed}
    link: str | None = GENESIS
    on_chain: set[int | None] = set()
    while link in by_prev and by_prev[link].id not in on_chain:
        run = by_prev[link]
        state.ordered.append(run)
        on_chain.add(run.id)
        link = run.root_hash
    for r in sealed:
        rid = r.id
        assert rid is not None
        if rid not in on_chain:
            state.problems[rid] = (
                "is sealed but not on the chain from the first entry (inserted, or a predecessor was removed)"
            )
        elif r.seal is None:
            state.legacy.append(rid)
            state.problems[rid] = "was sealed by an agent before outcomes were committed: not counted"
        elif root_of(r.prev_root_hash or "", r.seal) != r.root_hash:
            state.problems[rid] = "root does not re-derive from its seal and predecessor"
        elif signatures and keys is not None and not keys.valid(r.root_hash or "", r.signature):
            what = "is not signed" if not r.signature else "has a signature that does not verify"
            state.problems[rid] = f"{what} under the store's key"
    return state


# Set inside `one_walk()`: the chain states walked in it, by store.
_walked: ContextVar[dict[int, ChainState] | None] = ContextVar("_walked", default=None)


@contextmanager
def one_walk() -> Iterator[None]:
    """Inside the block every read of the counted runs shares one walk of the chain: a dashboard page
    reads several registers, and each would otherwise re-derive every root (a year's are ~60 ms)."""
    token = _walked.set({})
    try:
        yield
    finally:
        _walked.reset(token)


def _walk(store: Store) -> ChainState:
    walked = _walked.get()
    state = walked.get(id(store)) if walked is not None else None
    if state is None:
        with store.read() as s:
            state = chain_state(s, store.keys, signatures=False)
        if walked is not None:
            walked[id(store)] = state
    return state


def counted_runs(store: Store, excluded: Iterable[int] = ()) -> ColumnElement[bool]:
    """SQL condition: the run is sealed on the chain with a root that re-derives, of a status
    checks may rely on, and not `excluded`. Runs sealed after this look wait for the next one."""
    state = _walk(store)
    if not state.ordered:
        return false()
    last = max(r.id or 0 for r in state.ordered)
    return (
        col(Run.root_hash).is_not(None)
        & col(Run.status).in_(COUNTED)
        & (col(Run.id) <= last)
        & col(Run.id).not_in(sorted({*state.problems, *excluded}))
    )


@lru_cache(maxsize=65536)
def _signed(public: bytes, root: str, signature: str | None) -> bool:
    return SealKeys(public=Ed25519PublicKey.from_public_bytes(public)).valid(root, signature)


def badly_signed(store: Store, run_ids: Iterable[int | None]) -> set[int]:
    """Those of these sealed runs whose signature does not verify under the store's key."""
    wanted = {rid for rid in run_ids if rid is not None}
    if store.keys is None or not wanted:
        return set()
    public = store.keys.public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    with store.read() as s:
        rows = s.execute(
            select(col(Run.id), col(Run.root_hash), col(Run.signature)).where(
                col(Run.id).in_(wanted), col(Run.root_hash).is_not(None)
            )
        ).all()
    return {rid for rid, root, sig in rows if rid is not None and not _signed(public, root, sig)}


def read_counted(store: Store, fetch: Callable[[ColumnElement[bool]], list[T]]) -> list[T]:
    """Rows `fetch` reads under the counted-runs condition, checking the signatures of just the
    runs they come from; a run whose signature fails is left out and the read done again."""
    excluded: set[int] = set()
    while True:
        rows = fetch(counted_runs(store, excluded))
        bad = badly_signed(store, {getattr(r, "run_id", None) for r in rows}) - excluded
        if not bad:
            return rows
        log.warning("seal_signature_invalid", runs=sorted(bad))
        excluded |= bad
