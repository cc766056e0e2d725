"""The parsers of :mod:`kpitools.returns.cells`, one per contract kind, on distinct values.

Each parser takes the distinct cells of one column, stripped (``""`` when blank), and
returns a :class:`Distinct`: the typed value of each and the failures as masks over
them. The caller (:func:`kpitools.returns.cells.parse_cells`) spreads them back to every row.
Plain Python on a few hundred distinct values costs less than pandas' per-call overhead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpitools.returns.contract import ULN_UNKNOWN, Column
from kpitools.returns.tables import object_array

EARLIEST_DATE = dt.date(2015, 1, 1)
LATEST_DATE = dt.date(2039, 12, 31)
EARLIEST_BIRTH = dt.date(1900, 1, 1)
"""The earliest date of birth read (the age at the start, 16 to 100, is checked with the
start date: :func:`kpitools.returns.validate_rules.table_problems`)."""
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
class Distinct:
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
        if self.missing is None:  # not a nullable dtype (nullable is None too)
            return data
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


def _text_or_none(texts: list[str]) -> np.ndarray:
    return object_array([text if text != "" else None for text in texts])


def _parse_text(texts: list[str], column: Column) -> Distinct:
    # "NA", "None" and "NULL" are text here: a family name NA is a name.
    return Distinct(_text_or_none(texts))


_BAD_ID = re.compile(_BAD_ID_CHARS)
_LIST_SEPARATOR = re.compile(r"\s*;\s*")
_BAD_LIST = re.compile(r"[\x00-\x1f\x7f]|;;")


# How Excel writes a long number it converted from text: 9.66422E+09, 1E+05.
_SCIENTIFIC = re.compile(r"^[0-9](?:\.[0-9]+)?[eE][+-][0-9]{1,3}$")


def _scientific(
    texts: list[str], column: Column, rule: str
) -> tuple[list[bool], tuple[tuple[np.ndarray, str, str], ...]]:
    """Identifiers a spreadsheet turned into numbers in scientific notation (digits are
    lost: the value cannot be repaired), with the failure naming the damage."""
    joined = "".join(texts)
    if "e" in joined or "E" in joined:
        flags = [_SCIENTIFIC.match(text) is not None for text in texts]
    else:  # the usual column: no exponent anywhere
        flags = [False] * len(texts)
    label = {"uln": "ULN", "ukprn": "UKPRN"}.get(column.kind, column.name)
    reason = (
        f"Excel converted this {label} to a number in scientific notation and lost "
        "digits; format the column as Text and enter the values again"
    )
    return flags, _failure(flags, rule, reason)


def _parse_id(texts: list[str], column: Column) -> Distinct:
    if _BAD_ID.search("".join(texts)) is None:  # the usual case: no bad character at all
        bad = []
    else:
        bad = [_BAD_ID.search(text) is not None for text in texts]
    reason = "an identifier cannot contain ';', tabs or line breaks"
    _, excel = _scientific(texts, column, "BAD-ID")
    return Distinct(_text_or_none(texts), _failure(bad, "BAD-ID", reason) + excel)


def _parse_idlist(texts: list[str], column: Column) -> Distinct:
    items = [_LIST_SEPARATOR.sub(";", text).strip(";") for text in texts]
    bad = [_BAD_LIST.search(item) is not None for item in items]
    failures = _failure(bad, "BAD-ID", "expected identifiers separated by ';'")
    return Distinct(_text_or_none(items), failures)


def _parse_code(texts: list[str], column: Column) -> Distinct:
    canonical = {code.lower(): code for code in column.codes}
    mapped = [canonical.get(text.lower()) for text in texts]
    bad = [code is None and text != "" for code, text in zip(mapped, texts, strict=True)]
    failures = _failure(bad, "BAD-CODE", "expected one of: " + ", ".join(column.codes))
    return Distinct(object_array(mapped), failures)


def _parse_codelist(texts: list[str], column: Column) -> Distinct:
    canonical = {code.lower(): code for code in column.codes}

    def one(cell: str) -> str | None:
        parts = [p.strip().lower() for p in cell.split(";") if p.strip()]
        if not all(p in canonical for p in parts):
            return None
        return ";".join(canonical[p] for p in parts)

    mapped = [one(text) for text in texts]
    bad = [codes is None and text != "" for codes, text in zip(mapped, texts, strict=True)]
    reason = "expected a ';'-separated list of: " + ", ".join(column.codes)
    return Distinct(object_array([m or None for m in mapped]), _failure(bad, "BAD-CODE", reason))


def _parse_flag(texts: list[str], column: Column) -> Distinct:
    lower = [text.lower() for text in texts]
    is_true = [text in FLAG_TRUE for text in lower]
    known = [text in FLAG_TRUE or text in FLAG_FALSE for text in lower]
    bad = [not ok and text != "" for ok, text in zip(known, texts, strict=True)]
    failures = _failure(bad, "BAD-FLAG", "expected Y or N (yes/no/true/false)")
    return Distinct(_mask(is_true), failures, ~_mask(known), "boolean")


_MONEY_RE = re.compile(_MONEY)


def _parse_money(texts: list[str], column: Column) -> Distinct:
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
    return Distinct(amount_array, _failure(bad, "BAD-MONEY", reason))


_WHOLE_RE = re.compile(_WHOLE)


def _whole_numbers(texts: list[str], highest: int | None) -> tuple[Distinct, list[bool]]:
    """Whole numbers (up to ``highest``) and, for each text, whether it is one."""
    numbers: list[int] = []
    good: list[bool] = []
    for text in texts:
        number = int(text.replace(",", "")) if _WHOLE_RE.fullmatch(text) else -1
        ok = number >= 0 and (highest is None or number <= highest)
        numbers.append(number if ok else 0)
        good.append(ok)
    data = np.array(numbers, dtype=np.int64).reshape(len(texts))
    return Distinct(data, (), ~_mask(good), "Int64"), good


def _parse_int(texts: list[str], column: Column) -> Distinct:
    values, good = _whole_numbers(texts, None)
    bad = [not ok and text != "" for ok, text in zip(good, texts, strict=True)]
    failures = _failure(bad, "BAD-INT", "expected a whole number (0 or more)")
    return Distinct(values.data, failures, values.missing, "Int64")


def _parse_score(texts: list[str], column: Column) -> Distinct:
    values, good = _whole_numbers(texts, 5)
    bad = [not ok and text != "" for ok, text in zip(good, texts, strict=True)]
    failures = _failure(bad, "BAD-SCORE", "expected a whole number from 0 to 5")
    return Distinct(values.data, failures, values.missing, "Int64")


def _digits(text: str, count: int) -> bool:
    """``re.fullmatch(rf"\\d{{{count}}}", text)``: \\d is a Unicode decimal digit, as for
    :meth:`str.isdecimal`."""
    return len(text) == count and text.isdecimal()


def _parse_ukprn(texts: list[str], column: Column) -> Distinct:
    scientific, excel = _scientific(texts, column, "BAD-UKPRN")
    bad = [
        text != "" and not _digits(text, 8) and not sci
        for text, sci in zip(texts, scientific, strict=True)
    ]
    return Distinct(_text_or_none(texts), _failure(bad, "BAD-UKPRN", "expected 8 digits") + excel)


_ULN_WEIGHTS = np.arange(10, 1, -1)


def _ulns_ok(ulns: list[str]) -> np.ndarray:
    """ULN_04 for 10-digit strings, all at once: weights 10..2 on digits 1-9, remainder
    mod 11 must not be 0 and the 10th digit must equal 10 - remainder. ``9999999999``
    passes."""
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
    """ULN_04 for one 10-digit string (see :func:`_ulns_ok`)."""
    if uln == ULN_UNKNOWN:
        return True
    remainder = sum(int(d) * w for d, w in zip(uln[:9], range(10, 1, -1), strict=True)) % 11
    return remainder != 0 and int(uln[9]) == 10 - remainder


def _parse_uln(texts: list[str], column: Column) -> Distinct:
    ten = [_digits(text, 10) for text in texts]
    ten_digits = _mask(ten)
    check_ok = np.zeros(len(texts), dtype=bool)
    check_ok[ten_digits] = _ulns_ok([text for text, ok in zip(texts, ten, strict=True) if ok])
    filled = _mask([text != "" for text in texts])
    scientific, excel = _scientific(texts, column, "BAD-ULN")
    other = filled & ~ten_digits & ~_mask(scientific)
    failures = (
        _failure(other, "BAD-ULN", "expected 10 digits")
        + excel
        + _failure(ten_digits & ~check_ok, "BAD-ULN", "check digit is wrong (ILR rule ULN_04)")
    )
    return Distinct(_text_or_none(texts), failures)


_ISO_RE = re.compile(_ISO_DATE)
_UK_RE = re.compile(_UK_DATE)
_UNIX_DAY = dt.date(1970, 1, 1).toordinal()
_NAT = np.iinfo(np.int64).min


def _parse_date(texts: list[str], column: Column) -> Distinct:
    return _dates(texts, EARLIEST_DATE, LATEST_DATE)


def _parse_birth_date(texts: list[str], column: Column) -> Distinct:
    return _dates(texts, EARLIEST_BIRTH, LATEST_DATE)


def _dates(texts: list[str], earliest: dt.date, latest: dt.date) -> Distinct:
    """Dates between ``earliest`` and ``latest`` (a real date outside them: DATE-RANGE)."""
    iso = _iso_dates(texts)
    if iso is not None:
        within = (iso >= np.datetime64(earliest)) & (iso <= np.datetime64(latest))
        known = ~np.isnat(iso)
        failures = _failure(
            known & ~within,
            "DATE-RANGE",
            f"date outside {earliest.isoformat()} to {latest.isoformat()}",
        )
        return Distinct(
            np.where(within, iso, np.datetime64("NaT")).astype("datetime64[ns]"), failures
        )
    days: list[int] = []
    bad: list[bool] = []
    out_of_range: list[bool] = []
    for text in texts:
        date = _calendar_date(text)
        in_range = date is not None and earliest <= date <= latest
        days.append(_NAT if date is None or not in_range else date.toordinal() - _UNIX_DAY)
        out_of_range.append(date is not None and not in_range)
        bad.append(date is None and text != "")
    data = np.array(days, dtype=np.int64).reshape(len(texts)).view("datetime64[D]")
    serial = [
        flag and _excel_serial(text) is not None for flag, text in zip(bad, texts, strict=True)
    ]
    bad = [flag and not is_serial for flag, is_serial in zip(bad, serial, strict=True)]
    reason_bad = "not a date (expected YYYY-MM-DD or DD/MM/YYYY, day first)"
    reason_range = f"date outside {earliest.isoformat()} to {latest.isoformat()}"
    reason_serial = (
        "an Excel date serial number, not a date: the spreadsheet saved this date "
        "column as numbers; format it as a date (YYYY-MM-DD) and save the CSV again"
    )
    failures = (
        _failure(bad, "BAD-DATE", reason_bad)
        + _failure(serial, "BAD-DATE", reason_serial)
        + _failure(out_of_range, "DATE-RANGE", reason_range)
    )
    return Distinct(data.astype("datetime64[ns]"), failures)


_ISO_DATES = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2})*")


def _iso_dates(texts: list[str]) -> np.ndarray | None:
    """The usual column at C speed: every cell blank or an ASCII ``YYYY-MM-DD`` naming a
    real date of years 1 to 9999, as ``datetime64[D]`` (NaT for the blank); None for
    any other column, which :func:`_dates` reads a cell at a time."""
    filled = [text for text in texts if text]
    joined = "".join(filled)
    if len(joined) != 10 * len(filled) or not _ISO_DATES.fullmatch(joined):
        return None
    if any(text.startswith("0000") for text in filled):  # no year 0 in the calendar
        return None
    try:  # numpy refuses a day that its month lacks (2023-02-29), as dt.date does
        return np.array([text or "NaT" for text in texts], dtype="datetime64[D]").reshape(
            len(texts)
        )
    except ValueError:
        return None


_SERIAL = re.compile(r"^[0-9]{5}(?:\.[0-9]+)?$")
EXCEL_EPOCH = dt.date(1899, 12, 30)  # 1900 date system, past Excel's 1900 leap-year bug


def _excel_serial(text: str) -> dt.date | None:
    """The date an Excel serial number in a CSV cell stands for, when it is a plausible
    one (a date in the sane range); else None."""
    if _SERIAL.match(text) is None:
        return None
    day = EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
    return day if EARLIEST_DATE <= day <= LATEST_DATE else None


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


# A UK postcode: outward code (area letters, district digit, optional letter or digit),
# a space or none, inward code (sector digit, unit letters); any case. BFPO and
# overseas forms are not postcodes of a learner's home here.
_POSTCODE_RE = re.compile(r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s?[0-9][A-Za-z]{2}$")
# A National Insurance number's shape: two letters, six digits, a suffix letter A-D (or
# none, as some systems write it), spaces allowed between the pairs. The shape only:
# HMRC's own examples (QQ 12 34 56 C) use prefixes it never issues.
_NI_RE = re.compile(r"^[A-Z]{2}\s?[0-9]{2}\s?[0-9]{2}\s?[0-9]{2}\s?[A-D]?$")


def _parse_postcode(texts: list[str], column: Column) -> Distinct:
    bad = [text != "" and _POSTCODE_RE.match(text) is None for text in texts]
    reason = "not a UK postcode (e.g. B1 1AA, SW1A 2AA)"
    return Distinct(_text_or_none(texts), _failure(bad, "BAD-POSTCODE", reason))


def _parse_ni_number(texts: list[str], column: Column) -> Distinct:
    bad = [text != "" and _NI_RE.match(text.upper()) is None for text in texts]
    reason = "not a National Insurance number (two letters, six digits, then A, B, C, D or none)"
    return Distinct(_text_or_none(texts), _failure(bad, "BAD-NI-NUMBER", reason))


PARSERS: dict[str, Callable[[list[str], Column], Distinct]] = {
    "id": _parse_id,
    "text": _parse_text,
    "date": _parse_date,
    "birth_date": _parse_birth_date,
    "postcode": _parse_postcode,
    "ni_number": _parse_ni_number,
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
