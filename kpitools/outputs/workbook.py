"""``exceptions.xlsx`` written as a workbook (what goes in it: :mod:`kpitools.outputs.register`).

:func:`write_register` writes named sheets, each with a bold frozen header row, an
autofilter and column widths set; dates are date cells. Every text cell is written as a
string cell, never as a formula: a provider who types ``=HYPERLINK(...)`` or
``@SUM(...)`` into a name field gets exactly that text in the register (cells starting
with one of :data:`kpitools.io.files.FORMULA_STARTS` are also flagged ``quotePrefix``
so Excel keeps them as text when edited). A sheet's ``status`` column gets a drop-down
list of the follow-up statuses. Next month's run reads the register back with
:func:`kpitools.worklists.followup.read_register`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from kpitools.io.files import FORMULA_STARTS, write_atomic

MAX_WIDTH = 60
MAX_SHEET_NAME = 31  # Excel's limit
_WRAPPED = ("message", "response", "detail", "what_is_needed")
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_DATE_FORMAT = "yyyy-mm-dd"


def _write_cell(sheet: Worksheet, row: int, column: int, value: object) -> None:
    cell = sheet.cell(row=row, column=column)
    if value is None or (
        not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)
    ):
        return
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value == datetime(value.year, value.month, value.day):
        value = value.date()
    if isinstance(value, date):
        cell.value = value
        cell.number_format = _DATE_FORMAT
        return
    if isinstance(value, bool | int | float):
        cell.value = value
        return
    if hasattr(value, "item"):  # numpy scalars
        cell.value = value.item()
        return
    text = str(value)
    cell.value = text
    # openpyxl turns any string starting with "=" into a formula: force a string cell.
    cell.data_type = "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True


def _write_sheet(sheet: Worksheet, frame: pd.DataFrame, statuses: Sequence[str]) -> None:
    columns = [str(c) for c in frame.columns]
    for index, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=name)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
    for row_number, values in enumerate(frame.itertuples(index=False), start=2):
        for column_number, value in enumerate(values, start=1):
            _write_cell(sheet, row_number, column_number, value)
    if not columns:
        return
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{max(1, len(frame) + 1)}"
    sheet.freeze_panes = "A2"
    for index, name in enumerate(columns, start=1):
        values = frame.iloc[:2000, index - 1]
        longest = max([len(name), *(len(str(v)) for v in values if v is not None)])
        sheet.column_dimensions[get_column_letter(index)].width = min(MAX_WIDTH, longest + 2)
        if name in _WRAPPED:
            for row in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                row[0].alignment = Alignment(wrap_text=True, vertical="top")
    if "status" in columns and statuses:
        letter = get_column_letter(columns.index("status") + 1)
        # The list covers rows the auditor may add below the data too.
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(statuses) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="status",
            error="Pick one of: " + ", ".join(statuses),
        )
        sheet.add_data_validation(validation)
        validation.add(f"{letter}2:{letter}{max(len(frame) + 1, 1000)}")


def write_register(
    sheets: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    status_sheets: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write the register (atomically) and return its path.

    Args:
        sheets: sheet name → frame, in order (names longer than 31 characters are cut).
        path: the ``.xlsx`` file to write.
        status_sheets: sheet name → the allowed values of its ``status`` column, offered
            as a drop-down list (data validation).

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.worksheets[0])  # a new workbook holds one empty sheet
    for name, frame in sheets.items():
        statuses = (status_sheets or {}).get(name, ())
        _write_sheet(book.create_sheet(name[:MAX_SHEET_NAME]), frame, statuses)
    buffer = io.BytesIO()
    book.save(buffer)
    return write_atomic(path, buffer.getvalue())
