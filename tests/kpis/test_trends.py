"""KPI trends: the provider's figures month by month over the periods found beside this
one, drop-out per bootcamp, months that cannot be read left out with a note (the small
multiples drawn from them: tests/present/test_plots.py).

:func:`kpi_trends` only lays out the figures it is given; the audit engine loads and
measures the earlier months (kpitools.audit). The same tiny return
(builders.write_months) is written for 2023-01 (unreadable: learners.csv has no header),
2023-02 and 2023-03; 2022-12 is missing. Drop-out at 2023-02-28 and 2023-03-31 alike:
B1 cohort L1, L2 (M1 2023-01-16), L2 withdrew 2023-02-20 → 1/2 = 50 %, off track (limit
20 %); B2 cohort L3 → 0/1; the provider 1/3 = 33.3 %, off track too.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from builders import AS_OF, write_months, write_provider

from kpitools.audit import audit_period, audit_provider
from kpitools.calendar import period_end
from kpitools.kpis.trends import kpi_trends
from kpitools.model import KpiResult


@pytest.fixture
def months(tmp_path: Path) -> Path:
    return write_months(tmp_path)


def _dropout(bootcamp_id: str, numerator: int, denominator: int, as_of: date) -> KpiResult:
    return KpiResult(
        "learner_dropout",
        bootcamp_id,
        numerator,
        denominator,
        "on_track",
        as_of,
        target=0.2,
        target_kind="max",
    )


def test_the_figures_given_laid_out_oldest_first_notes_for_months_left_out() -> None:
    february, march = period_end("2023-02"), period_end("2023-03")
    skills = KpiResult("new_skills", "B1", 1, 1, "met", march)  # per bootcamp: not drawn
    trends = kpi_trends(
        {"P1": ("2023-03", [_dropout("B1", 1, 2, march), _dropout("ALL", 1, 3, march), skills])},
        {
            "P1": {
                "2023-01": "2023-01: not in the trend (learners.csv has no header)",
                "2023-02": [_dropout("ALL", 0, 3, february)],
            }
        },
    )
    figures = trends["P1"].figures
    assert figures[["period", "bootcamp_id", "value"]].values.tolist() == [
        ["2023-02", "ALL", 0.0],
        ["2023-03", "B1", 0.5],
        ["2023-03", "ALL", 1 / 3],
    ]
    assert trends["P1"].notes == ("2023-01: not in the trend (learners.csv has no header)",)
    # nothing earlier: this period's figures alone
    alone = kpi_trends({"P1": ("2023-03", [_dropout("ALL", 1, 3, march)])}, {})["P1"]
    assert alone.periods == ["2023-03"] and alone.notes == ()


def test_figures_month_by_month_with_bootcamps_for_dropout(months: Path) -> None:
    trends = audit_provider(months, as_of=AS_OF, trend_months=12).trends
    assert trends.periods == ["2023-02", "2023-03"]
    assert len(trends.notes) == 1 and trends.notes[0].startswith("2023-01: not in the trend (")
    dropout = trends.figures[trends.figures["kpi"] == "learner_dropout"]
    rows = {(r.period, r.bootcamp_id): (round(r.value, 4), r.status) for r in dropout.itertuples()}
    assert rows[("2023-02", "B1")] == (0.5, "off_track")
    assert rows[("2023-02", "B2")] == (0.0, "on_track")
    assert rows[("2023-02", "ALL")][0] == round(1 / 3, 4)
    assert rows[("2023-03", "ALL")][0] == round(1 / 3, 4)  # this period: the audit's own
    # other KPIs: the provider only
    assert set(trends.figures.loc[trends.figures["kpi"] != "learner_dropout", "bootcamp_id"]) == {
        "ALL"
    }
    # one month back only: 2023-02 within reach, 2023-01 not
    assert audit_provider(months, as_of=AS_OF, trend_months=2).trends.periods == [
        "2023-02",
        "2023-03",
    ]
    assert audit_provider(months, as_of=AS_OF, trend_months=1).trends.periods == ["2023-03"]


def test_a_period_s_trends_measure_each_earlier_month_once_for_every_provider(months: Path) -> None:
    # P002 has the same ids as P001 (measured together, each its own) and a readable
    # 2023-01; audit_period's trends must be what each provider's run alone gives it
    root = months.parent.parent
    for period in ("2023-01", "2023-02", "2023-03"):
        write_provider(root / period / "P002", provider_id="P002")
    audits = audit_period(root / "2023-03", as_of=period_end("2023-03"), trend_months=12)
    assert audits["P001"].trends.periods == ["2023-02", "2023-03"]
    assert audits["P002"].trends.periods == ["2023-01", "2023-02", "2023-03"]
    for provider_id, audit in audits.items():
        folder = root / "2023-03" / provider_id
        alone = audit_provider(
            folder, as_of=AS_OF, previous_dir=root / "2023-02" / provider_id, trend_months=12
        ).trends
        pd.testing.assert_frame_equal(audit.trends.figures, alone.figures)
        assert audit.trends.notes == alone.notes
