"""exceptions.xlsx: one sheet per KPI plus irregularities, filters, frozen header,
widths, and formula-looking text written as text."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from kpitools.contract import EXCEPTION_COLUMNS, KPIS
from kpitools.io.register import write_register

PAYLOADS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTab", "\rCR", "\nLF", '=HYPERLINK("http://x","y")']


def _findings() -> pd.DataFrame:
    rows = [
        {"provider_id": "P001", "bootcamp_id": "B1", "kpi": "learner_dropout", "rule": "DROP-LATE-REPORT",
         "severity": "medium", "entity": "learner:L-1", "source": "learners.csv:3", "message": text}
        for text in PAYLOADS
    ]
    rows.append({**rows[0], "kpi": "irregularity", "rule": "DUP-ROW", "message": "plain"})
    return pd.DataFrame(rows, columns=list(EXCEPTION_COLUMNS))


def test_sheets_and_rows_per_kpi(tmp_path: Path) -> None:
    path = write_register(_findings(), tmp_path / "exceptions.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == [*KPIS, "irregularities"]
    assert book["learner_dropout"].max_row == 1 + len(PAYLOADS)
    assert book["irregularities"].max_row == 2
    assert book["referral"].max_row == 1  # header only
    sheet = book["learner_dropout"]
    assert [c.value for c in sheet[1]] == list(EXCEPTION_COLUMNS)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:H{1 + len(PAYLOADS)}"
    # widths: the longest message + 2, capped at 60
    assert sheet.column_dimensions["H"].width == len(PAYLOADS[-1]) + 2


def test_formula_payloads_are_text_never_formulas(tmp_path: Path) -> None:
    path = write_register(_findings(), tmp_path / "exceptions.xlsx")
    sheet = load_workbook(path)["learner_dropout"]
    messages = [sheet.cell(row=r, column=8) for r in range(2, 2 + len(PAYLOADS))]
    assert [c.value for c in messages] == PAYLOADS
    assert all(c.data_type == "s" for c in messages)
    assert all(c.quotePrefix for c in messages)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet3.xml").decode()
    assert "<f>" not in xml and "<f " not in xml
