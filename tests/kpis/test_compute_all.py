"""compute_all: every KPI in a stable order; fixtures typed like validation does."""

from __future__ import annotations

from datetime import date

import pytest
from kpi_frames import build, make, small_return

from kpitools.kpis import compute_all
from kpitools.returns.contract import KPIS
from kpitools.returns.validate import frame_from_records


def test_order_kpi_then_stage_then_bootcamp_with_all_last(rules):
    rows = small_return()
    rows["bootcamps"] = rows["bootcamps"] + [dict(rows["bootcamps"][0], bootcamp_id="A0")]
    tables = {name: make(name, records) for name, records in rows.items()}
    tables = build(**rows)
    results = compute_all(tables, as_of=date(2023, 3, 31), rules=rules)
    keys = [(r.kpi, r.stage, r.bootcamp_id) for r in results]
    # 7 KPIs, employer engagement three times, each for A0, B1 and ALL: 9 x 3 = 27 rows.
    assert len(keys) == 27
    assert [k[0] for k in keys[::3]] == ["employer_engagement"] * 3 + list(KPIS[1:])
    assert [k[1] for k in keys[:9:3]] == ["design", "delivery", "post"]
    assert [k[2] for k in keys[:3]] == ["A0", "B1", "ALL"]


def test_small_return_hand_worked_figures(rules):
    # See small_return's docstring: drop-out 1/5 (20 %, at_risk as above 16 %), new skills
    # 3/3, interviews 3/3, referral: L4 withdrew 2023-02-01, referred 2023-02-10 -> 1/1.
    results = compute_all(build(**small_return()), as_of=date(2023, 3, 31), rules=rules)
    pooled = {(r.kpi, r.stage): r for r in results if r.bootcamp_id == "ALL"}
    figures = {k[0]: (r.numerator, r.denominator, r.status) for k, r in pooled.items()
               if not k[1]}
    assert figures["learner_dropout"] == (1, 5, "at_risk")
    assert figures["new_skills"] == (3, 3, "on_track")
    assert figures["guaranteed_interview"] == (3, 3, "on_track")
    assert figures["referral"] == (1, 1, "on_track")


@pytest.mark.parametrize("name", ["learners", "assessments", "interviews", "referrals",
                                  "bootcamps", "employers"])
def test_fixture_frames_have_the_dtypes_of_validation(name):
    records = small_return()[name]
    ours = make(name, records)
    theirs = frame_from_records(name, records, file=f"{name}.csv")
    assert dict(ours.dtypes) == dict(theirs[list(ours.columns)].dtypes)
    assert list(ours["source"]) == list(theirs["source"])
