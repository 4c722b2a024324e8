"""The tamper suite: an attacker with write access to the store, or to a bundle, changes what a
control shows; every change is detected, named, and `annexa verify` exits 1.

Each store case starts from the same sealed history (two collections, an attestation and a person
accepting an NC, signed with the agent's key) on SQLite and on PostgreSQL, edits the database the
way an attacker with SQL access would, and checks that `verify --store` names the change.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from agent.audit.attestations import attest
from agent.audit.controls import control_statuses
from agent.audit.nc_actions import Change, apply
from agent.audit.status import status_document
from agent.bundle.export import export_bundle
from agent.bundle.signing import create_key_pair, seal_keys
from agent.bundle.verify import verify_bundle
from agent.config.settings import Settings
from agent.run.runner import Runner
from agent.store import Store
from agent.store.chain import chain_head, seal
from agent.store.observations import latest_observations
from agent.store.results import latest_check_runs
from agent.store.schema import (
    Attachment,
    Attestation,
    Blob,
    CheckRun,
    Lease,
    NcTransition,
    NcVersion,
    Nonconformity,
    Observation,
    ResultRow,
    Run,
    TreeEntry,
)
from agent.store.types import utcnow
from agent.store.verify import verify_store
from tests.bundles import forge
from tests.fakeplugin import fake_system_settings
from tests.postgres import BACKENDS, backend_url

BAD = ("fake.things.good", "fake:b")


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    return backend_url(request, tmp_path)


@dataclass
class History:
    store: Store
    settings: Settings
    registry: object
    key: Path
    head: str


@pytest.fixture
def history(store_url, fake_registry, tmp_path) -> History:
    """Run 1 collects (y is bad in fake:b: a draft NC), entry 2 attests A.5.1, entry 3 accepts the
    NC, run 4 collects again. Everything signed."""
    key = tmp_path / "agent.key"
    create_key_pair(key)
    settings = fake_system_settings(store={"url": store_url}, export={"signing_key": str(key)})
    store = Store(store_url, keys=seal_keys(str(key)))
    Runner(store, settings, fake_registry).collect([])
    (tmp_path / "policy.pdf").write_bytes(b"%PDF-1.4 the information security policy")
    attest(store, "A.5.1", tmp_path / "policy.pdf", actor="ciso", valid_for_days=365)
    apply(store, "NC-0001", "accept", "dana", Change(reason="confirmed"))
    Runner(store, settings, fake_registry).collect([])
    report = verify_store(store)
    assert report.ok, report.problems
    assert report.runs == 4
    yield History(store, settings, fake_registry, key, report.head)
    store.close()


def run_ids(store: Store) -> list[int]:
    with store.read() as s:
        return list(s.execute(select(Run.id).order_by(Run.id)).scalars())


def bad_check_run(s, run_id: int) -> CheckRun:
    return s.execute(
        select(CheckRun).where(
            CheckRun.run_id == run_id, CheckRun.check_id == BAD[0], CheckRun.scope == BAD[1]
        )
    ).scalar_one()


def drop_run(s, run_id: int) -> None:
    """Delete a run and every row that points at it, as an attacker removing an entry would."""
    s.execute(update(Nonconformity).where(Nonconformity.last_run_id == run_id).values(last_run_id=None))
    for model in (NcVersion, NcTransition, Attestation, Observation, CheckRun, Lease):
        s.execute(delete(model).where(model.run_id == run_id))
    s.execute(delete(Run).where(Run.id == run_id))


def flip_outcome(h: History) -> None:
    with h.store.write() as s:
        bad_check_run(s, run_ids(h.store)[-1]).outcome = "pass"


def edit_counts(h: History) -> None:
    with h.store.write() as s:
        bad_check_run(s, run_ids(h.store)[-1]).failed = 0


def edit_result(h: History) -> None:
    with h.store.write() as s:
        s.execute(update(ResultRow).where(ResultRow.resource_id == "y").values(status="pass", reason="fine"))


def edit_evidence(h: History) -> None:
    with h.store.write() as s:
        digest = s.execute(
            select(TreeEntry.blob_hash).where(TreeEntry.resource_id == "y").limit(1)
        ).scalar_one()
        s.execute(update(Blob).where(Blob.hash == digest).values(data='{"good":true,"name":"z"}'))


def delete_middle_entry(h: History) -> None:
    with h.store.write() as s:
        drop_run(s, run_ids(h.store)[1])


def reorder_runs(h: History) -> None:
    three, four = run_ids(h.store)[2:4]
    with h.store.write() as s:
        a, b = s.get(Run, three), s.get(Run, four)
        prev_three = a.prev_root_hash
        a.prev_root_hash = "f" * 64
        s.flush()
        b.prev_root_hash = prev_three
        s.flush()
        a.prev_root_hash = b.root_hash


def insert_run(h: History) -> None:
    """A new entry after the head with a root recomputed correctly, but no key to sign it."""
    with h.store.write() as s:
        last = s.get(Run, run_ids(h.store)[-1])
        forged = Run(
            **{**last.model_dump(exclude={"id", "uid", "root_hash", "prev_root_hash"}), "uid": "f" * 32}
        )
        forged.status = "complete"
        s.add(forged)
        s.flush()
        seal(s, forged, None)


def forge_unsealed_run(h: History) -> None:
    with h.store.write() as s:
        forged = Run(**{**s.get(Run, run_ids(h.store)[0]).model_dump(exclude={"id", "uid", "root_hash",
                        "prev_root_hash", "seal", "signature"}), "uid": "e" * 32})  # fmt: skip
        s.add(forged)
        s.flush()
        obs = s.execute(select(Observation).limit(1)).scalar_one()
        s.add(Observation(**{**obs.model_dump(exclude={"id"}), "run_id": forged.id, "hash": "e" * 64,
                             "collected_at": utcnow() + timedelta(days=1)}))  # fmt: skip


def edit_run_status(h: History) -> None:
    with h.store.write() as s:
        s.get(Run, run_ids(h.store)[0]).error = "nothing to see"


def edit_nc_state(h: History) -> None:
    with h.store.write() as s:
        s.get(Nonconformity, 1).state = "closed"


def edit_nc_clause_10_2(h: History) -> None:
    with h.store.write() as s:
        s.get(Nonconformity, 1).corrective_action = "nothing needed"


def edit_history_step(h: History) -> None:
    with h.store.write() as s:
        step = s.execute(select(NcTransition).where(NcTransition.to_state == "open")).scalar_one()
        step.actor = "ciso"


def delete_history_step(h: History) -> None:
    with h.store.write() as s:
        s.execute(delete(NcTransition).where(NcTransition.to_state == "open"))


def insert_history_step(h: History) -> None:
    with h.store.write() as s:
        s.add(NcTransition(nc_id=1, at=utcnow(), actor="dana", from_state="open", to_state="resolved",
                           reason="fixed, honestly"))  # fmt: skip


def reorder_history(h: History) -> None:
    with h.store.write() as s:
        first, second = s.execute(select(NcTransition).order_by(NcTransition.id)).scalars().all()[:2]
        first.to_state, second.to_state = second.to_state, first.to_state
        first.from_state, second.from_state = second.from_state, first.from_state


def delete_nc_version(h: History) -> None:
    with h.store.write() as s:
        newest = s.execute(select(NcVersion).order_by(NcVersion.version.desc()).limit(1)).scalar_one()
        s.delete(newest)


def forge_nc(h: History) -> None:
    with h.store.write() as s:
        real = s.get(Nonconformity, 1)
        s.add(Nonconformity(**{**real.model_dump(exclude={"id"}), "scope": "fake:a"}))


def swap_attachment(h: History) -> None:
    with h.store.write() as s:
        s.execute(update(Attachment).values(content=b"%PDF-1.4 a policy nobody approved"))


def extend_attestation(h: History) -> None:
    with h.store.write() as s:
        row = s.execute(select(Attestation)).scalar_one()
        row.expires_at = row.expires_at + timedelta(days=3650)


def forge_attestation(h: History) -> None:
    with h.store.write() as s:
        real = s.execute(select(Attestation)).scalar_one()
        s.add(Attestation(**{**real.model_dump(exclude={"id", "run_id", "hash"}), "control_id": "A.5.2"}))


def move_observation(h: History) -> None:
    first, *_, last = run_ids(h.store)
    with h.store.write() as s:
        obs = s.execute(select(Observation).where(Observation.run_id == first).limit(1)).scalar_one()
        obs.run_id = last


def reseal_without_key(h: History) -> None:
    """Edit the last run and recompute its seal, as an attacker without the key can; the old
    signature is kept, since no new one can be made."""
    with h.store.write() as s:
        run = s.get(Run, run_ids(h.store)[-1])
        signature = run.signature
        run.error = "collected on a quiet day"
        run.root_hash = run.prev_root_hash = None
        s.flush()
        seal(s, run, None)
        run.signature = signature
        assert chain_head(s) == run.root_hash


STORE_CASES: dict[str, tuple[Callable[[History], None], str]] = {
    "flipped outcome": (flip_outcome, "does not match its hash (outcome or counts edited)"),
    "edited counts": (edit_counts, "outcome or counts do not follow from its results"),
    "edited result": (edit_result, "its results do not match their hash"),
    "edited evidence": (edit_evidence, "does not match its hash"),
    "deleted entry": (delete_middle_entry, "is sealed but not on the chain"),
    "reordered runs": (reorder_runs, "root does not re-derive from its seal and predecessor"),
    "inserted run": (insert_run, "is not signed under the store's key"),
    "forged unsealed run": (forge_unsealed_run, "says complete but has no seal"),
    "edited run": (edit_run_status, "its status, times or error were edited after sealing"),
    "NC state edited": (edit_nc_state, "NC-0001: the register differs from its last sealed version"),
    "NC 10.2 field edited": (
        edit_nc_clause_10_2,
        "NC-0001: the register differs from its last sealed version",
    ),
    "history step edited": (edit_history_step, "of NC-0001 does not match its hash"),
    "history step deleted": (delete_history_step, "its NC history differs from what was sealed"),
    "history step inserted": (insert_history_step, "is not sealed (inserted around the chain)"),
    "history reordered": (reorder_history, "of NC-0001 does not match its hash"),
    "NC version deleted": (delete_nc_version, "its NC versions differ from what was sealed"),
    "forged NC": (forge_nc, "NC-0002 is not committed by any sealed entry"),
    "attachment swapped": (swap_attachment, "does not match its hash (file swapped or edited)"),
    "attestation extended": (extend_attestation, "(A.5.1) does not match its hash"),
    "attestation forged": (forge_attestation, "(A.5.2, 'policy.pdf') is not sealed"),
    "evidence moved to another run": (move_observation, "does not match its hash"),
    "chain resealed without the key": (
        reseal_without_key,
        "signature that does not verify under the store's key",
    ),
}


@pytest.mark.parametrize("case", sorted(STORE_CASES))
def test_store_tampering_is_detected_and_named(history, case):
    mutate, expected = STORE_CASES[case]
    mutate(history)
    report = verify_store(history.store)
    assert not report.ok
    assert any(expected in p for p in report.problems), report.problems


def test_a_flipped_outcome_never_turns_a_control_green(history):
    def a_8_9() -> str:
        return next(c.status for c in control_statuses(history.store, history.settings, history.registry)
                    if c.id == "A.8.9")  # fmt: skip

    assert a_8_9() == "failing"
    flip_outcome(history)
    assert a_8_9() == "error"


def test_an_unsealed_run_is_never_read(history):
    forge_unsealed_run(history)
    newest = latest_observations(history.store, ["fake.things.items"], None)
    assert all(o.hash != "e" * 64 for o in newest)
    assert all(o.run_id in run_ids(history.store)[:4] for o in newest)
    runs = status_document(history.store, history.settings, history.registry, utcnow())["runs"]
    assert [r["seal"] for r in runs] == ["says complete but has no seal", *["valid"] * 4]


def test_a_run_whose_signature_fails_is_never_read(history):
    last = run_ids(history.store)[-1]
    assert {cr.run_id for cr in latest_check_runs(history.store)} == {last}
    with history.store.write() as s:
        s.get(Run, last).signature = "00" * 64
    assert last not in {cr.run_id for cr in latest_check_runs(history.store)}
    assert last not in {o.run_id for o in latest_observations(history.store, ["fake.things.items"], None)}


def test_a_cut_tail_is_detected_only_against_a_kept_head(history, tmp_path):
    (tmp_path / "minutes.pdf").write_bytes(b"%PDF-1.4 management review minutes")
    attest(history.store, "A.5.35", tmp_path / "minutes.pdf", actor="ciso")
    kept = verify_store(history.store).head
    with history.store.write() as s:
        drop_run(s, run_ids(history.store)[-1])
    assert verify_store(history.store).ok  # nothing in the store itself says it was longer
    report = verify_store(history.store, head=kept)
    assert [p for p in report.problems if "is not on the store's chain" in p]


def test_a_rewritten_chain_without_the_key_passes_only_self_consistency(history):
    reseal_without_key(history)
    unkeyed = Store(history.store.url)
    report = verify_store(unkeyed)
    assert report.ok and any("only the chain's self-consistency was proven" in n for n in report.notes)
    assert not verify_store(unkeyed, head=history.head).ok


# -- bundles --------------------------------------------------------------------------------------


def export(h: History, out: Path) -> Path:
    export_bundle(h.store, h.settings, h.registry, out)
    return out


def edit_json(name: str, fn: Callable[[object], None]) -> dict[str, Callable[[bytes], bytes]]:
    def apply_edit(data: bytes) -> bytes:
        doc = json.loads(data)
        fn(doc)
        return json.dumps(doc).encode()

    return {name: apply_edit}


def _flip_bundle_outcome(runs: list) -> None:
    cr = next(c for c in runs[-1]["check_runs"] if c["outcome"] == "fail")
    cr["outcome"], cr["failed"] = "pass", 0


def _move_bundle_observation(runs: list) -> None:
    runs[-1]["observations"].append(runs[0]["observations"].pop())


def _close_nc(ncs: list) -> None:
    ncs[0]["state"] = "closed"


def _edit_history(ncs: list) -> None:
    ncs[0]["history"][-1]["reason"] = "never mind"


BUNDLE_CASES = {
    "flipped outcome": (
        edit_json("runs.json", _flip_bundle_outcome),
        "does not match its hash (outcome or counts",
    ),
    "evidence moved to another run": (edit_json("runs.json", _move_bundle_observation), "observation"),
    "NC closed in the register": (
        edit_json("nonconformities.json", _close_nc),
        "register differs from its sealed",
    ),
    "history step edited": (edit_json("nonconformities.json", _edit_history), "is not sealed (edited"),
    "attachment swapped": (
        {
            "attachments/"
            + hashlib.sha256(b"%PDF-1.4 the information security policy").hexdigest(): lambda d: b"x"
        },
        "content does not match its name (file swapped)",
    ),
}


@pytest.fixture
def bundle(history, tmp_path) -> Path:
    out = export(history, tmp_path / "audit.zip")
    assert verify_bundle(out, history.key.with_suffix(".pub")).ok
    return out


@pytest.mark.parametrize("case", sorted(BUNDLE_CASES))
def test_bundle_tampering_is_detected_even_when_the_manifest_is_resigned(history, bundle, tmp_path, case):
    change, expected = BUNDLE_CASES[case]
    forged = forge(bundle, tmp_path / "forged.zip", history.key, change)
    report = verify_bundle(forged, history.key.with_suffix(".pub"))
    assert any(expected in p for p in report.problems), report.problems


def test_a_bundle_resigned_by_another_key(history, bundle, tmp_path):
    intruder = tmp_path / "intruder.key"
    create_key_pair(intruder)
    forged = forge(bundle, tmp_path / "forged.zip", intruder, edit_json("runs.json", _flip_bundle_outcome))
    pinned = verify_bundle(forged, history.key.with_suffix(".pub"))
    assert any("public_key.pem was replaced" in p for p in pinned.problems)
    unpinned = verify_bundle(forged)
    assert any("signature that does not verify under the bundle's key" in p for p in unpinned.problems)


def test_duplicate_zip_entries(bundle, tmp_path):
    dup = tmp_path / "dup.zip"
    with zipfile.ZipFile(bundle) as zin, zipfile.ZipFile(dup, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item.filename))
        with pytest.warns(UserWarning):
            zout.writestr("runs.json", b"[]")
    assert verify_bundle(dup).problems == ["entry 'runs.json' appears twice"]


def test_since_detects_a_rewritten_history(history, bundle, tmp_path):
    newer = export(history, tmp_path / "newer.zip")
    assert verify_bundle(newer, since=bundle).ok  # same chain: it extends itself
    Runner(history.store, history.settings, history.registry).collect([])
    later = export(history, tmp_path / "later.zip")
    assert verify_bundle(later, history.key.with_suffix(".pub"), since=bundle).ok
    with history.store.write() as s:  # rewrite: drop the last two runs, then collect anew
        for rid in run_ids(history.store)[-2:]:
            drop_run(s, rid)
    Runner(history.store, history.settings, history.registry).collect([])
    rewritten = export(history, tmp_path / "rewritten.zip")
    assert verify_bundle(rewritten).ok  # alone it is self-consistent
    report = verify_bundle(rewritten, since=later)
    assert any("they part at entry 4" in p for p in report.problems), report.problems
    cut = verify_bundle(bundle, since=later)
    assert any("the chain was cut" in p for p in cut.problems), cut.problems
