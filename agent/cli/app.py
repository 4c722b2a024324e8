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

Each command imports what it uses when it runs, and only the command asked for is built: `annexa nc
list` loads the `nc` group alone, `annexa --help` every command's module and nothing they run.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import logging
import os
import signal
import sys
from types import FrameType
from typing import Annotated

import typer

from agent.cli.context import close_stores, fail, set_log_level
from agent.errors import AnnexaError, UsageError

# Every command in the order `--help` lists them: its name, and the module and function (or group) it is.
COMMANDS = {
    "init": ("agent.cli.setup", "init"),
    "collect": ("agent.cli.collecting", "collect"),
    "check": ("agent.cli.collecting", "check_cmd"),
    "run": ("agent.cli.collecting", "run_daemon"),
    "serve": ("agent.cli.serve", "serve"),
    "status": ("agent.cli.reports", "status"),
    "controls": ("agent.cli.reports", "controls"),
    "attest": ("agent.cli.attest", "attest"),
    "soa": ("agent.cli.reports", "soa"),
    "inventory": ("agent.cli.reports", "inventory"),
    "period": ("agent.cli.period", "period"),
    "sample": ("agent.cli.sample", "sample"),
    "export": ("agent.cli.bundles", "export_cmd"),
    "verify": ("agent.cli.bundles", "verify"),
    "review": ("agent.cli.review", "review"),
    "demo": ("agent.cli.setup", "demo"),
    "nc": ("agent.cli.nc", "app"),
}
_ROOT_OPTIONS_WITH_VALUE = {"--log-level"}


def _asked_for(argv: list[str]) -> str | None:
    """The command `argv` names, if it names one (after the root's own options)."""
    args = iter(argv)
    for arg in args:
        if arg in _ROOT_OPTIONS_WITH_VALUE:
            next(args, None)
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def _app(names: list[str]) -> typer.Typer:
    """The root command with these commands (each run builds its own: `run` may be called again)."""
    app = typer.Typer(
        name="annexa",
        help="Continuous ISO/IEC 27001:2022 evidence: collect, check, track nonconformities.",
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    app.callback()(_root)
    for name in names:
        module, attribute = COMMANDS[name]
        target = getattr(importlib.import_module(module), attribute)
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=name)
        else:
            app.command(name)(target)
    return app


def _print_version(value: bool) -> None:
    if value:
        from agent import __version__

        typer.echo(f"annexa {__version__}")
        raise typer.Exit(0)


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
    argv = sys.argv[1:] if argv is None else argv
    asked = _asked_for(argv)
    command = typer.main.get_command(_app([asked] if asked else list(COMMANDS)))
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


# glibc's mallopt parameter for how many malloc arenas threads may spread over (malloc.h).
_M_ARENA_MAX = -8


def _one_malloc_arena() -> None:
    """glibc gives each thread that allocates its own malloc arena (up to 8 per core), each keeping
    freed memory as its own: a collect's worker threads leave ~35 MB of RSS (a fifth of its peak)
    spread over them. Python allocates under the GIL, so one arena costs no contention worth the
    name. Elsewhere (musl, macOS) there is no such call, and nothing to do."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1)


# Allocations (net of frees) between two collections of the youngest generation; Python's default is 700.
YOUNG_COLLECTION_THRESHOLD = 5000


def _fewer_young_collections() -> None:
    """Annexa allocates in bursts that live briefly (a parsed API answer, a page of rows, the ORM's
    objects for one check's outcome). At Python's default a collect ran ~480 young collections,
    ~44 middle and 4 full ones: some 0.4 s, a tenth of its time. Collecting the youngest generation
    every 5,000 allocations instead keeps cyclic garbage collected, by the same rule for the older
    generations, for a third of that."""
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, oldest)


def main() -> None:
    _one_malloc_arena()
    _fewer_young_collections()
    # pydantic looks for its own plugins by reading every installed distribution's entry points
    # when the first model is built; Annexa uses none, and the scan costs each command ~30 ms.
    # Setting the variable (to anything, even empty) keeps pydantic's default.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    signal.signal(signal.SIGTERM, _interrupt)
    code = run()
    runner = sys.modules.get("agent.run.runner")
    if code != 130 and not (runner is not None and runner.ABANDONED.is_set()):
        close_stores()
    # Everything is written and committed: leave without the interpreter's teardown, which takes a
    # quick command longer than its work. After an abort it is also what keeps the process from
    # joining collector threads that may still sit in a network read (nothing they return can be
    # stored: the run is sealed).
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    logging.shutdown()
    os._exit(code)
