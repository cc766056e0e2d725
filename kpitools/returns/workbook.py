"""Reading ``datasheet.xlsx`` (one sheet per contract table) into raw rows.

Split from :mod:`kpitools.returns.tables` (CSV and folders) to keep modules short. Cells are
rendered to text by their contract kind so that the same data as CSV or as a workbook
gives identical tables; formulas are never evaluated.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from kpitools.errors import FileLevelError
from kpitools.returns.cells import excel_cell_text, id_rule
from kpitools.returns.contract import PII_COLUMN_NAMES, TABLES
from kpitools.returns.tables import RawTable, build_raw_table, control_warnings, match_header

# Limits a workbook must keep before openpyxl parses it (docs/contract.md). openpyxl
# loads every shared string and pads every row and column it is told about, so a small
# crafted file (30 M shared strings, a cell in row 1,048,576) would take minutes and
# gigabytes; these are checked from the zip directory and a streaming count instead.
MAX_XLSX_UNCOMPRESSED_BYTES = 50 * 2**20  # all members together, as the zip declares
MAX_XLSX_MEMBERS = 1_000
MAX_SHARED_STRINGS = 1_000_000
MAX_SHEET_ROWS = 100_000  # the highest row number in a sheet
MAX_SHEET_COLUMNS = 100  # the highest column in a sheet (CV)

# What zipfile and lxml raise for a damaged, encrypted or oddly compressed member.
_BROKEN_ZIP_OR_XML = (
    etree.XMLSyntaxError,
    zipfile.BadZipFile,
    OSError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)
_SPREADSHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d+)$")
# A number as a sheet stores it (what openpyxl reads: int() or float())
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def read_workbook(path: str | Path) -> tuple[dict[str, RawTable], list[str]]:
    """Read ``datasheet.xlsx``: one sheet per contract table, sheet named as the table.

    Cells are turned into text by contract kind (:func:`kpitools.returns.cells.excel_cell_text`).
    A cell holding a formula gives its cached value, with a warning; formulas are never
    evaluated. Rows are Excel row numbers; blank rows are skipped.

    Raises:
        FileLevelError: not a readable workbook, over a limit
            (:func:`check_workbook_limits`), two sheets for one table, or a sheet
            without a usable header (see :func:`match_header`).
    """
    path = Path(path)
    damaged = check_workbook_limits(path)
    source = number_cells_as_text(path, damaged) if damaged else path
    workbook = _open_workbook(path, source, data_only=False)
    tables: dict[str, RawTable] = {}
    warnings: list[str] = [
        f"{path.name}: {member} cell {ref} is marked as a number but holds none (a damaged "
        "workbook); read as the text it holds"
        for member, refs in sorted(damaged.items())
        for ref in refs
    ]
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
            raw, sheet_warnings = _read_sheet(path, source, workbook[sheet_name], table)
            tables[table] = raw
            warnings += sheet_warnings
    finally:
        workbook.close()
    return tables, warnings


def check_workbook_limits(path: Path) -> dict[str, list[str]]:
    """Refuse a workbook over a limit, in time and memory bounded by the limits.

    The zip directory gives the members and their uncompressed sizes (zipfile never
    inflates a member past its declared size); shared strings and sheet rows are then
    counted with a streaming parser that stops at the first limit passed.

    Returns:
        The cells marked as numbers that hold no number (``<c><v>abc</v></c>``, which
        openpyxl cannot read), by sheet member: their references.

    Raises:
        FileLevelError: not a zip file, or more than MAX_XLSX_MEMBERS members,
            MAX_XLSX_UNCOMPRESSED_BYTES in all, MAX_SHARED_STRINGS shared strings, or a
            sheet reaching past row MAX_SHEET_ROWS or column MAX_SHEET_COLUMNS.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise FileLevelError(
            f"not a readable Excel workbook ({type(error).__name__})", path=path.name
        ) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_XLSX_MEMBERS:
            _refuse(
                path, f"{len(members):,} parts in the file", MAX_XLSX_MEMBERS, "MAX_XLSX_MEMBERS"
            )
        size = sum(member.file_size for member in members)
        if size > MAX_XLSX_UNCOMPRESSED_BYTES:
            _refuse(
                path,
                f"{size:,} bytes uncompressed",
                MAX_XLSX_UNCOMPRESSED_BYTES,
                "MAX_XLSX_UNCOMPRESSED_BYTES",
            )
        damaged: dict[str, list[str]] = {}
        for member in members:
            name = member.filename.lower()
            if name.endswith("sharedstrings.xml"):
                _count_shared_strings(archive, member, path)
            elif name.startswith("xl/worksheets/") and name.endswith(".xml"):
                refs = _check_sheet_extent(archive, member, path)
                if refs:
                    damaged[member.filename] = refs
    return damaged


def _refuse(path: Path, found: str, limit: int, name: str) -> None:
    raise FileLevelError(
        f"workbook too large to read: {found}, the limit is {limit:,} ({name}); "
        "send the tables as CSV files or split the workbook",
        path=path.name,
    )


def _elements(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, tag: str, path: Path
) -> Iterator[Any]:
    """Each ``tag`` element of one member as it ends, streamed and hardened like the ILR
    reader; freed (with the siblings already seen) once the caller moves on, so memory
    stays flat. A damaged member is a :class:`FileLevelError` naming it."""
    try:
        for _, element in etree.iterparse(
            archive.open(member),
            events=("end",),
            tag=_SPREADSHEET_NS + tag,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        ):
            yield element
            element.clear()
            parent = element.getparent()
            if parent is not None:  # the root has no earlier siblings to drop
                while element.getprevious() is not None:
                    del parent[0]
    except _BROKEN_ZIP_OR_XML as error:
        raise FileLevelError(
            f"not a readable Excel workbook ({type(error).__name__} in {member.filename})",
            path=path.name,
        ) from None


def _count_shared_strings(archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path) -> None:
    for count, _ in enumerate(_elements(archive, member, "si", path), start=1):
        if count > MAX_SHARED_STRINGS:
            _refuse(
                path,
                f"more than {MAX_SHARED_STRINGS:,} shared strings",
                MAX_SHARED_STRINGS,
                "MAX_SHARED_STRINGS",
            )


def _check_sheet_extent(archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path) -> list[str]:
    """Rows and columns as openpyxl will pad them: up to the highest reference; returns
    the references of the number cells that hold no number."""
    rows = 0
    damaged: list[str] = []
    for element in _elements(archive, member, "row", path):
        damaged += [
            cell.get("r") or f"#{index + 1} of row {element.get('r')}"
            for index, cell in enumerate(element)
            if _not_a_number(cell)
        ]
        rows = max(rows + 1, _int(element.get("r")))
        last = _column_number(element[-1].get("r")) if len(element) else 0
        columns = max(len(element), last)
        where = f"sheet {member.filename.rsplit('/', 1)[-1]}"
        if rows > MAX_SHEET_ROWS:
            _refuse(path, f"{where} reaches row {rows:,}", MAX_SHEET_ROWS, "MAX_SHEET_ROWS")
        if columns > MAX_SHEET_COLUMNS:
            _refuse(
                path,
                f"{where} row {rows:,} reaches column {columns:,}",
                MAX_SHEET_COLUMNS,
                "MAX_SHEET_COLUMNS",
            )
    return damaged


def _not_a_number(cell: Any) -> bool:
    """A cell of type number (``t`` absent or ``n``) whose value is not a number."""
    if cell.tag != _SPREADSHEET_NS + "c" or cell.get("t", "n") != "n":
        return False
    value = cell.find(_SPREADSHEET_NS + "v")
    text = None if value is None else value.text
    return text is not None and not _NUMBER.fullmatch(text.strip())


def number_cells_as_text(path: Path, damaged: dict[str, list[str]]) -> io.BytesIO:
    """A copy of the workbook in which every number cell holding no number is a text
    cell holding what it held (openpyxl raises on such a cell, stopping the read)."""
    copy = io.BytesIO()
    try:
        with (
            zipfile.ZipFile(path) as source,
            zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target,
        ):
            for member in source.infolist():
                data = source.read(member)
                if member.filename in damaged:
                    data = _number_cells_as_text(data)
                target.writestr(member, data)
    except _BROKEN_ZIP_OR_XML as error:
        raise FileLevelError(
            f"not a readable Excel workbook ({type(error).__name__})", path=path.name
        ) from None
    copy.seek(0)
    return copy


def _number_cells_as_text(data: bytes) -> bytes:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    root = etree.fromstring(data, parser)
    for cell in root.iter(_SPREADSHEET_NS + "c"):
        value = cell.find(_SPREADSHEET_NS + "v")
        if value is not None and _not_a_number(cell):
            cell.remove(value)
            cell.set("t", "inlineStr")
            inline = etree.SubElement(cell, _SPREADSHEET_NS + "is")
            etree.SubElement(inline, _SPREADSHEET_NS + "t").text = value.text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _int(text: str | None) -> int:
    """A row number attribute; 0 when missing or not a number (openpyxl counts on)."""
    if not text or not text.isdigit():
        return 0
    return int(text) if len(text) <= 18 else 10**18


def _column_number(ref: str | None) -> int:
    """``"CV12"`` → 100; 0 for a missing or odd reference."""
    match = _CELL_REF.match(ref or "")
    if not match:
        return 0
    number = 0
    for letter in match.group(1).upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _open_workbook(path: Path, source: Path | io.BytesIO, *, data_only: bool) -> Any:
    """The workbook at ``source`` (``path`` itself, or a repaired copy of it)."""
    import openpyxl  # imported here: CSV-only runs do not pay for it

    if isinstance(source, io.BytesIO):
        source.seek(0)
    try:
        return openpyxl.load_workbook(source, read_only=True, data_only=data_only)
    except Exception as error:  # openpyxl raises many types for a broken file
        raise FileLevelError(
            f"not a readable Excel workbook ({type(error).__name__})", path=path.name
        ) from None


def _read_sheet(
    path: Path, source: Path | io.BytesIO, sheet: Any, table: str
) -> tuple[RawTable, list[str]]:
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
            name = names[index] if index < len(names) else None
            if problem and name:
                problems.append((len(records), name, text, problem, id_rule(kind)))
            fields.append(text)
        records.append(fields)
        rows.append(row_number)
    if names is None:
        raise FileLevelError("empty sheet: no header row", path=label)
    if formulas:
        warnings += _use_cached_values(
            path, source, sheet.title, label, records, formulas, kinds, names
        )
    raw = build_raw_table(table, label, names, records, rows, "row", problems)
    return raw, warnings + control_warnings(raw)


def _header_text(value: object) -> str:
    return "" if value is None else str(value)


def _use_cached_values(
    path: Path,
    source: Path | io.BytesIO,
    sheet_title: str,
    label: str,
    records: list[list[str]],
    formulas: list[tuple[int, int, int]],
    kinds: list[str],
    names: list[str | None],
) -> list[str]:
    """Replace formula cells by the value Excel last computed (never evaluate).

    The warning names the row and column; it quotes the formula and its value except in
    a column that can hold personal data (identity rule, :mod:`kpitools.privacy.naming`).
    """
    workbook = _open_workbook(path, source, data_only=True)
    try:
        wanted = {(row, index) for _, index, row in formulas}
        cached: dict[tuple[int, int], tuple[object, str | None]] = {}
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
        column = names[index] if index < len(names) and names[index] else f"#{index + 1}"
        personal = column in PII_COLUMN_NAMES
        shown = (
            "no cached value, so it is blank"
            if value is None
            else "its cached value is used"
            if personal
            else f"its cached value {records[position][index]!r} is used"
        )
        held = "a formula" if personal else f"the formula {formula!r}"
        warnings.append(
            f"{label} row {row_number}, column {column}: cell holds {held}; {shown} "
            "(formulas are never evaluated)"
        )
    return warnings
