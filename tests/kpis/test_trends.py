"""KPI trends: the provider's figures month by month over the periods found beside this
one, drop-out per bootcamp, months that cannot be read left out with a note (the small
multiples drawn from them: tests/packs/test_plots.py).

The same tiny return (builders.write_months) is written for 2023-01 (unreadable:
learners.csv has no header), 2023-02 and 2023-03; 2022-12 is missing. Drop-out at 2023-02-28 and
2023-03-31 alike: B1 cohort L1, L2 (M1 2023-01-16), L2 withdrew 2023-02-20 → 1/2 = 50 %,
off track (limit 20 %); B2 cohort L3 → 0/1; the provider 1/3 = 33.3 %, off track too.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from builders import hand_audit, write_months, write_provider

from kpitools.kpis.trends import provider_trends


@pytest.fixture
def months(tmp_path: Path) -> Path:
    return write_months(tmp_path)


def test_figures_month_by_month_with_bootcamps_for_dropout(months: Path) -> None:
    audit = replace(hand_audit(months), period="2023-03")
    trends = provider_trends(audit, months=12)
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
    assert provider_trends(audit, months=2).periods == ["2023-02", "2023-03"]
    assert provider_trends(audit, months=1).periods == ["2023-03"]


def test_a_period_s_trends_measure_each_earlier_month_once_for_every_provider(months: Path) -> None:
    # P002 has the same ids as P001 (measured together, each its own) and a readable
    # 2023-01; audit_period's trends must be what provider_trends gives each alone
    import pandas as pd

    from kpitools.audit import audit_period
    from kpitools.calendar import period_end

    root = months.parent.parent
    for period in ("2023-01", "2023-02", "2023-03"):
        write_provider(root / period / "P002", provider_id="P002")
    audits = audit_period(root / "2023-03", as_of=period_end("2023-03"), trend_months=12)
    assert audits["P001"].trends.periods == ["2023-02", "2023-03"]
    assert audits["P002"].trends.periods == ["2023-01", "2023-02", "2023-03"]
    for audit in audits.values():
        alone = provider_trends(audit, months=12)
        pd.testing.assert_frame_equal(audit.trends.figures, alone.figures)
        assert audit.trends.notes == alone.notes
