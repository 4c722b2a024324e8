"""Files shipped in config/: found in an installed wheel (agent/_config) or in the source tree."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def config_file(name: str) -> tuple[str, str]:
    """The text of a shipped file and where it was read from."""
    bundled = files("agent") / "_config" / name
    if bundled.is_file():
        return bundled.read_text(encoding="utf-8"), str(bundled)
    source_tree = Path(__file__).resolve().parent.parent / "config" / name
    return source_tree.read_text(encoding="utf-8"), str(source_tree)
