"""Reviewer sign-off: a person's decision on a bundle, bound to its manifest, sealed in the chain and
carried (and re-checked) by every later bundle; refused for the exporter and for a bundle that does
not verify; the store migration that adds it."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select

from agent.audit.controls import control_statuses
from agent.audit.soa import soa_rows
from agent.bundle.export import export_bundle
from agent.bundle.review import review_bundle
from agent.bundle.signing import create_key_pair, seal_keys
from agent.bundle.verify import verify_bundle
from agent.config.settings import Settings
from agent.errors import Unverifiable, UsageError
from agent.run.runner import Runner
from agent.store import Store
from agent.store.chain import chain_head
from agent.store.migrate import alembic_config
from agent.store.schema import Review, Run
from agent.store.verify import verify_store
from tests.bundles import forge, members
from tests.cli import annexa, annexa_json
from tests.fakeplugin import fake_system_settings

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@dataclass
class Audit:
    store: Store
    settings: Settings
    registry: object
    key: Path
    tmp: Path
    config: Path

    def collect(self) -> None:
        Runner(self.store, self.settings, self.registry).collect([])

    def export(self, name: str, by: str = "dana") -> Path:
        out = self.tmp / name
        export_bundle(self.store, self.settings, self.registry, out, exported_by=by)
        return out

    def reviews(self) -> list[Review]:
        with self.store.read() as s:
            return list(s.execute(select(Review)).scalars())


@pytest.fixture
def audit(tmp_path, fake_registry) -> Audit:
    """A signed store with one collection (an NC in fake:b) and a config the console script reads."""
    key = tmp_path / "agent.key"
    create_key_pair(key)
    url = f"sqlite:///{tmp_path / 'a.db'}"
    settings = fake_system_settings(store={"url": url}, export={"signing_key": str(key)})
    store = Store(url, keys=seal_keys(str(key)))
    config = tmp_path / "annexa.toml"
    config.write_text(f'[store]\nurl = "{url}"\n[export]\nsigning_key = "{key}"\n')
    a = Audit(store, settings, fake_registry, key, tmp_path, config)
    a.collect()
    yield a
    store.close()


def digest(bundle: Path) -> str:
    return hashlib.sha256(members(bundle)["manifest.json"]).hexdigest()


def edit_json(name: str, fn):
    def change(raw: bytes) -> bytes:
        doc = json.loads(raw)
        fn(doc)
        return json.dumps(doc).encode()

    return {name: change}


def test_an_accepted_review_is_sealed_and_every_later_bundle_carries_it(audit):
    q1 = audit.export("q1.zip", by="dana")
    assert json.loads(members(q1)["manifest.json"])["exported_by"] == "dana"
    row = review_bundle(audit.store, q1, decision="accept", actor="ines", note="sampled 5 leavers", now=AT)
    assert (row.bundle_digest, row.bundle_head) == (
        digest(q1),
        json.loads(members(q1)["manifest.json"])["chain"]["head"],
    )
    assert (row.actor, row.exporter, row.decision, row.at) == ("ines", "dana", "accept", AT)
    with audit.store.read() as s:
        entry = s.get(Run, row.run_id)
        assert entry.kind == "review" and entry.seal["reviews"] and chain_head(s) == entry.root_hash
        plain_runs = s.execute(select(Run).where(Run.id != row.run_id)).scalars().all()
        assert all("reviews" not in r.seal for r in plain_runs)  # other seals unchanged
    assert verify_store(audit.store).ok

    audit.collect()
    q2 = audit.export("q2.zip")
    report = verify_bundle(q2, audit.key.with_suffix(".pub"), since=q1)
    assert report.ok, report.problems
    assert any(n.startswith("review 1 (accept by ines) is of") for n in report.notes), report.notes
    carried = json.loads(members(q2)["reviews.json"])
    assert [(r["decision"], r["actor"], r["bundle_digest"], r["at"]) for r in carried] == [
        ("accept", "ines", digest(q1), AT.isoformat())
    ]
    page = members(q2)["reviews.html"].decode()
    assert "sampled 5 leavers" in page and digest(q1) in page
    assert 'href="reviews.html"' in members(q2)["index.html"].decode()


def test_a_review_is_not_evidence_for_any_control(audit):
    q1 = audit.export("q1.zip")
    before = [c.document() for c in control_statuses(audit.store, audit.settings, audit.registry)]
    soa = soa_rows(audit.store, audit.settings, audit.registry, AT)
    review_bundle(audit.store, q1, decision="reject", actor="ines", note="NC-0001 has no owner", now=AT)
    assert [c.document() for c in control_statuses(audit.store, audit.settings, audit.registry)] == before
    assert soa_rows(audit.store, audit.settings, audit.registry, AT) == soa


def test_the_exporter_cannot_review_their_own_bundle(audit):
    q1 = audit.export("q1.zip", by="Dana")
    head = chain_head_of(audit)
    proc = annexa(
        "review",
        str(q1),
        "--decision",
        "accept",
        "--by",
        " dana",
        "--note",
        "ok",
        "--config",
        str(audit.config),
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Dana exported" in proc.stderr and "Traceback" not in proc.stderr
    assert audit.reviews() == [] and chain_head_of(audit) == head


def test_the_console_script_records_a_review(audit):
    q1 = audit.export("q1.zip", by="dana")
    doc = annexa_json(
        "review",
        str(q1),
        "--decision",
        "reject",
        "--by",
        "ines",
        "--note",
        "no owner",
        "--config",
        str(audit.config),
    )
    assert (doc["decision"], doc["actor"], doc["exporter"], doc["bundle_digest"]) == (
        "reject",
        "ines",
        "dana",
        digest(q1),
    )
    assert [r.id for r in audit.reviews()] == [doc["id"]]


def chain_head_of(audit: Audit) -> str:
    with audit.store.read() as s:
        return chain_head(s)


def test_a_tampered_bundle_is_not_reviewed(audit):
    q1 = audit.export("q1.zip")
    head = chain_head_of(audit)
    items = members(q1)
    items["controls.json"] = items["controls.json"].replace(b"failing", b"passing")
    edited = audit.tmp / "edited.zip"
    with zipfile.ZipFile(edited, "w") as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    proc = annexa(
        "review",
        str(edited),
        "--decision",
        "accept",
        "--by",
        "ines",
        "--note",
        "ok",
        "--config",
        str(audit.config),
    )
    assert proc.returncode == 1 and "does not verify (modified file controls.json" in proc.stderr
    assert proc.stderr.count("\n") == 1
    # Re-signed with someone else's key: the seals inside are not theirs.
    create_key_pair(audit.tmp / "intruder.key")
    resigned = forge(q1, audit.tmp / "resigned.zip", audit.tmp / "intruder.key", {})
    with pytest.raises(
        Unverifiable, match=r"does not verify \(chain entry 1 has a signature that does not verify"
    ):
        review_bundle(audit.store, resigned, decision="accept", actor="ines", note="ok")
    assert audit.reviews() == [] and chain_head_of(audit) == head


def test_a_bundle_of_another_store_is_not_reviewed(audit, fake_registry):
    other_url = f"sqlite:///{audit.tmp / 'other.db'}"
    other = Store(other_url, keys=seal_keys(str(audit.key)))
    settings = fake_system_settings(store={"url": other_url}, export={"signing_key": str(audit.key)})
    Runner(other, settings, fake_registry).collect([])
    theirs = audit.tmp / "theirs.zip"
    export_bundle(other, settings, fake_registry, theirs, exported_by="dana")
    other.close()
    with pytest.raises(UsageError, match="not on this store's chain"):
        review_bundle(audit.store, theirs, decision="accept", actor="ines", note="ok")


@pytest.fixture
def reviewed(audit):
    """q1 reviewed (rejected by ines), then a collection, then q2 carrying the review."""
    q1 = audit.export("q1.zip")
    review_bundle(audit.store, q1, decision="reject", actor="ines", note="NC-0001 has no owner", now=AT)
    audit.collect()
    return q1, audit.export("q2.zip")


def _accept(doc):
    doc[0]["decision"] = "accept"


def _drop(doc):
    doc.clear()


def _malformed(doc):
    doc[0]["run_id"] = str(doc[0]["run_id"])


EDITS = [
    (_accept, "reviews.json: review 1: not sealed (edited or inserted)"),
    (_drop, "seals reviews that reviews.json does not hold as sealed (left out, added or edited)"),
    (_malformed, "reviews.json: 0.run_id: Input should be a valid integer"),
]


def test_an_edited_reviews_json_fails_verify(audit, reviewed):
    _, q2 = reviewed
    for change, expected in EDITS:  # re-signed by the key holder: only the seals can tell
        forged = forge(q2, audit.tmp / "forged.zip", audit.key, edit_json("reviews.json", change))
        report = verify_bundle(forged, audit.key.with_suffix(".pub"))
        assert any(expected in p for p in report.problems), (expected, report.problems)
    items = members(q2)
    items["reviews.json"] = items["reviews.json"].replace(b'"reject"', b'"accept"')
    unsigned = audit.tmp / "unsigned.zip"
    with zipfile.ZipFile(unsigned, "w") as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    assert "modified file reviews.json" in verify_bundle(unsigned).problems


def test_since_fails_when_the_reviewed_bundle_was_changed_after_review(audit, reviewed):
    q1, q2 = reviewed
    # The key holder edits q1 after the review and re-signs it: same chain head, another manifest.
    changed = forge(q1, audit.tmp / "q1-changed.zip", audit.key, {"soa.csv": lambda b: b + b"\n"})
    assert verify_bundle(changed, audit.key.with_suffix(".pub")).ok
    report = verify_bundle(q2, audit.key.with_suffix(".pub"), since=changed)
    assert any("is not the bundle reviewed: review(s) 1 name its chain head" in p for p in report.problems)


def test_the_store_names_an_edited_or_inserted_review(audit, reviewed):
    with audit.store.write() as s:
        s.execute(select(Review)).scalar_one().decision = "accept"
    assert any("review 1 does not match its hash" in p for p in verify_store(audit.store).problems)
    with audit.store.write() as s:
        real = s.execute(select(Review)).scalar_one()
        real.decision = "reject"
        s.add(Review(**{**real.model_dump(exclude={"id", "hash"}), "run_id": 1, "actor": "mallory"}))
    problems = verify_store(audit.store).problems
    assert any("its bundle reviews differ from what was sealed" in p for p in problems), problems


def test_an_existing_store_is_upgraded_and_keeps_its_chain(tmp_path, fake_registry):
    key = tmp_path / "agent.key"
    create_key_pair(key)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    settings = fake_system_settings(store={"url": url}, export={"signing_key": str(key)})
    store = Store(url, keys=seal_keys(str(key)))
    Runner(store, settings, fake_registry).collect([])
    head = verify_store(store).head
    with store.engine.begin() as conn:  # the store as the previous revision left it
        command.downgrade(alembic_config(conn), "0002")
    store.close()
    upgraded = Store(url, keys=seal_keys(str(key)))
    assert "review" in upgraded.tables()
    report = verify_store(upgraded)
    assert report.ok and report.head == head, report.problems
    bundle = tmp_path / "b.zip"
    export_bundle(upgraded, settings, fake_registry, bundle, exported_by="dana")
    review_bundle(upgraded, bundle, decision="accept", actor="ines", note="ok")
    assert verify_store(upgraded).ok
    upgraded.close()
