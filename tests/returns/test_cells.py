"""Parsing cells by contract kind: each kind, its boundaries and its failures."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kpitools.returns.cells import excel_cell_text, parse_cells, parse_column
from kpitools.returns.contract import Column


def parse(kind: str, cells: list[str], codes: tuple[str, ...] = ()):
    parsed = parse_column(Column("x", kind, codes=codes), pd.Series(cells, dtype=object))
    failures: dict[str, list[str]] = {}
    for failure in parsed.failures:
        failures.setdefault(failure.rule, []).extend(
            c for c, bad in zip(cells, failure.mask, strict=True) if bad
        )
    return parsed.values.tolist(), failures


def test_dates_iso_uk_and_never_month_first():
    values, failures = parse(
        "date",
        [
            "2023-03-31",
            "31/03/2023",
            "1/3/2023",
            "",
            "04/13/2023",
            "31/02/2023",
            "2023-3-31",
            "NA",
            "NULL",
            "45000",
        ],
    )
    assert values[:4] == [
        pd.Timestamp("2023-03-31"),
        pd.Timestamp("2023-03-31"),
        pd.Timestamp("2023-03-01"),
        pd.NaT,
    ]
    # 04/13/2023 would be April 13th only if read month first: we never do.
    assert failures == {
        "BAD-DATE": ["04/13/2023", "31/02/2023", "2023-3-31", "NA", "NULL", "45000"]
    }


def test_date_range_boundaries_on_both_sides():
    _, failures = parse(
        "date", ["2015-01-01", "31/12/2014", "2039-12-31", "2040-01-01", "01/01/1900", "31/02/1900"]
    )
    assert failures == {
        "DATE-RANGE": ["31/12/2014", "2040-01-01", "01/01/1900"],
        "BAD-DATE": ["31/02/1900"],
    }


def test_date_dtype_is_nanoseconds():
    parsed = parse_column(Column("x", "date"), pd.Series(["2023-01-02"], dtype=object))
    assert str(parsed.values.dtype) == "datetime64[ns]"


def test_flags_any_case_blank_unknown():
    values, failures = parse("flag", ["Y", "n", "Yes", "NO", "true", "FALSE", "", "x", "1"])
    assert values[:7] == [True, False, True, False, True, False, pd.NA]
    assert failures == {"BAD-FLAG": ["x", "1"]}


def test_money_pounds_commas_and_failures():
    values, failures = parse(
        "money",
        ["1250", "1,250.00", "£1,250", "£ 3,000.5", "-£20", "", "1,25", "12,5000", "£", "abc"],
    )
    assert values[:5] == [1250.0, 1250.0, 1250.0, 3000.5, -20.0]
    assert failures == {"BAD-MONEY": ["1,25", "12,5000", "£", "abc"]}


def test_whole_numbers_and_scores():
    values, failures = parse("int", ["0", "12", "1,200", "", "-1", "1.5", "ten"])
    assert values[:4] == [0, 12, 1200, pd.NA]
    assert failures == {"BAD-INT": ["-1", "1.5", "ten"]}
    values, failures = parse("score", ["0", "5", "6", "-1", ""])
    assert values == [0, 5, pd.NA, pd.NA, pd.NA]
    assert failures == {"BAD-SCORE": ["6", "-1"]}


def test_codes_case_insensitive_to_canonical():
    values, failures = parse("code", ["SME", "sme", "Large", "big", ""], ("SME", "large"))
    assert values == ["SME", "SME", "large", None, None]
    assert failures == {"BAD-CODE": ["big"]}


def test_code_lists_semicolons():
    codes = ("mentoring", "content")
    values, failures = parse(
        "codelist", ["mentoring; Content", "content;", "mentoring;teaching", ""], codes
    )
    assert values == ["mentoring;content", "content", None, None]
    assert failures == {"BAD-CODE": ["mentoring;teaching"]}


def test_uln_check_digit():
    # 123456789?: 1*10+2*9+3*8+4*7+5*6+6*5+7*4+8*3+9*2 = 210; 210 mod 11 = 1; check = 10-1 = 9.
    # 100000000?: 1*10 = 10; 10 mod 11 = 10; check = 0.
    # 500000000?: 5*10 = 50; 50 mod 11 = 6; check = 4 (so ...5 fails).
    # 110000000?: 1*10+1*9 = 19; 19 mod 11 = 8; check = 2.
    # 000000000?: sum 0, remainder 0: invalid whatever the check digit.
    good = ["1234567899", "1000000000", "5000000004", "1100000002", "9999999999"]
    bad_check = ["1234567890", "5000000005", "0000000000"]
    values, failures = parse(
        "uln", [*good, *bad_check, "123456789", "12345678901", "ABCDEFGHIJ", ""]
    )
    assert values[:5] == good
    assert failures == {"BAD-ULN": ["123456789", "12345678901", "ABCDEFGHIJ", *bad_check]}


def test_ukprn_and_ids_keep_text():
    values, failures = parse("ukprn", ["10001234", "01234567", "1234567", "100012345"])
    assert values[:2] == ["10001234", "01234567"]
    assert failures == {"BAD-UKPRN": ["1234567", "100012345"]}
    values, failures = parse("id", ["000123", " L4 ", "E1;E2", "a\tb"])
    assert values[:2] == ["000123", "L4"]
    assert failures == {"BAD-ID": ["E1;E2", "a\tb"]}


def test_text_keeps_na_none_null():
    values, failures = parse("text", ["NA", "None", "NULL", "", "=HYPERLINK(1)"])
    assert values == ["NA", "None", "NULL", None, "=HYPERLINK(1)"]
    assert failures == {}


@pytest.mark.parametrize(
    ("value", "number_format", "kind", "expected"),
    [
        (45016, "General", "date", ("2023-03-31", None)),  # 1900 system: 45016 = 31 March 2023
        (45016.75, "General", "date", ("2023-03-31", None)),
        (dt.datetime(2023, 3, 31, 14, 5), "yyyy-mm-dd", "date", ("2023-03-31", None)),
        (123, "000000", "id", ("000123", None)),
        (123.0, "General", "id", ("123", None)),
        (1234567899, "General", "uln", ("1234567899", None)),
        (True, "General", "flag", ("true", None)),
        (1250.5, "General", "money", ("1250.5", None)),
        (None, "General", "text", ("", None)),
        ("NA", "General", "text", ("NA", None)),
    ],
)
def test_excel_cells_as_text(value, number_format, kind, expected):
    assert excel_cell_text(value, number_format, kind) == expected


def test_excel_number_that_lost_digits_is_flagged():
    text, problem = excel_cell_text(1.2345678901234567e16, "General", "id")
    assert text == "12345678901234568" and "lost digits" in problem
    assert excel_cell_text(999999999999999.0, "General", "id")[1] is None  # 15 digits: kept


def test_parse_cells_gives_arrays_aligned_with_the_cells():
    # The same cells as parse_column, as arrays: " 5 " strips to 5, "" is blank (<NA>),
    # "x" fails BAD-INT; the blank mask marks the cell that is blank after stripping.
    cells = np.array([" 5 ", "", "x", "5", "  "], dtype=object)
    parsed = parse_cells(Column("x", "int"), cells)
    assert str(parsed.values.dtype) == "Int64"
    assert parsed.values.tolist() == [5, pd.NA, pd.NA, 5, pd.NA]
    assert parsed.blank.tolist() == [False, True, False, False, True]
    assert [(f.rule, f.mask.tolist()) for f in parsed.failures] == [
        ("BAD-INT", [False, False, True, False, False])
    ]


def test_long_column_parsed_like_a_short_one():
    # Over 5,000 cells take pandas' factorize rather than a dict; same values either way.
    # 1,700 repeats of (good date, impossible date, blank) = 5,100 cells: 1,700 BAD-DATE
    # failures at positions 1, 4, 7, ...
    cells = ["2023-03-31", "31/02/2023", ""] * 1700
    values, failures = parse("date", cells)
    assert values[:3] == [pd.Timestamp("2023-03-31"), pd.NaT, pd.NaT]
    assert values.count(pd.Timestamp("2023-03-31")) == 1700
    assert failures == {"BAD-DATE": ["31/02/2023"] * 1700}


def test_uln_digits_of_another_script_follow_the_same_rule():
    # Python's \d also matches Arabic-Indic digits; such a ULN is checked digit by digit
    # like its ASCII twin: 1234567899 passes (see test_uln_check_digit), ...890 does not.
    arabic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    good, bad = "1234567899".translate(arabic), "1234567890".translate(arabic)
    _, failures = parse("uln", [good, bad])
    assert failures == {"BAD-ULN": [bad]}


def _reasons(kind: str, cells: list[str], name: str = "x") -> dict[str, str]:
    """Each failing cell with the reason it was rejected for."""
    parsed = parse_column(Column(name, kind), pd.Series(cells, dtype=object))
    return {
        c: f.reason for f in parsed.failures for c, bad in zip(cells, f.mask, strict=True) if bad
    }


def test_identifiers_in_scientific_notation_are_named_as_excel_damage():
    # 9664217882 is a valid ULN; Excel shows it as 9.66422E+09 once the column is a number
    reasons = _reasons("uln", ["9664217882", "9.66422E+09", "1E+10", "96642"])
    assert set(reasons) == {"9.66422E+09", "1E+10", "96642"}
    for cell in ("9.66422E+09", "1E+10"):
        assert reasons[cell].startswith(
            "Excel converted this ULN to a number in scientific notation"
        )
        assert "format the column as Text" in reasons[cell]
    assert reasons["96642"] == "expected 10 digits"  # short, but not Excel's notation
    ukprn = _reasons("ukprn", ["10012345", "1.00123E+07"])
    assert list(ukprn) == ["1.00123E+07"] and ukprn["1.00123E+07"].startswith(
        "Excel converted this UKPRN"
    )
    # a text id is anything without separators, except Excel's notation (it lost digits)
    ids = _reasons("id", ["000670", "1E5", "6.70E+02", "L-1E+05"], name="learner_ref")
    assert list(ids) == ["6.70E+02"]
    assert ids["6.70E+02"].startswith("Excel converted this learner_ref to a number")


def test_excel_date_serials_in_a_csv_are_named():
    # 44927 is 2023-01-01 in Excel's 1900 date system
    reasons = _reasons("date", ["44927", "44927.5", "4492", "99999", "2023-01-01"])
    assert reasons["44927"].startswith("an Excel date serial number, not a date")
    assert reasons["44927.5"] == reasons["44927"]
    # too short to be a serial, or a serial far outside the sane range: a plain bad date
    assert reasons["4492"].startswith("not a date (expected YYYY-MM-DD")
    assert reasons["99999"].startswith("not a date (expected YYYY-MM-DD")
    assert "2023-01-01" not in reasons
