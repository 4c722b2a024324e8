"""Operating effectiveness over an audit period: `annexa period`, a bundle's period.json and its re-derivation.

The acceptance store (tests/period_store.py) is 30 daily runs with the clock injected: a check that
fails on days 8-12 with its NC opened, accepted and closed by a person, a source not collected on
days 20-22, an attestation expiring on day 15. tests/test_period_rules.py has the rules case by case.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import time, timedelta

import pytest
from sqlalchemy import update

from agent.audit.period_read import period_document
from agent.bundle.export import export_bundle
from agent.bundle.signing import load_private_key
from agent.bundle.verify import verify_bundle
from agent.store import Store
from agent.store.schema import CheckRun
from tests import period_store as ps
from tests.bundles import forge, members, write
from tests.cli import annexa, annexa_json

LAST_DAY = ps.FIRST_DAY + timedelta(days=ps.DAYS - 1)
DAY = timedelta(days=1)


def midnight(day: int) -> str:
    return ps.at(day, time(0)).isoformat()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    store = ps.build_period_store(tmp_path_factory.mktemp("period"))
    yield store
    store.store.close()


@pytest.fixture(scope="module")
def report(built):
    return annexa_json(
        "period", "--from", ps.FIRST_DAY.isoformat(), "--to", LAST_DAY.isoformat(), "--config", str(built.config)
    )  # fmt: skip


def scope_of(doc, check_id):
    [check] = [c for c in doc["checks"] if c["id"] == check_id]
    [scope] = check["scopes"]
    return check, scope


def control(doc, control_id):
    return next(c for c in doc["controls"] if c["id"] == control_id)


def test_the_failing_check_has_exact_windows_a_five_day_failure_and_its_nc(report):
    check, s = scope_of(report, ps.FAILING_CHECK)
    assert check["cadence"] == {"schedule": "1d", "window_seconds": 86400}
    assert s["scope"] == ps.HR_SCOPE and s["conclusion"] == "exceptions"
    assert s["windows"] == {"total": 30, "with_evidence": 30, "passing": 25, "failing": 5, "gaps": 0}
    assert s["passing_share"] == 0.8333 and s["gaps"] == []
    assert s["evaluations"] == {"pass": 25, "fail": 5, "error": 0, "not_applicable": 0}
    assert s["timeline"] == [
        {"start": midnight(1), "end": midnight(8), "windows": 7, "state": "pass"},
        {"start": midnight(8), "end": midnight(13), "windows": 5, "state": "fail"},
        {"start": midnight(13), "end": midnight(31), "windows": 18, "state": "pass"},
    ]
    assert s["failures"] == [
        {
            "started_at": ps.at(8).isoformat(),
            "ended_at": ps.at(13).isoformat(),
            "ongoing": False,
            "duration_days": 5.0,
            "failing_evaluations": 5,
            "nc": ps.NC_REF,
        }
    ]
    assert control(report, ps.FAILING_CONTROL)["conclusion"] == "exceptions"


def test_the_source_missing_three_days_is_one_gap_not_collected(report):
    _, s = scope_of(report, ps.GITHUB_CHECK)
    assert s["scope"] == ps.GITHUB_SCOPE and s["conclusion"] == "insufficient evidence"
    assert s["gaps"] == [{"start": midnight(20), "end": midnight(23), "windows": 3, "cause": "not collected"}]
    assert s["windows"] == {"total": 30, "with_evidence": 27, "passing": 27, "failing": 0, "gaps": 3}
    assert s["passing_share"] == 0.9 and s["failures"] == []  # a gap never counts as passing
    assert control(report, "A.8.5")["conclusion"] == "insufficient evidence"


def test_the_nc_opened_and_closed_by_a_person_with_days_to_close(report):
    [nc] = report["nonconformities"]
    assert nc["id"] == ps.NC_REF and nc["check_id"] == ps.FAILING_CHECK and nc["scope"] == ps.HR_SCOPE
    assert (nc["state_at_start"], nc["state_at_end"]) == (None, "closed")
    assert nc["opened_at"] == ps.at(8).isoformat() and nc["closed_at"] == ps.at(*ps.NC_CLOSED).isoformat()
    assert nc["days_to_close"] == 6.19 and nc["days_open"] is None  # day 8 06:00 to day 14 10:30
    assert [(s["from"], s["to"]) for s in nc["steps"]] == [
        (None, "draft"), ("draft", "open"), ("open", "resolved"), ("resolved", "closed"),
    ]  # fmt: skip
    assert control(report, ps.FAILING_CONTROL)["nonconformities"] == {
        "opened": [ps.NC_REF], "closed": [ps.NC_REF], "rejected": [], "still_open": [],
    }  # fmt: skip


def test_the_manual_control_is_not_attested_across_the_period(report):
    c = control(report, ps.ATTESTED_CONTROL)
    assert c["conclusion"] == "manual" and c["checks"] == []
    cover = c["attestations"]
    assert cover["valid_throughout"] is False
    assert cover["uncovered"] == [
        {"start": midnight(1), "end": ps.at(*ps.ATTESTED).isoformat()},
        {"start": ps.at(15, time(7)).isoformat(), "end": midnight(31)},
    ]
    [vouch] = cover["attestations"]
    assert (vouch["by"], vouch["file"], vouch["expires_at"]) == (
        ps.ATTESTER,
        "policy.pdf",
        ps.at(15, time(7)).isoformat(),
    )


def test_every_conclusion_and_the_exclusion(report):
    conclusions = {c["id"]: c["conclusion"] for c in report["controls"] if c["checks"]}
    assert conclusions == {
        "A.5.15": "insufficient evidence", "A.5.17": "insufficient evidence", "A.8.3": "insufficient evidence",
        "A.8.5": "insufficient evidence", "A.6.1": "effective", "A.6.2": "exceptions", "A.6.3": "effective",
        "A.6.6": "effective",
    }  # fmt: skip
    assert report["summary"] == {"effective": 3, "insufficient evidence": 4, "exceptions": 1, "manual": 84}
    assert report["excluded"] == {"A.7.4": "No premises of our own."}
    assert "A.7.4" not in {c["id"] for c in report["controls"]}
    assert report["period"]["start"] == midnight(1) and report["period"]["end"] == midnight(31)
    assert report["period"]["sealed_entries"] == 34  # 30 runs, the attestation and three NC steps


def test_controls_and_a_shorter_period(built):
    doc = annexa_json(
        "period", "--from", ps.FIRST_DAY.isoformat(), "--to", (ps.FIRST_DAY + 9 * DAY).isoformat(),
        "--controls", "A.6.2,A.5.1", "--config", str(built.config),
    )  # fmt: skip
    assert [c["id"] for c in doc["controls"]] == ["A.5.1", "A.6.2"]
    _, s = scope_of(doc, ps.FAILING_CHECK)
    assert s["failures"][0]["ongoing"] is True and s["failures"][0]["ended_at"] is None
    assert s["failures"][0]["duration_days"] == 2.75  # day 8 06:00 to the period's end, day 11 00:00
    [nc] = doc["nonconformities"]
    assert nc["state_at_end"] == "open" and nc["closed_at"] is None and nc["days_open"] == 2.75
    assert doc["controls"][0]["attestations"]["valid_throughout"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2025-03-10", "--to", "2025-03-01"], "--from is after --to"),
        (
            ["--from", "2025-03-01", "--to", "2025-03-02", "--controls", "A.9.9"],
            "not an Annex A 2022 control",
        ),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(built, args, message):
    proc = annexa("period", *args, "--json", "--config", str(built.config))
    assert proc.returncode == 2 and proc.stdout == ""
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_human_output_names_each_gap_and_failure(built):
    proc = annexa(
        "period", "--from", ps.FIRST_DAY.isoformat(), "--to", LAST_DAY.isoformat(),
        "--controls", "A.6.2,A.8.5", "--config", str(built.config),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (
        f"gap {ps.GITHUB_CHECK} @ {ps.GITHUB_SCOPE}: [2025-03-22 00:00, 2025-03-25 00:00) not collected"
        in proc.stdout
    )
    assert (
        f"failure {ps.FAILING_CHECK} @ {ps.HR_SCOPE}: 2025-03-10 06:00 to 2025-03-15 06:00, 5.0 d ({ps.NC_REF})"
        in proc.stdout
    )
    assert "exceptions: 1" in proc.stdout and "insufficient evidence: 1" in proc.stdout


# --- bundles -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(built, tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "audit.zip"
    export_bundle(built.store, built.settings, built.registry, out)
    return out


def test_the_bundle_carries_the_period_linked_from_its_index(built, bundle, report):
    files = members(bundle)
    assert json.loads(files["period.json"]) == report  # the runs' span is the 30 days
    assert b'href="period.html"' in files["index.html"]
    page = files["period.html"].decode()
    assert (
        "Content-Security-Policy" in page and f'id="{ps.NC_REF}"' in page and "insufficient evidence" in page
    )
    manifest = json.loads(files["manifest.json"])
    assert {"period.json", "period.html"} <= {f["path"] for f in manifest["files"]}
    assert verify_bundle(bundle, built.root / "signing.pub").ok


def _edited(built, bundle, tmp_path, change):
    key = built.root / "signing.key"  # the auditee's own key: only the re-derivation can tell
    out = forge(
        bundle,
        tmp_path / "forged.zip",
        key,
        {"period.json": lambda b: json.dumps(change(json.loads(b))).encode()},
    )
    return verify_bundle(out, built.root / "signing.pub")


def test_verify_re_derives_the_period_and_names_a_changed_conclusion(built, bundle, tmp_path):
    def effective(doc):
        for c in doc["controls"]:
            if c["id"] == ps.FAILING_CONTROL:
                c["conclusion"] = "effective"
        return doc

    report = _edited(built, bundle, tmp_path, effective)
    assert not report.ok
    assert any(
        'period.json: controls A.6.2: conclusion: says "effective"' in p and 'give "exceptions"' in p
        for p in report.problems
    ), report.problems


def test_verify_names_a_check_left_out_and_a_gap_wished_away(built, bundle, tmp_path):
    def hidden(doc):
        for c in doc["controls"]:
            if c["id"] == ps.FAILING_CONTROL:
                c["checks"], c["conclusion"] = [], "manual"
        return doc

    report = _edited(built, bundle, tmp_path, hidden)
    assert (
        f"period.json: {ps.FAILING_CHECK} was evaluated in the period but is left out of A.6.2"
        in report.problems
    )

    def no_gaps(doc):
        for c in doc["checks"]:
            if c["id"] == ps.GITHUB_CHECK:
                c["scopes"][0]["gaps"], c["scopes"][0]["conclusion"] = [], "effective"
        return doc

    report = _edited(built, bundle, tmp_path, no_gaps)
    where = f"period.json: checks {ps.GITHUB_CHECK}: scopes {ps.GITHUB_SCOPE}"
    assert (
        f'{where}: conclusion: says "effective", the bundle\'s own runs give "insufficient evidence"'
        in report.problems
    )
    assert any(p.startswith(f"{where}: gaps: says []") for p in report.problems)


def test_an_unsigned_edit_of_the_period_is_a_modified_file(built, bundle, tmp_path):
    files = members(bundle)
    files["period.json"] = files["period.json"].replace(b'"exceptions"', b'"effective"')
    report = verify_bundle(write(tmp_path / "edited.zip", files), built.root / "signing.pub")
    assert "modified file period.json" in report.problems


def test_a_bundle_made_before_the_period_report_verifies_with_a_note(built, bundle, tmp_path):
    files = {n: b for n, b in members(bundle).items() if n not in ("period.json", "period.html")}
    manifest = json.loads(files["manifest.json"])
    manifest["files"] = [f for f in manifest["files"] if f["path"] not in ("period.json", "period.html")]
    files["manifest.json"] = json.dumps(manifest).encode()
    files["manifest.sig"] = load_private_key(built.root / "signing.key").sign(files["manifest.json"])
    report = verify_bundle(write(tmp_path / "older.zip", files), built.root / "signing.pub")
    assert report.ok, report.problems
    assert "no period.json in this bundle: its operating effectiveness was not reported" in report.notes


def test_an_edited_evaluation_reads_as_error(built, tmp_path):
    copy = tmp_path / "copy.db"
    with sqlite3.connect(built.root / "store.db") as src, sqlite3.connect(copy) as dst:
        src.backup(dst)  # with what the write-ahead log holds
    store = Store(f"sqlite:///{copy}", keys=built.store.keys)
    try:
        with store.write() as s:
            s.execute(
                update(CheckRun)
                .where(CheckRun.check_id == ps.FAILING_CHECK, CheckRun.outcome == "fail")
                .values(outcome="pass")
            )
        doc = period_document(store, built.settings, built.registry, ps.FIRST_DAY, LAST_DAY, ps.at(40))
    finally:
        store.close()
    _, s = scope_of(doc, ps.FAILING_CHECK)
    assert (
        s["evaluations"]["fail"] == 0 and s["evaluations"]["error"] == 5
    )  # a flipped outcome proves nothing
    assert s["gaps"] == [{"start": midnight(8), "end": midnight(13), "windows": 5, "cause": "error"}]


def test_postgresql_judges_the_period_as_sqlite_does(built, pg_url, tmp_path):
    other = ps.build_period_store(tmp_path / "pg", url=pg_url)
    try:
        docs = [
            period_document(p.store, p.settings, p.registry, ps.FIRST_DAY, LAST_DAY, ps.at(40))
            for p in (built, other)
        ]
    finally:
        other.store.close()
    for doc in docs:
        assert doc["period"].pop("last_root")  # the roots differ: every run has its own random uid
    assert docs[0] == docs[1] and docs[0]["summary"]["exceptions"] == 1
