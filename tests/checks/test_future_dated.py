"""FUTURE-DATED: each record dated after as_of is listed once and left out of the KPIs."""

from __future__ import annotations

from datetime import date

from kpi_frames import build, learner

from kpitools.checks.future_dated import future_dated
from kpitools.kpis.learner_dropout import learner_dropout


def test_each_future_record_once_with_all_its_dates(rules):
    # as_of 2023-03-31. L1: completion 2023-04-02 and withdrawal reported 2023-04-03 ->
    # one finding naming both. L2: completion on as_of itself -> fine. A referral dated
    # 2023-04-01 -> one finding. A contact on 2023-04-01 -> employer finding. An interview
    # offered 2023-03-30 for an interview booked 2023-04-05 -> fine (a booking).
    learners = [
        learner("L1", m1="2023-01-10", completed="2023-04-02", reported="2023-04-03"),
        learner("L2", m1="2023-01-10", completed="2023-03-31"),
    ]
    tables = build(
        learners=learners,
        referrals=[{"learner_ref": "L2", "bootcamp_id": "B1", "referral_date": "2023-04-01"}],
        employer_contacts=[
            {"employer_id": "E1", "stage": "design", "attempt_date": "2023-04-01", "reached": "Y"}
        ],
        interviews=[
            {
                "learner_ref": "L2",
                "bootcamp_id": "B1",
                "offer_date": "2023-03-30",
                "interview_date": "2023-04-05",
                "role_type": "job",
                "matches_skills": "Y",
            }
        ],
    )
    found = future_dated(tables, as_of=date(2023, 3, 31))
    assert [(f.entity, f.source, f.rule, f.kpi) for f in found] == [
        ("learner:L1", "learners.csv:2", "FUTURE-DATED", "irregularity"),
        ("employer:E1", "employer_contacts.csv:2", "FUTURE-DATED", "irregularity"),
        ("learner:L2", "referrals.csv:2", "FUTURE-DATED", "irregularity"),
    ]
    assert "withdrawal_reported_date 2023-04-03" in found[0].message
    assert "completion_date 2023-04-02" in found[0].message


def test_future_withdrawal_is_not_a_dropout(rules):
    # 2 cohort learners; L1's withdrawal is dated 2023-04-10, after as_of 2023-03-31:
    # it has not happened for the measurement -> 0 / 2, and it is FUTURE-DATED.
    learners = [
        learner("L1", m1="2023-01-10", withdrawn="2023-04-10"),
        learner("L2", m1="2023-01-10"),
    ]
    tables = build(learners=learners)
    result = learner_dropout(tables, as_of=date(2023, 3, 31), rules=rules)[0]
    assert (result.numerator, result.denominator) == (0, 2)
    assert [f.entity for f in future_dated(tables, as_of=date(2023, 3, 31))] == ["learner:L1"]
