"""exceptions.xlsx: sheets in order, filters, frozen header, widths, a status drop-down,
dates as dates, formula-looking text written as text, and reading it back."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from kpitools.errors import PackError
from kpitools.outputs.workbook import SheetLayout, write_register
from kpitools.worklists.followup import FOLLOW_UP_STATUSES, read_register

PAYLOADS = [
    "=1+1",
    "+SUM(A1)",
    "-2+3",
    "@cmd",
    "\tTab",
    "\rCR",
    "\nLF",
    '=HYPERLINK("http://x","y")',
]


def _sheets() -> dict[str, pd.DataFrame]:
    exceptions = pd.DataFrame(
        {
            "exception_id": [f"EX-{i}" for i in range(len(PAYLOADS))],
            "message": PAYLOADS,
            "first_seen": [date(2023, 2, 28)] * len(PAYLOADS),
            "age_days": [31] * len(PAYLOADS),
            "status": ["open"] * len(PAYLOADS),
        }
    )
    return {
        "Summary": pd.DataFrame({"item": ["open exceptions"], "value": [len(PAYLOADS)]}),
        "Exceptions": exceptions,
        "Resolved": pd.DataFrame(columns=["exception_id", "status"]),
    }


def test_sheets_header_filter_widths_and_status_list(tmp_path: Path) -> None:
    path = write_register(
        _sheets(),
        tmp_path / "exceptions.xlsx",
        layouts={"Exceptions": SheetLayout(statuses=FOLLOW_UP_STATUSES)},
    )
    book = load_workbook(path)
    assert book.sheetnames == ["Summary", "Exceptions", "Resolved"]
    sheet = book["Exceptions"]
    assert [c.value for c in sheet[1]] == [
        "exception_id",
        "message",
        "first_seen",
        "age_days",
        "status",
    ]
    assert sheet.freeze_panes == "A2" and book["Resolved"].freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:E{1 + len(PAYLOADS)}"
    assert book["Resolved"].max_row == 1  # header only
    # widths: the longest message + 2
    assert sheet.column_dimensions["B"].width == len(PAYLOADS[-1]) + 2
    # dates are date cells, numbers numbers
    assert sheet["C2"].is_date and sheet["C2"].number_format == "yyyy-mm-dd"
    assert sheet["D2"].value == 31
    (validation,) = sheet.data_validations.dataValidation
    assert validation.type == "list"
    assert validation.formula1 == '"open,queried,reopened,resolved,accepted"'
    assert str(validation.sqref) == "E2:E1000"
    assert not book["Resolved"].data_validations.dataValidation  # only where asked


def test_formula_payloads_are_text_never_formulas(tmp_path: Path) -> None:
    path = write_register(_sheets(), tmp_path / "exceptions.xlsx")
    sheet = load_workbook(path)["Exceptions"]
    messages = [sheet.cell(row=r, column=2) for r in range(2, 2 + len(PAYLOADS))]
    assert [c.value for c in messages] == PAYLOADS
    assert all(c.data_type == "s" for c in messages)
    assert all(c.quotePrefix for c in messages)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet2.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_read_register_takes_columns_by_name(tmp_path: Path) -> None:
    path = write_register(_sheets(), tmp_path / "exceptions.xlsx")
    book = load_workbook(path)
    sheet = book["Exceptions"]
    sheet.insert_cols(1)  # the auditor adds a column of their own in front
    sheet["A1"] = "my notes"
    sheet["A2"] = "call Tuesday"
    sheet["F3"] = "queried"  # and queries the second exception
    book.save(path)
    frame = read_register(path).exceptions
    assert list(frame.columns) == [
        "my notes",
        "exception_id",
        "message",
        "first_seen",
        "age_days",
        "status",
    ]
    assert list(frame["status"]) == ["open", "queried", *["open"] * (len(PAYLOADS) - 2)]
    assert frame["message"].tolist() == PAYLOADS


def test_read_register_refuses_an_old_register_and_a_broken_file(tmp_path: Path) -> None:
    old = Workbook()
    old.active.title = "learner_dropout"
    old.save(tmp_path / "old.xlsx")
    with pytest.raises(PackError, match="no 'Exceptions' sheet"):
        read_register(tmp_path / "old.xlsx")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(PackError, match="not a readable Excel workbook"):
        read_register(tmp_path / "broken.xlsx")


def test_the_register_is_laid_out_for_work(ctx, tmp_path: Path) -> None:
    # the hand-made provider's register as kpitools writes it, opened as Excel would
    from kpitools.outputs.register import write_provider_register
    from kpitools.privacy.pseudonym import key_fingerprint
    from kpitools.worklists.followup import REGISTER_COLUMNS

    write_provider_register(ctx, tmp_path / "set")
    book = load_workbook(tmp_path / "set" / "exceptions.xlsx")
    sheet = book["Exceptions"]
    header = [c.value for c in sheet[1]]
    # id, severity, rule, then the working columns, then the facts
    assert header == list(REGISTER_COLUMNS)
    assert header[:13] == [
        "exception_id",
        "severity",
        "rule",
        "status",
        "earlier_status",
        "owner",
        "due_date",
        "response",
        "response_date",
        "evidence_ref",
        "prepared_by",
        "reviewed_by",
        "reviewed_on",
    ]
    assert sheet.freeze_panes == "B2"  # the id column frozen with the header
    validations = {v.type: v for v in sheet.data_validations.dataValidation}
    assert validations["list"].formula1 == '"open,queried,reopened,resolved,accepted"'
    assert str(validations["list"].sqref) == "D2:D1000"
    # dates an auditor fills in: due_date (G), response_date (I), reviewed_on (M)
    assert validations["date"].operator == "greaterThan"
    assert set(str(validations["date"].sqref).split()) == {"G2:G1000", "I2:I1000", "M2:M1000"}
    rules = {
        str(area.sqref): [(r.type, r.operator, r.formula) for r in found]
        for area, found in sheet.conditional_formatting._cf_rules.items()
    }
    last = "Y"  # 25 columns, related last
    assert rules[f"A2:{last}1000"] == [("expression", None, ['$D2="reopened"'])]
    assert rules["B2:B1000"] == [
        ("cellIs", "equal", ['"high"']),
        ("cellIs", "equal", ['"medium"']),
        ("cellIs", "equal", ['"low"']),
    ]
    age = "Q"  # age_days
    assert header[ord(age) - ord("A")] == "age_days"
    assert rules[f"{age}2:{age}1000"] == [("cellIs", "greaterThan", ["30"])]
    # readable widths: the working columns set, no fact wider than 50
    widths = {h: sheet.column_dimensions[chr(ord("A") + i)].width for i, h in enumerate(header)}
    assert widths["status"] == 11 and widths["response"] == 40 and widths["message"] == 50
    assert header[-1] == "related" and widths["related"] == 30
    assert max(widths.values()) <= 50
    # the baseline of the working columns is there but hidden; the key is named
    assert book["_written"].sheet_state == "veryHidden"
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["pseudonym key fingerprint"] == key_fingerprint(ctx.pseudonymiser.key)
    assert book.properties.lastModifiedBy == "kpitools"


def test_a_replaced_register_and_those_kept_before_it_go_into_the_new_set(
    tmp_path: Path,
) -> None:
    from kpitools.outputs.register import keep_replaced_register

    final, staging = tmp_path / "P001", tmp_path / ".building-P001"
    (final / ".history").mkdir(parents=True)
    (final / ".history" / "exceptions-20230301T090000Z.xlsx").write_bytes(b"march, first run")
    (final / "exceptions.xlsx").write_bytes(b"march, edited")
    staging.mkdir()
    (staging / "error.txt").write_text("the provider failed this time")
    kept = keep_replaced_register(final, staging)
    assert kept is not None and kept.parent == staging / ".history"
    assert kept.read_bytes() == b"march, edited"
    assert sorted(p.read_bytes() for p in (staging / ".history").iterdir()) == [
        b"march, edited",
        b"march, first run",
    ]
    assert (final / "exceptions.xlsx").read_bytes() == b"march, edited"  # copied, not moved
    # twice in one second: both kept
    (final / "exceptions.xlsx").write_bytes(b"march, edited again")
    keep_replaced_register(final, staging)
    assert len(list((staging / ".history").iterdir())) == 3
    assert keep_replaced_register(tmp_path / "new", staging) is None


# --- control characters in any text never stop the register (issue 29) -------------

CONTROLS = ["BEL\x07", "VT\x0b", "FF\x0c", "ESC\x1b[2J", "=1+1\x07"]


def _control_sheets(values: list[str]) -> dict[str, pd.DataFrame]:
    return {
        "Summary": pd.DataFrame({"item": ["provider"], "value": ["P001"]}),
        "Exceptions": pd.DataFrame({"message": values, "owner\x07": ["x"] * len(values)}),
    }


def test_control_characters_are_escaped_and_noted(tmp_path: Path) -> None:
    path = write_register(
        _control_sheets(CONTROLS), tmp_path / "exceptions.xlsx", note_sheet="Summary"
    )
    book = load_workbook(path)
    sheet = book["Exceptions"]
    assert [c.value for c in sheet[1]] == ["message", "owner\\x07"]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "BEL\\x07",
        "VT\\x0b",
        "FF\\x0c",
        "ESC\\x1b[2J",
        "=1+1\\x07",
    ]
    assert sheet["A6"].data_type == "s" and sheet["A6"].quotePrefix  # still never a formula
    assert list(book["Summary"].iter_rows(values_only=True)) == [
        ("item", "value"),
        ("provider", "P001"),
        (
            "note",
            "5 cell(s) held control characters (such as BEL, VT, FF or ESC), shown here as "
            "\\xNN escapes",
        ),
    ]


def test_no_note_without_control_characters(tmp_path: Path) -> None:
    sheets = {
        "Summary": _control_sheets([])["Summary"],
        "Exceptions": pd.DataFrame({"m": ["a\tb"]}),
    }
    book = load_workbook(write_register(sheets, tmp_path / "x.xlsx", note_sheet="Summary"))
    assert book["Summary"].max_row == 2 and book["Exceptions"]["A2"].value == "a\tb"
