"""Configuration: the settings root and core sections, durations and cadences, secrets, the
environment's overrides, error messages."""

from __future__ import annotations

from pathlib import Path

DEFAULT_PATH = Path("annexa.toml")  # here, not in settings.py: `annexa --help` needs it without pydantic
