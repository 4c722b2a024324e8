"""Errors that end a command with a one-line message instead of a traceback."""

from __future__ import annotations


class AnnexaError(Exception):
    """Base for errors the CLI reports as one line; `exit_code` follows the CLI contract."""

    exit_code = 2


class ConfigError(AnnexaError):
    """Bad configuration: names the key and the file (or environment variable) at fault."""


class UsageError(AnnexaError):
    """Bad command-line arguments that Typer's own validation cannot express."""


class PluginError(AnnexaError):
    """A collector or check plugin that cannot be registered or loaded."""


class StoreError(AnnexaError):
    """The evidence store cannot be opened or is not in the expected state."""


class Unverifiable(AnnexaError):
    """The store's chain does not verify, so nothing derived from it may be handed on."""

    exit_code = 1


class StoreBusy(StoreError):
    """Another process held a lock on the store past the wait allowed (SQLite `?timeout=`,
    30 s by default; PostgreSQL `lock_timeout`), or a concurrent transaction conflicted."""

    exit_code = 75  # sysexits.h EX_TEMPFAIL, as for a target leased by another agent: try again


class CollectorError(Exception):
    """A collector could not list its source; recorded on the observation, never raised to the user."""


class InputDataError(CollectorError):
    """Data from an API or an export that is malformed; the whole observation is rejected."""
