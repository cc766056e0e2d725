"""Parsing one column of cells by its contract kind, column-wise (vectorised).

Every parser takes the raw cells of one column as text (``""`` when blank; Excel values
are turned into text by :mod:`kpitools.returns.tables` first) and returns the typed values of
``kpitools/model.py`` plus the cells that failed, each failure a boolean mask with its
rule id and reason. A blank cell is never a failure here: whether a blank is allowed is
the table's business (required columns, defaults), decided in :mod:`kpitools.returns.validate`.
The parser of each kind is in :mod:`kpitools.returns.cell_kinds`.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpitools.returns.cell_kinds import EXCEL_EPOCH, PARSERS
from kpitools.returns.contract import Column

__all__ = [
    "CellFailure",
    "ParsedCells",
    "ParsedColumn",
    "excel_cell_text",
    "id_rule",
    "parse_cells",
    "parse_column",
]


@dataclass(frozen=True)
class CellFailure:
    """The cells of one column that break one rule.

    Attributes:
        mask: True for each failing cell, aligned with the column.
        rule: rule id from :mod:`kpitools.rules` (kind ``validation``).
        reason: what was expected, in words a provider understands.
    """

    mask: np.ndarray
    rule: str
    reason: str


@dataclass(frozen=True)
class ParsedColumn:
    """A column's typed values, the cells that could not be parsed, and the blank cells."""

    values: pd.Series
    failures: tuple[CellFailure, ...]
    blank: np.ndarray | None = None


def parse_column(column: Column, raw: pd.Series) -> ParsedColumn:
    """Parse one column by its contract kind.

    Each distinct cell value is parsed once, in plain Python (a return repeats the same
    dates, flags, codes and bootcamp ids thousands of times, and a provider's table is
    small enough that pandas' per-call overhead would cost more than the parsing), then
    spread back to every row with one ``take``.

    Args:
        column: the contract column (its ``kind`` and ``codes`` decide the parsing).
        raw: the cells as text, ``""`` when blank, any index.

    Returns:
        The typed values (dtype per ``kpitools/model.py``), aligned with ``raw``, and
        the failing cells.
    """
    parsed = parse_cells(column, raw.to_numpy(dtype=object))
    values = pd.Series(parsed.values, index=raw.index, dtype=parsed.values.dtype, copy=False)
    return ParsedColumn(values, parsed.failures, parsed.blank)


@dataclass(frozen=True)
class ParsedCells:
    """:class:`ParsedColumn` without an index: the typed values as an array.

    Attributes:
        values: a numpy array (``object``, ``float64``, ``datetime64[ns]``) or a pandas
            ``IntegerArray`` / ``BooleanArray`` (dtypes ``Int64`` / ``boolean``).
        failures: the cells that break a rule.
        blank: True for each blank cell.
    """

    values: Any
    failures: tuple[CellFailure, ...]
    blank: np.ndarray


def parse_cells(column: Column, cells: np.ndarray) -> ParsedCells:
    """:func:`parse_column` for cells held as an ``object`` array, giving arrays (a table
    is built from them at once, without a Series per column).

    Args:
        column: the contract column.
        cells: the cells as text (``str``, ``""`` when blank).

    Returns:
        The typed values, failures and blanks, aligned with ``cells``.
    """
    codes, uniques = _factorize(cells)
    distinct = list(map(str.strip, uniques))
    parsed = PARSERS[column.kind](distinct, column)
    failures = tuple(
        CellFailure(mask[codes], rule, reason) for mask, rule, reason in parsed.failures
    )
    blank = np.fromiter(map(operator.not_, distinct), bool, len(distinct))
    return ParsedCells(parsed.spread(codes), failures, blank[codes])


def _factorize(cells: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each cell's code and the distinct cells in order of first appearance."""
    if len(cells) > 500:  # pandas' hash table wins on all but short columns
        # cells are text, never missing: no code -1, and no pass looking for missing values
        codes, uniques = pd.factorize(cells, use_na_sentinel=True)
        return codes, list(uniques)
    values = cells.tolist()
    code = {cell: i for i, cell in enumerate(dict.fromkeys(values))}
    return np.fromiter(map(code.__getitem__, values), np.intp, len(values)), list(code)


_EXCEL_SIGNIFICANT = 1e15  # Excel keeps 15 significant digits: larger numbers lost some
_ID_RULES = {"id": "BAD-ID", "idlist": "BAD-ID", "uln": "BAD-ULN", "ukprn": "BAD-UKPRN"}


def excel_cell_text(value: object, number_format: str | None, kind: str) -> tuple[str, str | None]:
    """One spreadsheet cell as the text a CSV file would hold, by contract kind.

    Dates become ``YYYY-MM-DD`` (a number in a date column is an Excel serial date);
    whole numbers lose Excel's ``.0``; an identifier shown with a zero-padded number
    format (``000000``) keeps its leading zeros.

    Args:
        value: the cell value openpyxl gives (str, int, float, bool, datetime, None).
        number_format: the cell's number format, e.g. ``"General"`` or ``"000000"``.
        kind: the contract kind of the column.

    Returns:
        ``(text, problem)``: problem is None, or the reason an identifier cannot be
        trusted (it was stored as a number with more digits than Excel keeps).
    """
    if value is None:
        return "", None
    if isinstance(value, str):
        return value, None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), None
    if isinstance(value, dt.date):
        return value.isoformat(), None
    if isinstance(value, int | float):
        return _excel_number_text(value, number_format, kind)
    return str(value), None


def _excel_number_text(
    value: float, number_format: str | None, kind: str
) -> tuple[str, str | None]:
    if kind in ("date", "birth_date"):
        try:
            return (EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat(), None
        except OverflowError:
            return repr(value), None
    if not float(value).is_integer():
        return repr(value), None
    text = str(int(value))
    if kind in _ID_RULES:
        if abs(value) >= _EXCEL_SIGNIFICANT:
            return (
                text,
                "stored by Excel as a number and may have lost digits; format the column as Text",
            )
        if number_format and set(number_format) == {"0"}:
            text = text.zfill(len(number_format))
    return text, None


def id_rule(kind: str) -> str:
    """The rule id for an identifier of this kind that cannot be trusted."""
    return _ID_RULES.get(kind, "BAD-ID")
