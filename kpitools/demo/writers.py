"""Write a snapshot's tables as CSV files or as one ``datasheet.xlsx``, byte-stable.

Cells are formatted by contract column kind. Each provider has a house style, as real
providers do, all within the data contract: ISO or UK dates, plain or ``£1,250.00``
money, UTF-8 with or without a BOM. Same input, same bytes: no timestamps, fixed row
order, fixed number formatting; the workbook's properties and zip entry times are fixed.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Collection
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.writer.excel import ExcelWriter

from kpitools.demo.snapshot import Tables
from kpitools.returns.contract import TABLES

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FIXED_TIME = datetime(2023, 1, 1, 0, 0, 0)
ZIP_TIME = (2023, 1, 1, 0, 0, 0)


def format_cell(value: Any, kind: str, style: dict[str, object]) -> str:
    """One value of a row (:data:`~kpitools.demo.world.Row`) as CSV text in the provider's
    style (None → empty)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if kind in ("date", "birth_date") and isinstance(value, date):
        return value.strftime("%d/%m/%Y" if style.get("dates") == "uk" else "%Y-%m-%d")
    if kind == "money":
        pounds = int(value) / 100
        return f"£{pounds:,.2f}" if style.get("money") == "pounds" else f"{pounds:.2f}"
    if kind == "idlist" and isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def write_csv_folder(
    folder: Path,
    tables: Tables,
    style: dict[str, object],
    names: Collection[str] | None = None,
) -> list[Path]:
    """One CSV per contract table (of ``names``: every table when None), every contract
    column, header on line 1.

    The one CSV writer of kpitools besides :func:`kpitools.io.files.csv_bytes`: this
    writes a provider's *return*, the input, whose hostile cells (a formula in an
    employer's name) are planted on purpose for the readers and writers to neutralise.
    """
    folder.mkdir(parents=True, exist_ok=True)
    encoding = "utf-8-sig" if style.get("bom") else "utf-8"
    written = []
    for name, table in TABLES.items():
        if names is not None and name not in names:
            continue
        path = folder / f"{name}.csv"
        with path.open("w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(table.column_names)
            for row in tables[name]:
                writer.writerow(
                    [format_cell(row.get(c.name), c.kind, style) for c in table.columns]
                )
        written.append(path)
    return written


def _excel_value(value: Any, kind: str) -> object:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if kind == "money":
        return int(value) / 100
    if kind == "idlist" and isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, date | int):
        return value
    return str(value)


def workbook_bytes(tables: Tables, names: Collection[str] | None = None) -> bytes:
    """The return as a workbook: one sheet per table (of ``names``: every table when
    None), dates as date cells, money and counts as numbers, identifiers and text as
    text (a leading ``=`` stays text)."""
    book = Workbook(write_only=True)
    book.properties.creator = "kpitools demo"
    book.properties.created = book.properties.modified = FIXED_TIME
    for name, table in TABLES.items():
        if names is not None and name not in names:
            continue
        sheet = book.create_sheet(name)
        sheet.append(list(table.column_names))
        for row in tables[name]:
            sheet.append(
                [_excel_cell(sheet, _excel_value(row.get(c.name), c.kind)) for c in table.columns]
            )
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).write_data()
    return _fixed_zip(raw.getvalue())


def _excel_cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    """Plain values as they are; dates, amounts and formula-like text as styled cells."""
    if isinstance(value, date):
        # openpyxl writes a date as a date cell; types-openpyxl allows only a datetime
        cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, float):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "#,##0.00"
        return cell
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # text that looks like a formula stays text
        return cell
    return value


def _fixed_zip(data: bytes) -> bytes:
    """Re-pack a zip with fixed entry times (zipfile stamps entries with the clock)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def write_workbook(folder: Path, tables: Tables, names: Collection[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "datasheet.xlsx"
    path.write_bytes(workbook_bytes(tables, names))
    return path
