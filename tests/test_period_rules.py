"""The rules of the audit period, on plans and facts built by hand: cadence windows, gap causes,
failures, stand-in scopes, NC lists, attestation coverage, and the fast re-hash of evaluations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from agent.audit.period import (
    CheckPlan,
    Collection,
    ControlPlan,
    Facts,
    NcInfo,
    Plan,
    Scoped,
    SourcePlan,
    Step,
    Vouch,
    period_report,
)
from agent.audit.period_read import bounds
from agent.audit.sealed_outcome import sealed_outcome
from agent.audit.windows import Evaluation, cadence_of, schedule_text, windows
from agent.bundle.period_part import render_period
from agent.errors import UsageError
from agent.store.hashing import check_run_hash

DAY = timedelta(days=1)

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def _ev(day: int, outcome: str) -> Evaluation:
    return Evaluation(START + (day - 1) * DAY + timedelta(hours=6), outcome)


def _plan(days: int = 7, checks: tuple[str, ...] = ("c.x.y",)) -> Plan:
    source = SourcePlan("sys.things.items", cadence_of("1d"), timedelta(days=1))
    return Plan(
        first=START.date(),
        last=START.date() + (days - 1) * DAY,
        start=START,
        end=START + days * DAY,
        controls=[
            ControlPlan("A.8.9", "Configuration management", "technological", checks),
            ControlPlan("A.5.1", "Policies", "organizational", ()),
        ],
        checks={c: CheckPlan(c, "Things are good", ("sys.things.items",), (source,)) for c in checks},
        excluded={},
    )


def _facts(evaluations, collections=(), steps=(), ncs=(), vouches=()) -> Facts:
    return Facts(
        entries=len(evaluations),
        last_root=None,
        evaluations=list(evaluations),
        collections=lambda sources: [c for c in collections if c.source in sources],
        steps=list(steps),
        ncs=list(ncs),
        vouches=list(vouches),
    )


def _collected(day: int, ok: bool, scope: str = "sys:a") -> Collection:
    return Collection("sys.things.items", scope, START + (day - 1) * DAY + timedelta(hours=5), ok)


def test_gap_causes_and_a_failure_an_error_does_not_end():
    outcomes = {1: "pass", 2: "error", 3: "error", 5: "fail", 6: "error", 7: "fail"}
    collections = [_collected(1, True), _collected(3, False), *(_collected(d, True) for d in (5, 6, 7))]
    doc = period_report(
        _plan(),
        _facts([Scoped("c.x.y", "sys:a", _ev(d, o)) for d, o in outcomes.items()], collections,
               ncs=[NcInfo(4, "c.x.y", "sys:a", "t", ("A.8.9",), "minor")]),
    )  # fmt: skip
    [check] = doc["checks"]
    [s] = check["scopes"]
    # day 2: day 1's evidence is older than its freshness; day 3: the collection failed; day 4: nothing
    # at all; day 6: fresh evidence, yet the check erred.
    assert [(g["start"][:10], g["cause"]) for g in s["gaps"]] == [
        ("2026-01-06", "stale"), ("2026-01-07", "error"), ("2026-01-08", "not collected"), ("2026-01-10", "error"),
    ]  # fmt: skip
    assert [t["state"] for t in s["timeline"]] == ["pass", "gap", "gap", "gap", "fail", "gap", "fail"]
    assert s["timeline"][5]["cause"] == "error"
    [failure] = s["failures"]  # day 6's error neither ends nor restarts the failure
    assert failure["started_at"] == _ev(5, "fail").at.isoformat() and failure["ongoing"] is True
    assert (
        failure["duration_days"] == 2.75
        and failure["failing_evaluations"] == 2
        and failure["nc"] == "NC-0004"
    )
    assert s["conclusion"] == check["conclusion"] == "exceptions"
    assert doc["controls"][1]["conclusion"] == "manual"
    assert doc["controls"][1]["attestations"] == {
        "valid_throughout": False, "uncovered": [{"start": START.isoformat(), "end": (START + 7 * DAY).isoformat()}],
        "attestations": [],
    }  # fmt: skip


def test_a_stand_in_scope_folds_into_its_parts_and_a_check_never_run_is_all_gaps():
    found = [Scoped("c.x.y", "sys", _ev(1, "error"))] + [
        Scoped("c.x.y", "sys:a", _ev(d, "pass")) for d in range(2, 8)
    ]
    doc = period_report(_plan(checks=("c.x.y", "c.x.z")), _facts(found))
    first, never = doc["checks"]
    [part] = first["scopes"]
    assert part["scope"] == "sys:a" and part["windows"]["gaps"] == 1
    assert part["gaps"][0]["cause"] == "not collected"  # no collection at all in the period
    [system] = never["scopes"]
    assert (
        system["scope"] == "sys"
        and system["windows"]["gaps"] == 7
        and system["conclusion"] == "insufficient evidence"
    )
    assert system["passing_share"] == 0.0 and system["evaluations"] == {
        "pass": 0,
        "fail": 0,
        "error": 0,
        "not_applicable": 0,
    }


def test_nc_lists_a_reopened_a_rejected_and_one_still_open():
    steps = [
        Step(1, 1, START - 3 * DAY, None, "draft"), Step(1, 2, START - 2 * DAY, "draft", "closed"),
        Step(1, 3, START + DAY, "closed", "draft"),  # reopened in the period, still open
        Step(2, 4, START + DAY, None, "draft"), Step(2, 5, START + 2 * DAY, "draft", "rejected"),
        Step(3, 6, START - 9 * DAY, None, "draft"), Step(3, 7, START - 8 * DAY, "draft", "closed"),  # before
    ]  # fmt: skip
    ncs = [NcInfo(n, "c.x.y", f"sys:{n}", "t", ("A.8.9",), "minor") for n in (1, 2, 3)]
    doc = period_report(_plan(), _facts([], steps=steps, ncs=ncs))
    assert [n["id"] for n in doc["nonconformities"]] == ["NC-0001", "NC-0002"]
    assert doc["controls"][0]["nonconformities"] == {
        "opened": ["NC-0001", "NC-0002"], "closed": [], "rejected": ["NC-0002"], "still_open": ["NC-0001"],
    }  # fmt: skip
    reopened = doc["nonconformities"][0]
    assert reopened["state_at_start"] == "closed" and reopened["days_open"] == 6.0
    assert reopened["opened_at"] == (START + DAY).isoformat()


def test_overlapping_attestations_cover_the_period():
    vouches = [
        Vouch("A.5.1", START - DAY, START + 3 * DAY, {"file": "a"}),
        Vouch("A.5.1", START + 2 * DAY, None, {"file": "b"}),
        Vouch("A.5.1", START - 9 * DAY, START - 8 * DAY, {"file": "expired before"}),
    ]
    cover = period_report(_plan(), _facts([], vouches=vouches))["controls"][1]["attestations"]
    assert cover["valid_throughout"] is True and cover["uncovered"] == []
    assert [v["file"] for v in cover["attestations"]] == ["a", "b"]


def test_windows_of_an_interval_fold_the_remainder_and_a_cron_runs_from_firing_to_firing():
    weekly = windows(cadence_of("7d"), START, START + 30 * DAY)
    assert [b - a for a, b in weekly] == [7 * DAY, 7 * DAY, 7 * DAY, 9 * DAY]
    assert windows(cadence_of("7d"), START, START + 3 * DAY) == [(START, START + 3 * DAY)]
    weekdays = windows(cadence_of("0 3 * * 1-5"), START, START + 7 * DAY)
    assert [a.strftime("%a %H") for a, _ in weekdays] == ["Mon 00", "Tue 03", "Wed 03", "Thu 03", "Fri 03"]
    assert weekdays[-1][1] == START + 7 * DAY  # Friday's window runs to the period's end
    with pytest.raises(UsageError, match="more than"):
        windows(cadence_of("1s"), START, START + 7 * DAY)


@pytest.mark.parametrize(
    ("text", "shown"),
    [("24h", "1d"), ("6h", "6h"), ("90s", "90s"), ("2w", "2w"), ("0 3 * * 1-5", "0 3 * * 1-5")],
)
def test_schedules_are_shown_as_the_config_writes_them(text, shown):
    assert schedule_text(cadence_of(text)) == shown and schedule_text(cadence_of(shown)) == shown


def test_a_period_ends_now_when_now_comes_first():
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert bounds(date(2026, 3, 1), date(2026, 3, 31), now) == (datetime(2026, 3, 1, tzinfo=UTC), now)
    with pytest.raises(UsageError, match="has not begun yet"):
        bounds(date(2026, 3, 11), date(2026, 3, 31), now)


def test_the_page_shows_collected_strings_literally():
    doc = period_report(_plan(), _facts([Scoped("c.x.y", "sys:<script>alert(1)</script>", _ev(1, "pass"))]))
    page = render_period(doc)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("scope", "passed"),
    [
        ("aws:000000000001", 3),
        ("sys:é", 3),  # not ASCII: through the canonicaliser
        ("sys:e\u0301", 3),  # NFC-normalised when hashed
        ('sys:"quoted"', 3),
        ("sys:back\\slash\t", 3),
        ("aws:000000000001", True),  # a boolean is not a count
    ],
)
def test_an_evaluation_re_hashed_fast_gives_its_sealed_hash(scope, passed):
    columns = (
        "check_id",
        "scope",
        "evaluated_at",
        "outcome",
        "passed",
        "failed",
        "errored",
        "not_applicable",
        "result_set",
    )
    values = ("c.x.y", scope, "2026-01-05T06:00:00+00:00", "fail", passed, 1, 0, 2, "ab" * 32)
    digest = check_run_hash("u" * 32, dict(zip(columns, values, strict=True)))
    assert sealed_outcome("u" * 32, values, digest) == "fail"
    assert sealed_outcome("v" * 32, values, digest) == "error"  # another run's
    assert sealed_outcome("u" * 32, (*values[:3], "pass", *values[4:]), digest) == "error"  # edited
