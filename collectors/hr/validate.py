"""Turning raw HR rows (already mapped to our field names) into `hr.employees` records.

Shared by every HR reader so a BambooHR report and a CSV export are judged by the same rules.
Validation runs over the whole input before anything is yielded: one bad row rejects the
listing with every problem named by row, and the runner stores nothing of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from agent.errors import InputDataError
from agent.plugin.model import Record

FACTS = ("screening_completed", "terms_signed", "nda_signed", "training_completed")
DATES = ("hire_date", "termination_date")
REQUIRED = ("employee_id", "name", "status")
SHOWN_PROBLEMS = 5
EMPTY_DATES = frozenset({"", "0000-00-00", "null", "none", "n/a"})
TRUE = frozenset({"true", "yes", "y", "1", "x", "done", "completed", "signed"})
FALSE = frozenset({"false", "no", "n", "0", "not started", "pending"})
STATUSES = {
    "active": "active",
    "employed": "active",
    "current": "active",
    "inactive": "terminated",
    "terminated": "terminated",
    "former": "terminated",
    "left": "terminated",
    "leaver": "terminated",
    "leave": "leave",
    "on leave": "leave",
    "leave of absence": "leave",
    "suspended": "leave",
}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class RawRow:
    """One input row: where it came from (for messages) and its values under our field names."""

    where: str
    values: Mapping[str, Any]


class RowProblem(ValueError):
    """A value that cannot be read; collected per row, never raised out of this module."""


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _date(value: Any, name: str) -> str | None:
    text = _text(value)
    if text.lower() in EMPTY_DATES:
        return None
    if not ISO_DATE.match(text):
        raise RowProblem(f"{name} {text!r} is not an ISO date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise RowProblem(f"{name} {text!r} is not a valid date") from None


def _fact(value: Any, name: str) -> str | bool | None:
    """A people-control fact: the date it was done, true/false, or None when HR holds nothing."""
    if isinstance(value, bool):
        return value
    text = _text(value)
    if text.lower() in EMPTY_DATES:
        return None
    if ISO_DATE.match(text):
        return _date(text, name)
    if text.lower() in TRUE:
        return True
    if text.lower() in FALSE:
        return False
    raise RowProblem(f"{name} {text!r} is neither a date nor yes/no")


def _email(value: Any, name: str) -> str | None:
    text = _text(value).lower()
    if not text:
        return None
    if "@" not in text or " " in text:
        raise RowProblem(f"{name} {text!r} is not an email address")
    return text


def _status(value: Any, extra: Mapping[str, str]) -> str:
    text = _text(value)
    known = {**STATUSES, **{k.strip().lower(): v for k, v in extra.items()}}
    if text.lower() not in known:
        raise RowProblem(f"status {text!r} is not a known employment status (map it in [hr] status_values)")
    return known[text.lower()]


def employee_data(values: Mapping[str, Any], status_values: Mapping[str, str]) -> dict[str, Any]:
    """The record data of one row; raises RowProblem naming the first bad field."""
    for name in REQUIRED:
        if not _text(values.get(name)):
            raise RowProblem(f"{name} is empty")
    data: dict[str, Any] = {
        "employee_id": _text(values["employee_id"]),
        "email": _email(values.get("email"), "email"),
        "name": _text(values["name"]),
        "status": _status(values["status"], status_values),
        "hire_date": _date(values.get("hire_date"), "hire_date"),
        "termination_date": _date(values.get("termination_date"), "termination_date"),
        "manager_email": _email(values.get("manager_email"), "manager_email"),
        "department": _text(values.get("department")) or None,
    }
    for fact in FACTS:
        if fact in values:  # only when the HR system holds it (mapped): absence is not "false"
            data[fact] = _fact(values[fact], fact)
    return data


def employee_records(
    rows: Iterable[RawRow],
    source: str,
    *,
    status_values: Mapping[str, str] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> Iterator[Record]:
    """Validate every row, then yield the records; any problem rejects the whole input."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    datas: list[dict[str, Any]] = []
    for row in rows:
        try:
            data = employee_data(row.values, status_values or {})
        except RowProblem as exc:
            problems.append(f"{row.where}: {exc}")
            continue
        first = seen.setdefault(data["employee_id"], row.where)
        if first != row.where:
            problems.append(f"{row.where}: employee_id {data['employee_id']} already on {first}")
            continue
        datas.append(data)
    by_employee: dict[str, list[str]] = {}
    for alias, employee_id in (aliases or {}).items():
        if employee_id not in seen:
            problems.append(f"[hr] aliases: {alias} names employee_id {employee_id}, which {source} lacks")
        by_employee.setdefault(employee_id, []).append(alias.strip().lower())
    if problems:
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        more = f" (and {len(problems) - SHOWN_PROBLEMS} more)" if len(problems) > SHOWN_PROBLEMS else ""
        raise InputDataError(f"{source}: rejected, nothing stored: {shown}{more}")
    for data in datas:
        data["aliases"] = sorted(by_employee.get(data["employee_id"], []))
        yield Record(resource_id=f"hr:{data['employee_id']}", data=data)
