"""Human output of the CLI (Rich tables) and the JSON documents of `--json`.

Every value reaches Rich as a `Text` built by `text`, never as a `str`: Rich parses a `str` as markup,
so a security group named `[/]` would crash the output and `[link=...]` would become a hyperlink.
Our own styling is applied to the `Text`, so it still works around the data.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from agent.literal import literal

if TYPE_CHECKING:
    from agent.audit.controls import ControlStatus
    from agent.run.runner import RunSummary
    from agent.store.schema import Run

STATUS_STYLE = {
    "passing": "green",
    "pass": "green",
    "failing": "bold red",
    "fail": "bold red",
    "error": "yellow",
    "manual": "dim",
    "excluded": "dim",
    "not_applicable": "dim",
    "complete": "green",
    "partial": "yellow",
    "failed": "red",
    "aborted": "red",
    "running": "cyan",
}

# On a terminal Rich uses its width; piped output (CI logs, `make demo | tee`) gets room for ids.
console = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 160)


def text(value: object, style: str = "") -> Text:
    """`value` shown literally (see `agent.literal`) in our `style`."""
    return Text(literal(value), style=style)


def styled(value: str) -> Text:
    return text(value, STATUS_STYLE.get(value, ""))


def add_row(table: Table, *cells: object) -> None:
    """A row of literal cells: `Text` cells keep their style, anything else goes through `text`."""
    table.add_row(*(c if isinstance(c, Text) else text(c) for c in cells))


class RichProgress:
    """Progress bar over observations, shown only on a terminal."""

    def __init__(self) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[last]}", style="dim", markup=False),
            console=console,
            transient=True,
        )
        self._task: Any = None

    def start(self, total: int) -> None:
        self._bar.start()
        self._task = self._bar.add_task("collecting", total=total, last="")

    def advance(self, label: str, ok: bool) -> None:
        self._bar.update(self._task, advance=1, last=("" if ok else "failed: ") + literal(label))

    def stop(self) -> None:
        self._bar.stop()


def run_document(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "root_hash": run.root_hash,
        "prev_root_hash": run.prev_root_hash,
        "error": run.error,
    }


def summary_document(summary: RunSummary) -> dict[str, Any]:
    return {
        "run": run_document(summary.run),
        "observations": {"ok": summary.observations_ok, "error": summary.observations_failed},
        "checks": [
            {
                "check_id": o.check.id,
                "scope": o.scope,
                "outcome": o.status.value,
                "severity": o.check.severity.value,
                "controls": list(o.check.controls),
                "results": o.counts,
                "nonconformity": o.nc,
            }
            for o in summary.outcomes
        ],
    }


def print_summary(summary: RunSummary) -> None:
    run = summary.run
    console.print(
        Text.assemble(
            f"Run {run.id} ",
            styled(run.status),
            f": {summary.observations_ok} observation(s) stored, "
            f"{summary.observations_failed} failed; root {run.root_hash}",
        )
    )
    table = Table(title="Checks", title_justify="left")
    for col in ("check", "scope", "severity", "outcome", "pass", "fail", "error", "n/a", "NC"):
        table.add_column(col, no_wrap=col in ("check", "scope", "NC"))
    for o in sorted(summary.outcomes, key=lambda o: (o.status.value != "fail", o.check.id, o.scope)):
        counts = o.counts
        add_row(
            table,
            o.check.id,
            o.scope,
            o.check.severity.value,
            styled(o.status.value),
            counts.get("pass", 0),
            counts.get("fail", 0),
            counts.get("error", 0),
            counts.get("not_applicable", 0),
            o.nc or "",
        )
    console.print(table)


def print_status(doc: dict[str, Any]) -> None:
    runs = Table(title="Recent runs", title_justify="left")
    for col in ("run", "kind", "status", "started", "root", "seal"):
        runs.add_column(col)
    for r in doc["runs"]:
        add_row(
            runs,
            r["id"],
            r["kind"],
            styled(r["status"]),
            r["started_at"][:19],
            (r["root_hash"] or "")[:16],
            r["seal"],
        )
    console.print(runs)
    ev = Table(title="Evidence", title_justify="left")
    for col in ("source", "scope", "state", "age (h)", "limit (h)", "records", "error"):
        ev.add_column(col)
    for e in doc["evidence"]:
        state = {"fresh": "pass", "stale": "error", "error": "fail"}[e["state"]]
        add_row(
            ev,
            e["source"],
            e["scope"],
            text(e["state"], STATUS_STYLE[state]),
            e["age_hours"],
            e["limit_hours"],
            e["records"],
            e["error"] or "",
        )
    console.print(ev)
    console.print(
        text("open nonconformities: " + ", ".join(f"{k} {v}" for k, v in doc["open_nonconformities"].items()))
    )
    for lease in doc["leases"]:
        console.print(
            text(
                f"busy: {lease['target']} held by `{lease['holder']}` (pid {lease['pid']} on {lease['host']}) "
                f"until {lease['expires_at'][:19]}"
            )
        )


def print_controls(statuses: list[ControlStatus], *, all_controls: bool) -> None:
    shown = [c for c in statuses if all_controls or c.checks or c.status == "excluded"]
    table = Table(title="Annex A controls", title_justify="left")
    for col in ("control", "title", "status", "checks", "open NCs"):
        table.add_column(col)
    for c in shown:
        add_row(table, c.id, c.title, styled(c.status), len(c.checks), ", ".join(c.open_nonconformities))
    console.print(table)
    counts = Counter(c.status for c in statuses)
    line = Text(", ").join(
        Text.assemble(styled(k), f": {counts[k]}")
        for k in ("failing", "error", "passing", "manual", "excluded")
    )
    line.append(
        f" (of {len(statuses)} controls" + ("" if all_controls else "; --all lists the manual ones too") + ")"
    )
    console.print(line)


def print_ncs(documents: list[dict[str, Any]]) -> None:
    table = Table(title="Nonconformities", title_justify="left")
    for col in ("id", "state", "severity", "check", "scope", "controls", "failing", "last seen"):
        table.add_column(col, no_wrap=col in ("id", "check", "scope", "last seen"))
    for nc in documents:
        add_row(
            table,
            nc["id"],
            nc["state"],
            nc["severity"],
            nc["check_id"],
            nc["scope"],
            ", ".join(nc["controls"]),
            len(nc["failing_resources"]),
            nc["last_seen"][:16].replace("T", " "),
        )
    console.print(table)


def print_nc(doc: dict[str, Any]) -> None:
    console.print(
        Text.assemble(
            text(doc["id"], "bold"),
            " ",
            text(doc["title"]),
            " (",
            styled(doc["state"]),
            ", ",
            text(doc["severity"]),
            ")",
        )
    )
    for key in ("check_id", "scope", "controls", "first_seen", "last_seen", "ready_for_verification"):
        console.print(text(f"  {key}: {doc[key]}"))
    console.print(text(f"  rationale: {doc.get('rationale', '')}"))
    console.print(text(f"  remediation: {doc.get('remediation', '')}"))
    console.print("  failing resources:")
    for res in doc["failing_resources"]:
        reason = doc.get("reasons", {}).get(res, "")
        console.print(text(f"    - {res}" + (f": {reason}" if reason else "")))
    console.print("  history:")
    for t in doc.get("transitions", []):
        console.print(
            text(
                f"    {t['at'][:19]} {t['actor']}: {t['from_state'] or '-'} -> {t['to_state']} ({t['reason']})"
            )
        )
