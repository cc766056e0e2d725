"""The worklists handed to ProviderAudit: names, stable pack seed, portfolio shrinkage."""

from __future__ import annotations

from datetime import date

from auditkit_frames import bootcamp, learner, provider_return

from kpitools.rules import Rules
from kpitools.worklists.build import (
    breach_risks,
    build_worklists,
    pack_seed,
    portfolio_hazard_of,
)

AS_OF = date(2023, 6, 30)


def _provider(provider_id: str, withdrawn_in_finished: int):
    # B1 finished (ended 2023-03-31) with 10 learners past M1 2023-01-02, the first
    # ``withdrawn_in_finished`` withdrawn on 2023-02-01 (day 30, week 4), the rest
    # completed. B2 running (M1 2023-06-05, ends 2023-07-10): 5 active learners with
    # weeks 4 and 5 left at 2023-06-30.
    rows = [
        learner(
            f"F{i}",
            "B1",
            start="2023-01-02",
            m1_date="2023-01-02",
            **(
                {"withdrawal_date": "2023-02-01"}
                if i < withdrawn_in_finished
                else {"completion_date": "2023-03-20"}
            ),
        )
        for i in range(10)
    ]
    rows += [learner(f"R{i}", "B2", start="2023-06-05", m1_date="2023-06-05") for i in range(5)]
    return provider_return(
        provider_id,
        bootcamps=[
            bootcamp("B1", "2023-01-02", "2023-03-31"),
            bootcamp("B2", "2023-06-05", "2023-07-10"),
        ],
        learners=rows,
    )


def test_worklists_names_and_stable_seed():
    provider = _provider("P001", 0)
    worklists = build_worklists({"P001": provider}, as_of=AS_OF, rules=Rules())["P001"]
    assert list(worklists) == [
        "sample_employers",
        "sample_completers",
        "sample_outcomes",
        "ageing_awaiting_outcome",
        "ageing_unreached_employers",
        "ageing_unreported_withdrawals",
    ]
    seed = pack_seed("P001", AS_OF)
    assert set(worklists["sample_completers"]["sample_seed"]) == {seed}
    assert seed == pack_seed("P001", AS_OF) != pack_seed("P002", AS_OF)
    # 10 completers: 10 % is 1, so the minimum of 5 is drawn
    assert len(worklists["sample_completers"]) == 5
    # P001's finished bootcamp had no withdrawal: hazard 0, nothing projected
    risk = breach_risks({"P001": provider}, as_of=AS_OF, rules=Rules(), portfolio=None)
    assert risk["P001"].iloc[0]["p_above_limit"] == 0.0


def test_portfolio_breach_risk_pulls_a_provider_toward_the_others():
    # P001 alone: hazard 0 (no withdrawal in its finished bootcamp), P(breach) = 0.
    # With P002, whose finished bootcamp lost 5 of 10 in week 4, P001's week-4 hazard is
    # shrunk toward the portfolio's (5 / 20 learners at risk) and its P(breach) rises.
    returns = {"P001": _provider("P001", 0), "P002": _provider("P002", 5)}
    alone = breach_risks({"P001": returns["P001"]}, as_of=AS_OF, rules=Rules(), portfolio=None)[
        "P001"
    ]
    prior = portfolio_hazard_of(returns, as_of=AS_OF)
    pooled = breach_risks(returns, as_of=AS_OF, rules=Rules(), portfolio=prior)
    assert alone.iloc[0]["p_above_limit"] == 0.0
    assert pooled["P001"].iloc[0]["p_above_limit"] > 0.0
    assert "shrunk toward portfolio" in pooled["P001"].iloc[0]["basis"]
