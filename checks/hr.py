"""HR people controls: screening before the start date, signed terms and NDA, current training."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._dates import days_ago
from checks._identity import EMPLOYEES, Person, directory
from checks._judging import or_nothing_to_judge


def _current(ev: Evidence) -> Iterator[tuple[Record, Person]]:
    """Employees not gone: active, on leave, and joiners yet to start."""
    today = ev.now.date()
    for person in directory(ev):
        if not person.has_left(today):
            yield person.record, person


def _fact_missing(ev: Evidence, fact: str) -> Result | None:
    """An error when HR evidence does not carry the fact at all: absence is not compliance."""
    records = ev.records(EMPLOYEES)
    if records and not any(fact in r.data for r in records):
        return Result.error(ev.scope, f"hr.employees carries no {fact}: map it in [hr.columns]")
    return None


def _each_current(
    ev: Evidence, fact: str, judge: Callable[[Record, Person, Any], Result]
) -> Iterator[Result]:
    """`judge` each current employee with the value HR holds for `fact` (an ISO date, true/false or
    None); evidence that carries the fact for nobody is one `error`, never a verdict per person."""
    if (missing := _fact_missing(ev, fact)) is not None:
        yield missing
        return
    for record, person in _current(ev):
        yield judge(record, person, record.data.get(fact))


def _signed(ev: Evidence, fact: str, what: str) -> Iterator[Result]:
    """Current employees must have `fact` recorded (true or a date); joiners may until their start."""
    today = ev.now.date()

    def judge(record: Record, person: Person, value: Any) -> Result:
        done = value is True or isinstance(value, str)
        pending = not done and person.hire_date is not None and person.hire_date > today
        if done:
            reason = f"{person.label}: {what} signed" + (f" on {value}" if isinstance(value, str) else "")
        elif pending:
            reason = f"{person.label}: starts {person.hire_date}; {what} not signed yet"
        else:
            reason = f"{person.label}: no signed {what} recorded in HR"
        return Result.of(record, passed=done or pending, reason=reason)

    yield from _each_current(ev, fact, judge)


@check(
    "hr.people.screening_before_start",
    title="Background screening is recorded before each employee's start date",
    controls={"A.6.1": "Candidates are screened before joining, proportionate to the role's risks."},
    severity="minor",
    needs=[EMPLOYEES],
    rationale="Screening after someone has started means they had access before anyone checked them.",
    remediation="Complete and record the screening; fix the hiring workflow so access waits for it.",
)
@or_nothing_to_judge("current employees")
def screening_before_start(ev: Evidence) -> Iterator[Result]:
    """A screening date on or before the hire date (or a yes) for every current employee."""
    today = ev.now.date()

    def judge(record: Record, person: Person, value: Any) -> Result:
        start = person.hire_date
        if isinstance(value, str):
            screened = date.fromisoformat(value)
            late_by = screened - start if start is not None and screened > start else None
            detail = f"screened {value}" + (
                f", {late_by.days} day(s) after starting {start}" if late_by is not None else ""
            )
            return Result.of(record, passed=late_by is None, reason=f"{person.label}: {detail}")
        if value is True:
            return Result.of(record, passed=True, reason=f"{person.label}: screening recorded (no date)")
        pending = start is not None and start > today
        detail = f"starts {start}; screening pending" if pending else "no screening recorded"
        return Result.of(record, passed=pending, reason=f"{person.label}: {detail}")

    yield from _each_current(ev, "screening_completed", judge)


@check(
    "hr.people.terms_signed",
    title="Every employee has signed the terms and conditions of employment",
    controls={"A.6.2": "Employment agreements state the employee's information security responsibilities."},
    severity="minor",
    needs=[EMPLOYEES],
    rationale="Security duties that were never agreed to cannot be enforced.",
    remediation="Have the employee sign the current terms of employment and record it in the HR system.",
)
@or_nothing_to_judge("current employees")
def terms_signed(ev: Evidence) -> Iterator[Result]:
    """Terms of employment recorded as signed for every current employee."""
    yield from _signed(ev, "terms_signed", "terms of employment")


@check(
    "hr.people.nda_signed",
    title="Every employee has signed a confidentiality agreement",
    controls={"A.6.6": "Confidentiality or non-disclosure agreements are signed by personnel."},
    severity="minor",
    needs=[EMPLOYEES],
    rationale="Without a signed NDA, disclosure of confidential information has no agreed consequence.",
    remediation="Have the employee sign the NDA and record it in the HR system.",
)
@or_nothing_to_judge("current employees")
def nda_signed(ev: Evidence) -> Iterator[Result]:
    """An NDA recorded as signed for every current employee."""
    yield from _signed(ev, "nda_signed", "NDA")


@check(
    "hr.people.training_overdue",
    title="Security awareness training is current",
    controls={"A.6.3": "Personnel receive security awareness training, refreshed regularly."},
    severity="minor",
    needs=[EMPLOYEES],
    rationale="Phishing and data handling mistakes fall as training lapses.",
    remediation="Assign the training to the employee and record its completion date in HR.",
    params={"valid_days": 365, "new_joiner_days": 30},
)
@or_nothing_to_judge("current employees")
def training_overdue(ev: Evidence) -> Iterator[Result]:
    """Training completed within `valid_days`; joiners have `new_joiner_days` from their start."""
    valid, joiner = int(ev.param("valid_days")), int(ev.param("new_joiner_days"))
    today = ev.now.date()

    def judge(record: Record, person: Person, value: Any) -> Result:
        if isinstance(value, str):
            age = (today - date.fromisoformat(value)).days
            reason = f"{person.label}: trained {value} ({days_ago(age)}, valid {valid} days)"
            return Result.of(record, passed=age <= valid, reason=reason)
        if value is True:
            return Result.of(record, passed=True, reason=f"{person.label}: training recorded (no date)")
        since = (today - person.hire_date).days if person.hire_date else None
        started = "start date unknown" if since is None else f"started {days_ago(since)}"
        if since is not None and since < 0:
            started = f"starts {person.hire_date}"
        reason = f"{person.label}: no training recorded, {started} (joiners have {joiner} days)"
        return Result.of(record, passed=since is not None and since <= joiner, reason=reason)

    yield from _each_current(ev, "training_completed", judge)
