"""The `annexa` command line.

Exit codes:
  0   success
  1   findings where the command is a gate (`--fail-on`), or something does not verify
      (`verify`; `export` from a store whose chain does not)
  2   usage or configuration error (one line on stderr)
  3   internal error
  4   `collect`: the run failed, no evidence could be collected (every source in error)
  5   `collect --strict`: the run was partial, some sources could not be collected
  75  busy, try again: a target is leased by another agent (nothing was written), or the store
      stayed locked by another process past its timeout (SQLite `?timeout=`, default 30 s)
  130 interrupted
When several apply, 4 and 5 win over 1: what a run could not collect is judged `error`, so its
findings are partly the failure itself.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent import __version__, logs
from agent.config.settings import DEFAULT_PATH, Settings, load_settings
from agent.errors import AnnexaError, ConfigError, StoreBusy, StoreError, UsageError
from agent.literal import literal
from agent.plugin.loader import load_plugins, load_systems
from agent.plugin.model import RunStatus, Severity, Status
from agent.plugin.registry import Registry
from agent.run.shard import Shard
from agent.store import Store
from agent.store.types import utcnow

if TYPE_CHECKING:
    from agent.run.evaluate import Outcome
    from agent.run.runner import Progress, RunSummary

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

EXIT_RUN_FAILED = 4
EXIT_RUN_PARTIAL = 5
MAX_VALID_FOR_DAYS = 3650


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
    from agent.bundle.signing import seal_keys

    logs.configure(_log_level[0] if _log_level else "info", quiet=quiet)
    systems = load_systems(Registry())
    settings, used = load_settings(config, systems.systems)
    registry = load_plugins(systems, systems=settings.enabled_systems())
    origin = str(used) if used else "environment/defaults"
    try:
        for spec in registry.checks.values():
            settings.check_params(spec.id, spec.params)
        return settings, Store(settings.store.url, keys=seal_keys(settings.export.signing_key)), registry
    except StoreBusy:
        raise
    except (ConfigError, StoreError) as exc:
        raise ConfigError(f"{origin}: {exc}") from None


def _progress(json_out: bool) -> Progress | None:
    if json_out or not sys.stdout.isatty():
        return None
    from agent.cli.render import RichProgress

    return RichProgress()


def _gate(outcomes: list[Outcome], fail_on: Severity | None) -> int:
    if fail_on is None:
        return 0
    blocking = [
        o
        for o in outcomes
        if o.check.severity.rank >= fail_on.rank and o.status in (Status.FAIL, Status.ERROR)
    ]
    return 1 if blocking else 0


def _collect_exit(summary: RunSummary, fail_on: Severity | None, strict: bool) -> int:
    """4 when nothing could be collected, 5 for a partial run under --strict, else the gate."""
    run = summary.run
    if run.status == RunStatus.FAILED:
        return _fail(f"run {run.id} failed: no evidence could be collected", EXIT_RUN_FAILED)
    if strict and run.status == RunStatus.PARTIAL:
        failed = summary.observations_failed
        return _fail(f"run {run.id} partial: {failed} observation(s) in error (--strict)", EXIT_RUN_PARTIAL)
    return _gate(summary.outcomes, fail_on)


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """What stops a file being written (a missing directory, permissions, a full disk) is the user's to fix."""
    try:
        yield
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def _out_file(raw: str) -> Path:
    """`--out` names a file: `reports/` or an existing directory is refused before any work."""
    if raw.endswith(os.sep) or Path(raw).is_dir():
        raise UsageError(f"--out {raw} is a directory: name a file")
    return Path(raw)


@app.command()
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
    with _writing(path):
        if force:
            replace_file(path, text.encode("utf-8"))
        else:
            with create_private(path) as fh:
                fh.write(text.encode("utf-8"))
    _say(f"wrote {path}: enable and fill in the sections of the systems to collect from, then run `annexa collect`")
    if key_path.exists():
        _say(f"kept the existing signing key {key_path}")
        return
    with _writing(key_path):
        public = create_key_pair(key_path)
    _say(f"wrote {key_path} (private, mode 0600) and {key_path.with_suffix('.pub')}")
    _say(f"bundle signing key fingerprint: {fingerprint(public)} (give it to your auditor)")


@app.command()
def collect(
    source: SourceOpt = None,
    shard: ShardOpt = None,
    fail_on: FailOnOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 5 if some sources could not be collected (a partial run).")
    ] = False,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Collect evidence from every enabled source, then run the checks that depend on it.

    Exits 75 without collecting when another agent is working on one of the targets, 4 when no
    source could be collected.
    """
    from agent.cli.render import emit_json, print_summary, summary_document
    from agent.run.runner import Runner

    part = Shard.parse(shard)
    settings, store, registry = _open(config, quiet=json_out and sys.stderr.isatty())
    runner = Runner(store, settings, registry, _progress(json_out), shard=part)
    summary = runner.collect(list(source or []))
    if json_out:
        emit_json(summary_document(summary))
    else:
        print_summary(summary)
    raise typer.Exit(_collect_exit(summary, fail_on, strict))


@app.command("check")
def check_cmd(
    shard: ShardOpt = None, fail_on: FailOnOpt = None, json_out: JsonOpt = False, config: ConfigOpt = None
) -> None:
    """Re-run every check on the stored evidence (stale or failed evidence gives `error`)."""
    from agent.cli.render import emit_json, print_summary, summary_document
    from agent.run.runner import Runner
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
    from agent.daemon.service import Daemon

    part = Shard.parse(shard)
    settings, store, registry = _open(config)
    Daemon(store, settings, registry, list(source or []), part).serve()


@app.command()
def status(json_out: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Recent runs, evidence freshness per source and scope, open nonconformities."""
    from rich.table import Table

    from agent.audit.status import status_document
    from agent.cli.render import STATUS_STYLE, add_row, console, emit_json, styled, text

    settings, store, registry = _open(config)
    doc = status_document(store, settings, registry, utcnow())
    if json_out:
        emit_json(doc)
        return
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


@app.command()
def controls(
    json_out: JsonOpt = False,
    all_controls: Annotated[
        bool, typer.Option("--all", help="Also list controls with no automated check.")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Status of the 93 Annex A controls: passing, failing, error, manual or excluded."""
    from agent.audit.controls import control_statuses
    from agent.cli.render import emit_json, print_controls

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
    from agent.audit.nonconformities import NcState, list_ncs, nc_document
    from agent.cli.render import emit_json, print_ncs

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


def _nc_number(ref: str) -> int:
    """The number `ref` names; one no id column can hold is unknown, not a database error."""
    from agent.audit.nonconformities import MAX_NC_ID, parse_ref

    number = parse_ref(ref)
    if number is None:
        raise UsageError(f"{ref!r} is not a nonconformity id such as NC-0001")
    if number > MAX_NC_ID:
        raise UsageError(f"no nonconformity {ref}")
    return number


@nc_app.command("show")
def nc_show(
    nc_id: Annotated[str, typer.Argument(help="NC-0001, or its number.")],
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """One nonconformity with its failing resources, reasons and history."""
    from sqlalchemy import select
    from sqlmodel import col

    from agent.audit.nonconformities import history, nc_document
    from agent.cli.render import emit_json, print_nc
    from agent.store.results import results_of
    from agent.store.schema import CheckRun, Nonconformity

    number = _nc_number(nc_id)
    _, store, registry = _open(config)
    with store.read() as s:
        nc = s.get(Nonconformity, number)
        if nc is None:
            raise UsageError(f"no nonconformity {nc_id}")
        doc = nc_document(nc)
        doc["transitions"] = history(s, nc)
        last = s.execute(
            select(CheckRun).where(
                col(CheckRun.run_id) == nc.last_run_id,
                col(CheckRun.check_id) == nc.check_id,
                col(CheckRun.scope) == nc.scope,
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

    from agent.audit.nc_actions import Change, apply
    from agent.cli.render import emit_json, print_nc

    _nc_number(ref)
    _, store, _ = _open(config)
    doc = apply(store, ref, action, by or getpass.getuser(), Change(**change))
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
        int | None,
        typer.Option(
            "--valid-for",
            max=MAX_VALID_FOR_DAYS,
            help=f"Days until it must be renewed (at most {MAX_VALID_FOR_DAYS}).",
        ),
    ] = None,
    by: Actor = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Store manual evidence for a control no API can prove."""
    import getpass

    from agent.audit.attestations import attest as store_attestation
    from agent.audit.attestations import attestation_document
    from agent.cli.render import emit_json

    _, store, _ = _open(config)
    row = store_attestation(
        store, control, file, actor=by or getpass.getuser(), note=note, valid_for_days=valid_for
    )
    doc = attestation_document(row)
    if json_out:
        emit_json(doc)
    else:
        _say(
            f"attested {control} with {row.filename} (sha256 {row.attachment}), expires {doc['expires_at'] or 'never'}"
        )


@app.command()
def soa(
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx or json.")] = "csv",
    out: Annotated[str | None, typer.Option("--out", help="Write to this file (needed for xlsx).")] = None,
    config: ConfigOpt = None,
) -> None:
    """The Statement of Applicability: all 93 controls, applicability, status, checks, NCs."""
    from agent.audit.soa import soa_rows, write_soa

    if fmt not in ("csv", "xlsx", "json"):
        raise UsageError(f"--format {fmt!r} is not one of csv, xlsx, json")
    path = _out_file(out) if out is not None else None
    settings, store, registry = _open(config)
    rows = soa_rows(store, settings, registry, utcnow())
    if path is None:
        sys.stdout.write(write_soa(rows, fmt, None) or "")
        return
    with _writing(path):
        write_soa(rows, fmt, path)


@app.command("export")
def export_cmd(
    out: Annotated[str, typer.Option("--out", help="The bundle to write (a .zip).")],
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
    from agent.audit.catalog import annex_a
    from agent.bundle.export import export_bundle
    from agent.cli.render import emit_json

    def day(value: str | None, flag: str) -> date | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise UsageError(f"{flag} {value!r} is not a date such as 2026-11-01") from None

    first, last = day(start, "--from"), day(end, "--to")
    if last == date.max:  # the period ends at the start of the day after
        raise UsageError(f"--to {end!r}: the last day that can be given is {date.max - timedelta(days=1)}")
    if first and last and first > last:
        raise UsageError("--from is after --to")
    wanted = [c.strip() for c in controls.split(",") if c.strip()] if controls else None
    for c in wanted or []:
        if c not in annex_a():
            raise UsageError(f"--controls: {c!r} is not an Annex A 2022 control")
    path = _out_file(out)
    if path.suffix != ".zip":
        raise UsageError(f"--out {out}: a bundle is a .zip file")
    settings, store, registry = _open(config)
    with _writing(path):
        summary = export_bundle(store, settings, registry, path, start=first, end=last, controls=wanted)
    if json_out:
        emit_json(summary)
    else:
        _say(
            f"wrote {out}: runs {summary['first_run']}-{summary['last_run']}, {summary['files']} files, "
            f"chain head {summary['head']}"
        )
        _say(f"signed by {summary['fingerprint']}")


@app.command()
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
    from agent.cli.render import emit_json
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

        _, store, _ = _open(config)
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
            _say(f"FAIL {problem}")
        for note in report.notes:
            _say(f"note: {note}")
        what = "store" if store_flag else str(bundle)
        verdict = "verified" if report.ok else f"NOT verified ({len(report.problems)} problem(s))"
        _say(
            f"{what}: {verdict}: {report.runs} run(s), {report.checked_files} file(s), {report.records} record(s)"
            + (f", signed by {report.fingerprint}" if report.fingerprint else "")
            + (f", head {report.head}" if report.head else "")
        )
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def demo(
    directory: Annotated[
        Path,
        typer.Option("--dir", help="The demo's own directory, recreated on every run; any other is refused."),
    ] = Path("annexa-demo"),
    json_out: JsonOpt = False,
) -> None:
    """Collect from a simulated organisation (in-process moto) and show what an auditor would find.

    Exits 2 without touching anything when --dir exists and was not created by `annexa demo`.
    """
    from agent.audit.controls import control_statuses
    from agent.audit.nonconformities import list_ncs, nc_document
    from agent.cli.render import emit_json, print_controls, print_ncs, print_summary, summary_document
    from agent.demo.setup import run_demo

    logs.configure(_log_level[0] if _log_level else "info", quiet=True)
    summary, settings, store, registry = run_demo(directory, _progress(json_out))
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
    _say(f"Explore further with: annexa nc show NC-0001 --config {directory / 'annexa.toml'}")


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _say(message: str) -> None:
    """A line on stdout that may quote files and data: shown literally, never interpreted."""
    typer.echo(literal(message))


def _fail(message: str, code: int, where: str = "annexa") -> int:
    """One line on stderr: whitespace collapsed, then shown literally (messages quote files and data)."""
    sys.stderr.write(literal(f"{where}: {' '.join(message.split())}") + "\n")
    return code


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code, turning every user error into one line."""
    from agent.run.session import RunAborted

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
        return _fail(exc.format_message(), getattr(exc, "exit_code", 2), where)
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
    from agent.run.runner import ABANDONED

    signal.signal(signal.SIGTERM, _interrupt)
    code = run()
    if code == 130 or ABANDONED.is_set():
        # Collector threads may still sit in a network read after an abort, and interpreter exit
        # would join them. The run is sealed, so nothing they return can be stored: leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
