"""What every command shares at run time: the opened config, store and plugins, and its output.

Nothing heavy is imported here at module level: `annexa --help` loads this module too, and each
command pays only for the libraries it uses.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer

from agent.errors import ConfigError, StoreBusy, StoreError, UsageError
from agent.literal import literal

if TYPE_CHECKING:
    from agent.config.settings import Settings
    from agent.plugin.registry import Registry
    from agent.run.runner import Progress
    from agent.store import Store

_log_level: list[str] = []  # set by the root callback, before any command runs
_opened: list[Store] = []  # closed by `close_stores` when the command ends


def set_log_level(level: str) -> None:
    _log_level[:] = [level]


def configure_logs(*, quiet: bool) -> None:
    from agent import logs

    logs.configure(_log_level[0] if _log_level else "info", quiet=quiet)


def open_config(
    config: Path | None, *, quiet: bool = False, plugins: Literal["all", "checks", "none"] = "all"
) -> tuple[Settings, Store, Registry]:
    """Load and validate everything a command needs before it touches anything.

    `plugins` is what the command uses of them: commands that collect or judge need the enabled
    systems' collectors and every check (whose parameters are validated here); those that only
    read or move the registers need the checks' texts at most, and then pay for neither the
    collectors' SDKs nor the check modules. Every system's settings section is validated always."""
    from agent.bundle.signing import seal_keys
    from agent.config.settings import load_settings
    from agent.plugin.loader import load_plugins, load_systems
    from agent.plugin.registry import Registry
    from agent.store import Store

    configure_logs(quiet=quiet)
    systems = load_systems(Registry())
    settings, used = load_settings(config, systems.systems)
    registry = systems
    if plugins != "none":
        registry = load_plugins(systems, systems=settings.enabled_systems() if plugins == "all" else ())
    origin = str(used) if used else "environment/defaults"
    try:
        for spec in registry.checks.values():
            settings.check_params(spec.id, spec.params)
        store = Store(settings.store.url, keys=seal_keys(settings.export.signing_key))
        _opened.append(store)
        return settings, store, registry
    except StoreBusy:
        raise
    except (ConfigError, StoreError) as exc:
        raise ConfigError(f"{origin}: {exc}") from None


def close_stores() -> None:
    """Close what the command opened: pooled connections end cleanly (SQLite checkpoints its log)."""
    while _opened:
        _opened.pop().close()


def progress(json_out: bool) -> Progress | None:
    if json_out or not sys.stdout.isatty():
        return None
    from agent.cli.render import RichProgress

    return RichProgress()


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")


def say(message: str) -> None:
    """A line on stdout that may quote files and data: shown literally, never interpreted."""
    typer.echo(literal(message))


def fail(message: str, code: int, where: str = "annexa") -> int:
    """One line on stderr: whitespace collapsed, then shown literally (messages quote files and data)."""
    sys.stderr.write(literal(f"{where}: {' '.join(message.split())}") + "\n")
    return code


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """What stops a file being written (a missing directory, permissions, a full disk) is the user's to fix."""
    try:
        yield
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def out_file(raw: str) -> Path:
    """`--out` names a file: `reports/` or an existing directory is refused before any work."""
    if raw.endswith(os.sep) or Path(raw).is_dir():
        raise UsageError(f"--out {raw} is a directory: name a file")
    return Path(raw)
