"""Parsing one column of cells by its contract kind, column-wise (vectorised).

Every parser takes the raw cells of one column as text (``""`` when blank; Excel values
are turned into text by :mod:`kpitools.io.tables` first) and returns the typed values of
``kpitools/model.py`` plus the cells that failed, each failure a boolean mask with its
rule id and reason. A blank cell is never a failure here: whether a blank is allowed is
the table's business (required columns, defaults), decided in :mod:`kpitools.validate`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpitools.contract import ULN_UNKNOWN, Column

EARLIEST_DATE = dt.date(2015, 1, 1)
LATEST_DATE = dt.date(2039, 12, 31)
FLAG_TRUE = ("y", "yes", "true")
FLAG_FALSE = ("n", "no", "false")

_ISO_DATE = r"^(\d{4})-(\d{2})-(\d{2})$"
_UK_DATE = r"^(\d{1,2})/(\d{1,2})/(\d{4})$"
_MONEY = r"^(-?)£?\s*(-?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?$"
_WHOLE = r"^(?:\d{1,3}(?:,\d{3})+|\d{1,15})$"
# Identifiers may hold anything a provider types except list separators and control
# characters (a tab or newline inside an id is always a copy-paste accident).
_BAD_ID_CHARS = r"[;\x00-\x1f\x7f]"


@dataclass(frozen=True)
class CellFailure:
    """The cells of one column that break one rule.

    Attributes:
        mask: True for each failing cell, aligned with the column.
        rule: rule id from :mod:`kpitools.rule_ids` (kind ``validation``).
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
    distinct = [cell.strip() for cell in uniques]
    parsed = _PARSERS[column.kind](distinct, column)
    failures = tuple(
        CellFailure(mask[codes], rule, reason) for mask, rule, reason in parsed.failures
    )
    blank = _mask([cell == "" for cell in distinct])
    return ParsedCells(parsed.spread(codes), failures, blank[codes])


def _factorize(cells: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each cell's code and the distinct cells in order of first appearance."""
    if len(cells) > 5000:  # pandas' hash table wins on long columns
        codes, uniques = pd.factorize(cells, use_na_sentinel=False)
        return codes, list(uniques)
    values = cells.tolist()
    code = {cell: i for i, cell in enumerate(dict.fromkeys(values))}
    return np.fromiter(map(code.__getitem__, values), np.intp, len(values)), list(code)


@dataclass(frozen=True)
class _Distinct:
    """What a parser makes of the distinct cells of a column (one entry per value).

    ``data`` holds the typed values (object, float64, int64, bool or datetime64[ns]);
    ``missing`` marks the entries that are ``<NA>`` for the nullable dtypes ``Int64``
    and ``boolean``; each failure is a mask over the distinct values with its rule and
    reason.
    """

    data: np.ndarray
    failures: tuple[tuple[np.ndarray, str, str], ...] = ()
    missing: np.ndarray | None = None
    nullable: str | None = None  # "Int64" or "boolean"

    def spread(self, codes: np.ndarray) -> Any:
        """The values of every row, from each row's distinct-value code."""
        data = self.data[codes]
        if self.nullable == "Int64":
            return pd.arrays.IntegerArray(data, self.missing[codes])
        if self.nullable == "boolean":
            return pd.arrays.BooleanArray(data, self.missing[codes])
        return data


def _mask(flags: list[bool]) -> np.ndarray:
    return np.array(flags, dtype=bool).reshape(len(flags))


def _failure(
    flags: list[bool] | np.ndarray, rule: str, reason: str
) -> tuple[tuple[np.ndarray, str, str], ...]:
    mask = np.asarray(flags, dtype=bool).reshape(len(flags))
    return ((mask, rule, reason),) if mask.any() else ()


def _objects(values: list[str | None]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _text_or_none(texts: list[str]) -> np.ndarray:
    return _objects([text if text != "" else None for text in texts])


def _parse_text(texts: list[str], column: Column) -> _Distinct:
    # "NA", "None" and "NULL" are text here: a family name NA is a name.
    return _Distinct(_text_or_none(texts))


_BAD_ID = re.compile(_BAD_ID_CHARS)
_LIST_SEPARATOR = re.compile(r"\s*;\s*")
_BAD_LIST = re.compile(r"[\x00-\x1f\x7f]|;;")


def _parse_id(texts: list[str], column: Column) -> _Distinct:
    if _BAD_ID.search("".join(texts)) is None:  # the usual case: no bad character at all
        bad = []
    else:
        bad = [_BAD_ID.search(text) is not None for text in texts]
    reason = "an identifier cannot contain ';', tabs or line breaks"
    return _Distinct(_text_or_none(texts), _failure(bad, "BAD-ID", reason))


def _parse_idlist(texts: list[str], column: Column) -> _Distinct:
    items = [_LIST_SEPARATOR.sub(";", text).strip(";") for text in texts]
    bad = [_BAD_LIST.search(item) is not None for item in items]
    failures = _failure(bad, "BAD-ID", "expected identifiers separated by ';'")
    return _Distinct(_text_or_none(items), failures)


def _parse_code(texts: list[str], column: Column) -> _Distinct:
    canonical = {code.lower(): code for code in column.codes}
    mapped = [canonical.get(text.lower()) for text in texts]
    bad = [code is None and text != "" for code, text in zip(mapped, texts, strict=True)]
    failures = _failure(bad, "BAD-CODE", "expected one of: " + ", ".join(column.codes))
    return _Distinct(_objects(mapped), failures)


def _parse_codelist(texts: list[str], column: Column) -> _Distinct:
    canonical = {code.lower(): code for code in column.codes}

    def one(cell: str) -> str | None:
        parts = [p.strip().lower() for p in cell.split(";") if p.strip()]
        if not all(p in canonical for p in parts):
            return None
        return ";".join(canonical[p] for p in parts)

    mapped = [one(text) for text in texts]
    bad = [codes is None and text != "" for codes, text in zip(mapped, texts, strict=True)]
    reason = "expected a ';'-separated list of: " + ", ".join(column.codes)
    return _Distinct(_objects([m or None for m in mapped]), _failure(bad, "BAD-CODE", reason))


def _parse_flag(texts: list[str], column: Column) -> _Distinct:
    lower = [text.lower() for text in texts]
    is_true = [text in FLAG_TRUE for text in lower]
    known = [text in FLAG_TRUE or text in FLAG_FALSE for text in lower]
    bad = [not ok and text != "" for ok, text in zip(known, texts, strict=True)]
    failures = _failure(bad, "BAD-FLAG", "expected Y or N (yes/no/true/false)")
    return _Distinct(_mask(is_true), failures, ~_mask(known), "boolean")


_MONEY_RE = re.compile(_MONEY)


def _parse_money(texts: list[str], column: Column) -> _Distinct:
    amounts: list[float] = []
    bad: list[bool] = []
    for text in texts:
        match = _MONEY_RE.search(text)
        if match is None:
            amounts.append(np.nan)
            bad.append(text != "")
            continue
        minus, sign, digits, decimals = match.groups()
        amount = float(digits.replace(",", "") + (decimals or ""))
        amounts.append(-amount if "-" in (minus, sign) else amount)
        bad.append(False)
    reason = "expected an amount in pounds, e.g. 1250, 1,250.00 or £1,250"
    amount_array = np.array(amounts, dtype=np.float64).reshape(len(texts))
    return _Distinct(amount_array, _failure(bad, "BAD-MONEY", reason))


_WHOLE_RE = re.compile(_WHOLE)


def _whole_numbers(texts: list[str], highest: int | None) -> tuple[_Distinct, list[bool]]:
    """Whole numbers (up to ``highest``) and, for each text, whether it is one."""
    numbers: list[int] = []
    good: list[bool] = []
    for text in texts:
        number = int(text.replace(",", "")) if _WHOLE_RE.fullmatch(text) else -1
        ok = number >= 0 and (highest is None or number <= highest)
        numbers.append(number if ok else 0)
        good.append(ok)
    data = np.array(numbers, dtype=np.int64).reshape(len(texts))
    return _Distinct(data, (), ~_mask(good), "Int64"), good


def _parse_int(texts: list[str], column: Column) -> _Distinct:
    values, good = _whole_numbers(texts, None)
    bad = [not ok and text != "" for ok, text in zip(good, texts, strict=True)]
    failures = _failure(bad, "BAD-INT", "expected a whole number (0 or more)")
    return _Distinct(values.data, failures, values.missing, "Int64")


def _parse_score(texts: list[str], column: Column) -> _Distinct:
    values, good = _whole_numbers(texts, 5)
    bad = [not ok and text != "" for ok, text in zip(good, texts, strict=True)]
    failures = _failure(bad, "BAD-SCORE", "expected a whole number from 0 to 5")
    return _Distinct(values.data, failures, values.missing, "Int64")


def _digits(text: str, count: int) -> bool:
    """``re.fullmatch(rf"\\d{{{count}}}", text)``: \\d is a Unicode decimal digit, as for
    :meth:`str.isdecimal`."""
    return len(text) == count and text.isdecimal()


def _parse_ukprn(texts: list[str], column: Column) -> _Distinct:
    bad = [text != "" and not _digits(text, 8) for text in texts]
    return _Distinct(_text_or_none(texts), _failure(bad, "BAD-UKPRN", "expected 8 digits"))


def uln_check_digit_ok(ulns: pd.Series) -> np.ndarray:
    """ULN_04 for 10-digit strings: weights 10..2 on digits 1-9, remainder mod 11 must
    not be 0 and the 10th digit must equal 10 - remainder. ``9999999999`` passes."""
    return _ulns_ok(ulns.tolist())


_ULN_WEIGHTS = np.arange(10, 1, -1)


def _ulns_ok(ulns: list[str]) -> np.ndarray:
    """ULN_04 for 10-digit strings, all at once (see :func:`uln_check_digit_ok`)."""
    joined = "".join(ulns)
    if not joined.isascii():  # other scripts' digits: one at a time
        return np.array([_uln_ok(uln) for uln in ulns], dtype=bool).reshape(len(ulns))
    codes = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, 10)
    digits = codes.astype(np.int64) - ord("0")
    remainder = (digits[:, :9] * _ULN_WEIGHTS).sum(axis=1) % 11
    ok = (remainder != 0) & (digits[:, 9] == 10 - remainder)
    if ULN_UNKNOWN in ulns:
        ok |= np.array([uln == ULN_UNKNOWN for uln in ulns], dtype=bool)
    return ok


def _uln_ok(uln: str) -> bool:
    """ULN_04 for one 10-digit string (see :func:`uln_check_digit_ok`)."""
    if uln == ULN_UNKNOWN:
        return True
    remainder = sum(int(d) * w for d, w in zip(uln[:9], range(10, 1, -1), strict=True)) % 11
    return remainder != 0 and int(uln[9]) == 10 - remainder


def _parse_uln(texts: list[str], column: Column) -> _Distinct:
    ten = [_digits(text, 10) for text in texts]
    ten_digits = _mask(ten)
    check_ok = np.zeros(len(texts), dtype=bool)
    check_ok[ten_digits] = _ulns_ok([text for text, ok in zip(texts, ten, strict=True) if ok])
    filled = _mask([text != "" for text in texts])
    failures = _failure(filled & ~ten_digits, "BAD-ULN", "expected 10 digits") + _failure(
        ten_digits & ~check_ok, "BAD-ULN", "check digit is wrong (ILR rule ULN_04)"
    )
    return _Distinct(_text_or_none(texts), failures)


_ISO_RE = re.compile(_ISO_DATE)
_UK_RE = re.compile(_UK_DATE)
_UNIX_DAY = dt.date(1970, 1, 1).toordinal()
_NAT = np.iinfo(np.int64).min


def _parse_date(texts: list[str], column: Column) -> _Distinct:
    days: list[int] = []
    bad: list[bool] = []
    out_of_range: list[bool] = []
    for text in texts:
        date = _calendar_date(text)
        in_range = date is not None and EARLIEST_DATE <= date <= LATEST_DATE
        days.append(date.toordinal() - _UNIX_DAY if in_range else _NAT)
        out_of_range.append(date is not None and not in_range)
        bad.append(date is None and text != "")
    data = np.array(days, dtype=np.int64).reshape(len(texts)).view("datetime64[D]")
    reason_bad = "not a date (expected YYYY-MM-DD or DD/MM/YYYY, day first)"
    reason_range = f"date outside {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}"
    failures = _failure(bad, "BAD-DATE", reason_bad) + _failure(
        out_of_range, "DATE-RANGE", reason_range
    )
    return _Distinct(data.astype("datetime64[ns]"), failures)


def _calendar_date(text: str) -> dt.date | None:
    """The date a cell holds (ISO, or UK day first), None when it is not a real date."""
    iso = _ISO_RE.search(text)
    if iso is not None:
        year, month, day = iso.groups()
    else:
        uk = _UK_RE.search(text)  # always day first: 04/13/2023 is not a date
        if uk is None:
            return None
        day, month, year = uk.groups()
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


_EXCEL_EPOCH = dt.date(1899, 12, 30)  # 1900 date system, past Excel's 1900 leap-year bug
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
    if kind == "date":
        try:
            return (_EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat(), None
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


_PARSERS: dict[str, Callable[[list[str], Column], _Distinct]] = {
    "id": _parse_id,
    "text": _parse_text,
    "date": _parse_date,
    "flag": _parse_flag,
    "money": _parse_money,
    "int": _parse_int,
    "score": _parse_score,
    "code": _parse_code,
    "codelist": _parse_codelist,
    "idlist": _parse_idlist,
    "uln": _parse_uln,
    "ukprn": _parse_ukprn,
}
