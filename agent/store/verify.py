"""`annexa verify --store`: recompute every seal from the rows beneath it and walk the chain.

Names each thing that is off: a run whose evidence, results, outcomes, NC versions, NC history,
attestations or bundle reviews differ from what its seal commits to; a run that claims to be finished without a
seal; a seal off the chain, unsigned or signed by another key; an NC register or attachment that
differs from its last sealed version; and, given a head an auditor kept, a chain that no longer
contains it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from agent.audit.nonconformities import nc_record
from agent.canonical import content_hash, sha256_hex
from agent.plugin.model import RunStatus
from agent.proof import Report
from agent.store.chain import ChainState, chain_state
from agent.store.db import Store
from agent.store.hashing import (
    COUNTS,
    TreeHasher,
    attestation_hash,
    check_run_hash,
    nc_hash,
    observation_hash,
    result_set_hash,
    review_hash,
    reviews_part,
    run_identity,
    transition_hash,
)
from agent.store.results import outcome_of_statuses
from agent.store.schema import (
    Attachment,
    Attestation,
    Blob,
    CheckRun,
    NcTransition,
    NcVersion,
    Nonconformity,
    Observation,
    ResultRow,
    Review,
    Run,
    SealedRow,
    TreeEntry,
)

NO_KEY = (
    "no signing key: only the chain's self-consistency was proven, not who sealed it "
    "(configure [export] signing_key or pass --public-key)"
)


def verify_store(store: Store, head: str | None = None) -> Report:
    r = Report()
    if store.keys is None:
        r.notes.append(NO_KEY)
    with store.read() as s:
        state = chain_state(s, store.keys)
        _report_chain(s, state, r)
        checker = _SealChecker(s, r)
        for run in state.ordered:
            if run.seal is not None:
                checker.run(run)
        r.runs = len(state.ordered)
        r.head = state.ordered[-1].root_hash or "" if state.ordered else ""
        running = select(Run).where(col(Run.status) == RunStatus.RUNNING.value)
        live = {x.id for x in s.execute(running).scalars()}
        sealed = {x.id for x in state.valid()} | set(state.legacy)
        _check_registers(s, sealed, live, r)
    if head is not None and head not in {x.root_hash for x in state.ordered}:
        r.problems.append(f"head {head} is not on the store's chain: history after it was rewritten or cut")
    return r


def _report_chain(s: Session, state: ChainState, r: Report) -> None:
    for rid, why in sorted(state.problems.items()):
        if rid in state.legacy:
            continue
        r.problems.append(f"run {rid} {why}")
    if state.legacy:
        r.notes.append(
            f"{len(state.legacy)} run(s) were sealed before outcomes and registers were committed: "
            "linked, but never counted"
        )
    for run in s.execute(select(Run).where(col(Run.status) == RunStatus.RUNNING.value)).scalars():
        r.notes.append(f"run {run.id} is still running: not sealed yet, not counted")


class _SealChecker:
    """Recomputes each part of a run's seal from its rows; each part that differs is named."""

    def __init__(self, s: Session, r: Report) -> None:
        self.s, self.r = s, r
        self.trees: dict[str, bool] = {}
        self.attachments: dict[str, bool] = {}

    def run(self, run: Run) -> None:
        seal = run.seal or {}
        label = f"run {run.id}"
        parts = {
            "run": content_hash(run_identity(run.model_dump())),
            "observations": self._observations(run, label),
            "checks": self._checks(run, label),
            "ncs": self._ncs(run, label),
            "transitions": self._transitions(run, label),
            "attestations": self._attestations(run, label),
        }
        seal = {**seal, "reviews": reviews_part(seal)}
        parts["reviews"] = self._reviews(run, label)
        what = {
            "run": "its status, times or error were edited after sealing",
            "observations": "its observations differ from what was sealed (added, removed or moved)",
            "checks": "its check runs differ from what was sealed (added, removed or moved)",
            "ncs": "its NC versions differ from what was sealed",
            "transitions": "its NC history differs from what was sealed (steps added or removed)",
            "attestations": "its attestations differ from what was sealed",
            "reviews": "its bundle reviews differ from what was sealed",
        }
        for part, digest in parts.items():
            if seal.get(part) != digest:
                self.r.problems.append(f"{label}: {what[part]}")

    def _rows(self, model: type[SealedRow], run: Run) -> list[SealedRow]:
        query = select(model).where(col(model.run_id) == run.id).order_by(col(model.id))
        return list(self.s.execute(query).scalars())

    def _observations(self, run: Run, label: str) -> str:
        hashes = []
        for obs in self._rows(Observation, run):
            if observation_hash(obs.model_dump(), run.uid) != obs.hash:
                self.r.problems.append(
                    f"{label}: observation {obs.source} {obs.scope} does not match its hash"
                )
            if obs.tree_hash and obs.tree_hash not in self.trees:
                self.trees[obs.tree_hash] = self._tree_ok(obs.tree_hash)
            hashes.append(obs.hash)
        return content_hash(sorted(hashes))

    def _tree_ok(self, tree: str) -> bool:
        hasher = TreeHasher()
        rows = self.s.execute(
            select(col(TreeEntry.resource_id), col(Blob.hash), col(Blob.data))
            .join(Blob, col(Blob.hash) == TreeEntry.blob_hash)
            .where(col(TreeEntry.tree_hash) == tree)
            .order_by(col(TreeEntry.resource_id))
            .execution_options(yield_per=5000)
        )
        ok = True
        for rid, digest, data in rows:
            if sha256_hex(data) != digest:
                self.r.problems.append(f"evidence {digest} (resource {rid!r}) does not match its hash")
                ok = False
            hasher.add(rid, digest)
        self.r.records += hasher.count
        if hasher.hexdigest() != tree:
            self.r.problems.append(
                f"listing {tree} does not match its entries (a record added, removed or moved)"
            )
            ok = False
        return ok

    def _checks(self, run: Run, label: str) -> str:
        hashes = []
        for cr in self._rows(CheckRun, run):
            rows = self.s.execute(
                select(ResultRow)
                .where(col(ResultRow.set_hash) == cr.result_set)
                .order_by(col(ResultRow.resource_id))
            ).scalars()
            docs: list[dict[str, Any]] = [
                {"resource_id": x.resource_id, "status": x.status, "reason": x.reason, "evidence": x.evidence}
                for x in rows
            ]
            where = f"{label}: check run {cr.check_id} {cr.scope}"
            if result_set_hash(docs) != cr.result_set:
                self.r.problems.append(f"{where}: its results do not match their hash (results edited)")
            if not _outcome_agrees(cr.model_dump(), (d["status"] for d in docs)):
                self.r.problems.append(f"{where}: outcome or counts do not follow from its results")
            if check_run_hash(run.uid, cr.model_dump()) != cr.hash:
                self.r.problems.append(f"{where}: does not match its hash (outcome or counts edited)")
            hashes.append(cr.hash)
        return content_hash(sorted(hashes))

    def _ncs(self, run: Run, label: str) -> str:
        versions = []
        for v in self._rows(NcVersion, run):
            if (
                nc_hash(v.document) != v.hash
                or v.document.get("id") != v.nc_id
                or v.document.get("version") != v.version
            ):
                self.r.problems.append(
                    f"{label}: version {v.version} of NC-{v.nc_id:04d} does not match its hash"
                )
            versions.append([v.nc_id, v.version, v.hash])
        return content_hash(sorted(versions))

    def _transitions(self, run: Run, label: str) -> str:
        hashes = []
        for t in self._rows(NcTransition, run):
            if transition_hash(t.model_dump(), run.uid) != t.hash:
                self.r.problems.append(
                    f"{label}: history step {t.id} of NC-{t.nc_id:04d} does not match its hash"
                )
            hashes.append(t.hash)
        return content_hash(sorted(h or "" for h in hashes))

    def _attestations(self, run: Run, label: str) -> str:
        hashes = []
        for a in self._rows(Attestation, run):
            if attestation_hash(a.model_dump(), run.uid) != a.hash:
                self.r.problems.append(
                    f"{label}: attestation {a.id} ({a.control_id}) does not match its hash"
                )
            if a.attachment not in self.attachments:
                self.attachments[a.attachment] = self._attachment_ok(a.attachment)
            hashes.append(a.hash)
        return content_hash(sorted(h or "" for h in hashes))

    def _reviews(self, run: Run, label: str) -> str:
        hashes = []
        for rv in self._rows(Review, run):
            if review_hash(rv.model_dump(), run.uid) != rv.hash:
                self.r.problems.append(f"{label}: review {rv.id} does not match its hash")
            hashes.append(rv.hash)
        return content_hash(sorted(h or "" for h in hashes))

    def _attachment_ok(self, digest: str) -> bool:
        row = self.s.get(Attachment, digest)
        if row is None:
            self.r.problems.append(f"attachment {digest} is missing")
            return False
        if hashlib.sha256(row.content).hexdigest() != digest or row.size != len(row.content):
            self.r.problems.append(f"attachment {digest} does not match its hash (file swapped or edited)")
            return False
        return True


def _outcome_agrees(cr: dict[str, Any], statuses: Iterable[str]) -> bool:
    counts = Counter(statuses)
    expected = {"passed": "pass", "failed": "fail", "errored": "error", "not_applicable": "not_applicable"}
    if any(cr[k] != counts.get(expected[k], 0) for k in COUNTS):
        return False
    outcome: str = cr["outcome"]
    return outcome == outcome_of_statuses(counts).value


def _check_registers(s: Session, sealed: set[int | None], live: set[int | None], r: Report) -> None:
    """The NC register, its history and the attestations: each row must be what a seal committed."""
    latest: dict[int, NcVersion] = {}
    numbers: dict[int, list[int]] = {}
    for v in s.execute(select(NcVersion).order_by(col(NcVersion.version))).scalars():
        if v.run_id in sealed or v.run_id in live:
            latest[v.nc_id] = v
            numbers.setdefault(v.nc_id, []).append(v.version)
    for nc in s.execute(select(Nonconformity).order_by(col(Nonconformity.id))).scalars():
        assert nc.id is not None
        last = latest.get(nc.id)
        if last is None:
            r.problems.append(f"{nc.ref} is not committed by any sealed entry (forged, or its entry removed)")
            continue
        if numbers[nc.id] != list(range(1, last.version + 1)):
            r.problems.append(f"{nc.ref}: sealed versions are missing (history cut)")
        if nc_hash(nc_record(nc)) != last.hash:
            r.problems.append(
                f"{nc.ref}: the register differs from its last sealed version {last.version} "
                "(state, severity or clause 10.2 fields edited)"
            )
        elif last.run_id in live:
            r.notes.append(f"{nc.ref}: version {last.version} waits for run {last.run_id} to be sealed")
    for t in s.execute(select(NcTransition).order_by(col(NcTransition.id))).scalars():
        if t.run_id not in sealed and t.run_id not in live:
            r.problems.append(
                f"NC-{t.nc_id:04d}: history step {t.id} is not sealed (inserted around the chain)"
            )
    for a in s.execute(select(Attestation).order_by(col(Attestation.id))).scalars():
        if a.run_id not in sealed:
            r.problems.append(f"attestation {a.id} ({a.control_id}, {a.filename!r}) is not sealed")
    for rv in s.execute(select(Review).order_by(col(Review.id))).scalars():
        if rv.run_id not in sealed:
            r.problems.append(f"review {rv.id} (of bundle {rv.bundle_digest[:16]}) is not sealed")
