"""Ageing of open items, with hand-worked day counts on both sides of each bucket edge."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from auditkit_frames import bootcamp, learner, provider_return

from kpitools.model import ProviderReturn
from kpitools.rules import Rules
from kpitools.worklists.ageing import age_bucket, ageing_worklists, bucket_counts
from kpitools.worklists.period import PeriodTables

AS_OF = date(2023, 6, 30)
RULES = Rules()


def _ageing(provider: ProviderReturn) -> dict[str, pd.DataFrame]:
    """The provider's ageing lists at AS_OF: the one function over a mapping of one."""
    returns = {provider.provider_id: provider}
    return ageing_worklists(
        PeriodTables.of(returns, AS_OF),
        PeriodTables.of(returns, AS_OF, as_returned=True),
        rules=RULES,
    )[provider.provider_id]


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "91-180"),
        (180, "91-180"),
        (181, ">180"),
        (-1, "invalid date"),
        (None, "invalid date"),
    ],
)
def test_age_bucket_edges(days, bucket):
    assert age_bucket(days) == bucket


def test_awaiting_outcome_ages_and_window_close():
    # as_of 2023-06-30. L1 completed 2023-05-31: 30 days -> 0-30, window closes
    # 2023-11-30 (153 days away). L2 completed 2023-05-30: 31 days -> 31-60. L3 has an
    # outcome on 2023-06-01: not waiting. L4's outcome is dated 2023-07-01, after as_of,
    # so L4 (completed 2022-12-31: 181 days -> >180, window closed 2023-06-30, 0 days
    # left) still waits. L5 completes 2023-07-01 (after as_of) and L6 before its start:
    # both invalid date.
    learners = [
        learner("L1", completion_date="2023-05-31"),
        learner("L2", completion_date="2023-05-30"),
        learner("L3", completion_date="2023-05-01"),
        learner("L4", start="2022-10-03", completion_date="2022-12-31"),
        learner("L5", completion_date="2023-07-01"),
        learner("L6", start="2023-02-01", completion_date="2023-01-31"),
        learner("L7"),
    ]
    outcomes = [
        {
            "learner_ref": "L3",
            "bootcamp_id": "B1",
            "outcome_type": "new_job",
            "outcome_date": "2023-06-01",
        },
        {
            "learner_ref": "L4",
            "bootcamp_id": "B1",
            "outcome_type": "new_job",
            "outcome_date": "2023-07-01",
        },
    ]
    lists = _ageing(provider_return(learners=learners, outcomes=outcomes))
    result = lists["ageing_awaiting_outcome"].set_index("learner_ref")
    assert sorted(result.index) == ["L1", "L2", "L4", "L5", "L6"]
    assert result.loc["L1", "days_since_completion"] == 30 and result.loc["L1", "bucket"] == "0-30"
    assert result.loc["L1", "window_closes"] == pd.Timestamp("2023-11-30")
    assert result.loc["L1", "days_to_window_close"] == 153
    assert result.loc["L2", "bucket"] == "31-60"
    assert result.loc["L4", "bucket"] == ">180" and result.loc["L4", "days_to_window_close"] == 0
    assert (
        result.loc["L5", "bucket"] == "invalid date"
        and result.loc["L6", "bucket"] == "invalid date"
    )


def test_unreported_withdrawals_by_days_late():
    # Report due one calendar month after withdrawal. as_of 2023-06-30:
    # W1 withdrew 2023-05-30 -> due 2023-06-30, 0 days late: not yet due.
    # W2 withdrew 2023-05-29 -> due 2023-06-29, 1 day late: 0-30.
    # W3 withdrew 2023-04-29 -> due 2023-05-29, 32 days late: 31-60.
    # W4 reported on 2023-06-01: not open. W5 reported 2023-07-02 (after as_of): still
    # open; withdrew 2023-01-31 -> due 2023-02-28, 122 days late: 91-180.
    # W6 withdrew 2023-07-01, after as_of: invalid date.
    learners = [
        learner("W1", withdrawal_date="2023-05-30"),
        learner("W2", withdrawal_date="2023-05-29"),
        learner("W3", withdrawal_date="2023-04-29"),
        learner("W4", withdrawal_date="2023-04-29", withdrawal_reported_date="2023-06-01"),
        learner("W5", withdrawal_date="2023-01-31", withdrawal_reported_date="2023-07-02"),
        learner("W6", withdrawal_date="2023-07-01"),
        learner("W7"),
    ]
    lists = _ageing(provider_return(learners=learners))
    result = lists["ageing_unreported_withdrawals"].set_index("learner_ref")
    assert sorted(result.index) == ["W1", "W2", "W3", "W5", "W6"]
    assert dict(zip(result.index, result["bucket"], strict=True)) == {
        "W5": "91-180",
        "W3": "31-60",
        "W2": "0-30",
        "W1": "not yet due",
        "W6": "invalid date",
    }
    assert result.loc["W5", "days_late"] == 122 and result.loc["W2", "days_late"] == 1
    assert result.loc["W5", "report_due"] == pd.Timestamp("2023-02-28")


def _employer_return(contacts: list[dict]):
    # B1 has an M1 on 2023-01-16 and no completion: design and delivery running at as_of.
    return provider_return(
        bootcamps=[bootcamp("B1", end="2023-07-31")],
        learners=[learner("L1", m1_date="2023-01-16")],
        employers=[{"employer_id": e, "name": e} for e in ("E1", "E2", "E3", "E4")],
        employer_contacts=contacts,
    )


def _attempt(employer: str, when: str, reached: str = "N", stage: str = "design") -> dict:
    return {"employer_id": employer, "stage": stage, "attempt_date": when, "reached": reached}


def test_unreached_employers_by_attempts():
    # design stage, as_of 2023-06-30:
    # E1: three failed attempts from 2023-05-31 (30 days) -> 3 attempts, escalate, 0-30.
    # E2: one failed attempt, then reached: off the list.
    # E3: one attempt 2023-07-05, after as_of -> invalid date, 0 attempts counted.
    # E4: never contacted -> not contacted. Delivery: nobody contacted -> all four.
    result = _ageing(
        _employer_return(
            [
                _attempt("E1", "2023-05-31"),
                _attempt("E1", "2023-06-10"),
                _attempt("E1", "2023-06-20"),
                _attempt("E2", "2023-06-01"),
                _attempt("E2", "2023-06-02", reached="Y"),
                _attempt("E3", "2023-07-05"),
            ]
        )
    )["ageing_unreached_employers"]
    design = result[result["stage"] == "design"].set_index("employer_id")
    assert sorted(design.index) == ["E1", "E3", "E4"]
    assert design.loc["E1", "attempts"] == 3 and bool(design.loc["E1", "escalate"])
    assert (
        design.loc["E1", "days_since_first_attempt"] == 30 and design.loc["E1", "bucket"] == "0-30"
    )
    assert design.loc["E3", "bucket"] == "invalid date" and design.loc["E3", "attempts"] == 0
    assert design.loc["E4", "bucket"] == "not contacted" and not design.loc["E4", "escalate"]
    assert sorted(result[result["stage"] == "delivery"]["employer_id"]) == ["E1", "E2", "E3", "E4"]
    assert result["attempts"].iloc[0] == 3  # most attempts first


def test_two_attempts_are_not_escalated():
    result = _ageing(
        _employer_return(
            [
                _attempt("E1", "2023-05-31"),
                _attempt("E1", "2023-06-10"),
            ]
        )
    )["ageing_unreached_employers"].set_index(["employer_id", "stage"])
    assert result.loc[("E1", "design"), "attempts"] == 2
    assert not result.loc[("E1", "design"), "escalate"]


def test_ageing_worklists_and_bucket_counts():
    provider = _employer_return([_attempt("E1", "2023-05-31")])
    worklists = _ageing(provider)
    assert set(worklists) == {
        "ageing_awaiting_outcome",
        "ageing_unreached_employers",
        "ageing_unreported_withdrawals",
    }
    counts = bucket_counts(worklists["ageing_unreached_employers"])
    # design: E1 0-30, E2-E4 not contacted; delivery: all four not contacted
    assert list(zip(counts["bucket"], counts["cases"], strict=True)) == [
        ("not contacted", 7),
        ("0-30", 1),
    ]
