"""What every check says when a scope holds nothing for it to judge."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from agent.plugin.evidence import Evidence
from agent.plugin.model import Result, Status

CheckFunc = Callable[[Evidence], Iterator[Result]]


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
