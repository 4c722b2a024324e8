"""Generic HR exports (Workday, Personio, HiBob, Rippling, ...): a CSV or JSON file and a column map.

`[hr.columns]` maps our field names to the export's column names; unmapped fields default to
a column of the same name and are simply absent when the export has no such column, except
the required ones. A column mapped explicitly but missing from the file is an error.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from agent.errors import CollectorError, InputDataError
from collectors.hr.settings import HrSettings
from collectors.hr.validate import REQUIRED, RawRow

FIELDS = HrSettings.FIELDS


def _columns(present: set[str], mapping: Mapping[str, str], where: str) -> dict[str, str]:
    """Our field → the export's column, for the fields this export holds."""
    chosen: dict[str, str] = {}
    for name in FIELDS:
        column = mapping.get(name, name)
        if column in present:
            chosen[name] = column
        elif name in mapping or name in REQUIRED:
            raise InputDataError(
                f"{where}: no column {column!r} (for {name}); columns: {', '.join(sorted(present))}"
            )
    return chosen


def _csv_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        if not header:
            raise InputDataError(f"{path}: empty CSV export (no header row)")
        reader.fieldnames = header
        rows = []
        for row in reader:
            if None in row:
                raise InputDataError(f"{path}: line {reader.line_num}: more values than columns")
            rows.append((reader.line_num, row))
        return header, rows


def _json_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputDataError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    items = doc.get("employees") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise InputDataError(f'{path}: expected a JSON list of employees (or {{"employees": [...]}})')
    rows = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise InputDataError(f"{path}: record {n}: not a JSON object")
        rows.append((n, item))
    header = sorted({k for _, item in rows for k in item})
    return header, rows


def read_export(path: Path, mapping: Mapping[str, str]) -> Iterator[RawRow]:
    """Every row of the export under our field names, with its line (CSV) or record (JSON) number."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise CollectorError(f"{path}: HR export must be .csv or .json")
    try:
        header, rows = _csv_rows(path) if suffix == ".csv" else _json_rows(path)
    except UnicodeDecodeError:
        raise InputDataError(f"{path}: not UTF-8 text") from None
    except csv.Error as exc:
        raise InputDataError(f"{path}: malformed CSV: {exc}") from None
    except OSError as exc:
        raise CollectorError(f"{path}: cannot read HR export: {exc.strerror}") from None
    columns = _columns(set(header), mapping, str(path))
    label = "line" if suffix == ".csv" else "record"
    for number, row in rows:
        yield RawRow(f"{label} {number}", {ours: row.get(theirs) for ours, theirs in columns.items()})
