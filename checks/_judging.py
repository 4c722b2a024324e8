"""Verdicts many checks give the same way: nothing to judge, a yes/no setting, credentials' ages."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result, Status

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
