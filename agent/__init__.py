"""Annexa agent core: configuration, evidence store, registries, runner and CLI."""

from __future__ import annotations

from functools import cache


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("annexa")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+source"


def __getattr__(name: str) -> str:
    """`agent.__version__`, read from the installed metadata on first use: importing
    `importlib.metadata` costs `annexa --help` some 40 ms it has no use for."""
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
