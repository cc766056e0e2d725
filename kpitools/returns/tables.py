"""Reading a provider's tables from disk into raw rows, every cell still text.

A provider folder holds one CSV file per contract table, or ``datasheet.xlsx`` with one
sheet per table. Readers give :class:`RawTable` (cells as text, with the row number a
person sees); :mod:`kpitools.returns.validate` turns those into typed, validated tables, and
:mod:`kpitools.returns.folder` reads a whole folder.
Identifiers never pass through a float: CSV cells are read as text (by the ``csv``
module, or, for a file without quotes, its lines split at commas, which gives the same
records), and spreadsheet cells are rendered to text by their contract kind.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, compress, repeat
from pathlib import Path

import numpy as np
import pandas as pd

from kpitools.errors import FileLevelError
from kpitools.returns.contract import TABLES, Table
from kpitools.text import CONTROL_CHARACTERS, MAX_CELL_CHARS, control_characters

PROBLEM_COLUMNS = ("position", "column", "value", "reason", "rule")

# A cell longer than MAX_CELL_CHARS (Excel's limit, for CSV files and workbooks alike)
# rejects its row (CELL-TOO-LONG), never the file.
# The csv module refuses a whole file for one field over its limit (128 KB by default):
# lift it, so a long cell is judged per row against MAX_CELL_CHARS. A file is read into
# memory whole anyway, so no field can outgrow it.
csv.field_size_limit(2**31 - 1)

# A multi-byte UTF-8 sequence. Windows (cp1252) text almost never holds one, so a file
# that fails to decode as UTF-8 but holds these is UTF-8 with a few foreign bytes.
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


def object_array(values: Sequence[object]) -> np.ndarray:
    """``values`` as a one-dimensional array of objects (each value one element, a tuple
    too, which ``np.array`` would spread into a second dimension)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def repeated(value: object, count: int) -> np.ndarray:
    """An ``object`` array holding ``value`` ``count`` times, the same object each time
    (``np.full(count, "text", dtype=object)`` makes a new string per element: a million
    rejection reasons took 200 MB that way)."""
    array = np.empty(count, dtype=object)
    array.fill(value)
    return array


def _empty_problems_frame() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})
    return frame.astype({"position": "int64"})


_EMPTY_PROBLEMS = _empty_problems_frame()


def empty_problems() -> pd.DataFrame:
    """The empty reader-problems frame: position (int), column, value, reason, rule.

    One frame, shared by every table without problems (a period's thousands of files
    spent a third of their reading time copying it): problems frames are read, never
    changed in place (:class:`RawTable` is frozen, and its readers make new frames).
    """
    return _EMPTY_PROBLEMS


def problems_frame(rows: Iterable[tuple[int, str, str, str, str]]) -> pd.DataFrame:
    """Reader problems (position, column, value, reason, rule) as a frame."""
    rows = list(rows)
    if not rows:
        return empty_problems()
    frame = pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS)).astype(object)
    return frame.astype({"position": "int64"})


@dataclass(frozen=True)
class RawTable:
    """One table as read, every cell still text.

    Attributes:
        table: the contract table name, e.g. ``"learners"``.
        label: where it came from as a person names it: ``"learners.csv"`` or
            ``"datasheet.xlsx[learners]"``; sources are ``f"{label}:{row}"``.
        grid: the cells, an ``object`` array of one row per row read (in file order)
            and one column per contract column found in the file; cells are ``str``,
            ``""`` when blank. Validation reads it as it is: a period's thousands of
            small files make no frame each (:attr:`cells` is the frame, when asked for).
        columns: the contract name of each column of ``grid`` (matched ignoring case
            and spaces).
        rows: the row number a person sees for each position (CSV line, Excel row).
        problems: what the reader already found wrong with a row (SHORT-ROW,
            EXTRA-FIELD, an id that lost digits in Excel): position, column, value,
            reason, rule. Such rows are rejected by validation.
        row_word: ``"line"`` for CSV files, ``"row"`` for spreadsheets.
        from_ilr: the rows were mapped from the provider's ILR files
            (:func:`kpitools.ilr.mapping.ilr_raw_tables`), not typed by the provider:
            the only rows whose columns marked ``unknown_from_ilr`` may hold
            :data:`~kpitools.returns.contract.UNKNOWN_FROM_ILR`.
    """

    table: str
    label: str
    grid: np.ndarray
    columns: tuple[str, ...]
    rows: np.ndarray
    problems: pd.DataFrame = field(default_factory=empty_problems)
    row_word: str = "line"
    from_ilr: bool = False

    def __len__(self) -> int:
        return len(self.rows)

    @cached_property
    def cells(self) -> pd.DataFrame:
        """The cells as a frame: one ``object`` column per contract column found,
        positions 0..n-1 (over :attr:`grid`, not a copy)."""
        return pd.DataFrame(
            self.grid,
            columns=list(self.columns),
            index=pd.RangeIndex(len(self.grid)),
            dtype=object,
            copy=False,
        )

    def source(self) -> pd.Series:
        """``label:row`` for every row, e.g. ``learners.csv:14``."""
        return pd.Series([f"{self.label}:{row}" for row in self.rows.tolist()], dtype=object)

    @classmethod
    def empty(cls, table: str, label: str | None = None) -> RawTable:
        """A table that is absent: no rows, no columns."""
        return cls(
            table,
            label or f"{table}.csv",
            np.empty((0, 0), dtype=object),
            (),
            np.zeros(0, dtype=np.int64),
        )

    @classmethod
    def of_frame(
        cls,
        table: str,
        label: str,
        cells: pd.DataFrame,
        rows: Sequence[int],
        problems: pd.DataFrame | None = None,
        row_word: str = "line",
    ) -> RawTable:
        """A table whose cells are given as a frame (text cells, one column per
        contract column), ``rows`` numbering them."""
        return cls(
            table,
            label,
            cells.to_numpy(dtype=object),
            tuple(cells.columns),
            np.asarray(rows, dtype=np.int64),
            empty_problems() if problems is None else problems,
            row_word,
        )

    @classmethod
    def from_records(
        cls,
        table: str,
        records: Sequence[dict[str, str | None]],
        *,
        label: str,
        first_row: int = 2,
    ) -> RawTable:
        """Rows given as dicts of text, numbered like a CSV file from ``first_row``."""
        columns: list[str] = []
        for record in records:
            columns.extend(k for k in record if k not in columns)
        grid = np.empty((len(records), len(columns)), dtype=object)
        for index, column in enumerate(columns):
            grid[:, index] = ["" if r.get(column) is None else str(r.get(column)) for r in records]
        rows = np.arange(first_row, first_row + len(records), dtype=np.int64)
        return cls(table, label, grid, tuple(columns), rows)


def decode_text(data: bytes, label: str) -> tuple[str, list[str]]:
    """Bytes of a text file as text: UTF-8 (BOM or not), else cp1252 with a warning.

    Raises:
        FileLevelError: NUL bytes; UTF-8 text with a few bytes that are not UTF-8 (mixed
            encodings: decoding it all as cp1252 would garble every accented letter),
            named by line and byte offset; neither UTF-8 nor cp1252.
    """
    if b"\x00" in data:
        raise FileLevelError("not a text file (it holds NUL bytes); expected CSV", path=label)
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    data = data[bom:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as error:
        if _UTF8_MULTIBYTE.search(data):
            raise FileLevelError(
                f"mixed encodings: the file is UTF-8 but byte {bom + error.start} "
                f"(0x{data[error.start]:02x}) is not; re-save the file as UTF-8 "
                "(check the accented letters of that line)",
                path=label,
                row=data.count(b"\n", 0, error.start) + 1,
            ) from None
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise FileLevelError(
            f"not readable as UTF-8 or cp1252 text ({error.reason})", path=label
        ) from None
    return text, [f"{label}: read as cp1252 (Windows) text, not UTF-8; please save as UTF-8"]


def read_csv_table(path: str | Path, table: str) -> tuple[RawTable, list[str]]:
    """Read one contract table from a CSV file, strictly (every cell text).

    Rows are numbered by the line they start on in a text editor (header is line 1; a
    quoted cell may span lines). Blank lines are skipped: they hold no row.

    Raises:
        FileLevelError: unreadable bytes, broken quoting, no header, a duplicated header
            or a missing required column.
    """
    path = Path(path)
    return csv_table(path.read_bytes(), path.name, table)


def csv_table(data: bytes, label: str, table: str) -> tuple[RawTable, list[str]]:
    """:func:`read_csv_table` on the bytes of a file named ``label``."""
    text, warnings = decode_text(data, label)
    records, lines = _csv_records(text, label)
    # blank lines hold no row (each record's cells joined and stripped, at C speed)
    filled = list(compress(range(len(records)), map(str.strip, map("".join, records))))
    if not filled:
        raise FileLevelError("empty file: no header row", path=label)
    names, header_warnings = match_header(records[filled[0]], TABLES[table], label)
    if len(filled) == len(records):  # the usual file: no blank line, the body a slice
        body, rows = records[1:], lines[1:]
    else:
        body, rows = [records[i] for i in filled[1:]], [lines[i] for i in filled[1:]]
    raw = build_raw_table(
        table,
        label,
        names,
        body,
        rows,
        "line",
        long_cells=_may_hold_long_cells(text, lines),
    )
    controls = control_warnings(raw) if CONTROL_CHARACTERS.search(text) else []
    return raw, warnings + header_warnings + controls


_CONTROL_EXAMPLES = 3


def control_warnings(raw: RawTable) -> list[str]:
    """A warning naming the cells of ``raw`` that hold control characters, which every
    output shows as ``\\xNN`` escapes (:func:`kpitools.text.visible_text`): the first
    few by row and column, and how many; never the values (they may be personal data).
    """
    found: list[tuple[int, str, list[str]]] = []
    for index, name in enumerate(raw.columns):
        cells = raw.grid[:, index]
        if not CONTROL_CHARACTERS.search("\n".join(cells.tolist())):
            continue
        for position, cell in enumerate(cells.tolist()):
            if CONTROL_CHARACTERS.search(cell):
                found.append((position, name, control_characters(cell)))
    if not found:
        return []
    found.sort(key=lambda item: item[0])
    characters = ", ".join(dict.fromkeys(c for _, _, chars in found for c in chars))
    where = ", ".join(
        f"{raw.row_word} {raw.rows[position]} column {name}"
        for position, name, _ in found[:_CONTROL_EXAMPLES]
    )
    more = f" and {len(found) - _CONTROL_EXAMPLES:,} more" if len(found) > _CONTROL_EXAMPLES else ""
    return [
        f"{raw.label}: {len(found):,} cell(s) hold control characters ({characters}), shown "
        f"as \\xNN escapes in every output: {where}{more}"
    ]


def _may_hold_long_cells(text: str, lines: list[int]) -> bool:
    """False when no cell can exceed MAX_CELL_CHARS: the text is short, or every record
    is one line and no line is that long (checked at C speed, unlike every cell)."""
    if len(text) <= MAX_CELL_CHARS:
        return False
    one_line_records = not lines or lines[-1] == len(lines)
    return not one_line_records or max(map(len, text.split("\n"))) > MAX_CELL_CHARS


def _csv_records(text: str, label: str) -> tuple[list[list[str]], list[int]]:
    """Every record of a CSV text, blank ones included, with the line each starts on.

    A text without quotes whose carriage returns all end lines (``\\r\\n``) is its lines
    split at commas, which is what :mod:`csv` reads from it (a record per line, no field
    quoted, no error), at C speed; any other text is read by :mod:`csv`. A blank line
    may come out as ``[""]`` rather than ``[]``: both are blank, and skipped.
    """
    if '"' not in text and text.count("\r") == text.count("\r\n"):
        texts = text.replace("\r\n", "\n").split("\n") if "\r" in text else text.split("\n")
        if texts[-1] == "":  # the line break that ends the last line starts no record
            texts.pop()
        return list(map(str.split, texts, repeat(","))), list(range(1, len(texts) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = list(reader)
        if reader.line_num == len(records):  # one line per record: numbering is trivial
            return records, list(range(1, len(records) + 1))
        # a quoted cell spans lines: read again, noting where each record starts
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        lines, last_line = [], 0
        for _ in reader:
            lines.append(last_line + 1)
            last_line = reader.line_num
    except csv.Error as error:
        raise FileLevelError(
            f"not a readable CSV file: {error}", path=label, row=reader.line_num
        ) from None
    return records, lines


def match_header(
    header: Sequence[str], table: Table, label: str
) -> tuple[list[str | None], list[str]]:
    """Contract column name for each header cell (None for a column we do not keep).

    Names are matched ignoring case and surrounding spaces.

    Raises:
        FileLevelError: no contract column at all, a duplicated name, or a missing
            required column.
    """
    cleaned = [str(h).strip().lower() for h in header]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    known = set(table.column_names)
    if not known.intersection(cleaned):
        expected = ", ".join(table.required_columns)
        raise FileLevelError(
            f"no header row (expected column names such as {expected})", path=label
        )
    seen: set[str] = set()
    for name in cleaned:
        if name and name in seen:
            raise FileLevelError(
                f"column {name!r} appears twice in the header", path=label, column=name
            )
        seen.add(name)
    missing = [c for c in table.required_columns if c not in seen]
    if missing:
        raise FileLevelError(
            f"required column {missing[0]!r} is missing"
            + (f" (also {', '.join(missing[1:])})" if missing[1:] else ""),
            path=label,
            column=missing[0],
        )
    warnings = [
        f"{label}: column {header[i].strip() or f'#{i + 1} (no name)'!r} is not in the contract; ignored"
        for i, name in enumerate(cleaned)
        if name not in known
    ]
    return [name if name in known else None for name in cleaned], warnings


def build_raw_table(
    table: str,
    label: str,
    names: list[str | None],
    records: list[list[str]],
    rows: list[int],
    row_word: str,
    problems: list[tuple[int, str, str, str, str]] | None = None,
    *,
    long_cells: bool = True,
) -> RawTable:
    """Cut records to the header's width, noting short rows and extra fields, and blank
    cells over MAX_CELL_CHARS (``long_cells=False``: the caller knows there are none)."""
    problems = list(problems or [])
    width = len(names)
    padded = records
    if len(set(map(len, records))) > 1 or (records and len(records[0]) != width):
        padded = list(records)  # rare: copy only when some row has the wrong width
        for position, fields in enumerate(records):
            if len(fields) != width:
                problems.extend(_width_problems(position, fields, names, row_word))
                padded[position] = (fields + [""] * width)[:width]
    if long_cells:
        padded = _cut_long_cells(padded, names, problems)
    # every cell in one pass (numpy's own walk of a list of lists is slower)
    cells = chain.from_iterable(padded)
    grid = np.fromiter(cells, dtype=object, count=len(padded) * width).reshape(len(padded), width)
    kept = [i for i, name in enumerate(names) if name]
    return RawTable(
        table,
        label,
        grid if len(kept) == width else grid[:, kept],
        tuple(name for name in names if name),
        np.asarray(rows, dtype=np.int64),
        problems_frame(problems),
        row_word,
    )


def _cut_long_cells(
    records: list[list[str]],
    names: list[str | None],
    problems: list[tuple[int, str, str, str, str]],
) -> list[list[str]]:
    """Blank every cell longer than MAX_CELL_CHARS, noting a CELL-TOO-LONG problem."""
    long_rows = [
        position
        for position, fields in enumerate(records)
        if max(map(len, fields), default=0) > MAX_CELL_CHARS
    ]
    if not long_rows:
        return records
    records = list(records)
    for position in long_rows:
        fields = list(records[position])
        for index, text in enumerate(fields):
            if len(text) > MAX_CELL_CHARS:
                column = (names[index] if index < len(names) else None) or f"#{index + 1}"
                reason = f"cell of {len(text):,} characters; the limit is {MAX_CELL_CHARS:,}"
                problems.append((position, column, "", reason, "CELL-TOO-LONG"))
                fields[index] = ""
        records[position] = fields
    return records


def _width_problems(
    position: int, fields: list[str], names: list[str | None], row_word: str
) -> list[tuple[int, str, str, str, str]]:
    """SHORT-ROW (CSV only: a sheet row simply ends early) and EXTRA-FIELD problems."""
    width = len(names)
    reason = f"{len(fields)} fields where the header has {width}"
    problems = []
    if len(fields) < width and row_word == "line":
        problems.append(
            (position, names[len(fields)] or f"#{len(fields) + 1}", "", reason, "SHORT-ROW")
        )
    extra = [  # a cell over the limit is not kept here either, only its size
        f if len(f) <= MAX_CELL_CHARS else f"({len(f):,} characters)"
        for f in fields[width:]
        if f.strip()
    ]
    if extra:
        problems.append(
            (position, "(beyond the last column)", ",".join(extra), reason, "EXTRA-FIELD")
        )
    return problems
