"""The `annexa` command line: the root app, its commands in the order `--help` lists them, and `main`.

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

Each command imports what it uses when it runs: `annexa --help` loads Typer and these modules only.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from types import FrameType
from typing import Annotated

import typer

from agent.cli import attest, bundles, collecting, nc, reports, setup
from agent.cli.context import fail, set_log_level
from agent.errors import AnnexaError, UsageError

app = typer.Typer(
    name="annexa",
    help="Continuous ISO/IEC 27001:2022 evidence: collect, check, track nonconformities.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command()(setup.init)
app.command()(collecting.collect)
app.command("check")(collecting.check_cmd)
app.command("run")(collecting.run_daemon)
app.command()(reports.status)
app.command()(reports.controls)
app.command()(attest.attest)
app.command()(reports.soa)
app.command("export")(bundles.export_cmd)
app.command()(bundles.verify)
app.command()(setup.demo)
app.add_typer(nc.app, name="nc")


def _print_version(value: bool) -> None:
    if value:
        from agent import __version__

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
    set_log_level(log_level or ("warning" if sys.stderr.isatty() else "info"))


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code, turning every user error into one line."""
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="annexa", standalone_mode=False)
    except typer.Abort:
        return fail("interrupted", 130)
    except typer.TyperException as exc:  # Typer's own (vendored) click exceptions
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            sys.stdout.write(ctx.get_help() + "\n")
            return 2
        where = ctx.command_path if ctx is not None else "annexa"
        return fail(exc.format_message(), getattr(exc, "exit_code", 2), where)
    except AnnexaError as exc:
        return fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except Exception as exc:
        # A run can only have been aborted by a command that imported the run modules: looking
        # them up, rather than importing them, keeps them out of the commands that run none.
        session = sys.modules.get("agent.run.session")
        if session is not None and isinstance(exc, session.RunAborted):
            return fail(f"{exc}: evidence committed before the interruption is kept", 130)
        logging.getLogger("annexa").debug("internal error", exc_info=True)
        return fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --log-level debug)", 3)
    return rv if isinstance(rv, int) else 0


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    code = run()
    runner = sys.modules.get("agent.run.runner")
    if code == 130 or (runner is not None and runner.ABANDONED.is_set()):
        # Collector threads may still sit in a network read after an abort, and interpreter exit
        # would join them. The run is sealed, so nothing they return can be stored: leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
