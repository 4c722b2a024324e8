"""Verdicts many checks give the same way: nothing to judge, a yes/no setting, credentials' ages,
accounts' idleness; and reading list parameters strictly."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result, Status
from checks._dates import days_ago, days_between
from checks._identity import exempt

CheckFunc = Callable[[Evidence], Iterator[Result]]
Judge = Callable[[Record], Result]
# An age in days (None when no date says, which is judged as too old) and how a reason states it.
Aged = tuple[int | None, str]


def or_nothing_to_judge(what: str) -> Callable[[CheckFunc], CheckFunc]:
    """One not-applicable result for the scope when the check finds nothing to judge.

    An auditor reads "no RDS instances in aws:1:eu-west-1" or "no leavers in hr:file:x" as evidence
    that the scope was looked at; an empty result set says nothing.
    """

    def wrap(func: CheckFunc) -> CheckFunc:
        @functools.wraps(func)
        def judged(ev: Evidence) -> Iterator[Result]:
            empty = True
            for result in func(ev):
                empty = False
                yield result
            if empty:
                yield Result(ev.scope, Status.NOT_APPLICABLE, f"no {what} in {ev.scope}")

        return judged

    return wrap


def flag(key: str, say: Callable[[Record, bool], str], *, good: bool = True) -> Judge:
    """Judge a record by one yes/no setting (encrypted, locked, enabled): it passes when the
    setting is `good`, an absent one reading as off; `say(record, on)` words the reason.
    """

    def judge(rec: Record) -> Result:
        on = bool(rec.data.get(key))
        return Result.of(rec, passed=on is good, reason=say(rec, on))

    return judge


def judge_ages(rec: Record, subject: str, ages: list[Aged], limit: int, limit_name: str) -> Result:
    """Each of a holder's credentials must be at most `limit` days old: fail naming every one past
    the limit or of unknown age, else pass naming them all, so the reason shows what was judged.
    """
    late = [text for days, text in ages if days is None or days > limit]
    shown = "; ".join(late or [text for _, text in ages])
    return Result.of(rec, passed=not late, reason=f"{subject}: {shown} ({limit_name} {limit} days)")


def as_list(value: Any, name: str) -> list[str]:
    """A list-of-strings parameter; a bare string is a configuration slip, not a list of letters."""
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError(f"parameter {name} must be a list of strings, got {value!r}")
    return [str(v).strip().lower() if name.endswith("domains") else str(v).strip() for v in value]


def judge_inactive(
    ev: Evidence,
    users: Iterable[Record],
    name: Callable[[Record], str],
    last: Callable[[Record], datetime | None],
    made: Callable[[Record], datetime | None],
) -> Iterator[Result]:
    """Each user must have logged in within `max_inactive_days`, or been created within it when it
    never logged in; accounts matching `exempt_accounts` are not applicable."""
    limit = int(ev.param("max_inactive_days"))
    patterns = as_list(ev.param("exempt_accounts"), "exempt_accounts")
    for user in users:
        who = name(user)
        if exempt(who, patterns):
            yield Result.not_applicable(user, f"{who} is exempted by exempt_accounts")
            continue
        when = last(user)
        if when is not None:
            idle = days_between(when, ev.now)
            reason = f"{who}: last login {when.date().isoformat()} ({days_ago(idle)}, limit {limit} days)"
        else:
            born = made(user)
            idle = days_between(born, ev.now) if born else limit + 1
            since = f"created {days_ago(idle)}" if born else "creation date unknown"
            reason = f"{who}: never logged in, {since} (limit {limit} days)"
        yield Result.of(user, passed=idle <= limit, reason=reason)
