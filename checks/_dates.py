"""Timestamp parsing shared by checks: evidence carries dates as strings, with sentinels for "never"."""

from __future__ import annotations

from datetime import UTC, datetime

# What AWS credential reports (and other exports) write where there is no date.
NO_DATE = frozenset({"", "n/a", "no_information", "not_supported"})


def parse_timestamp(value: str | None) -> datetime | None:
    """An aware UTC datetime, or None for a "never" sentinel; anything else malformed raises.

    Raising rather than guessing keeps checks fail-closed: the exception becomes an `error`
    result, never a silent pass. Naive values are taken as UTC.
    """
    if value is None or value.strip().lower() in NO_DATE:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def days_between(earlier: datetime, now: datetime) -> int:
    """Calendar days from `earlier`'s UTC date to `now`'s: the one way checks count an age in days.

    It agrees with the dates a reason shows, whatever the time of day on either side, and is never
    less than the whole days elapsed: nothing is judged younger than it is.
    """
    return (now.astimezone(UTC).date() - earlier.astimezone(UTC).date()).days


def age_days(value: str | None, now: datetime) -> int | None:
    """Days from a timestamp in evidence to `now`; None when it says "never" (see `parse_timestamp`)."""
    when = parse_timestamp(value)
    return None if when is None else days_between(when, now)


def days_ago(days: int) -> str:
    """`1 day ago`, `30 days ago`: how a reason states a credential's age."""
    return f"{days} day ago" if days == 1 else f"{days} days ago"
