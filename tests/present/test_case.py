"""The case file's sections on a hand-made case: values escaped, the restated value
marked, the ref and personal data left out, the notes shown."""

from __future__ import annotations

from dataclasses import replace

from case_builders import hand_case, learners
from pack_html import read_page

from kpitools.present import case as show


def _text(markup: object) -> str:
    return " ".join(read_page(str(markup)).text.split())


def test_the_rows_mark_the_restated_value_and_leave_out_the_ref() -> None:
    case = hand_case()
    rows = show.month_rows(case)
    assert "2022-10-06 (changed)" in _text(rows) and "2022-10-07 (changed)" not in _text(rows)
    assert "000433" not in str(rows) and "Octavia" not in str(rows)
    assert "1234567897" not in str(rows)
    assert f"learner {case.name} at learners.csv:14" in _text(show.summary(case))


def test_every_value_is_escaped() -> None:
    case = hand_case()
    hostile = learners("2022-10-06").assign(bootcamp_id="<script>alert(1)</script>")
    months = (case.months[0], replace(case.months[1], tables={"learners": hostile}))
    html = str(show.month_rows(replace(case, months=months)))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_without_ilr_findings_or_notes_each_section_says_so() -> None:
    case = hand_case(notes={"allegation": "<b>late</b>"})
    assert "no ILR file" in _text(show.ilr(case))
    assert "No finding" in _text(show.findings(case))
    notes = show.auditor(case)
    assert "<b>late</b>" in _text(notes) and "<b>" not in str(notes)
