"""When a source is collected: an interval or a crontab expression, and how long its evidence stays fresh.

Crontab is what operators write; APScheduler counts weekdays differently, so expressions are
translated here, and a cron cadence's longest gap is simulated to derive evidence freshness.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from itertools import pairwise
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator

from agent.config.durations import parse_duration


@dataclass(frozen=True)
class Cadence:
    """When a source is collected: every `interval`, or at the times of a 5-field cron expression."""

    interval: timedelta | None = None
    cron: str | None = None

    @property
    def label(self) -> str:
        if self.cron is not None:
            return self.cron
        assert self.interval is not None  # built with one or the other
        return f"every {int(self.interval.total_seconds())}s"

    def trigger(self, jitter: timedelta) -> Any:
        """The APScheduler trigger, in UTC, with `jitter` seconds of random delay per firing."""
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        spread = int(jitter.total_seconds()) or None
        if self.cron is not None:
            return CronTrigger(**_cron_fields(self.cron), timezone="UTC", jitter=spread)
        assert self.interval is not None  # built with one or the other
        return IntervalTrigger(seconds=self.interval.total_seconds(), timezone="UTC", jitter=spread)

    @property
    def period(self) -> timedelta:
        """The longest wait between two runs: what evidence freshness is derived from."""
        if self.interval is not None:
            return self.interval
        trigger = self.trigger(timedelta(0))
        now = datetime(2030, 1, 1, tzinfo=UTC)  # a fixed start, so the answer does not vary by day
        fires: list[datetime] = []
        previous = None
        for _ in range(400):  # over a year of daily firings: covers monthly and weekday patterns
            nxt = trigger.get_next_fire_time(previous, now)
            if nxt is None:
                break
            fires.append(nxt)
            previous, now = nxt, nxt
        gaps = [b - a for a, b in pairwise(fires)]
        return max(gaps) if gaps else timedelta(days=366)


_CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday_number(token: str) -> int:
    token = token.lower()
    if token[:3] in _WEEKDAYS:
        return _WEEKDAYS.index(token[:3])
    number = int(token)
    if not 0 <= number <= 7:
        raise ValueError(f"day of week {token} is not 0-7")
    return number % 7


def _crontab_weekdays(field: str) -> str:
    """Crontab counts weekdays from Sunday = 0; APScheduler 3 from Monday = 0: spell them out by name."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            a, b = span.split("-", 1)
            first, last = _weekday_number(a), _weekday_number(b)
            last = 7 if last == 0 and first > 0 else last  # `5-7`, `fri-sun`: through Sunday
        else:
            first = last = _weekday_number(span)
        if last < first:
            raise ValueError(f"day-of-week range {span} runs backwards")
        days.update(d % 7 for d in range(first, last + 1, int(step) if step else 1))
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def _cron_fields(expr: str) -> dict[str, str]:
    fields = dict(zip(_CRON_FIELDS, expr.split(), strict=True))
    fields["day_of_week"] = _crontab_weekdays(fields["day_of_week"])
    return fields


def parse_cadence(value: Any) -> Cadence:
    """A duration (`6h`) or a standard 5-field cron expression (`0 3 * * 1-5`, in UTC)."""
    if isinstance(value, Cadence):
        return value
    if isinstance(value, str) and len(value.split()) == 5:
        cadence = Cadence(cron=" ".join(value.split()))
        try:
            cadence.trigger(timedelta(0))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid cron expression: {exc}") from None
        return cadence
    try:
        return Cadence(interval=parse_duration(value))
    except ValueError:
        raise ValueError(
            f"expected an interval such as '6h' or a cron expression such as '0 3 * * *', got {value!r}"
        ) from None


CadenceValue = Annotated[Cadence, BeforeValidator(parse_cadence)]


_V = TypeVar("_V")


def match_source(patterns: Mapping[str, _V], source: str) -> _V | None:
    """The value for `source` in a mapping keyed by source names or globs: exact first, then the most specific glob."""
    if source in patterns:
        return patterns[source]
    globs = [p for p in patterns if fnmatchcase(source, p)]
    if not globs:
        return None
    return patterns[max(globs, key=lambda p: (len(p.replace("*", "").replace("?", "")), p))]
