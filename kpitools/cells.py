"""Parsing one column of cells by its contract kind, column-wise (vectorised).

Every parser takes the raw cells of one column as text (``""`` when blank; Excel values
are turned into text by :mod:`kpitools.io.tables` first) and returns the typed values of
``kpitools/model.py`` plus the cells that failed, each failure a boolean mask with its
rule id and reason. A blank cell is never a failure here: whether a blank is allowed is
the table's business (required columns, defaults), decided in :mod:`kpitools.validate`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

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

    Each distinct cell value is parsed once (a return repeats the same dates, flags,
    codes and bootcamp ids thousands of times), then spread back to every row.

    Args:
        column: the contract column (its ``kind`` and ``codes`` decide the parsing).
        raw: the cells as text, ``""`` when blank, any index.

    Returns:
        The typed values (dtype per ``kpitools/model.py``), aligned with ``raw``, and
        the failing cells.
    """
    codes, uniques = pd.factorize(raw.astype(object), use_na_sentinel=False)
    distinct = pd.Series(uniques, dtype=object).str.strip()
    parsed = _PARSERS[column.kind](distinct, column)
    values = parsed.values.take(codes).set_axis(raw.index)
    failures = tuple(CellFailure(f.mask[codes], f.rule, f.reason) for f in parsed.failures)
    blank = (distinct == "").to_numpy(dtype=bool)[codes]
    return ParsedColumn(values, failures, blank)


def _object_values(text: pd.Series) -> pd.Series:
    values = text.astype(object).copy()
    values[(text == "").to_numpy()] = None
    return values


def _failure(mask: pd.Series | np.ndarray, rule: str, reason: str) -> tuple[CellFailure, ...]:
    array = np.asarray(mask, dtype=bool)
    return (CellFailure(array, rule, reason),) if array.any() else ()


def _parse_text(text: pd.Series, column: Column) -> ParsedColumn:
    # "NA", "None" and "NULL" are text here: a family name NA is a name.
    return ParsedColumn(_object_values(text), ())


def _parse_id(text: pd.Series, column: Column) -> ParsedColumn:
    bad = text.str.contains(_BAD_ID_CHARS, regex=True)
    failures = _failure(bad, "BAD-ID", "an identifier cannot contain ';', tabs or line breaks")
    return ParsedColumn(_object_values(text), failures)


def _parse_idlist(text: pd.Series, column: Column) -> ParsedColumn:
    items = text.str.replace(r"\s*;\s*", ";", regex=True).str.strip(";")
    bad = items.str.contains(r"[\x00-\x1f\x7f]|;;", regex=True)
    failures = _failure(bad, "BAD-ID", "expected identifiers separated by ';'")
    return ParsedColumn(_object_values(items), failures)


def _parse_code(text: pd.Series, column: Column) -> ParsedColumn:
    canonical = {code.lower(): code for code in column.codes}
    mapped = text.str.lower().map(canonical)
    bad = mapped.isna() & (text != "")
    values = mapped.astype(object).where(~mapped.isna(), None)
    failures = _failure(bad, "BAD-CODE", "expected one of: " + ", ".join(column.codes))
    return ParsedColumn(values, failures)


def _parse_codelist(text: pd.Series, column: Column) -> ParsedColumn:
    canonical = {code.lower(): code for code in column.codes}

    def one(cell: str) -> str | None:
        parts = [p.strip().lower() for p in cell.split(";") if p.strip()]
        if not all(p in canonical for p in parts):
            return None
        return ";".join(canonical[p] for p in parts)

    # Few distinct lists occur in a file: parse each distinct value once.
    lookup = {cell: one(cell) for cell in text.unique()}
    mapped = text.map(lookup)
    bad = mapped.isna() & (text != "")
    values = mapped.astype(object).where(~mapped.isna() & (mapped != ""), None)
    reason = "expected a ';'-separated list of: " + ", ".join(column.codes)
    return ParsedColumn(values, _failure(bad, "BAD-CODE", reason))


def _parse_flag(text: pd.Series, column: Column) -> ParsedColumn:
    lower = text.str.lower()
    is_true = lower.isin(FLAG_TRUE).to_numpy()
    is_false = lower.isin(FLAG_FALSE).to_numpy()
    values = pd.Series(pd.NA, index=text.index, dtype="boolean")
    values[is_true] = True
    values[is_false] = False
    bad = ~is_true & ~is_false & (text != "").to_numpy()
    return ParsedColumn(values, _failure(bad, "BAD-FLAG", "expected Y or N (yes/no/true/false)"))


def _parse_money(text: pd.Series, column: Column) -> ParsedColumn:
    parts = text.str.extract(_MONEY)
    matched = parts[2].notna().to_numpy()
    sign = np.where((parts[0] == "-") | (parts[1] == "-"), -1.0, 1.0)
    digits = parts[2].fillna("0").str.replace(",", "", regex=False) + parts[3].fillna("")
    amount = pd.to_numeric(digits).astype("float64") * sign
    values = pd.Series(np.where(matched, amount, np.nan), index=text.index, dtype="float64")
    bad = ~matched & (text != "").to_numpy()
    reason = "expected an amount in pounds, e.g. 1250, 1,250.00 or £1,250"
    return ParsedColumn(values, _failure(bad, "BAD-MONEY", reason))


def _whole_numbers(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    matched = text.str.fullmatch(_WHOLE).to_numpy(dtype=bool)
    digits = text.where(matched, "").str.replace(",", "", regex=False)
    numbers = pd.to_numeric(digits.where(matched, None)).astype("Int64")
    return numbers, matched


def _parse_int(text: pd.Series, column: Column) -> ParsedColumn:
    values, matched = _whole_numbers(text)
    bad = ~matched & (text != "").to_numpy()
    return ParsedColumn(values, _failure(bad, "BAD-INT", "expected a whole number (0 or more)"))


def _parse_score(text: pd.Series, column: Column) -> ParsedColumn:
    values, matched = _whole_numbers(text)
    in_range = matched & (values.fillna(-1).to_numpy() <= 5)
    values = values.where(in_range, pd.NA)
    bad = ~in_range & (text != "").to_numpy()
    return ParsedColumn(values, _failure(bad, "BAD-SCORE", "expected a whole number from 0 to 5"))


def _parse_ukprn(text: pd.Series, column: Column) -> ParsedColumn:
    bad = ~text.str.fullmatch(r"\d{8}") & (text != "")
    return ParsedColumn(_object_values(text), _failure(bad, "BAD-UKPRN", "expected 8 digits"))


def uln_check_digit_ok(ulns: pd.Series) -> np.ndarray:
    """ULN_04 for 10-digit strings: weights 10..2 on digits 1-9, remainder mod 11 must
    not be 0 and the 10th digit must equal 10 - remainder. ``9999999999`` passes."""
    joined = "".join(ulns.tolist()).encode("ascii")
    digits = (np.frombuffer(joined, dtype=np.uint8).reshape(-1, 10) - ord("0")).astype(np.int64)
    remainder = (digits[:, :9] * np.arange(10, 1, -1)).sum(axis=1) % 11
    ok = (remainder != 0) & (digits[:, 9] == 10 - remainder)
    return ok | (ulns == ULN_UNKNOWN).to_numpy()


def _parse_uln(text: pd.Series, column: Column) -> ParsedColumn:
    ten_digits = text.str.fullmatch(r"\d{10}").to_numpy(dtype=bool)
    check_ok = np.zeros(len(text), dtype=bool)
    if ten_digits.any():
        check_ok[ten_digits] = uln_check_digit_ok(text[ten_digits])
    filled = (text != "").to_numpy()
    failures = _failure(filled & ~ten_digits, "BAD-ULN", "expected 10 digits") + _failure(
        ten_digits & ~check_ok, "BAD-ULN", "check digit is wrong (ILR rule ULN_04)"
    )
    return ParsedColumn(_object_values(text), failures)


def _parse_date(text: pd.Series, column: Column) -> ParsedColumn:
    iso = text.str.extract(_ISO_DATE)
    uk = text.str.extract(_UK_DATE)  # always day first: 04/13/2023 is not a date
    year = pd.to_numeric(iso[0].fillna(uk[2]))
    month = pd.to_numeric(iso[1].fillna(uk[1]))
    day = pd.to_numeric(iso[2].fillna(uk[0]))
    shaped = year.notna().to_numpy()
    sane_year = (
        shaped & (year >= EARLIEST_DATE.year).to_numpy() & (year <= LATEST_DATE.year).to_numpy()
    )
    parts = pd.DataFrame({"year": year.where(sane_year), "month": month, "day": day})
    dates = pd.to_datetime(parts, errors="coerce").astype("datetime64[ns]")
    real = sane_year & dates.notna().to_numpy()
    out_of_range = (
        sane_year
        & real
        & ((dates < pd.Timestamp(EARLIEST_DATE)) | (dates > pd.Timestamp(LATEST_DATE))).to_numpy()
    )
    # A shaped date in an absurd year: tell apart 31/02/1900 (not a date) from 01/02/1900.
    odd_year = np.flatnonzero(shaped & ~sane_year)
    for position in odd_year:
        out_of_range[position] = _is_calendar_date(
            year.iloc[position], month.iloc[position], day.iloc[position]
        )
    bad = (text != "").to_numpy() & ~real & ~out_of_range
    values = dates.where(real & ~out_of_range)
    values.index = text.index
    reason_bad = "not a date (expected YYYY-MM-DD or DD/MM/YYYY, day first)"
    reason_range = f"date outside {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}"
    failures = _failure(bad, "BAD-DATE", reason_bad) + _failure(
        out_of_range, "DATE-RANGE", reason_range
    )
    return ParsedColumn(values, failures)


def _is_calendar_date(year: float, month: float, day: float) -> bool:
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


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


_PARSERS: dict[str, Callable[[pd.Series, Column], ParsedColumn]] = {
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
