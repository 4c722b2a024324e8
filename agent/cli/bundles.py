"""Evidence bundles for auditors: `export` writes a signed one, `verify` checks one or the store."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.context import emit_json, open_config, out_file, say, writing
from agent.cli.options import ActorOpt, AsOfOpt, ConfigOpt, JsonOpt
from agent.errors import UsageError


def _day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag} {value!r} is not a date such as 2026-11-01") from None


def export_cmd(
    out: Annotated[str, typer.Option("--out", help="The bundle to write (a .zip).")],
    start: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD) of runs to include.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD) of runs to include.")] = None,
    controls: Annotated[
        str | None, typer.Option("--controls", help="Only these controls, e.g. A.5.15,A.8.5.")
    ] = None,
    as_of: AsOfOpt = None,
    by: ActorOpt = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="bundle (--out names the .zip), or oscal: --out names a directory that gets the bundle "
            "(bundle.zip) and its OSCAL documents (oscal/: catalog, profile, assessment results).",
        ),
    ] = "bundle",
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Write a signed evidence bundle an auditor can verify offline."""
    from agent.audit.asof import as_of_option
    from agent.audit.catalog import annex_a
    from agent.bundle.export import export_bundle

    first, last = _day(start, "--from"), _day(end, "--to")
    if last == date.max:  # the period ends at the start of the day after
        raise UsageError(f"--to {end!r}: the last day that can be given is {date.max - timedelta(days=1)}")
    if first and last and first > last:
        raise UsageError("--from is after --to")
    wanted = [c.strip() for c in controls.split(",") if c.strip()] if controls else None
    for c in wanted or []:
        if c not in annex_a():
            raise UsageError(f"--controls: {c!r} is not an Annex A 2022 control")
    at = as_of_option(as_of)
    if fmt not in ("bundle", "oscal"):
        raise UsageError(f"--format {fmt!r} is not one of bundle, oscal")
    from agent.bundle.oscal import extract_oscal, oscal_directory

    path = oscal_directory(out) if fmt == "oscal" else out_file(out)
    if path.suffix != ".zip":
        raise UsageError(f"--out {out}: a bundle is a .zip file")
    settings, store, registry = open_config(config)
    with writing(path):
        summary = export_bundle(
            store, settings, registry, path, start=first, end=last, controls=wanted, as_of=at, exported_by=by
        )
        if fmt == "oscal":
            summary["oscal"] = extract_oscal(path)
    if json_out:
        emit_json(summary)
    else:
        say(
            f"wrote {summary['bundle']}: runs {summary['first_run']}-{summary['last_run']}, {summary['files']} files, "
            f"chain head {summary['head']}"
        )
        if "oscal" in summary:
            say(f"OSCAL documents (the bundle's oscal/, byte for byte): {', '.join(summary['oscal'])}")
        say(f"signed by {summary['fingerprint']}")


def verify(
    bundle: Annotated[Path | None, typer.Argument(help="The bundle (.zip) to verify.")] = None,
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="The key the bundle must be signed with (PEM).")
    ] = None,
    store_flag: Annotated[
        bool, typer.Option("--store", help="Verify the store's own hash chain instead.")
    ] = False,
    head: Annotated[
        str | None,
        typer.Option("--head", help="With --store: a chain head you kept; it must still be on the chain."),
    ] = None,
    since: Annotated[
        Path | None,
        typer.Option("--since", help="An older bundle whose chain this one must extend."),
    ] = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Re-check every hash, signature and link of the chain; exit 1 if anything is off.

    Without --public-key only self-consistency is proven, and the output says so."""
    from agent.bundle.verify import verify_bundle
    from agent.store.verify import verify_store

    if store_flag == (bundle is not None):
        raise UsageError("give either a bundle to verify or --store")
    if head is not None and not store_flag:
        raise UsageError("--head goes with --store (for a bundle, use --since OLDER.zip)")
    if since is not None and store_flag:
        raise UsageError("--since goes with a bundle (for the store, use --head HASH)")
    if head is not None and not (len(head) == 64 and all(c in "0123456789abcdef" for c in head)):
        raise UsageError("--head must be a chain head: 64 lowercase hex digits")
    if store_flag:
        from agent.bundle.verify import pinned_keys

        _, store, _ = open_config(config, plugins="none")
        if public_key is not None:
            store.keys = pinned_keys(public_key)
        report = verify_store(store, head)
    else:
        assert bundle is not None
        report = verify_bundle(bundle, public_key, since)
    if json_out:
        emit_json(report.document())
    else:
        for problem in report.problems:
            say(f"FAIL {problem}")
        for note in report.notes:
            say(f"note: {note}")
        what = "store" if store_flag else str(bundle)
        verdict = "verified" if report.ok else f"NOT verified ({len(report.problems)} problem(s))"
        say(
            f"{what}: {verdict}: {report.runs} run(s), {report.checked_files} file(s), {report.records} record(s)"
            + (f", signed by {report.fingerprint}" if report.fingerprint else "")
            + (f", head {report.head}" if report.head else "")
        )
    raise typer.Exit(0 if report.ok else 1)
