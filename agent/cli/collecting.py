"""Collecting evidence and judging it: `collect`, `check` and the `run` daemon, with their exit codes."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli.context import emit_json, fail, open_config, progress
from agent.cli.options import ConfigOpt, FailOnOpt, JsonOpt, ShardOpt, SourceOpt
from agent.plugin.model import RunStatus, Severity, Status

if TYPE_CHECKING:
    from agent.run.evaluate import Outcome
    from agent.run.runner import RunSummary

EXIT_RUN_FAILED = 4
EXIT_RUN_PARTIAL = 5


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
        return fail(f"run {run.id} failed: no evidence could be collected", EXIT_RUN_FAILED)
    if strict and run.status == RunStatus.PARTIAL:
        failed = summary.observations_failed
        return fail(f"run {run.id} partial: {failed} observation(s) in error (--strict)", EXIT_RUN_PARTIAL)
    return _gate(summary.outcomes, fail_on)


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
    from agent.cli.render import print_summary, summary_document
    from agent.integrations.hooks import after_run
    from agent.run.runner import Runner
    from agent.run.shard import Shard

    part = Shard.parse(shard)
    settings, store, registry = open_config(config, quiet=json_out and sys.stderr.isatty())
    runner = Runner(store, settings, registry, progress(json_out), shard=part)
    summary = runner.collect(list(source or []))
    after_run(store, settings, summary.run)
    if json_out:
        emit_json(summary_document(summary))
    else:
        print_summary(summary)
    raise typer.Exit(_collect_exit(summary, fail_on, strict))


def check_cmd(
    shard: ShardOpt = None, fail_on: FailOnOpt = None, json_out: JsonOpt = False, config: ConfigOpt = None
) -> None:
    """Re-run every check on the stored evidence (stale or failed evidence gives `error`)."""
    from agent.cli.render import print_summary, summary_document
    from agent.integrations.hooks import after_run
    from agent.run.runner import Runner
    from agent.run.shard import Shard
    from agent.store.leases import Holder

    part = Shard.parse(shard)
    settings, store, registry = open_config(config)
    summary = Runner(store, settings, registry, shard=part, holder=Holder.new("check")).check()
    after_run(store, settings, summary.run)
    if json_out:
        emit_json(summary_document(summary))
    else:
        print_summary(summary)
    raise typer.Exit(_gate(summary.outcomes, fail_on))


def run_daemon(source: SourceOpt = None, shard: ShardOpt = None, config: ConfigOpt = None) -> None:
    """Run continuously: collect on schedule, judge after each collection, serve /healthz,
    /readyz and /metrics on [daemon] host:port, and the dashboard on [web] host:port when
    [web] enabled. SIGTERM stops cleanly."""
    from agent.daemon.service import Daemon
    from agent.run.shard import Shard

    part = Shard.parse(shard)
    settings, store, registry = open_config(config)
    Daemon(store, settings, registry, list(source or []), part).serve()
