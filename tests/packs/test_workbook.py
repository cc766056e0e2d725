"""exceptions.xlsx as written: control characters in any text (a provider's name, an
auditor's note pasted from Word) never stop the register (issue 29)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from kpitools.packs.workbook import write_register

CONTROLS = ["BEL\x07", "VT\x0b", "FF\x0c", "ESC\x1b[2J", "=1+1\x07"]


def _sheets(values: list[str]) -> dict[str, pd.DataFrame]:
    return {
        "Summary": pd.DataFrame({"item": ["provider"], "value": ["P001"]}),
        "Exceptions": pd.DataFrame({"message": values, "owner\x07": ["x"] * len(values)}),
    }


def test_control_characters_are_escaped_and_noted(tmp_path: Path) -> None:
    path = write_register(_sheets(CONTROLS), tmp_path / "exceptions.xlsx", note_sheet="Summary")
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
    sheets = {"Summary": _sheets([])["Summary"], "Exceptions": pd.DataFrame({"m": ["a\tb"]})}
    book = load_workbook(write_register(sheets, tmp_path / "x.xlsx", note_sheet="Summary"))
    assert book["Summary"].max_row == 2 and book["Exceptions"]["A2"].value == "a\tb"
