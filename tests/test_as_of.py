"""`--as-of`: what the store had proven at a past moment, on the 30-day acceptance store.

The console script answers for day 10 (the NC open, its control failing, the attestation valid)
and day 20 (closed, passing, expired); the in-process views answer the same at every instant
between entries on SQLite and PostgreSQL, and the index probe picks what ranking every row would.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from agent.audit.asof import nc_versions_at, parse_as_of, registers_at
from agent.audit.controls import control_statuses
from agent.audit.nonconformities import list_ncs, nc_document
from agent.audit.soa import soa_rows
from agent.audit.status import status_document
from agent.bundle.layout import MANIFEST, NCS, RUNS
from agent.errors import Unverifiable, UsageError
from agent.store.chain import counted_runs
from agent.store.results import latest_check_runs
from agent.store.schema import CheckRun, NcVersion, Run
from agent.store.types import utcnow
from tests.cli import annexa, annexa_json
from tests.period_store import (
    ACTOR,
    ATTESTED_CONTROL,
    ATTESTER,
    DAYS,
    FAILING_CHECK,
    FAILING_CONTROL,
    FAILING_RESOURCE,
    GITHUB_CHECK,
    MISSING_SOURCE,
    NC_REF,
    PeriodStore,
    at,
    build_period_store,
)
from tests.postgres import BACKENDS

pytestmark = pytest.mark.slow  # the console script, and PostgreSQL

END_OF_DAY = time(23, 59, 59)


@pytest.fixture(scope="module")
def period(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PeriodStore]:
    built = build_period_store(tmp_path_factory.mktemp("period"))
    yield built
    built.store.close()


@pytest.fixture(scope="module", params=BACKENDS)
def on_backend(
    request: pytest.FixtureRequest, period: PeriodStore, tmp_path_factory
) -> Iterator[PeriodStore]:
    """The same story on SQLite (the CLI tests' store) and on a PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield period
        return
    server = request.getfixturevalue("pg_server")
    name = server.create_database()
    built = build_period_store(tmp_path_factory.mktemp("period-pg"), server.url(name))
    yield built
    built.store.close()
    server.drop_database(name)


def cli(p: PeriodStore, *args: str) -> object:
    return annexa_json(*args, "--config", str(p.config))


def by_id(controls: object) -> dict[str, dict]:
    assert isinstance(controls, list)
    return {c["id"]: c for c in controls}


# --- through the console script ---------------------------------------------------------------


def test_on_day_10_the_nc_is_open_with_its_failing_resource_and_the_control_fails(period):
    when = period.as_of(10)
    controls = by_id(cli(period, "controls", "--as-of", when))
    assert len(controls) == 93
    failing = controls[FAILING_CONTROL]
    assert failing["status"] == "failing" and failing["open_nonconformities"] == [NC_REF]
    assert failing["check_outcomes"] == {FAILING_CHECK: "fail"}
    assert controls["A.8.5"]["status"] == "passing"  # GitHub's 2FA requirement, collected that day
    vouched = controls[ATTESTED_CONTROL]
    assert vouched["status"] == "manual" and vouched["attestation"]["by"] == ATTESTER
    assert vouched["attestation"]["expires_at"] == at(15, time(7)).isoformat()

    [nc] = cli(period, "nc", "list", "--as-of", when)
    assert (nc["id"], nc["state"], nc["failing_resources"]) == (NC_REF, "open", [FAILING_RESOURCE])
    assert nc["first_seen"] == at(8).isoformat() and nc["last_seen"] == at(10).isoformat()

    status = cli(period, "status", "--as-of", when)
    assert status["runs"][0]["finished_at"] == at(10).isoformat()
    assert all(r["finished_at"] <= at(10).isoformat() and r["seal"] == "valid" for r in status["runs"])
    assert status["open_nonconformities"] == {"major": 0, "minor": 1, "ofi": 0}
    assert {e["state"] for e in status["evidence"]} == {"fresh"} and status["leases"] == []


def test_on_day_20_the_nc_is_closed_the_control_passes_and_the_attestation_has_expired(period):
    when = period.as_of(20)
    controls = by_id(cli(period, "controls", "--as-of", when))
    assert controls[FAILING_CONTROL]["status"] == "passing"
    assert controls[FAILING_CONTROL]["open_nonconformities"] == []
    assert (
        controls[ATTESTED_CONTROL]["status"] == "manual" and controls[ATTESTED_CONTROL]["attestation"] is None
    )

    shown = cli(period, "nc", "show", NC_REF, "--as-of", when)
    assert shown["state"] == "closed" and shown["last_seen"] == at(12).isoformat()
    assert [(t["actor"], t["to_state"]) for t in shown["transitions"]] == [
        ("annexa", "draft"), (ACTOR, "open"), (ACTOR, "resolved"), (ACTOR, "closed"),
    ]  # fmt: skip
    assert shown["transitions"][-1]["at"] == at(14, time(10, 30)).isoformat()
    proc = annexa("soa", "--format", "json", "--as-of", when, "--config", str(period.config))
    soa = {r["control"]: r for r in json.loads(proc.stdout)}
    assert soa[FAILING_CONTROL]["implementation"] == "passing" and soa[ATTESTED_CONTROL]["attestation"] == ""
    assert soa["A.8.5"]["evidence"] == "stale"  # GitHub not collected on days 20-22
    # the reason its last evaluation gave (day 13, when the check passed again)
    assert shown["reasons"][FAILING_RESOURCE].endswith(f"terms of employment signed on {at(13).date()}")


def test_export_as_of_day_10_verifies_and_its_registers_show_that_day(period, tmp_path):
    out = tmp_path / "day10.zip"
    summary = cli(period, "export", "--out", str(out), "--as-of", period.as_of(10))
    assert summary["head"]
    report = annexa_json("verify", str(out), "--public-key", str(period.root / "signing.pub"))
    assert report["ok"], report["problems"]
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        controls = by_id(json.loads(zf.read("controls.json")))
        ncs = json.loads(zf.read(NCS))
        soa = {r["control"]: r for r in json.loads(zf.read("soa.json"))}
        runs = json.loads(zf.read(RUNS))
    assert manifest["as_of"] == period.as_of(10)
    assert controls[FAILING_CONTROL]["status"] == "failing"
    assert (
        soa[FAILING_CONTROL]["implementation"] == "failing" and soa[FAILING_CONTROL]["open_nonconformities"]
    )
    assert [(n["id"], n["state"]) for n in ncs] == [(NC_REF, "open")]
    assert [t["to_state"] for t in ncs[0]["history"]] == ["draft", "open"]
    assert max(r["identity"]["finished_at"] for r in runs) == at(10).isoformat()


def test_before_anything_was_sealed_nothing_is_proven(period, tmp_path):
    early = (at(1) - timedelta(seconds=1)).isoformat()
    proc = annexa("nc", "show", NC_REF, "--as-of", early, "--config", str(period.config))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no nonconformity" in proc.stderr
    proc = annexa(
        "export", "--out", str(tmp_path / "x.zip"), "--as-of", early, "--config", str(period.config)
    )
    assert proc.returncode == 2 and "no sealed run" in proc.stderr and not (tmp_path / "x.zip").exists()


@pytest.mark.parametrize("value", ["2999-01-01", "yesterday"])  # every case: test_bad_as_of_values
def test_a_future_or_malformed_as_of_is_a_usage_error(period, value):
    proc = annexa("nc", "list", "--as-of", value, "--config", str(period.config), "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "--as-of" in proc.stderr and "Traceback" not in proc.stderr


# --- in process, on both backends -------------------------------------------------------------


def _state(p: PeriodStore, when: datetime) -> str | None:
    docs = registers_at(p.store, when)
    return docs[0]["state"] if docs else None


def _control(p: PeriodStore, when: datetime, control: str) -> dict:
    return next(
        c.document() for c in control_statuses(p.store, p.settings, p.registry, when) if c.id == control
    )


@pytest.mark.parametrize(
    ("when", "state", "status"),
    [
        (at(8) - timedelta(microseconds=1), None, "passing"),  # the day-7 evaluation
        (at(8), "draft", "failing"),
        (at(9, time(9, 59)), "draft", "failing"),
        (at(9, time(10)), "open", "failing"),
        (at(13), "open", "passing"),  # passing again, ready for verification, not closed by the machine
        (at(14, time(10, 15)), "resolved", "passing"),
        (at(14, time(10, 30)), "closed", "passing"),
        (at(DAYS, END_OF_DAY), "closed", "passing"),
    ],
)
def test_each_instant_shows_the_nc_and_control_as_its_entries_left_them(on_backend, when, state, status):
    assert _state(on_backend, when) == state
    control = _control(on_backend, when, FAILING_CONTROL)
    assert control["status"] == status
    assert control["open_nonconformities"] == ([NC_REF] if state in {"draft", "open", "resolved"} else [])


def test_ready_for_verification_is_what_the_sealed_version_said(on_backend):
    [before] = nc_versions_at(on_backend.store, at(12, END_OF_DAY))
    [after] = nc_versions_at(on_backend.store, at(13))
    assert not before.document["ready_for_verification"] and after.document["ready_for_verification"]


@pytest.mark.parametrize(
    ("when", "valid"),
    [
        (at(1, time(6, 59, 59)), False),  # not attested yet
        (at(1, time(7)), True),
        (at(15, time(6, 59, 59)), True),
        (at(15, time(7)), False),  # at <= T < expires_at
    ],
)
def test_an_attestation_counts_from_when_it_was_sealed_until_it_expires(on_backend, when, valid):
    assert (_control(on_backend, when, ATTESTED_CONTROL)["attestation"] is not None) is valid


def test_the_index_probe_picks_what_ranking_every_sealed_row_would(on_backend):
    """For every day's end, the newest counted evaluation per (check, scope) found the slow way."""
    store = on_backend.store
    with store.read() as s:
        rows = s.execute(
            select(CheckRun, Run.finished_at).join(Run, Run.id == CheckRun.run_id).where(counted_runs(store))
        ).all()
    for day in range(1, DAYS + 1):
        when = at(day, END_OF_DAY)
        expected: dict[tuple[str, str], CheckRun] = {}
        for cr, finished in rows:
            key = (cr.check_id, cr.scope)
            if finished <= when and (
                key not in expected
                or (cr.evaluated_at, cr.id) > (expected[key].evaluated_at, expected[key].id)
            ):
                expected[key] = cr
        got = {(c.check_id, c.scope): c.id for c in latest_check_runs(store, at=when)}
        assert got == {k: v.id for k, v in expected.items()}, day
    missing = {c.check_id for c in latest_check_runs(store, at=at(21, END_OF_DAY))}
    assert GITHUB_CHECK in missing  # not collected that day: the day-19 evaluation is the newest


def test_before_the_first_run_checks_have_no_evidence_and_nothing_is_open(on_backend):
    early = at(1) - timedelta(seconds=1)
    p = on_backend
    controls = {c.id: c.document() for c in control_statuses(p.store, p.settings, p.registry, early)}
    assert controls[FAILING_CONTROL]["status"] == "error"  # configured, never evaluated: not a pass
    assert controls[FAILING_CONTROL]["check_outcomes"] == {FAILING_CHECK: "error"}
    assert (
        controls[ATTESTED_CONTROL]["status"] == "manual" and controls[ATTESTED_CONTROL]["attestation"] is None
    )
    assert registers_at(p.store, early) == []
    status = status_document(p.store, p.settings, p.registry, utcnow(), early)
    assert status["runs"] == [] and status["evidence"] == []
    assert status["open_nonconformities"] == {"major": 0, "minor": 0, "ofi": 0}
    soa = {r["control"]: r for r in soa_rows(p.store, p.settings, p.registry, utcnow(), early)}
    assert soa[FAILING_CONTROL]["evidence"] == "missing" and soa[FAILING_CONTROL]["resources_passing"] == 0


def test_as_of_now_is_the_live_view(on_backend):
    """The sealed view at the present moment and the live registers agree on a consistent store."""
    p, now = on_backend, utcnow()
    live = [c.document() for c in control_statuses(p.store, p.settings, p.registry)]
    assert [c.document() for c in control_statuses(p.store, p.settings, p.registry, now)] == live
    with p.store.read() as s:
        register = [nc_document(nc) for nc in list_ncs(s)]
    assert registers_at(p.store, now) == register
    assert soa_rows(p.store, p.settings, p.registry, now, now) == soa_rows(
        p.store, p.settings, p.registry, now
    )
    as_of = status_document(p.store, p.settings, p.registry, now, now)
    assert as_of == status_document(p.store, p.settings, p.registry, now)
    assert {e["source"]: e["state"] for e in as_of["evidence"]}[MISSING_SOURCE] == "stale"


def test_an_nc_version_edited_after_it_was_sealed_stops_the_view(period):
    """An attacker with SQL access rewrites the register as it stood on day 10: closed, no failure."""
    store, when = period.store, at(10, END_OF_DAY)
    [sealed] = nc_versions_at(store, when)
    forged = {**sealed.document, "state": "closed", "failing_resources": []}
    with store.write() as s:
        s.execute(update(NcVersion).where(NcVersion.id == sealed.id).values(document=forged))
    try:
        with pytest.raises(Unverifiable, match=f"{NC_REF} version {sealed.version} does not match"):
            control_statuses(store, period.settings, period.registry, when)
    finally:
        with store.write() as s:
            s.execute(update(NcVersion).where(NcVersion.id == sealed.id).values(document=sealed.document))
    assert registers_at(store, when)[0]["state"] == "open"


# --- parsing ------------------------------------------------------------------------------------

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("2026-03-31", datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=UTC)),  # the end of that day
        ("2026-03-31T12:00:00", datetime(2026, 3, 31, 12, tzinfo=UTC)),  # naive: UTC
        ("2026-03-31T12:00:00Z", datetime(2026, 3, 31, 12, tzinfo=UTC)),
        ("2026-03-31T14:00:00+02:00", datetime(2026, 3, 31, 12, tzinfo=UTC)),
        ("2026-03-31 12:00", datetime(2026, 3, 31, 12, tzinfo=UTC)),
        ("2026-06-15", NOW),  # today: now, not the end of a day still to come
        ("2026-06-15T12:00:00Z", NOW),
    ],
)
def test_as_of_values(value, moment):
    assert parse_as_of(value, NOW) == moment


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-06-16", "in the future"),
        ("2026-06-15T12:00:01Z", "in the future"),
        ("2026-06-15T13:00:00+00:30", "in the future"),
        ("", "is not an ISO 8601"),
        ("31/03/2026", "is not an ISO 8601"),
        ("2026-02-30", "is not an ISO 8601"),
        ("2026-03-31T25:00", "is not an ISO 8601"),
        ("0001-01-01T00:00:00+01:00", "is not an ISO 8601"),  # before the first moment UTC can name
    ],
)
def test_bad_as_of_values(value, message):
    with pytest.raises(UsageError, match=message):
        parse_as_of(value, NOW)
