"""`annexa period`: did each control operate throughout an audit period, from the sealed chain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.cli.bundles import _day
from agent.cli.context import emit_json, open_config
from agent.cli.options import ConfigOpt, JsonOpt
from agent.errors import UsageError

if TYPE_CHECKING:
    from datetime import date


def period(
    start: Annotated[str, typer.Option("--from", help="First day of the period (YYYY-MM-DD, UTC).")],
    end: Annotated[str, typer.Option("--to", help="Last day of the period (YYYY-MM-DD, UTC), included.")],
    controls: Annotated[
        str | None, typer.Option("--controls", help="Only these controls, e.g. A.5.15,A.8.5.")
    ] = None,
    all_controls: Annotated[
        bool, typer.Option("--all", help="Also list the manual controls' attestation coverage.")
    ] = False,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Operating effectiveness over a period: per control, check and scope, the windows of its cadence.

    The period is [--from 00:00, the day after --to 00:00) UTC, ended now if that is earlier. Only
    evaluations of sealed runs finished in the period count. --json prints one document:

    \b
      period: from, to, start, end (exclusive), sealed_entries, last_root (its last chain root)
      summary: how many controls reached each conclusion
      controls[]: id, title, theme, checks (ids),
        conclusion: effective | exceptions | insufficient evidence | manual,
        nonconformities: {opened, closed, rejected, still_open} (NC ids),
        attestations: null | {valid_throughout, uncovered[{start, end}], attestations[]}
      checks[]: id, title, controls, needs, conclusion, cadence {schedule, window_seconds},
        sources[{source, schedule, freshness_seconds}],
        scopes[]: scope, conclusion, passing_share (passing windows / all windows),
          windows {total, with_evidence, passing, failing, gaps},
          evaluations {pass, fail, error, not_applicable},
          failures[{started_at, ended_at, ongoing, duration_days, failing_evaluations, nc}],
          gaps[{start, end, windows, cause: not collected | error | stale}],
          timeline[{start, end, windows, state: pass | fail | gap, cause}]
      nonconformities[]: id, check_id, scope, title, controls, severity, state_at_start,
        state_at_end, opened_in_period, closed_in_period, opened_at, closed_at,
        days_to_close, days_open (if still open), steps[{at, from, to}] (in the period)
      excluded: {control: justification}

    A window passes with a non-error evaluation in it and none failing; a gap never passes. A
    check-scope is `exceptions` if any window failed, else `insufficient evidence` if any window is
    a gap, else `effective`; a control takes its worst check, or is `manual` without one."""
    from agent.audit.catalog import annex_a
    from agent.audit.period_read import bounds, period_document
    from agent.store.types import utcnow

    first, last = _day(start, "--from"), _day(end, "--to")
    assert first is not None and last is not None  # both options are required
    bounds(first, last, utcnow())  # a period that cannot be is refused before the store is opened
    wanted = [c.strip() for c in controls.split(",") if c.strip()] if controls else None
    for c in wanted or []:
        if c not in annex_a():
            raise UsageError(f"--controls: {c!r} is not an Annex A 2022 control")
    settings, store, registry = open_config(config)
    doc = period_document(store, settings, registry, first, last, utcnow(), wanted)
    if json_out:
        emit_json(doc)
    else:
        _print(doc, first, last, all_controls=all_controls)


def _at(moment: str) -> str:
    return moment[:16].replace("T", " ")


def _print(doc: dict[str, Any], first: date, last: date, *, all_controls: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    from agent.cli.render import add_row, console, text

    style = {"effective": "green", "exceptions": "bold red", "insufficient evidence": "yellow"}
    p = doc["period"]
    console.print(
        text(f"Period {first} to {last}: {p['sealed_entries']} sealed entries, last root {p['last_root']}")
    )
    checks = {c["id"]: c for c in doc["checks"]}
    table = Table(title="Operating effectiveness", title_justify="left")
    columns = (
        "control",
        "conclusion",
        "check",
        "scope",
        "cadence",
        "evidence",
        "passing",
        "gaps",
        "failures",
    )
    for name in columns:
        table.add_column(name, no_wrap=name in ("control", "check", "scope"))
    for control in doc["controls"]:
        verdict = text(control["conclusion"], style.get(control["conclusion"], "dim"))
        if not control["checks"]:
            if all_controls:
                cover = control["attestations"] or {}
                attested = (
                    "attested throughout" if cover.get("valid_throughout") else "not attested throughout"
                )
                add_row(table, control["id"], verdict, attested, "", "", "", "", "", "")
            continue
        for check_id in control["checks"]:
            for s in checks[check_id]["scopes"]:
                w = s["windows"]
                add_row(
                    table, control["id"], verdict, check_id, s["scope"], checks[check_id]["cadence"]["schedule"],
                    f"{w['with_evidence']}/{w['total']}", f"{s['passing_share']:.0%}", w["gaps"], len(s["failures"]),
                )  # fmt: skip
    console.print(table)
    console.print(Text(", ").join(text(f"{k}: {n}", style.get(k, "")) for k, n in doc["summary"].items()))
    for check in doc["checks"]:
        for s in check["scopes"]:
            where = f"{check['id']} @ {s['scope']}"
            for g in s["gaps"]:
                console.print(text(f"gap {where}: [{_at(g['start'])}, {_at(g['end'])}) {g['cause']}"))
            for f in s["failures"]:
                until = _at(f["ended_at"]) if f["ended_at"] else "the end (ongoing)"
                nc = f["nc"] or "no NC"
                console.print(
                    text(f"failure {where}: {_at(f['started_at'])} to {until}, {f['duration_days']} d ({nc})")
                )
    for nc in doc["nonconformities"]:
        closed = f", closed in {nc['days_to_close']} d" if nc["days_to_close"] is not None else ""
        console.print(text(f"{nc['id']} {nc['check_id']} @ {nc['scope']}: {nc['state_at_end']}{closed}"))
