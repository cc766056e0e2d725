"""Datasheet against ILR: every ILR-MISMATCH-* rule, on hand-made rows.

The ILR side is the hand-written 2022-23 fixture (prepared 2023-03-31), which says:
  L001 SB-0001-01 independent, start 2023-01-09, completed 2023-03-10
  L002 SB-0001-01 co-funded, employer 123456789 an SME (OET 2), withdrawn 2023-02-10
  L004 SB-0001-02 self-employed, start 2023-03-27, continuing
  L005 SB-0001-02 independent, start 2023-03-24, continuing
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from ilr_xml import bootcamp, ilr_tables, ilr_xml, learner, write

from kpitools.ilr.mapping import IlrTables
from kpitools.ilr.reconcile import reconcile
from kpitools.returns.validate import frame_from_records
from kpitools.rules import CATALOGUE, Rules

F2223 = (
    Path(__file__).parent.parent / "fixtures" / "ilr" / "ILR-10012345-2223-20230331-120000-01.xml"
)
ILR_SOURCE = "ILR-10012345-2223-20230331-120000-01.xml:{}"  # the Learner element's line
# and the programme aim the learner's dates and status were read from
ILR_AIM_SOURCE = ILR_SOURCE + " (aim {})"

AGREEING = [  # the datasheet rows that agree with the ILR fixture
    {
        "learner_ref": "L001",
        "bootcamp_id": "SB-0001-01",
        "learner_type": "independent",
        "start_date": "2023-01-09",
        "m1_date": "2023-01-16",
        "completion_date": "2023-03-10",
    },
    {
        "learner_ref": "L002",
        "bootcamp_id": "SB-0001-01",
        "learner_type": "co-funded",
        "employer_id": "E1",
        "start_date": "2023-02-06",
        "withdrawal_date": "2023-02-10",
    },
    {
        "learner_ref": "L004",
        "bootcamp_id": "SB-0001-02",
        "learner_type": "self-employed",
        "start_date": "2023-03-27",
    },
    {
        "learner_ref": "L005",
        "bootcamp_id": "SB-0001-02",
        "learner_type": "independent",
        "start_date": "2023-03-24",
        "m1_date": "2023-03-31",
    },
]


@pytest.fixture(scope="module")
def ilr() -> IlrTables:
    return ilr_tables([F2223], rules=Rules())


def _datasheet(rows: list[dict[str, str]], employee_count: str = "40") -> dict:
    return {
        "learners": frame_from_records("learners", rows, file="learners.csv"),
        "employers": frame_from_records(
            "employers",
            [{"employer_id": "E1", "name": "Acme", "employee_count": employee_count}],
            file="employers.csv",
        ),
    }


def _change(ref: str, **changes: str | None) -> list[dict[str, str]]:
    rows = []
    for row in AGREEING:
        row = dict(row)
        if row["learner_ref"] == ref:
            row.update(changes)
            row = {k: v for k, v in row.items() if v is not None}
        rows.append(row)
    return rows


def _reconcile(
    datasheet: dict, ilr: IlrTables, *, rules: Rules | None = None, as_of: date | None = None
) -> list:
    """The findings of one provider's pair: :func:`reconcile` over a list of one."""
    [found] = reconcile([(datasheet, ilr)], rules=rules or Rules(), as_of=as_of)
    return found.findings


def _rules(findings: list) -> list[tuple[str, str]]:
    return sorted((f.rule, f.entity) for f in findings)


def test_agreeing_datasheet_gives_no_finding(ilr: IlrTables) -> None:
    assert _reconcile(_datasheet(AGREEING), ilr) == []


def test_missing_on_either_side_with_cutoff_boundary(ilr: IlrTables) -> None:
    rows = [r for r in AGREEING if r["learner_ref"] != "L005"] + [
        # started on the ILR's preparation date (2023-03-31): the ILR should have it
        {
            "learner_ref": "L008",
            "bootcamp_id": "SB-0001-02",
            "learner_type": "independent",
            "start_date": "2023-03-31",
        },
        # started the day after: the ILR cannot know it yet, not a finding
        {
            "learner_ref": "L009",
            "bootcamp_id": "SB-0001-02",
            "learner_type": "independent",
            "start_date": "2023-04-01",
        },
    ]
    findings = _reconcile(_datasheet(rows), ilr)
    assert _rules(findings) == [
        ("ILR-MISMATCH-MISSING-IN-DATASHEET", "learner:L005"),
        ("ILR-MISMATCH-MISSING-IN-ILR", "learner:L008"),
    ]
    by_rule = {f.rule: f for f in findings}
    assert by_rule["ILR-MISMATCH-MISSING-IN-DATASHEET"].source == ILR_AIM_SOURCE.format(72, 1)
    assert (
        by_rule["ILR-MISMATCH-MISSING-IN-ILR"].source == "learners.csv:5"
    )  # L001, L002, L004 are lines 2-4
    assert by_rule["ILR-MISMATCH-MISSING-IN-ILR"].severity == "high"


def test_as_of_earlier_than_the_ilr_narrows_the_comparison(ilr: IlrTables) -> None:
    # With as_of 2023-03-26, L004 (start 2023-03-27) is out of scope on both sides.
    rows = [r for r in AGREEING if r["learner_ref"] != "L004"]
    assert _reconcile(_datasheet(rows), ilr, as_of=date(2023, 3, 26)) == []
    assert _rules(_reconcile(_datasheet(rows), ilr, as_of=date(2023, 3, 27))) == [
        ("ILR-MISMATCH-MISSING-IN-DATASHEET", "learner:L004")
    ]


def test_start_date_differs(ilr: IlrTables) -> None:
    findings = _reconcile(_datasheet(_change("L005", start_date="2023-03-23")), ilr)
    assert _rules(findings) == [("ILR-MISMATCH-START-DATE", "learner:L005")]
    assert findings[0].source == f"learners.csv:5; {ILR_AIM_SOURCE.format(72, 1)}"
    assert "2023-03-23" in findings[0].message and "2023-03-24" in findings[0].message


def test_withdrawn_in_one_source_only(ilr: IlrTables) -> None:
    # L004 withdrawn on 2023-03-30 in the datasheet; the ILR shows it continuing.
    findings = _reconcile(_datasheet(_change("L004", withdrawal_date="2023-03-30")), ilr)
    assert _rules(findings) == [("ILR-MISMATCH-WITHDRAWN", "learner:L004")]
    # L002 not withdrawn in the datasheet, withdrawn in the ILR.
    findings = _reconcile(_datasheet(_change("L002", withdrawal_date=None)), ilr)
    assert _rules(findings) == [("ILR-MISMATCH-WITHDRAWN", "learner:L002")]
    assert "in the ILR, not withdrawn in the datasheet" in findings[0].message


def test_withdrawal_dates_differ(ilr: IlrTables) -> None:
    findings = _reconcile(_datasheet(_change("L002", withdrawal_date="2023-02-09")), ilr)
    assert _rules(findings) == [("ILR-MISMATCH-WITHDRAWAL-DATE", "learner:L002")]


def test_completion_dates_differ_or_one_is_blank(ilr: IlrTables) -> None:
    findings = _reconcile(_datasheet(_change("L001", completion_date="2023-03-09")), ilr)
    assert _rules(findings) == [("ILR-MISMATCH-COMPLETION-DATE", "learner:L001")]
    findings = _reconcile(_datasheet(_change("L001", completion_date=None)), ilr)
    assert _rules(findings) == [("ILR-MISMATCH-COMPLETION-DATE", "learner:L001")]


def test_cofunded_in_one_fully_funded_in_the_other(ilr: IlrTables) -> None:
    findings = _reconcile(
        _datasheet(_change("L001", learner_type="co-funded", employer_id="E1")), ilr
    )
    assert _rules(findings) == [("ILR-MISMATCH-COFUNDING", "learner:L001")]
    assert CATALOGUE["ILR-MISMATCH-COFUNDING"].severity == findings[0].severity == "high"


@pytest.mark.parametrize(
    ("employee_count", "expected"),
    [("249", []), ("250", [("ILR-MISMATCH-SME", "learner:L002")])],
)
def test_sme_boundary(ilr: IlrTables, employee_count: str, expected: list) -> None:
    # ILR: L002's employer is an SME (OET 2). Datasheet: 249 staff is an SME (< 250),
    # 250 is large → mismatch.
    assert _rules(_reconcile(_datasheet(AGREEING, employee_count), ilr)) == expected


def test_bootcamp_ids_that_differ_match_on_learner_ref(ilr: IlrTables) -> None:
    # The datasheet calls L001's bootcamp "BC1"; L001 appears once on each side, so the
    # rows are matched on learner_ref and the completion date is still compared.
    findings = _reconcile(
        _datasheet(_change("L001", bootcamp_id="BC1", completion_date="2023-03-01")), ilr
    )
    assert _rules(findings) == [("ILR-MISMATCH-COMPLETION-DATE", "learner:L001")]
    assert findings[0].bootcamp_id == "BC1"


def test_messages_carry_no_personal_data(ilr: IlrTables) -> None:
    rows = _change("L001", completion_date="2023-03-09")
    findings = _reconcile(_datasheet(rows), ilr)
    text = " ".join(f.message for f in findings)
    assert "1000000043" not in text and "Testone" not in text and "Ada" not in text


def test_refs_that_lost_their_leading_zeros_match_the_ilr(tmp_path: Path) -> None:
    # A datasheet re-saved by Excel: 000670 became 670. 671 could be the ILR's 0671 or
    # 00671: ambiguous, so left unmatched (both sides then report it); L9 is in the
    # datasheet only. The bootcamp ids differ too (B1 against SB-1), so every match is on
    # learner_ref alone; 670 and 000670 agree on everything else: no finding.
    start, end = "2025-09-01", "2025-12-19"
    learners = [
        learner(ref, uln, bootcamp("SB-1", start, end))
        for ref, uln in (("000670", "1000000043"), ("0671", "1000000051"), ("00671", "1000000078"))
    ]
    path = write(
        tmp_path, ilr_xml(learners, prepared="2026-01-31"), ukprn="10012345", prepared="2026-01-31"
    )
    rows = [
        {
            "learner_ref": ref,
            "bootcamp_id": "B1",
            "learner_type": "independent",
            "start_date": start,
        }
        for ref in ("670", "671", "L9")
    ]
    [found] = reconcile([(_datasheet(rows), ilr_tables([path]))], rules=Rules(), as_of=None)
    assert _rules(found.findings) == [
        ("ILR-MISMATCH-MISSING-IN-DATASHEET", "learner:00671"),
        ("ILR-MISMATCH-MISSING-IN-DATASHEET", "learner:0671"),
        ("ILR-MISMATCH-MISSING-IN-ILR", "learner:671"),
        ("ILR-MISMATCH-MISSING-IN-ILR", "learner:L9"),
    ]
    assert (found.datasheet, found.ilr, found.matched) == (3, 3, 1)
