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
from kpitools.outputs.workbook import write_register
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
        _sheets(), tmp_path / "exceptions.xlsx", status_sheets={"Exceptions": FOLLOW_UP_STATUSES}
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
    assert validation.formula1 == '"open,queried,resolved,accepted"'
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
    frame = read_register(path)
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
