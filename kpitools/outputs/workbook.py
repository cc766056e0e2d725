"""``exceptions.xlsx`` written as a workbook (what goes in it: :mod:`kpitools.outputs.register`).

:func:`write_register` writes named sheets, each with a bold frozen header row, an
autofilter and column widths set; dates are date cells. Every text cell is written as a
string cell, never as a formula: a provider who types ``=HYPERLINK(...)`` or
``@SUM(...)`` into a name field gets exactly that text in the register (cells starting
with one of :data:`kpitools.io.files.FORMULA_STARTS` are also flagged ``quotePrefix``
so Excel keeps them as text when edited), its control characters shown as ``\\xNN``
(:func:`kpitools.text.visible_text`: openpyxl refuses BEL, VT, FF and ESC), with a note
saying how many cells were changed. A sheet worked in has a :class:`SheetLayout`:
columns frozen with the header, a drop-down list on ``status``, a date validation on the
date columns, conditional formats (:class:`Highlight`) and set widths; a sheet may be
hidden. The next run reads the register back with
:func:`kpitools.worklists.followup.read_register`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from kpitools.io.files import FORMULA_STARTS, write_atomic
from kpitools.text import MAX_CELL_CHARS, cell_fit, visible_text

MAX_WIDTH = 50
MAX_SHEET_NAME = 31  # Excel's limit
_WRAPPED = (
    "message",
    "response",
    "detail",
    "what_is_needed",
    "review_note",
    "what_we_found",
    "what_we_ask",
    "where",
)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_DATE_FORMAT = "yyyy-mm-dd"
_VALIDATED_ROWS = 1000  # drop-downs and date checks cover rows an auditor adds below the data


@dataclass(frozen=True)
class Highlight:
    """A conditional format: cells of ``column`` (or, with ``whole_row``, every cell of
    the rows) whose value compares to ``value`` by ``operator`` (an Excel comparison:
    ``equal``, ``greaterThan``) get the fill colour ``fill`` (RGB hex)."""

    column: str
    operator: str
    value: str
    fill: str
    whole_row: bool = False


@dataclass(frozen=True)
class SheetLayout:
    """How a sheet that is worked in is laid out.

    Attributes:
        statuses: the allowed values of its ``status`` column, offered as a drop-down.
        date_columns: columns whose cells must be dates (a date validation).
        frozen_columns: columns frozen at the left with the header row.
        highlights: conditional formats, in order of precedence.
        widths: the width of named columns (others fit their content, up to 50).
        hidden: a sheet for kpitools only (very hidden: Excel's menus do not show it).
        text_limits: columns whose text may be at most so many characters (a text-length
            validation: a reply that fits a register cell).
        fills: columns shaded (RGB hex), header and cells: where a reader types.
    """

    statuses: tuple[str, ...] = ()
    date_columns: tuple[str, ...] = ()
    frozen_columns: int = 0
    highlights: tuple[Highlight, ...] = ()
    widths: Mapping[str, float] = field(default_factory=dict)
    hidden: bool = False
    text_limits: Mapping[str, int] = field(default_factory=dict)
    fills: Mapping[str, str] = field(default_factory=dict)


def escaped_note(cells: int) -> str:
    """The note of a file whose cells had control characters escaped."""
    return (
        f"{cells:,} cell(s) held control characters (such as BEL, VT, FF or ESC), shown "
        "here as \\xNN escapes"
    )


@dataclass
class _Changed:
    """How many cells of a workbook were changed to be written: control characters
    escaped, text cut at Excel's limit."""

    escaped: int = 0
    cut: int = 0


def cut_note(cells: int) -> str:
    """The note of a workbook whose cells had text over Excel's limit."""
    return (
        f"{cells:,} cell(s) held more than {MAX_CELL_CHARS:,} characters (Excel's limit): "
        "cut here, each ending with a mark saying so; the full text is in the audit store "
        "(OUT/kpitools.duckdb)"
    )


def _write_cell(sheet: Worksheet, row: int, column: int, value: object, changed: _Changed) -> None:
    """Write one cell, counting in ``changed`` what had to change in its text."""
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
    visible = visible_text(str(value))
    text = cell_fit(visible)
    cell.value = text
    # openpyxl turns any string starting with "=" into a formula: force a string cell.
    cell.data_type = "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    changed.escaped += len(visible) != len(str(value))
    changed.cut += text != visible


def _write_sheet(
    sheet: Worksheet,
    frame: pd.DataFrame,
    layout: SheetLayout,
    changed: _Changed,
    *,
    top: int = 1,
) -> None:
    """Write one sheet, its header in row ``top`` (rows above it are a header block
    written by the caller), counting in ``changed`` the cells whose text had to change."""
    columns = [cell_fit(visible_text(str(c))) for c in frame.columns]
    for index, name in enumerate(columns, start=1):
        cell = sheet.cell(row=top, column=index, value=name)
        cell.data_type = "s"
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
    for row_number, values in enumerate(frame.itertuples(index=False), start=top + 1):
        for column_number, value in enumerate(values, start=1):
            _write_cell(sheet, row_number, column_number, value, changed)
    if layout.hidden:
        sheet.sheet_state = "veryHidden"
    if not columns:
        return
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A{top}:{last}{max(top, len(frame) + top)}"
    sheet.freeze_panes = f"{get_column_letter(layout.frozen_columns + 1)}{top + 1}"
    bottom = max(len(frame) + top, _VALIDATED_ROWS + top - 1)
    for index, name in enumerate(columns, start=1):
        values = frame.iloc[:2000, index - 1]
        longest = max([len(name), *(len(str(v)) for v in values if v is not None)])
        width = layout.widths.get(name, min(MAX_WIDTH, longest + 2))
        sheet.column_dimensions[get_column_letter(index)].width = width
        if name in _WRAPPED:
            for row in sheet.iter_rows(min_row=top + 1, min_col=index, max_col=index):
                row[0].alignment = Alignment(wrap_text=True, vertical="top")
        if name in layout.fills:
            fill = PatternFill(
                "solid", start_color=layout.fills[name], end_color=layout.fills[name]
            )
            for row in sheet.iter_rows(
                min_row=top, max_row=len(frame) + top, min_col=index, max_col=index
            ):
                row[0].fill = fill
    _validations(sheet, columns, layout, top, bottom)
    _highlights(sheet, columns, layout, top, bottom)


def _validations(
    sheet: Worksheet, columns: list[str], layout: SheetLayout, top: int, bottom: int
) -> None:
    """The status drop-down, the date checks and the text lengths, over the data and the
    rows below it."""
    first = top + 1
    if "status" in columns and layout.statuses:
        letter = get_column_letter(columns.index("status") + 1)
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(layout.statuses) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="status",
            error="Pick one of: " + ", ".join(layout.statuses),
        )
        sheet.add_data_validation(validation)
        validation.add(f"{letter}{first}:{letter}{bottom}")
    dated = [c for c in layout.date_columns if c in columns]
    if dated:
        validation = DataValidation(
            type="date",
            operator="greaterThan",
            formula1="DATE(2000,1,1)",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="date",
            error="A date, e.g. 2023-04-15 (after 2000-01-01)",
        )
        sheet.add_data_validation(validation)
        for name in dated:
            letter = get_column_letter(columns.index(name) + 1)
            validation.add(f"{letter}{first}:{letter}{bottom}")
    for name, limit in layout.text_limits.items():
        if name not in columns:
            continue
        validation = DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(limit),
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=name,
            error=f"At most {limit:,} characters",
        )
        sheet.add_data_validation(validation)
        letter = get_column_letter(columns.index(name) + 1)
        validation.add(f"{letter}{first}:{letter}{bottom}")


def _highlights(
    sheet: Worksheet, columns: list[str], layout: SheetLayout, top: int, bottom: int
) -> None:
    """The conditional formats whose column the sheet has."""
    last = get_column_letter(len(columns))
    first = top + 1
    for highlight in layout.highlights:
        if highlight.column not in columns:
            continue
        letter = get_column_letter(columns.index(highlight.column) + 1)
        fill = PatternFill("solid", start_color=highlight.fill, end_color=highlight.fill)
        if highlight.whole_row:
            comparison = {"equal": "=", "greaterThan": ">"}[highlight.operator]
            sheet.conditional_formatting.add(
                f"A{first}:{last}{bottom}",
                FormulaRule(formula=[f"${letter}{first}{comparison}{highlight.value}"], fill=fill),
            )
        else:
            sheet.conditional_formatting.add(
                f"{letter}{first}:{letter}{bottom}",
                CellIsRule(operator=highlight.operator, formula=[highlight.value], fill=fill),
            )


def write_register(
    sheets: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    layouts: Mapping[str, SheetLayout] | None = None,
    note_sheet: str | None = None,
) -> Path:
    """Write the register (atomically) and return its path.

    Args:
        sheets: sheet name → frame, in order (names longer than 31 characters are cut).
        path: the ``.xlsx`` file to write.
        layouts: sheet name → its :class:`SheetLayout` (others: the header frozen).
        note_sheet: a sheet of two columns (item, value) that gets a ``note`` row below
            its last when cells had control characters escaped.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.worksheets[0])  # a new workbook holds one empty sheet
    # who saved it last: kpitools, until an auditor saves it (read back with the register)
    book.properties.creator = book.properties.lastModifiedBy = "kpitools"
    changed = _Changed()
    for name, frame in sheets.items():
        layout = (layouts or {}).get(name, SheetLayout())
        _write_sheet(book.create_sheet(name[:MAX_SHEET_NAME]), frame, layout, changed)
    if note_sheet is not None:
        sheet = book[note_sheet[:MAX_SHEET_NAME]]
        notes = [escaped_note(changed.escaped)] if changed.escaped else []
        notes += [cut_note(changed.cut)] if changed.cut else []
        for text in notes:
            row = sheet.max_row + 1
            _write_cell(sheet, row, 1, "note", changed)
            _write_cell(sheet, row, 2, text, changed)
    buffer = io.BytesIO()
    book.save(buffer)
    return write_atomic(path, buffer.getvalue())


def write_evidence_request(
    header: list[tuple[str, object]],
    lines: pd.DataFrame,
    path: str | Path,
    *,
    sheet_name: str,
    layout: SheetLayout,
) -> Path:
    """Write the evidence request (atomically): one sheet, the ``header`` block (label,
    value) above the ``lines`` table, whose header row comes one blank row below it; the
    lines laid out by ``layout`` (reply columns shaded and validated). Returns the path."""
    path = Path(path)
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = sheet_name[:MAX_SHEET_NAME]
    book.properties.creator = book.properties.lastModifiedBy = "kpitools"
    changed = _Changed()
    for number, (label, value) in enumerate(header, start=1):
        _write_cell(sheet, number, 1, label, changed)
        sheet.cell(row=number, column=1).font = Font(bold=True)
        _write_cell(sheet, number, 2, value, changed)
        sheet.cell(row=number, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    top = len(header) + 2
    _write_sheet(sheet, lines, layout, changed, top=top)
    # the header block's values span the first columns of the lines
    for number in range(1, len(header) + 1):
        sheet.merge_cells(start_row=number, start_column=2, end_row=number, end_column=6)
    sheet.row_dimensions[len(header)].height = 60  # how to reply, wrapped
    buffer = io.BytesIO()
    book.save(buffer)
    return write_atomic(path, buffer.getvalue())
