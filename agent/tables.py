"""Tables an auditor opens in a spreadsheet (the SoA, the asset inventory) as CSV or XLSX.

Their cells hold strings from collected systems and HR files: data, never formulas. Every text cell
goes through `spreadsheet_cell` (shown literally, quoted with `'` when it could start a formula),
and XLSX cells are typed as strings, since openpyxl would otherwise store `=...` as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.literal import spreadsheet_cell

if TYPE_CHECKING:
    from openpyxl.cell import Cell


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return spreadsheet_cell(", ".join(str(v) for v in value))
    if value is None:
        return ""
    return spreadsheet_cell(value) if isinstance(value, str) else value


def cells(row: Mapping[str, Any], columns: Sequence[str]) -> list[Any]:
    """The row's cells in `columns` order: lists joined with ", ", None as empty, text neutralised,
    numbers and booleans kept."""
    return [_cell(row[k]) for k in columns]


def table_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    writer.writerows(cells(r, columns) for r in rows)
    return buf.getvalue()


def save_xlsx(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], sheet_title: str, out: Path) -> None:
    """One sheet, a header row and a row per `rows`, streamed (write-only: memory stays flat)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title)

    def cell(value: Any) -> Cell:
        """Text is stored as a string whatever it starts with: openpyxl makes `=...` a formula."""
        made = WriteOnlyCell(sheet, value)
        if isinstance(value, str):
            made.data_type = "s"
        return made

    sheet.append(list(columns))
    for r in rows:
        sheet.append([cell(v) for v in cells(r, columns)])
    book.save(out)
