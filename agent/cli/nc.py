"""The `annexa nc` group: list and show nonconformities, and move them through their life cycle."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.cli.context import emit_json, open_config
from agent.cli.options import ActorOpt, AsOfOpt, ConfigOpt, JsonOpt
from agent.errors import UsageError
from agent.plugin.model import Severity

if TYPE_CHECKING:
    from agent.store import Store

app = typer.Typer(help="Nonconformities opened by failing checks.", no_args_is_help=True)

NcIdArg = Annotated[str, typer.Argument(help="NC-0001, or its number.")]
SeverityOpt = Annotated[Severity | None, typer.Option("--severity", help="Grade it differently.")]


@app.command("list")
def nc_list(
    state: Annotated[
        list[str] | None, typer.Option("--state", help="Only these states (repeatable).")
    ] = None,
    json_out: JsonOpt = False,
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List nonconformities (as the register stood at a past moment, with --as-of)."""
    from agent.audit.asof import as_of_option, registers_at
    from agent.audit.nonconformities import NcState, list_ncs, nc_document

    known = {s.value for s in NcState}
    for st in state or []:
        if st not in known:
            raise UsageError(f"--state {st!r} is not one of {', '.join(sorted(known))}")
    at = as_of_option(as_of)
    _, store, _ = open_config(config, plugins="none")
    if at is not None:
        docs = registers_at(store, at, state)
    else:
        with store.read() as s:
            docs = [nc_document(nc) for nc in list_ncs(s, state)]
    if json_out:
        emit_json(docs)
    else:
        from agent.cli.render import print_ncs

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


def _print(doc: dict[str, Any], json_out: bool) -> None:
    if json_out:
        emit_json(doc)
    else:
        from agent.cli.render import print_nc

        print_nc(doc)


def _entry(store: Store, number: int, at: datetime | None) -> dict[str, Any] | None:
    """The NC's register entry with its history: now, or as of `at`; None if there is none."""
    from agent.audit.asof import nc_at
    from agent.audit.nonconformities import history, nc_document
    from agent.store.schema import Nonconformity

    if at is not None:
        return nc_at(store, number, at)
    with store.read() as s:
        nc = s.get(Nonconformity, number)
        return None if nc is None else {**nc_document(nc), "transitions": history(s, nc)}


@app.command("show")
def nc_show(
    nc_id: NcIdArg, json_out: JsonOpt = False, as_of: AsOfOpt = None, config: ConfigOpt = None
) -> None:
    """One nonconformity with its failing resources, reasons and history (then, with --as-of)."""
    from sqlalchemy import select
    from sqlmodel import col

    from agent.audit.asof import as_of_option
    from agent.store.results import results_of
    from agent.store.schema import CheckRun

    number = _nc_number(nc_id)
    at = as_of_option(as_of)
    _, store, registry = open_config(config, plugins="checks")
    doc = _entry(store, number, at)
    if doc is None:
        raise UsageError(f"no nonconformity {nc_id}" + (f" as of {at.isoformat()}" if at else ""))
    with store.read() as s:
        last = s.execute(
            select(CheckRun).where(
                col(CheckRun.run_id) == doc["last_run_id"],
                col(CheckRun.check_id) == doc["check_id"],
                col(CheckRun.scope) == doc["scope"],
            )
        ).scalar_one_or_none()
    spec = registry.checks.get(doc["check_id"])
    doc["rationale"] = spec.rationale if spec else ""
    doc["remediation"] = spec.remediation if spec else ""
    reasons = {r.resource_id: r.reason for r in results_of(store, last.result_set)} if last else {}
    doc["reasons"] = {rid: reasons.get(rid, "") for rid in doc["failing_resources"]}
    _print(doc, json_out)


def _act(ref: str, action: str, by: str | None, config: Path | None, json_out: bool, **change: Any) -> None:
    import getpass

    from agent.audit.nc_actions import Change, apply
    from agent.integrations.hooks import after_nc_action

    number = _nc_number(ref)
    settings, store, _ = open_config(config, plugins="none")
    doc = apply(store, ref, action, by or getpass.getuser(), Change(**change))
    after_nc_action(store, settings, number, action)
    _print(doc, json_out)


def _due(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--due {value!r} is not a date such as 2026-12-31") from None


@app.command("accept")
def nc_accept(
    nc_id: NcIdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it is accepted.")] = "",
    severity: SeverityOpt = None,
    nature: Annotated[str | None, typer.Option("--nature", help="The nature of the nonconformity.")] = None,
    by: ActorOpt = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Accept a draft: it becomes an open nonconformity."""
    _act(nc_id, "accept", by, config, json_out, reason=reason, severity=severity, nature=nature)


@app.command("plan")
def nc_plan(
    nc_id: NcIdArg,
    action: Annotated[str | None, typer.Option("--action", help="The corrective action.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Who carries it out.")] = None,
    due: Annotated[str | None, typer.Option("--due", help="Due date (YYYY-MM-DD).")] = None,
    root_cause: Annotated[str | None, typer.Option("--root-cause", help="Why it happened.")] = None,
    correction: Annotated[
        str | None, typer.Option("--correction", help="Immediate correction taken.")
    ] = None,
    severity: SeverityOpt = None,
    reason: Annotated[str, typer.Option("--reason", help="A note for the history.")] = "",
    by: ActorOpt = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Record the corrective action, its owner and due date (and root cause, correction)."""
    _act(
        nc_id, "plan", by, config, json_out, reason=reason, severity=severity, corrective_action=action,
        owner=owner, due_date=_due(due), root_cause=root_cause, correction=correction,
    )  # fmt: skip


@app.command("resolve")
def nc_resolve(
    nc_id: NcIdArg,
    note: Annotated[str, typer.Option("--note", help="What was done.")] = "",
    by: ActorOpt = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Declare the corrective action carried out; the NC then waits for verification."""
    _act(nc_id, "resolve", by, config, json_out, reason=note)


@app.command("close")
def nc_close(
    nc_id: NcIdArg,
    effectiveness: Annotated[
        str | None, typer.Option("--effectiveness", help="How the action's effectiveness was verified.")
    ] = None,
    by: ActorOpt = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Close a resolved NC after verifying it: refused while its check still fails."""
    _act(
        nc_id, "close", by, config, json_out, effectiveness_review=effectiveness, reason="verified and closed"
    )


@app.command("reject")
def nc_reject(
    nc_id: NcIdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why this is not a nonconformity.")] = "",
    by: ActorOpt = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Reject a draft or open NC (a false positive, an accepted risk), with the reason."""
    _act(nc_id, "reject", by, config, json_out, reason=reason)
