"""The one retry loop of channels and trackers: a few attempts with doubling back-off, honouring
the other side's Retry-After.

A wait longer than `longest` is not waited: the attempt gives up at once, so a rate-limited chat or
tracker never holds a run or the daemon (a tracker's work is caught up at the next run; a message is
counted failed). `time` is module-level so tests record the waits instead of sleeping them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from agent.integrations.settings import NotifySettings

T = TypeVar("T")
E = TypeVar("E", bound=Exception)


@dataclass(frozen=True)
class Backoff:
    attempts: int
    first: float  # seconds before the second attempt, doubled before each next one
    longest: float

    @classmethod
    def of(cls, notify: NotifySettings) -> Backoff:
        return cls(notify.attempts, notify.backoff.total_seconds(), notify.max_backoff.total_seconds())

    def delay(self, attempt: int, asked: float | None) -> float:
        """The wait after failed attempt number `attempt` (1-based): what was asked, else ours."""
        return asked if asked is not None else min(self.first * 2 ** (attempt - 1), self.longest)


def retried(
    backoff: Backoff,
    call: Callable[[], T],
    failure: type[E],
    on_retry: Callable[[int, E, float], None] | None = None,
) -> T:
    """`call()`, again after a `failure` whose `retryable` is not False, until the attempts are spent
    or the wait asked for is too long; then that failure is raised. `retry_after` (seconds), when the
    failure carries it, is the wait."""
    attempt = 1
    while True:
        try:
            return call()
        except failure as exc:
            wait = backoff.delay(attempt, getattr(exc, "retry_after", None))
            if not getattr(exc, "retryable", True) or attempt >= backoff.attempts or wait > backoff.longest:
                raise
            if on_retry is not None:
                on_retry(attempt, exc, wait)
            time.sleep(wait)
            attempt += 1
