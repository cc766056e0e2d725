"""The figures behind the pack's charts (kpitools.kpis.charts), on the tiny provider of
tests/present/builders.py, worked out by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from builders import AS_OF, write_provider

from kpitools.kpis.charts import (
    COFUNDING_DUE_VS_PAID,
    FUNNELS,
    SATISFACTION_SCORES,
    cofunding_due_vs_paid,
    funnels,
    pack_charts,
    satisfaction_scores,
)
from kpitools.load import load_provider
from kpitools.model import KpiResult, ProviderReturn
from kpitools.rules import Rules


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> ProviderReturn:
    return load_provider(write_provider(tmp_path_factory.mktemp("data") / "2023-03" / "P001"))


def test_cofunding_due_vs_paid_is_due_from_m1(provider: ProviderReturn) -> None:
    # L3 co-funded by E1 (40 employees: SME, 10 %) on B2 at £2,500 → due £250; paid £100
    alone = {"P001": provider.tables}
    frame = cofunding_due_vs_paid(alone, as_of=AS_OF, rules=Rules())["P001"]
    assert frame.to_dict("records") == [{"employer": "E1", "due": 250.0, "paid": 100.0}]
    # the day before L3's M1 (2023-01-09) nothing is due yet
    assert cofunding_due_vs_paid(alone, as_of=date(2023, 1, 8), rules=Rules())["P001"].empty


def test_a_period_s_cofunding_keeps_each_provider_s_employers_apart(
    provider: ProviderReturn,
) -> None:
    # P001 and P002 both have employer E1 on bootcamp B2 (due £250 each); P002 paid £40
    # where P001 paid £100: summed together E1 would show due £500, paid £140
    tables = provider.tables
    halved = tables["cofunding_payments"].assign(amount=40.0)
    period = {
        "P001": tables,
        "P002": {**tables, "cofunding_payments": halved},
        "P003": {**tables, "learners": tables["learners"].iloc[:0]},
    }
    together = cofunding_due_vs_paid(period, as_of=AS_OF, rules=Rules())
    assert list(together) == ["P001", "P002", "P003"]
    assert together["P001"].to_dict("records") == [{"employer": "E1", "due": 250.0, "paid": 100.0}]
    assert together["P002"].to_dict("records") == [{"employer": "E1", "due": 250.0, "paid": 40.0}]
    assert together["P003"].empty  # no co-funded learner: nothing due
    # the day before L3's M1 nothing is due for either
    before = cofunding_due_vs_paid(period, as_of=date(2023, 1, 8), rules=Rules())
    assert all(frame.empty for frame in before.values())


def test_satisfaction_scores_count_reached_contacts(provider: ProviderReturn) -> None:
    # two reached contacts of E1: scores 4 and 2; every score 0-5 is listed
    frame = satisfaction_scores(provider.tables)
    assert frame["score"].tolist() == [0, 1, 2, 3, 4, 5]
    assert frame["contacts"].tolist() == [0, 0, 1, 0, 1, 0]
    unreached = provider.tables["employer_contacts"].assign(reached=False)
    assert satisfaction_scores({**provider.tables, "employer_contacts": unreached}).empty


def test_funnels_count_completers_up_to_as_of(provider: ProviderReturn) -> None:
    interview = KpiResult("guaranteed_interview", "ALL", 1, 2, "on_track", AS_OF)
    per_bootcamp = KpiResult("guaranteed_interview", "B1", 1, 1, "on_track", AS_OF)
    # L3 completed on 2023-03-10: a completer on that day, not the day before
    on_the_day = funnels(provider.tables, [per_bootcamp, interview], as_of=date(2023, 3, 10))
    assert on_the_day.to_dict("records") == [
        {"kpi": "guaranteed_interview", "completers": 1, "denominator": 2, "numerator": 1}
    ]
    day_before = funnels(provider.tables, [interview], as_of=date(2023, 3, 9))
    assert day_before["completers"].tolist() == [0]
    assert funnels(provider.tables, [], as_of=AS_OF).empty


def test_pack_charts_names_every_chart(provider: ProviderReturn, tmp_path: Path) -> None:
    charts = pack_charts({"P001": provider}, {"P001": []}, as_of=AS_OF, rules=Rules())
    assert list(charts) == ["P001"]
    assert set(charts["P001"]) == {COFUNDING_DUE_VS_PAID, SATISFACTION_SCORES, FUNNELS}
