"""Cadence windows over an audit period, and how one check in one scope fared in each of them.

A check is expected to be evaluated on fresh evidence once per window of its cadence. Windows are
half-open, [start, end), and never shorter than one cadence, so a schedule that keeps time always
has a run in each: for an interval they are anchored at the period's start and the remainder is
folded into the last one; for a cron expression they run from one firing to the next, the period's
start standing in for the first firing. A window is `pass` (a non-error evaluation in it, none
failing; `not_applicable` counts here: nothing failed), `fail`, or a `gap` whose cause is read
from the evaluations and collections: `not collected`, `error` or `stale`. A gap never passes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from agent.config.cadence import Cadence, parse_cadence
from agent.errors import UsageError

MAX_WINDOWS = 50_000  # per cadence and period: an hourly cadence over five years
_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))

NOT_COLLECTED, ERROR, STALE = "not collected", "error", "stale"
EFFECTIVE, EXCEPTIONS, INSUFFICIENT, MANUAL = "effective", "exceptions", "insufficient evidence", "manual"
# The worst conclusion of its parts is a whole's: a failure found outranks evidence missing.
RANK = {EFFECTIVE: 0, INSUFFICIENT: 1, EXCEPTIONS: 2}


class Evaluation(NamedTuple):
    """One sealed evaluation of a check in a scope: when, and its outcome (an edited one reads `error`).
    A tuple: a year of them is some 100,000."""

    at: datetime
    outcome: str


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def days(delta: timedelta) -> float:
    return round(delta.total_seconds() / 86400, 2)


def schedule_text(cadence: Cadence) -> str:
    """The schedule as the config writes it (`1d`, `6h`, `0 3 * * 1-5`), so it parses back."""
    if cadence.cron is not None:
        return cadence.cron
    assert cadence.interval is not None  # built with one or the other
    seconds = int(cadence.interval.total_seconds())
    unit, size = next((u, n) for u, n in _UNITS if seconds % n == 0)
    return f"{seconds // size}{unit}"


def cadence_document(cadence: Cadence) -> dict[str, Any]:
    interval = cadence.interval
    return {
        "schedule": schedule_text(cadence),
        "window_seconds": int(interval.total_seconds()) if interval is not None else None,
    }


def cadence_of(schedule: str) -> Cadence:
    """A declared schedule back to its cadence (a bundle's period.json names each)."""
    try:
        return parse_cadence(schedule)
    except ValueError as exc:
        raise ValueError(f"schedule {schedule!r}: {exc}") from None


def _fires(cadence: Cadence, start: datetime, end: datetime) -> list[datetime]:
    trigger = cadence.trigger(timedelta(0))
    fires: list[datetime] = []
    previous, now = None, start - timedelta(microseconds=1)
    while len(fires) <= MAX_WINDOWS:
        nxt = trigger.get_next_fire_time(previous, now)
        if nxt is None or nxt >= end:
            return fires
        if nxt >= start:
            fires.append(nxt)
        previous, now = nxt, nxt
    return fires


def windows(cadence: Cadence, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The cadence's half-open windows covering [start, end), each at least one cadence long."""
    if cadence.interval is not None:
        step = cadence.interval
        count = max(1, int((end - start) / step))
        starts = [start + n * step for n in range(count)] if count <= MAX_WINDOWS else []
    else:
        starts = [start, *_fires(cadence, start, end)[1:]]
    if not starts or len(starts) > MAX_WINDOWS:
        raise UsageError(
            f"the period holds more than {MAX_WINDOWS} windows of the schedule {schedule_text(cadence)}: "
            "shorten it"
        )
    return list(zip(starts, [*starts[1:], end], strict=True))


def _window_state(outcomes: Sequence[str]) -> str:
    if "fail" in outcomes:
        return "fail"
    if any(o in ("pass", "not_applicable") for o in outcomes):
        return "pass"
    return "gap"


def scope_report(
    spans: Sequence[tuple[datetime, datetime]],
    evaluations: Sequence[Evaluation],
    cause: Callable[[Evaluation], str],
    nc: str | None,
) -> dict[str, Any]:
    """One check in one scope over the period's windows: timeline, gaps, failures, conclusion.

    `evaluations` are in time order and inside the windows; `cause` says why an `error` one gave
    no evidence; `nc` is the check and scope's nonconformity, which each failure links to."""
    starts = [a for a, _ in spans]
    per_window: list[list[Evaluation]] = [[] for _ in spans]
    for e in evaluations:
        per_window[bisect_right(starts, e.at) - 1].append(e)
    runs: list[list[Any]] = []  # [first window, last window, count, state, cause]: equal windows merged
    tally = {"pass": 0, "fail": 0, "gap": 0}
    for n, inside in enumerate(per_window):
        state = _window_state([e.outcome for e in inside]) if inside else "gap"
        why = (cause(inside[-1]) if inside else NOT_COLLECTED) if state == "gap" else None
        tally[state] += 1
        if runs and runs[-1][3] == state and runs[-1][4] == why:
            runs[-1][1] = n
            runs[-1][2] += 1
        else:
            runs.append([n, n, 1, state, why])
    timeline = [
        {"start": iso(spans[a][0]), "end": iso(spans[b][1]), "windows": count, "state": state}
        | ({"cause": why} if why is not None else {})
        for a, b, count, state, why in runs
    ]
    counts = dict.fromkeys(("pass", "fail", "error", "not_applicable"), 0)
    for e in evaluations:
        counts[e.outcome] = counts.get(e.outcome, 0) + 1
    failures = _failures(evaluations, spans[-1][1], nc)
    conclusion = EXCEPTIONS if tally["fail"] else INSUFFICIENT if tally["gap"] else EFFECTIVE
    return {
        "conclusion": conclusion,
        "windows": {
            "total": len(spans),
            "with_evidence": tally["pass"] + tally["fail"],
            "passing": tally["pass"],
            "failing": tally["fail"],
            "gaps": tally["gap"],
        },
        "passing_share": round(tally["pass"] / len(spans), 4),
        "evaluations": counts,
        "failures": failures,
        "gaps": [{k: s[k] for k in ("start", "end", "windows", "cause")} for s in timeline if "cause" in s],
        "timeline": timeline,
    }


def _failures(evaluations: Sequence[Evaluation], end: datetime, nc: str | None) -> list[dict[str, Any]]:
    """Each failure: from its first failing evaluation to the first passing one after it (an
    `error` ends none: missing evidence proves nothing), or ongoing at the period's end."""
    out: list[dict[str, Any]] = []
    began: datetime | None = None
    failing = 0
    for e in evaluations:
        if e.outcome == "fail":
            began, failing = began or e.at, failing + 1
        elif e.outcome in ("pass", "not_applicable") and began is not None:
            out.append(_failure(began, e.at, failing, nc))
            began, failing = None, 0
    if began is not None:
        out.append(_failure(began, None, failing, nc, end))
    return out


def _failure(
    began: datetime, ended: datetime | None, failing: int, nc: str | None, end: datetime | None = None
) -> dict[str, Any]:
    until = ended or end
    assert until is not None
    return {
        "started_at": iso(began),
        "ended_at": iso(ended),
        "ongoing": ended is None,
        "duration_days": days(until - began),
        "failing_evaluations": failing,
        "nc": nc,
    }
