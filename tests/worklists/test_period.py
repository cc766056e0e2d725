"""The worklists of a whole period at once: each provider gets exactly its own.

``build_worklists`` builds every population and ageing list once for all the returns
(``breach_risks`` every breach risk) and cuts the result by provider; here every
provider's slice is compared with a run of that provider alone (same rows, order,
dtypes), on the demo and on hand-made periods: providers sharing ids, a provider with
no learners, one whose every learner row was rejected, one provider only, no provider.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from auditkit_frames import bootcamp, learner, provider_return
from kpi_frames import small_return, write_return

from kpitools import layout
from kpitools.load import load_provider
from kpitools.rules import Rules
from kpitools.worklists.ageing import age_bucket, age_buckets, ageing_worklists
from kpitools.worklists.build import breach_risks, build_worklists, portfolio_hazard_of
from kpitools.worklists.period import PeriodTables
from kpitools.worklists.risk import hazard_counts, pool, portfolio_hazard

AS_OF = date(2023, 6, 30)
RULES = Rules()


def _worklists(returns: dict, as_of: date = AS_OF) -> dict[str, dict[str, pd.DataFrame]]:
    """Every provider's worklists of one run: samples, ageing lists and breach risk (each
    provider's own hazard)."""
    built = build_worklists(returns, as_of=as_of, rules=RULES)
    risks = breach_risks(returns, as_of=as_of, rules=RULES, portfolio=None)
    return {key: {**built[key], "breach_risk": risks[key]} for key in returns}


def _same(period: dict[str, dict[str, pd.DataFrame]], returns: dict, as_of: date = AS_OF) -> None:
    assert list(period) == list(returns)
    for key, provider in returns.items():
        alone = _worklists({key: provider}, as_of=as_of)[key]
        assert list(period[key]) == list(alone)
        for name, frame in alone.items():
            pd.testing.assert_frame_equal(period[key][name], frame, obj=f"{key} {name}")


def _busy(provider_id: str, *, offset: int = 0):
    """Two bootcamps (B1 over, B2 running), completers with and without an outcome,
    late and future withdrawals, employers linked to one, both or every bootcamp, and
    contact attempts: reached, unreached, after as_of, blank stage."""
    finished = [
        learner(
            f"L{i:03d}",
            "B1",
            start="2023-01-02",
            m1_date="2023-01-09",
            **(
                {"withdrawal_date": f"2023-02-{10 + i:02d}"}
                if i % 3 == 0
                else {"completion_date": f"2023-03-{10 + i:02d}"}
            ),
        )
        for i in range(offset, offset + 9)
    ]
    running = [
        learner(
            f"L{i:03d}",
            "B2",
            start="2023-05-01",
            m1_date="2023-05-08",
            **({"withdrawal_date": "2023-05-20"} if i == 20 else {}),
            **({"withdrawal_date": "2023-07-05"} if i == 21 else {}),
            **({"completion_date": "2023-07-03"} if i == 22 else {}),
        )
        for i in range(20, 26 + offset)
    ]
    employers = [
        {"employer_id": "E1", "name": "One", "bootcamp_ids": "B1"},
        {"employer_id": "E2", "name": "Two", "bootcamp_ids": "B2;B1"},
        {"employer_id": "E3", "name": "Three"},
        {"employer_id": "E4", "name": "Four", "bootcamp_ids": "B9"},
    ]
    contacts = [
        {"employer_id": "E1", "stage": "design", "attempt_date": "2023-05-31", "reached": "N"},
        {"employer_id": "E1", "stage": "design", "attempt_date": "2023-06-10", "reached": "N"},
        {"employer_id": "E2", "stage": "delivery", "attempt_date": "2023-06-01", "reached": "Y"},
        {"employer_id": "E3", "stage": "post", "attempt_date": "2023-07-02", "reached": "N"},
        {"employer_id": "E9", "stage": "design", "attempt_date": "2023-04-01", "reached": "N"},
    ]
    outcomes = [
        {
            "learner_ref": f"L{offset + 1:03d}",
            "bootcamp_id": "B1",
            "outcome_type": "new_job",
            "outcome_date": "2023-04-20",
            "employer_id": "E1",
        },
        {
            "learner_ref": f"L{offset + 2:03d}",
            "bootcamp_id": "B1",
            "outcome_type": "new_job",
            "outcome_date": "2023-07-20",
            "employer_id": "E1",
        },
    ]
    return provider_return(
        provider_id,
        bootcamps=[
            bootcamp("B1", "2023-01-02", "2023-03-31"),
            bootcamp("B2", "2023-05-01", "2023-08-31"),
        ],
        learners=finished + running,
        employers=employers,
        employer_contacts=contacts,
        outcomes=outcomes,
    )


def test_a_period_gives_each_provider_its_own_worklists_with_shared_ids():
    # P1 and P2 use the same bootcamp, learner and employer ids; P3 has no learners;
    # P4 only one bootcamp and nothing else
    returns = {
        "P1": _busy("P1"),
        "P2": _busy("P2", offset=3),
        "P3": provider_return(
            "P3", bootcamps=[bootcamp("B1")], employers=[{"employer_id": "E1", "name": "One"}]
        ),
        "P4": provider_return("P4", bootcamps=[bootcamp("B1")]),
    }
    period = _worklists(returns)
    _same(period, returns)
    # the shared ids stay each provider's: P1's picks name its own learners only
    assert set(period["P1"]["sample_completers"]["learner_ref"]) <= {f"L{i:03d}" for i in range(30)}
    assert len(period["P1"]["ageing_unreached_employers"]) > 0


def test_one_provider_and_no_provider():
    returns = {"P1": _busy("P1")}
    _same(_worklists(returns), returns)
    assert build_worklists({}, as_of=AS_OF, rules=RULES) == {}


def test_a_provider_whose_every_learner_row_was_rejected(tmp_path):
    good, bad = small_return("P1"), small_return("P2")
    for row in bad["learners"]:
        row["start_date"] = "not a date"
    write_return(tmp_path / "P1", good)
    write_return(tmp_path / "P2", bad)
    returns = {p: load_provider(tmp_path / p) for p in ("P1", "P2")}
    assert returns["P2"].tables["learners"].empty
    _same(_worklists(returns, as_of=date(2023, 3, 31)), returns, as_of=date(2023, 3, 31))


def test_the_demo_period_gives_each_provider_what_it_gets_alone(small_demo_dir):
    period_dir = small_demo_dir / "2023-03"
    returns = {folder.name: load_provider(folder) for folder in layout.provider_folders(period_dir)}
    as_of = date(2023, 3, 31)
    _same(_worklists(returns, as_of=as_of), returns, as_of=as_of)
    alone = {key: PeriodTables.of({key: provider}, as_of) for key, provider in returns.items()}
    prior = portfolio_hazard(pool(hazard_counts(alone[key])[key] for key in returns))
    assert portfolio_hazard_of(returns, as_of=as_of) == prior
    pooled = breach_risks(returns, as_of=as_of, rules=RULES, portfolio=prior)
    for key, provider in returns.items():
        pd.testing.assert_frame_equal(
            pooled[key],
            breach_risks({key: provider}, as_of=as_of, rules=RULES, portfolio=prior)[key],
        )


def test_explicit_seeds_draw_each_provider_as_alone():
    returns = {"P1": _busy("P1"), "P2": _busy("P2", offset=3)}
    period = build_worklists(returns, as_of=AS_OF, rules=RULES, seeds={"P1": 7, "P2": 8})
    for key, seed in (("P1", 7), ("P2", 8)):
        alone = build_worklists({key: returns[key]}, as_of=AS_OF, rules=RULES, seeds={key: seed})[
            key
        ]
        for name in ("sample_employers", "sample_completers", "sample_outcomes"):
            pd.testing.assert_frame_equal(period[key][name], alone[name])


def test_age_buckets_match_the_scalar_rule_at_every_boundary():
    days = [None, math.nan, -1, 0, 1, 29, 30, 31, 60, 61, 90, 91, 180, 181, 1000]
    assert age_buckets(pd.Series(days, dtype="Float64")) == [age_bucket(d) for d in days]


@pytest.mark.parametrize(
    ("first_attempt", "bucket"),
    [
        ("2023-05-30", "31-60"),  # 31 days before as_of
        ("2023-05-31", "0-30"),  # exactly 30 days: still 0-30
        ("2023-06-01", "0-30"),  # 29 days
        ("2023-06-30", "0-30"),  # on as_of: 0 days
        ("2023-07-01", "invalid date"),  # the day after as_of
    ],
)
def test_an_unreached_employer_at_the_bucket_boundary(first_attempt, bucket):
    provider = provider_return(
        bootcamps=[bootcamp("B1", end="2023-07-31")],
        learners=[learner("L1", m1_date="2023-01-16")],
        employers=[{"employer_id": "E1", "name": "One"}],
        employer_contacts=[
            {"employer_id": "E1", "stage": "design", "attempt_date": first_attempt, "reached": "N"}
        ],
    )
    returns = {"P": provider}
    lists = ageing_worklists(
        PeriodTables.of(returns, AS_OF),
        PeriodTables.of(returns, AS_OF, as_returned=True),
        rules=RULES,
    )["P"]
    rows = lists["ageing_unreached_employers"].set_index("stage")
    assert rows.loc["design", "bucket"] == bucket
    assert rows.loc["delivery", "bucket"] == "not contacted"
