"""A few attempts with doubling back-off, honouring a tracker's Retry-After.

A wait longer than `max_backoff` is not waited: the work is retried at the next run instead, so a
rate-limited tracker never holds the daemon. `time` is module-level so tests record the waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from agent.tickets.model import TrackerUnavailable

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True)
class Backoff:
    attempts: int
    first: float  # seconds before the second attempt, doubled before each next one
    longest: float

    def delay(self, attempt: int, asked: float | None) -> float:
        """The wait after failed attempt number `attempt` (1-based): what the tracker asked, else ours."""
        return asked if asked is not None else min(self.first * 2 ** (attempt - 1), self.longest)


def retried(backoff: Backoff, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`call(...)`, again after TrackerUnavailable until the attempts are spent (then it is raised)."""
    for attempt in range(1, backoff.attempts):
        try:
            return call(*args, **kwargs)
        except TrackerUnavailable as exc:
            wait = backoff.delay(attempt, exc.retry_after)
            if wait > backoff.longest:
                raise
            time.sleep(wait)
    return call(*args, **kwargs)
