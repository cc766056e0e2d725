"""``exceptions.xlsx``: the exceptions register for auditors who work in Excel.

One sheet per KPI plus ``irregularities``, each with the ``exceptions.csv`` columns, an
autofilter, a frozen header row and column widths set. Every text cell is written as a
string cell, never as a formula: a provider who types ``=HYPERLINK(...)`` or
``@SUM(...)`` into a name field gets exactly that text in the register (cells starting
with ``=``, ``+``, ``-``, ``@``, tab, CR or LF are also flagged ``quotePrefix`` so Excel
keeps them as text when edited).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kpitools.contract import EXCEPTION_COLUMNS, KPIS

IRREGULARITIES_SHEET = "irregularities"
SHEETS: tuple[str, ...] = (*KPIS, IRREGULARITIES_SHEET)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
MAX_WIDTH = 60
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")


def _text_cell(sheet: Worksheet, row: int, column: int, value: object) -> None:
    cell = sheet.cell(row=row, column=column)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return
    if isinstance(value, bool | int | float):
        cell.value = value
        return
    text = str(value)
    cell.value = text
    # openpyxl turns any string starting with "=" into a formula: force a string cell.
    cell.data_type = "s"
    if text.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True


def _write_sheet(sheet: Worksheet, frame: pd.DataFrame, columns: list[str]) -> None:
    for index, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=name)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
    for row_number, values in enumerate(frame[columns].itertuples(index=False), start=2):
        for column_number, value in enumerate(values, start=1):
            _text_cell(sheet, row_number, column_number, value)
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{max(1, len(frame) + 1)}"
    sheet.freeze_panes = "A2"
    for index, name in enumerate(columns, start=1):
        longest = max([len(name), *(len(str(v)) for v in frame[name].head(2000) if v is not None)])
        sheet.column_dimensions[get_column_letter(index)].width = min(MAX_WIDTH, longest + 2)
    message_col = columns.index("message") + 1 if "message" in columns else None
    if message_col:
        for row in sheet.iter_rows(min_row=2, min_col=message_col, max_col=message_col):
            row[0].alignment = Alignment(wrap_text=True, vertical="top")


def write_register(findings: pd.DataFrame, path: str | Path) -> Path:
    """Write the exceptions register (atomically) and return its path.

    Args:
        findings: rows with the ``exceptions.csv`` columns, already made safe to show
            (see :meth:`kpitools.packs.context.PackContext.findings`).
        path: the ``.xlsx`` file to write.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(EXCEPTION_COLUMNS)
    book = Workbook()
    book.remove(book.active)
    for sheet_name in SHEETS:
        kpi = "irregularity" if sheet_name == IRREGULARITIES_SHEET else sheet_name
        rows = findings[findings["kpi"] == kpi] if len(findings) else findings
        _write_sheet(book.create_sheet(sheet_name), rows.reindex(columns=columns), columns)
    partial = path.with_name(path.name + ".partial")
    book.save(partial)
    partial.replace(path)
    return path
