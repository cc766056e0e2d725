"""DATE-ORDER on hand-made rows, both sides of each boundary."""

from __future__ import annotations

import pytest
from auditkit_frames import frame, learner

from kpitools.checks.date_order import date_order


def _check(rows: list[dict], outcomes: list[dict] | None = None):
    return date_order(frame("learners", rows), frame("outcomes", outcomes or []))


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        # start 2023-01-09 in every case
        ({"m1_date": "2023-01-08"}, "M1 2023-01-08 is before the start"),
        (
            {"m1_date": "2023-01-20", "completion_date": "2023-01-19"},
            "completion 2023-01-19 is before M1",
        ),
        ({"completion_date": "2023-01-08"}, "completion 2023-01-08 is before the start"),
        ({"completion_date": "2023-03-01"}, "completed on 2023-03-01 without an M1 date"),
        (
            {
                "m1_date": "2023-01-20",
                "withdrawal_date": "2023-02-01",
                "completion_date": "2023-03-01",
            },
            "both withdrawn (2023-02-01) and completed (2023-03-01)",
        ),
    ],
)
def test_each_out_of_order_case_is_found(dates, expected):
    findings = _check([learner("L1", **dates)])
    assert len(findings) == 1
    assert findings[0].rule == "DATE-ORDER" and findings[0].entity == "learner:L1"
    assert expected in findings[0].message
    assert findings[0].source == "learners.csv:2"


def test_completion_with_an_m1_date_is_not_reported():
    # the other side of "completed without an M1 date": the same completer with M1
    assert _check([learner("L1", m1_date="2023-01-16", completion_date="2023-03-01")]) == []


def test_same_day_dates_are_in_order():
    # M1 on the start day, completion on the M1 day, withdrawal alone: all allowed.
    rows = [
        learner("L1", m1_date="2023-01-09", completion_date="2023-01-09"),
        learner("L2", m1_date="2023-01-16", withdrawal_date="2023-02-01"),
        learner("L3"),
    ]
    assert _check(rows) == []


def test_outcome_before_start_cites_the_outcome_row():
    # L1 starts 2023-01-09. Outcome line 2 dated 2023-01-08 (one day early) is out of
    # order; line 3 dated 2023-01-09 (the start day) is not; L2's outcome is L2's.
    outcomes = [
        {
            "learner_ref": "L1",
            "bootcamp_id": "B1",
            "outcome_type": "new_job",
            "outcome_date": "2023-01-08",
        },
        {
            "learner_ref": "L1",
            "bootcamp_id": "B1",
            "outcome_type": "new_job",
            "outcome_date": "2023-01-09",
        },
        {
            "learner_ref": "L2",
            "bootcamp_id": "B1",
            "outcome_type": "new_job",
            "outcome_date": "2023-02-08",
        },
    ]
    findings = _check([learner("L1"), learner("L2", start="2023-02-01")], outcomes)
    assert [(f.entity, f.source) for f in findings] == [
        ("learner:L1", "learners.csv:2; outcomes.csv:2")
    ]
    assert "outcome dated 2023-01-08" in findings[0].message


def test_only_learners_out_of_order_are_reported_in_learner_order():
    # L1 in order; L2's M1 (2023-01-08) is a day before its start (2023-01-09); L3 is
    # in order itself but its outcome (2023-01-31) is before its start (2023-02-01).
    outcomes = [
        {
            "learner_ref": "L3",
            "bootcamp_id": "B1",
            "outcome_type": "new_job",
            "outcome_date": "2023-01-31",
        }
    ]
    rows = [
        learner("L1", m1_date="2023-01-16"),
        learner("L2", m1_date="2023-01-08"),
        learner("L3", start="2023-02-01"),
    ]
    findings = _check(rows, outcomes)
    assert [(f.entity, f.source) for f in findings] == [
        ("learner:L2", "learners.csv:3"),
        ("learner:L3", "learners.csv:4; outcomes.csv:2"),
    ]
