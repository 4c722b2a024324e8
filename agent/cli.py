"""The `annexa` command line.

Exit codes: 0 success, 1 findings where the command is a gate (`--fail-on`), 2 usage or
configuration error, 3 internal error, 75 a target is busy with another agent (try again),
130 interrupted. User errors are one line on stderr.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from agent import __version__, logs
from agent.config import DEFAULT_PATH, Settings, enabled_systems, load_settings
from agent.errors import AnnexaError, ConfigError, StoreError, UsageError
from agent.model import Severity, Status
from agent.registry import Registry, load_plugins
from agent.shard import Shard
from agent.store import Store
from agent.store.types import utcnow

app = typer.Typer(
    name="annexa",
    help="Continuous ISO/IEC 27001:2022 evidence: collect, check, track nonconformities.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
nc_app = typer.Typer(help="Nonconformities opened by failing checks.", no_args_is_help=True)
app.add_typer(nc_app, name="nc")

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (else $ANNEXA_CONFIG, else ./annexa.toml).", dir_okay=True
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else.")]
FailOnOpt = Annotated[
    Severity | None,
    typer.Option(
        "--fail-on", help="Exit 1 if a check of this severity or higher fails or cannot be evaluated."
    ),
]

ShardOpt = Annotated[
    str | None,
    typer.Option(
        "--shard",
        metavar="K/N",
        help="Only this agent's share of the targets: agent K of N sharing one store.",
    ),
]
SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", "-s", help="Only these sources (glob, repeatable).")
]

_log_level: list[str] = []


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"annexa {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    log_level: Annotated[
        str | None,
        typer.Option("--log-level", help="debug, info, warning or error (default: warning on a terminal)."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version),
    ] = False,
) -> None:
    if log_level is not None and log_level.lower() not in ("debug", "info", "warning", "error"):
        raise UsageError(f"--log-level {log_level!r} is not one of debug, info, warning, error")
    _log_level[:] = [log_level or ("warning" if sys.stderr.isatty() else "info")]


def _open(config: Path | None, *, quiet: bool = False) -> tuple[Settings, Store, Registry]:
    """Load and validate everything a command needs before it touches anything."""
    logs.configure(_log_level[0] if _log_level else "info", quiet=quiet)
    settings, used = load_settings(config)
    registry = load_plugins(systems=enabled_systems(settings))
    origin = str(used) if used else "environment/defaults"
    try:
        for spec in registry.checks.values():
            settings.check_params(spec.id, spec.params)
        return settings, Store(settings.store.url), registry
    except (ConfigError, StoreError) as exc:
        raise ConfigError(f"{origin}: {exc}") from None


def _progress(json_out: bool) -> Any:
    if json_out or not sys.stdout.isatty():
        return None
    from agent.render import RichProgress

    return RichProgress()


def _gate(outcomes: list[Any], fail_on: Severity | None) -> int:
    if fail_on is None:
        return 0
    blocking = [
        o
        for o in outcomes
        if o.check.severity.rank >= fail_on.rank and o.status in (Status.FAIL, Status.ERROR)
    ]
    return 1 if blocking else 0


@app.command()
def init(
    path: Annotated[Path, typer.Option("--path", help="Where to write the starter config.")] = DEFAULT_PATH,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter configuration."""
    from agent.resources import config_file

    if path.exists() and not force:
        raise UsageError(f"{path} already exists (use --force to overwrite)")
    if not path.parent.is_dir():
        raise UsageError(f"{path.parent} is not a directory")
    from agent.signing import create_key_pair, fingerprint

    text, _ = config_file("annexa.example.toml")
    path.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {path}: review [aws], [entra], [gcp] and [hr], then run `annexa collect`")
    key_path = path.parent / "annexa-signing.key"
    if key_path.exists():
        typer.echo(f"kept the existing signing key {key_path}")
        return
    public = create_key_pair(key_path)
    typer.echo(f"wrote {key_path} (private, mode 0600) and {key_path.with_suffix('.pub')}")
    typer.echo(f"bundle signing key fingerprint: {fingerprint(public)} (give it to your auditor)")


@app.command()
def collect(
    source: SourceOpt = None,
    shard: ShardOpt = None,
    fail_on: FailOnOpt = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Collect evidence from every enabled source, then run the checks that depend on it.

    Exits 75 without collecting when another agent is working on one of the targets.
    """
    from agent.render import emit_json, print_summary, summary_document
    from agent.runner import Runner

    part = Shard.parse(shard)
    settings, store, registry = _open(config, quiet=json_out and sys.stderr.isatty())
    runner = Runner(store, settings, registry, _progress(json_out), shard=part)
    summary = runner.collect(list(source or []))
    if json_out:
        emit_json(summary_document(summary))
    else:
        print_summary(summary)
    raise typer.Exit(_gate(summary.outcomes, fail_on))


@app.command("check")
def check_cmd(
    shard: ShardOpt = None, fail_on: FailOnOpt = None, json_out: JsonOpt = False, config: ConfigOpt = None
) -> None:
    """Re-run every check on the stored evidence (stale or failed evidence gives `error`)."""
    from agent.render import emit_json, print_summary, summary_document
    from agent.runner import Runner
    from agent.store.leases import Holder

    part = Shard.parse(shard)
    settings, store, registry = _open(config)
    summary = Runner(store, settings, registry, shard=part, holder=Holder.new("check")).check()
    if json_out:
        emit_json(summary_document(summary))
    else:
        print_summary(summary)
    raise typer.Exit(_gate(summary.outcomes, fail_on))


@app.command("run")
def run_daemon(source: SourceOpt = None, shard: ShardOpt = None, config: ConfigOpt = None) -> None:
    """Run continuously: collect on schedule, judge after each collection, serve /healthz,
    /readyz and /metrics on [daemon] host:port. SIGTERM stops cleanly."""
    from agent.daemon import Daemon

    part = Shard.parse(shard)
    settings, store, registry = _open(config)
    Daemon(store, settings, registry, list(source or []), part).serve()


@app.command()
def status(json_out: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Recent runs, evidence freshness per source and scope, open nonconformities."""
    from rich.table import Table

    from agent.render import console, emit_json, styled
    from agent.status import status_document

    settings, store, registry = _open(config)
    doc = status_document(store, settings, registry, utcnow())
    if json_out:
        emit_json(doc)
        return
    runs = Table(title="Recent runs", title_justify="left")
    for col in ("run", "kind", "status", "started", "root"):
        runs.add_column(col)
    for r in doc["runs"]:
        runs.add_row(
            str(r["id"]), r["kind"], styled(r["status"]), r["started_at"][:19], (r["root_hash"] or "")[:16]
        )
    console.print(runs)
    ev = Table(title="Evidence", title_justify="left")
    for col in ("source", "scope", "state", "age (h)", "limit (h)", "records", "error"):
        ev.add_column(col)
    for e in doc["evidence"]:
        state = {"fresh": "pass", "stale": "error", "error": "fail"}[e["state"]]
        ev.add_row(
            e["source"],
            e["scope"],
            styled(state).replace(state, e["state"]),
            str(e["age_hours"]),
            str(e["limit_hours"]),
            str(e["records"]),
            e["error"] or "",
        )
    console.print(ev)
    console.print(
        "open nonconformities: " + ", ".join(f"{k} {v}" for k, v in doc["open_nonconformities"].items())
    )
    for lease in doc["leases"]:
        console.print(
            f"busy: {lease['target']} held by `{lease['holder']}` (pid {lease['pid']} on {lease['host']}) "
            f"until {lease['expires_at'][:19]}"
        )


@app.command()
def controls(
    json_out: JsonOpt = False,
    all_controls: Annotated[
        bool, typer.Option("--all", help="Also list controls with no automated check.")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Status of the 93 Annex A controls: passing, failing, error, manual or excluded."""
    from agent.controls import control_statuses
    from agent.render import emit_json, print_controls

    settings, store, registry = _open(config)
    statuses = control_statuses(store, settings, registry)
    if json_out:
        emit_json([c.document() for c in statuses])
    else:
        print_controls(statuses, all_controls=all_controls)


@nc_app.command("list")
def nc_list(
    state: Annotated[
        list[str] | None, typer.Option("--state", help="Only these states (repeatable).")
    ] = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """List nonconformities."""
    from agent.nonconformity import NcState, list_ncs, nc_document
    from agent.render import emit_json, print_ncs

    known = {s.value for s in NcState}
    for st in state or []:
        if st not in known:
            raise UsageError(f"--state {st!r} is not one of {', '.join(sorted(known))}")
    _, store, _ = _open(config)
    with store.read() as s:
        docs = [nc_document(nc) for nc in list_ncs(s, state)]
    if json_out:
        emit_json(docs)
    else:
        print_ncs(docs)


@nc_app.command("show")
def nc_show(
    nc_id: Annotated[str, typer.Argument(help="NC-0001, or its number.")],
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """One nonconformity with its failing resources, reasons and history."""
    from sqlalchemy import select

    from agent.nonconformity import history, nc_document, parse_ref
    from agent.render import emit_json, print_nc
    from agent.store.results import results_of
    from agent.store.schema import CheckRun, Nonconformity

    number = parse_ref(nc_id)
    if number is None:
        raise UsageError(f"{nc_id!r} is not a nonconformity id such as NC-0001")
    _, store, registry = _open(config)
    with store.read() as s:
        nc = s.get(Nonconformity, number)
        if nc is None:
            raise UsageError(f"no nonconformity {nc_id}")
        doc = nc_document(nc)
        doc["transitions"] = history(s, nc)
        last = s.execute(
            select(CheckRun).where(
                CheckRun.run_id == nc.last_run_id,
                CheckRun.check_id == nc.check_id,
                CheckRun.scope == nc.scope,
            )
        ).scalar_one_or_none()
    spec = registry.checks.get(nc.check_id)
    doc["rationale"] = spec.rationale if spec else ""
    doc["remediation"] = spec.remediation if spec else ""
    reasons = {r.resource_id: r.reason for r in results_of(store, last)} if last else {}
    doc["reasons"] = {rid: reasons.get(rid, "") for rid in doc["failing_resources"]}
    if json_out:
        emit_json(doc)
    else:
        print_nc(doc)


Actor = Annotated[str | None, typer.Option("--by", help="Who is acting (default: the OS user).")]


def _act(ref: str, action: str, by: str | None, config: Path | None, json_out: bool, **change: Any) -> None:
    import getpass

    from agent.lifecycle import Change, apply
    from agent.nonconformity import history, nc_document
    from agent.render import emit_json, print_nc

    _, store, _ = _open(config)
    actor = by or getpass.getuser()
    with store.write() as s:
        nc = apply(s, ref, action, actor, Change(**change))
        doc = nc_document(nc)
        doc["transitions"] = history(s, nc)
    if json_out:
        emit_json(doc)
    else:
        print_nc(doc)


def _due(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--due {value!r} is not a date such as 2026-12-31") from None


@nc_app.command("accept")
def nc_accept(
    nc_id: Annotated[str, typer.Argument(help="NC-0001, or its number.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is accepted.")] = "",
    severity: Annotated[Severity | None, typer.Option("--severity", help="Grade it differently.")] = None,
    nature: Annotated[str | None, typer.Option("--nature", help="The nature of the nonconformity.")] = None,
    by: Actor = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Accept a draft: it becomes an open nonconformity."""
    _act(nc_id, "accept", by, config, json_out, reason=reason, severity=severity, nature=nature)


@nc_app.command("plan")
def nc_plan(
    nc_id: Annotated[str, typer.Argument(help="NC-0001, or its number.")],
    action: Annotated[str | None, typer.Option("--action", help="The corrective action.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Who carries it out.")] = None,
    due: Annotated[str | None, typer.Option("--due", help="Due date (YYYY-MM-DD).")] = None,
    root_cause: Annotated[str | None, typer.Option("--root-cause", help="Why it happened.")] = None,
    correction: Annotated[
        str | None, typer.Option("--correction", help="Immediate correction taken.")
    ] = None,
    severity: Annotated[Severity | None, typer.Option("--severity", help="Grade it differently.")] = None,
    reason: Annotated[str, typer.Option("--reason", help="A note for the history.")] = "",
    by: Actor = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Record the corrective action, its owner and due date (and root cause, correction)."""
    _act(
        nc_id, "plan", by, config, json_out, reason=reason, severity=severity, corrective_action=action,
        owner=owner, due_date=_due(due), root_cause=root_cause, correction=correction,
    )  # fmt: skip


@nc_app.command("resolve")
def nc_resolve(
    nc_id: Annotated[str, typer.Argument(help="NC-0001, or its number.")],
    note: Annotated[str, typer.Option("--note", help="What was done.")] = "",
    by: Actor = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Declare the corrective action carried out; the NC then waits for verification."""
    _act(nc_id, "resolve", by, config, json_out, reason=note)


@nc_app.command("close")
def nc_close(
    nc_id: Annotated[str, typer.Argument(help="NC-0001, or its number.")],
    effectiveness: Annotated[
        str | None, typer.Option("--effectiveness", help="How the action's effectiveness was verified.")
    ] = None,
    by: Actor = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Close a resolved NC after verifying it: refused while its check still fails."""
    _act(
        nc_id, "close", by, config, json_out, effectiveness_review=effectiveness, reason="verified and closed"
    )


@nc_app.command("reject")
def nc_reject(
    nc_id: Annotated[str, typer.Argument(help="NC-0001, or its number.")],
    reason: Annotated[str, typer.Option("--reason", help="Why this is not a nonconformity.")] = "",
    by: Actor = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Reject a draft or open NC (a false positive, an accepted risk), with the reason."""
    _act(nc_id, "reject", by, config, json_out, reason=reason)


@app.command()
def attest(
    control: Annotated[str, typer.Argument(help="Annex A control, e.g. A.5.1.")],
    file: Annotated[Path, typer.Option("--file", help="The evidence (policy, minutes, report).")],
    note: Annotated[str, typer.Option("--note", help="What the file shows.")] = "",
    valid_for: Annotated[
        int | None, typer.Option("--valid-for", help="Days until it must be renewed.")
    ] = None,
    by: Actor = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Store manual evidence for a control no API can prove."""
    import getpass

    from agent.attest import attest as store_attestation
    from agent.attest import attestation_document
    from agent.render import emit_json

    _, store, _ = _open(config)
    row = store_attestation(
        store, control, file, actor=by or getpass.getuser(), note=note, valid_for_days=valid_for
    )
    doc = attestation_document(row)
    if json_out:
        emit_json(doc)
    else:
        typer.echo(
            f"attested {control} with {row.filename} (sha256 {row.attachment}), expires {doc['expires_at'] or 'never'}"
        )


@app.command()
def soa(
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx or json.")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file (needed for xlsx).")] = None,
    config: ConfigOpt = None,
) -> None:
    """The Statement of Applicability: all 93 controls, applicability, status, checks, NCs."""
    from agent.soa import soa_rows, write_soa

    if fmt not in ("csv", "xlsx", "json"):
        raise UsageError(f"--format {fmt!r} is not one of csv, xlsx, json")
    settings, store, registry = _open(config)
    text = write_soa(soa_rows(store, settings, registry, utcnow()), fmt, out)
    if text is not None:
        sys.stdout.write(text)


@app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Option("--out", help="The bundle to write (a .zip).")],
    start: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD) of runs to include.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD) of runs to include.")] = None,
    controls: Annotated[
        str | None, typer.Option("--controls", help="Only these controls, e.g. A.5.15,A.8.5.")
    ] = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Write a signed evidence bundle an auditor can verify offline."""
    from agent.bundle.export import export_bundle
    from agent.catalog import annex_a
    from agent.render import emit_json

    def day(value: str | None, flag: str) -> date | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise UsageError(f"{flag} {value!r} is not a date such as 2026-11-01") from None

    first, last = day(start, "--from"), day(end, "--to")
    if first and last and first > last:
        raise UsageError("--from is after --to")
    wanted = [c.strip() for c in controls.split(",") if c.strip()] if controls else None
    for c in wanted or []:
        if c not in annex_a():
            raise UsageError(f"--controls: {c!r} is not an Annex A 2022 control")
    if out.suffix != ".zip":
        raise UsageError(f"--out {out}: a bundle is a .zip file")
    settings, store, registry = _open(config)
    summary = export_bundle(store, settings, registry, out, start=first, end=last, controls=wanted)
    if json_out:
        emit_json(summary)
    else:
        typer.echo(
            f"wrote {out}: runs {summary['first_run']}-{summary['last_run']}, {summary['files']} files, "
            f"chain head {summary['head']}"
        )
        typer.echo(f"signed by {summary['fingerprint']}")


@app.command()
def verify(
    bundle: Annotated[Path | None, typer.Argument(help="The bundle (.zip) to verify.")] = None,
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="The key the bundle must be signed with (PEM).")
    ] = None,
    store_flag: Annotated[
        bool, typer.Option("--store", help="Verify the store's own hash chain instead.")
    ] = False,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Re-check every hash, the signature and the run chain; exit 1 if anything is off."""
    from agent.bundle.verify import verify_bundle, verify_store
    from agent.render import emit_json

    if store_flag == (bundle is not None):
        raise UsageError("give either a bundle to verify or --store")
    if store_flag:
        _, store, _ = _open(config)
        report = verify_store(store)
    else:
        report = verify_bundle(bundle, public_key)  # type: ignore[arg-type]
    if json_out:
        emit_json(report.document())
    else:
        for problem in report.problems:
            typer.echo(f"FAIL {problem}")
        what = "store" if store_flag else str(bundle)
        verdict = "verified" if report.ok else f"NOT verified ({len(report.problems)} problem(s))"
        typer.echo(
            f"{what}: {verdict}: {report.runs} run(s), {report.checked_files} file(s), {report.records} record(s)"
            + (f", signed by {report.fingerprint}" if report.fingerprint else "")
        )
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def demo(
    store_path: Annotated[Path, typer.Option("--store", help="Demo store (recreated).")] = Path(
        "annexa-demo.db"
    ),
    json_out: JsonOpt = False,
) -> None:
    """Collect from a simulated organisation (in-process moto) and show what an auditor would find."""
    from agent.controls import control_statuses
    from agent.demo import run_demo
    from agent.nonconformity import list_ncs, nc_document
    from agent.render import console, emit_json, print_controls, print_ncs, print_summary, summary_document

    logs.configure(_log_level[0] if _log_level else "info", quiet=True)
    summary, settings, store, registry = run_demo(store_path, _progress(json_out))
    statuses = control_statuses(store, settings, registry)
    with store.read() as s:
        ncs = [nc_document(nc) for nc in list_ncs(s)]
    if json_out:
        emit_json(
            {
                **summary_document(summary),
                "controls": [c.document() for c in statuses],
                "nonconformities": ncs,
            }
        )
        return
    print_summary(summary)
    print_controls(statuses, all_controls=False)
    print_ncs(ncs)
    console.print(f"Explore further with: annexa nc show NC-0001 --config {store_path.with_suffix('.toml')}")


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _fail(message: str, code: int, where: str = "annexa") -> int:
    sys.stderr.write(f"{where}: {' '.join(message.split())}\n")
    return code


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code, turning every user error into one line."""
    from agent.runner import RunAborted

    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="annexa", standalone_mode=False)
    except typer.Abort:
        return _fail("interrupted", 130)
    except typer.TyperException as exc:  # Typer's own (vendored) click exceptions
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            sys.stdout.write(ctx.get_help() + "\n")
            return 2
        where = ctx.command_path if ctx is not None else "annexa"
        return _fail(exc.format_message(), getattr(exc, "exit_code", 2), where)  # type: ignore[attr-defined]
    except AnnexaError as exc:
        return _fail(str(exc), exc.exit_code)
    except RunAborted as exc:
        return _fail(f"{exc}: evidence committed before the interruption is kept", 130)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as exc:
        logging.getLogger("annexa").debug("internal error", exc_info=True)
        return _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --log-level debug)", 3)
    return rv if isinstance(rv, int) else 0


def main() -> None:
    from agent.runner import ABANDONED

    signal.signal(signal.SIGTERM, _interrupt)
    code = run()
    if code == 130 or ABANDONED.is_set():
        # Collector threads may still sit in a network read after an abort, and interpreter exit
        # would join them. The run is sealed, so nothing they return can be stored: leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
