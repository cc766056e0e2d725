"""The case workbook: the auditor's notes written, what the auditor changed read back
(formula-looking text kept as text), the workbook kept before it is replaced."""

from __future__ import annotations

from pathlib import Path

import pytest
from case_builders import hand_case, overlap_findings
from openpyxl import load_workbook

from kpitools.errors import PackError
from kpitools.outputs.case_workbook import (
    keep_case_workbook,
    read_case_notes,
    write_case_workbook,
)


def _write_notes(path: Path, notes: dict[str, str]) -> None:
    book = load_workbook(path)
    for row in book["Case"].iter_rows(min_row=2):
        if row[0].value in notes:
            row[1].value = notes[row[0].value]
            row[1].data_type = "s"
    book.properties.lastModifiedBy = "Sam Auditor"
    book.save(path)


def test_a_fresh_workbook_has_nothing_changed_and_no_personal_data(tmp_path: Path) -> None:
    path = write_case_workbook(hand_case(), tmp_path / "case.xlsx")
    found = read_case_notes(path)
    assert found.changed == () and found.values == dict.fromkeys(found.values, "")
    book = load_workbook(path)
    assert book["_written"].sheet_state == "veryHidden"
    cells = " ".join(str(v) for s in book for r in s.iter_rows(values_only=True) for v in r if v)
    assert "Octavia" not in cells and "1234567897" not in cells
    assert "000433 (" in cells  # a working file: the ref and pseudonym
    changed = [r for r in book["Rows"].iter_rows(min_row=2, values_only=True) if r[-1]]
    assert [(r[2], r[4], r[5]) for r in changed] == [("2023-03", "withdrawal_date", "2022-10-06")]


def test_what_the_auditor_changed_is_read_back(tmp_path: Path) -> None:
    path = write_case_workbook(hand_case(notes={"allegation": "late"}), tmp_path / "case.xlsx")
    _write_notes(path, {"allegation": "late withdrawal", "conclusion": "=SUM(A1)"})
    found = read_case_notes(path)
    assert found.changed == (
        ("allegation", "late", "late withdrawal"),
        ("conclusion", "", "=SUM(A1)"),
    )
    assert found.last_modified_by == "Sam Auditor" and len(found.sha256) == 64
    # written again with those notes: nothing to read back, the formula still text
    again = write_case_workbook(hand_case(notes=found.values), path)
    assert read_case_notes(again).changed == ()
    (cell,) = [r[1] for r in load_workbook(again)["Case"].iter_rows() if r[0].value == "conclusion"]
    assert cell.value == "=SUM(A1)" and cell.data_type == "s"


def test_the_workbook_is_kept_and_a_stranger_refused(tmp_path: Path) -> None:
    path = write_case_workbook(hand_case(), tmp_path / "cases" / "case.xlsx")
    kept = keep_case_workbook(path)
    assert kept.parent == tmp_path / "cases" / ".history" and kept.read_bytes() == path.read_bytes()
    other = tmp_path / "other.xlsx"
    other.write_bytes(b"not a workbook")
    with pytest.raises(PackError, match="not a readable Excel workbook"):
        read_case_notes(other)


def test_the_findings_name_the_related_learner_by_ref_and_pseudonym(tmp_path: Path) -> None:
    from dataclasses import replace

    case = replace(hand_case(), findings=overlap_findings())
    book = load_workbook(write_case_workbook(case, tmp_path / "case.xlsx"))
    rows = list(book["Findings"].iter_rows(values_only=True))
    found = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    related = {r["provider_id"]: r["related"] for r in found}
    assert related["P001"].startswith("P002/learner:X7 (L-")
    assert related["P002"] == f"P001/learner:000433 ({case.name})"
