"""Reading ``datasheet.xlsx`` (one sheet per contract table) into raw rows.

Split from :mod:`kpitools.io.tables` (CSV and folders) to keep modules short. Cells are
rendered to text by their contract kind so that the same data as CSV or as a workbook
gives identical tables; formulas are never evaluated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kpitools.cells import excel_cell_text, id_rule
from kpitools.contract import TABLES
from kpitools.errors import FileLevelError
from kpitools.io.tables import RawTable, build_raw_table, match_header


def read_workbook(path: str | Path) -> tuple[dict[str, RawTable], list[str]]:
    """Read ``datasheet.xlsx``: one sheet per contract table, sheet named as the table.

    Cells are turned into text by contract kind (:func:`kpitools.cells.excel_cell_text`).
    A cell holding a formula gives its cached value, with a warning; formulas are never
    evaluated. Rows are Excel row numbers; blank rows are skipped.

    Raises:
        FileLevelError: not a readable workbook, two sheets for one table, or a sheet
            without a usable header (see :func:`match_header`).
    """
    path = Path(path)
    workbook = _open_workbook(path, data_only=False)
    tables: dict[str, RawTable] = {}
    warnings: list[str] = []
    try:
        for sheet_name in workbook.sheetnames:
            table = sheet_name.strip().lower()
            if table not in TABLES:
                warnings.append(
                    f"{path.name}: sheet {sheet_name!r} is not a contract table; ignored"
                )
                continue
            if table in tables:
                raise FileLevelError(f"two sheets for table {table!r}", path=path.name)
            raw, sheet_warnings = _read_sheet(path, workbook[sheet_name], table)
            tables[table] = raw
            warnings += sheet_warnings
    finally:
        workbook.close()
    return tables, warnings


def _open_workbook(path: Path, *, data_only: bool) -> Any:
    import openpyxl  # imported here: CSV-only runs do not pay for it

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as error:  # openpyxl raises many types for a broken file
        raise FileLevelError(
            f"not a readable Excel workbook ({type(error).__name__})", path=path.name
        ) from None


def _read_sheet(path: Path, sheet: Any, table: str) -> tuple[RawTable, list[str]]:
    label = f"{path.name}[{table}]"
    sheet.reset_dimensions()  # a stale <dimension> must not hide rows
    names: list[str | None] | None = None
    kinds: list[str] = []
    warnings: list[str] = []
    records: list[list[str]] = []
    rows: list[int] = []
    problems: list[tuple[int, str, str, str, str]] = []
    formulas: list[tuple[int, int, int]] = []  # (position, column index, excel row)
    for row_number, cells in enumerate(sheet.iter_rows(min_row=1), start=1):
        if all(
            c.value is None or (isinstance(c.value, str) and not c.value.strip()) for c in cells
        ):
            continue
        if names is None:
            names, warnings = match_header(
                [_header_text(c.value) for c in cells], TABLES[table], label
            )
            kinds = [TABLES[table].column(n).kind if n else "text" for n in names]
            continue
        fields = []
        for index, cell in enumerate(cells):
            kind = kinds[index] if index < len(kinds) else "text"
            if cell.data_type == "f":
                formulas.append((len(records), index, row_number))
            text, problem = excel_cell_text(cell.value, getattr(cell, "number_format", None), kind)
            if problem and index < len(names) and names[index]:
                problems.append((len(records), names[index], text, problem, id_rule(kind)))
            fields.append(text)
        records.append(fields)
        rows.append(row_number)
    if names is None:
        raise FileLevelError("empty sheet: no header row", path=label)
    if formulas:
        warnings += _use_cached_values(path, sheet.title, label, records, formulas, kinds)
    return build_raw_table(table, label, names, records, rows, "row", problems), warnings


def _header_text(value: object) -> str:
    return "" if value is None else str(value)


def _use_cached_values(
    path: Path,
    sheet_title: str,
    label: str,
    records: list[list[str]],
    formulas: list[tuple[int, int, int]],
    kinds: list[str],
) -> list[str]:
    """Replace formula cells by the value Excel last computed (never evaluate)."""
    workbook = _open_workbook(path, data_only=True)
    try:
        wanted = {(row, index) for _, index, row in formulas}
        cached: dict[tuple[int, int], object] = {}
        for row_number, cells in enumerate(workbook[sheet_title].iter_rows(min_row=1), start=1):
            for index, cell in enumerate(cells):
                if (row_number, index) in wanted:
                    cached[(row_number, index)] = (cell.value, getattr(cell, "number_format", None))
    finally:
        workbook.close()
    warnings = []
    for position, index, row_number in formulas:
        value, number_format = cached.get((row_number, index), (None, None))
        kind = kinds[index] if index < len(kinds) else "text"
        formula = records[position][index]
        records[position][index] = excel_cell_text(value, number_format, kind)[0]
        shown = (
            "no cached value, so it is blank"
            if value is None
            else f"its cached value {records[position][index]!r} is used"
        )
        warnings.append(
            f"{label} row {row_number}: cell holds the formula {formula!r}; {shown} (formulas are never evaluated)"
        )
    return warnings
