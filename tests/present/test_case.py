"""The case file's sections on a hand-made case: values escaped, the restated value
marked, the ref and personal data left out, the notes shown."""

from __future__ import annotations

from dataclasses import replace

from case_builders import KEY, hand_case, learners, overlap_findings
from pack_html import read_page

from kpitools.present import case as show
from kpitools.privacy.pseudonym import Pseudonymiser


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


def test_without_ilr_or_findings_each_section_says_so() -> None:
    case = hand_case(notes={"allegation": "<b>late</b> withdrawal"})
    assert "no ILR file" in _text(show.ilr(case))
    assert "No finding" in _text(show.findings(case))
    notes = show.auditor(case)
    # the auditor's text stays in the workbook: the page says it is written
    assert "written (22 characters)" in _text(notes) and "late" not in str(notes)


def test_the_register_history_shows_statuses_never_what_was_typed() -> None:
    from datetime import datetime

    from kpitools.store.queries import ExceptionHistory, HistoryEdit, HistoryMonth

    def month(period: str, status: str) -> HistoryMonth:
        values = {"status": status, "owner": "Sam", "response": "rang Octavia", "change": "new"}
        return HistoryMonth(period, 1, datetime(2023, 4, 1), "auditor", "Exceptions", values)

    history = ExceptionHistory(
        "EX-1",
        "P001",
        "DUP-ROW",
        "high",
        (month("2023-02", "queried"), month("2023-03", "Octavia rang back")),
        (
            HistoryEdit(
                "2023-02",
                "p",
                "Sam Auditor",
                "2023-03-02",
                2,
                datetime(2023, 3, 3),
                "response",
                None,
                "rang Octavia",
            ),
        ),
    )
    shown = _text(show.register_history(history))
    assert "queried" in shown and "other (see the case workbook)" in shown
    assert "Octavia" not in shown and "Sam" not in shown and "response 2023-03-02" in shown


def test_each_finding_names_the_other_providers_learner_by_pseudonym() -> None:
    # a cross-provider overlap: the case's own finding relates to P002's X7, P002's to
    # the case's learner; the page names each by its provider's pseudonym, never a ref
    case = replace(hand_case(), findings=overlap_findings())
    html = str(show.findings(case))
    shown = _text(html)
    assert f"P002/learner:{Pseudonymiser(KEY, 'P002').learner('X7')}" in shown
    assert f"P001/learner:{case.name}" in shown
    assert "X7" not in html and "000433" not in html
    with_pii = replace(hand_case(include_pii=True), findings=overlap_findings())
    assert "P002/learner:X7 (L-" in _text(show.findings(with_pii))
