"""Durations in configuration: `90s`, `15m`, `24h`, `7d`, `2w`, or a number of seconds."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _seconds(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '24h'")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and (m := _DURATION_RE.match(value)):
        return float(m.group(1)) * _UNITS[m.group(2)]
    raise ValueError(f"expected a duration such as '24h', '15m' or '7d', got {value!r}")


def parse_duration(value: Any) -> timedelta:
    """`90s`, `15m`, `24h`, `7d`, `2w`, or a number of seconds."""
    seconds = _seconds(value)
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return timedelta(seconds=seconds)


def parse_delay(value: Any) -> timedelta:
    """A duration that may be zero (a jitter, a grace period)."""
    seconds = _seconds(value)
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Delay = Annotated[timedelta, BeforeValidator(parse_delay)]
