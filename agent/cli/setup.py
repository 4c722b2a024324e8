"""Getting started: `init` writes a starter configuration and signing key, `demo` shows the agent at work."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.context import configure_logs, emit_json, progress, say, writing
from agent.cli.options import JsonOpt
from agent.config import DEFAULT_PATH
from agent.errors import UsageError


def init(
    path: Annotated[Path, typer.Option("--path", help="Where to write the starter config.")] = DEFAULT_PATH,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter configuration (mode 0600) and the bundle signing key."""
    from agent.bundle.signing import create_key_pair, fingerprint
    from agent.private_files import create_private, replace_file
    from agent.resources import config_file

    key_path = path.parent / "annexa-signing.key"
    for target in (path, key_path):
        if target.is_symlink():
            raise UsageError(f"{target} is a symbolic link: refusing to write through it")
    if path.exists() and not force:
        raise UsageError(f"{path} already exists (use --force to overwrite)")
    if not path.parent.is_dir():
        raise UsageError(f"{path.parent} is not a directory")
    text, _ = config_file("annexa.example.toml")
    with writing(path):
        if force:
            replace_file(path, text.encode("utf-8"))
        else:
            with create_private(path) as fh:
                fh.write(text.encode("utf-8"))
    say(
        f"wrote {path}: enable and fill in the sections of the systems to collect from, then run `annexa collect`"
    )
    if key_path.exists():
        say(f"kept the existing signing key {key_path}")
        return
    with writing(key_path):
        public = create_key_pair(key_path)
    say(f"wrote {key_path} (private, mode 0600) and {key_path.with_suffix('.pub')}")
    say(f"bundle signing key fingerprint: {fingerprint(public)} (give it to your auditor)")


def demo(
    directory: Annotated[
        Path,
        typer.Option("--dir", help="The demo's own directory, recreated on every run; any other is refused."),
    ] = Path("annexa-demo"),
    today: Annotated[
        str | None,
        typer.Option("--today", help="The day (YYYY-MM-DD, UTC) the demo's fortnight ends on; default: now."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Replay a fortnight of a simulated organisation (in-process moto and simulators) and show what an
    auditor would find: 14 daily collections, sealed as real ones, so the dashboard has trends to show.

    Exits 2 without touching anything when --dir exists and was not created by `annexa demo`.
    """
    from agent.audit.controls import control_statuses
    from agent.audit.nonconformities import list_ncs, nc_document
    from agent.cli.render import print_controls, print_ncs, print_summary, summary_document
    from agent.demo.people import SPOTLIGHT
    from agent.demo.setup import run_demo
    from agent.plugin.model import Status
    from agent.store.results import results_of

    configure_logs(quiet=True)
    summary, settings, store, registry = run_demo(directory, progress(json_out), _demo_day(today))
    try:
        statuses = control_statuses(store, settings, registry)
        with store.read() as s:
            ncs = [nc_document(nc) for nc in list_ncs(s)]
        spotlight = [
            (o.nc, SPOTLIGHT[o.check.id], r.reason)
            for o in summary.outcomes
            if o.check.id in SPOTLIGHT
            for r in results_of(store, o.result_set)
            if r.status == Status.FAIL
        ]
    finally:
        store.close()
    config = directory / "annexa.toml"
    dashboard = f"annexa serve --config {config}"
    if json_out:
        emit_json(
            {
                **summary_document(summary),
                "controls": [c.document() for c in statuses],
                "nonconformities": ncs,
                "dashboard": dashboard,
            }
        )
        return
    print_summary(summary)
    print_controls(statuses, all_controls=False)
    print_ncs(ncs)
    for nc, title, reason in spotlight:
        say(f"{title} ({nc}): {reason}")
    first = spotlight[0][0] if spotlight else "NC-0001"
    say(f"Explore further with: annexa nc show {first} --config {config}")
    say(f"Open the dashboard, with trends over the demo's 14 days, with: {dashboard}")


def _demo_day(text: str | None) -> datetime | None:
    """`--today` as noon UTC of that day (a fixed time, so a replay is reproducible)."""
    if text is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(12, 0), tzinfo=UTC)
    except ValueError:
        raise UsageError(f"--today {text!r} is not a date such as 2026-03-16") from None
