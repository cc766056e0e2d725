"""Drop-out breach risk: hazard counts, shrinkage, exact projection, flag boundaries."""

from __future__ import annotations

import math
from datetime import date

import pytest
from auditkit_frames import bootcamp, learner, provider_return

from kpitools.model import ProviderReturn
from kpitools.rules import Rules
from kpitools.worklists.build import breach_risks
from kpitools.worklists.period import PeriodTables
from kpitools.worklists.risk import (
    Hazard,
    HazardCounts,
    final_count_distribution,
    hazard_counts,
    pool,
    portfolio_hazard,
    shrunk_hazard,
)

AS_OF = date(2023, 6, 30)
M1 = "2023-01-02"


def _counts(provider: ProviderReturn, as_of: date) -> HazardCounts:
    """The provider's hazard counts: the one function over a period of one."""
    return hazard_counts(PeriodTables.of({"P": provider}, as_of))["P"]


def _risk(provider: ProviderReturn, *, rules: Rules, portfolio: Hazard | None = None):
    """The provider's breach risk at AS_OF: the engine's function over a mapping of one."""
    return breach_risks({"P": provider}, as_of=AS_OF, rules=rules, portfolio=portfolio)["P"]


def _finished_return():
    # B1 ended 2023-03-31, so it is over at 2023-06-30. M1 2023-01-02 for all:
    # A withdrew day 3 (week 0), B day 10 (week 1), C and D completed day 18 (week 2).
    # Exit weeks 0, 1, 2, 2 -> at risk 4, 3, 2; withdrawals 1, 1, 0.
    learners = [
        learner("A", start=M1, m1_date=M1, withdrawal_date="2023-01-05"),
        learner("B", start=M1, m1_date=M1, withdrawal_date="2023-01-12"),
        learner("C", start=M1, m1_date=M1, completion_date="2023-01-20"),
        learner("D", start=M1, m1_date=M1, completion_date="2023-01-20"),
    ]
    return provider_return(bootcamps=[bootcamp("B1", M1, "2023-03-31")], learners=learners)


def test_hazard_counts_by_week_since_m1():
    counts = _counts(_finished_return(), AS_OF)
    assert counts.withdrawals == (1, 1, 0) and counts.at_risk == (4, 3, 2)
    assert counts.bootcamps == 1 and counts.learners == 4
    hazard = portfolio_hazard(counts)
    # h = 1/4, 1/3, 0; beyond week 2 the average 2 withdrawals / 9 learner-weeks
    assert hazard.weekly == pytest.approx((0.25, 1 / 3, 0.0))
    assert hazard.at(7) == pytest.approx(2 / 9)


def test_running_bootcamp_is_not_learned_from():
    # On 2023-01-15 B1 (ending 2023-03-31) is still running: no finished cohort.
    assert _counts(_finished_return(), date(2023, 1, 15)) == HazardCounts()


def test_pool_adds_week_by_week():
    a = HazardCounts((1, 1, 0), (4, 3, 2), 1)
    b = HazardCounts((2,), (10,), 1)
    assert pool([a, b]) == HazardCounts((3, 1, 0), (14, 3, 2), 2)


def test_shrinkage_toward_the_portfolio():
    # provider week 0: 1 of 4; portfolio 0.05 every week; k = 20:
    # (1 + 20 x 0.05) / (4 + 20) = 2 / 24. Week 1 (no provider data): the prior, 0.05.
    prior = Hazard((0.05, 0.05), 0.05, "portfolio")
    hazard = shrunk_hazard(HazardCounts((1,), (4,), 1), prior)
    assert hazard.at(0) == pytest.approx(2 / 24)
    assert hazard.at(1) == pytest.approx(0.05)
    assert shrunk_hazard(HazardCounts(), None) is None


def test_final_count_distribution_is_exact():
    # two chances 0.5 and 0.2: P(0) = 0.4, P(1) = 0.5 x 0.8 + 0.5 x 0.2 = 0.5, P(2) = 0.1
    assert final_count_distribution([0.5, 0.2]) == pytest.approx([0.4, 0.5, 0.1])


def _running(
    withdrawn: int, active: int, done: int = 0, *, m1: str = "2023-06-05", end: str = "2023-07-10"
):
    # m1 2023-06-05: at as_of 2023-06-30 day 25, week 3; end 2023-07-10 is day 35,
    # week 5: an active learner has weeks 4 and 5 left.
    rows = [
        learner(f"W{i}", "B2", start=m1, m1_date=m1, withdrawal_date="2023-06-12")
        for i in range(withdrawn)
    ]
    rows += [learner(f"A{i}", "B2", start=m1, m1_date=m1) for i in range(active)]
    rows += [
        learner(f"C{i}", "B2", start=m1, m1_date=m1, completion_date="2023-06-20")
        for i in range(done)
    ]
    return provider_return(bootcamps=[bootcamp("B2", m1, end)], learners=rows)


def test_projection_with_a_constant_hazard():
    # h = 0.5 every week: each of 4 active learners withdraws in weeks 4-5 with
    # 1 - 0.5 x 0.5 = 0.75. Cohort 5, 1 withdrawn: above 20 % from 2 withdrawals, so
    # P = P(at least 1 of 4) = 1 - 0.25^4 = 0.99609375; projected 1 + 3 = 4 -> 0.8.
    result = _risk(_running(1, 4), rules=Rules(), portfolio=Hazard((), 0.5, "constant"))
    row = result.iloc[0]
    assert (row["bootcamp_id"], row["cohort"], row["withdrawn"], row["active"]) == ("B2", 5, 1, 4)
    assert row["current_rate"] == pytest.approx(0.2)
    assert row["p_above_limit"] == pytest.approx(1 - 0.25**4)
    assert row["projected_rate"] == pytest.approx(0.8)
    assert bool(row["at_risk"])


@pytest.mark.parametrize(("withdrawn", "expected"), [(2, 0.0), (3, 1.0)])
def test_exactly_at_the_limit_is_not_above_it(withdrawn, expected):
    # Cohort 10 with a zero hazard: nothing more happens. 2/10 = 20 % is not above the
    # limit (P = 0); 3/10 is (P = 1).
    provider = _running(withdrawn, 10 - withdrawn)
    result = _risk(provider, rules=Rules(), portfolio=Hazard((), 0.0, "zero"))
    assert result.iloc[0]["p_above_limit"] == pytest.approx(expected)
    assert bool(result.iloc[0]["at_risk"]) is (expected == 1.0)


@pytest.mark.parametrize(("hazard", "flagged"), [(0.5, True), (0.49, False)])
def test_flag_from_probability_one_half(hazard, flagged):
    # One active learner with one week left (m1 2023-06-05, end 2023-07-03: day 28,
    # week 4 = the week after as_of's week 3): P(withdraw) = h. Cohort 5 with 1
    # withdrawn and 3 completed: a second withdrawal (2/5) breaches, so P = h.
    provider = _running(1, 1, 3, end="2023-07-03")
    result = _risk(provider, rules=Rules(), portfolio=Hazard((), hazard, "c"))
    assert result.iloc[0]["p_above_limit"] == pytest.approx(hazard)
    assert bool(result.iloc[0]["at_risk"]) is flagged


def test_no_hazard_without_finished_bootcamps_and_finished_ones_not_listed():
    result = _risk(_running(1, 4), rules=Rules())
    assert math.isnan(result.iloc[0]["p_above_limit"]) and not result.iloc[0]["at_risk"]
    assert "no finished bootcamp" in result.iloc[0]["basis"]
    assert _risk(_finished_return(), rules=Rules()).empty
