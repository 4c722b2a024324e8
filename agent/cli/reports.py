"""What the store says now, or as of a past moment (`--as-of`): `status`, `controls`, the
Statement of Applicability (`soa`) and the asset inventory (`inventory`)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agent.cli.context import emit_json, open_config, out_file, writing
from agent.cli.options import AsOfOpt, ConfigOpt, JsonOpt
from agent.errors import UsageError


def status(json_out: JsonOpt = False, as_of: AsOfOpt = None, config: ConfigOpt = None) -> None:
    """Recent runs, evidence freshness per source and scope, open nonconformities."""
    from agent.audit.asof import as_of_option
    from agent.audit.status import status_document
    from agent.store.types import utcnow

    at = as_of_option(as_of)
    settings, store, registry = open_config(config)
    doc = status_document(store, settings, registry, utcnow(), at)
    if json_out:
        emit_json(doc)
    else:
        from agent.cli.render import print_status

        print_status(doc)


def controls(
    json_out: JsonOpt = False,
    all_controls: Annotated[
        bool, typer.Option("--all", help="Also list controls with no automated check.")
    ] = False,
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Status of the 93 Annex A controls: passing, failing, error, manual or excluded."""
    from agent.audit.asof import as_of_option
    from agent.audit.controls import control_statuses

    at = as_of_option(as_of)
    settings, store, registry = open_config(config)
    statuses = control_statuses(store, settings, registry, at)
    if json_out:
        emit_json([c.document() for c in statuses])
    else:
        from agent.cli.render import print_controls

        print_controls(statuses, all_controls=all_controls)


def soa(
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx or json.")] = "csv",
    out: Annotated[str | None, typer.Option("--out", help="Write to this file (needed for xlsx).")] = None,
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The Statement of Applicability: all 93 controls, applicability, status, checks, NCs."""
    from agent.audit.asof import as_of_option
    from agent.audit.soa import soa_rows, write_soa
    from agent.store.types import utcnow

    if fmt not in ("csv", "xlsx", "json"):
        raise UsageError(f"--format {fmt!r} is not one of csv, xlsx, json")
    at = as_of_option(as_of)
    path = out_file(out) if out is not None else None
    settings, store, registry = open_config(config)
    rows = soa_rows(store, settings, registry, utcnow(), at)
    if path is None:
        sys.stdout.write(write_soa(rows, fmt, None) or "")
        return
    with writing(path):
        write_soa(rows, fmt, path)


def inventory(
    fmt: Annotated[str, typer.Option("--format", help="json, csv or xlsx.")] = "json",
    output: Annotated[
        str | None, typer.Option("--output", "--out", "-o", help="Write to this file (needed for xlsx).")
    ] = None,
    json_out: JsonOpt = False,
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Every collected resource (A.5.9): system, account, region, type, id, name, owner, classification."""
    from agent.audit.asof import as_of_option
    from agent.audit.inventory import store_inventory, write_inventory

    fmt = "json" if json_out else fmt
    if fmt not in ("json", "csv", "xlsx"):
        raise UsageError(f"--format {fmt!r} is not one of json, csv, xlsx")
    if fmt == "xlsx" and output is None:
        raise UsageError("--format xlsx needs --output FILE.xlsx")
    at = as_of_option(as_of)
    path = out_file(output) if output is not None else None
    settings, store, registry = open_config(config, plugins="checks")  # readers sit with the checks
    doc = store_inventory(store, registry, settings.inventory, at)
    if path is None:
        sys.stdout.write(write_inventory(doc, fmt, None) or "")
        return
    with writing(path):
        write_inventory(doc, fmt, path)
