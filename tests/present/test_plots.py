"""Charts: figures returned (never shown), bars from the KPI results, `$` kept literal, and
the trends' small multiples (the figures: tests/kpis/test_trends.py)."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pandas as pd
from builders import AS_OF, write_months
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from kpitools.audit import audit_provider
from kpitools.model import ProviderAudit
from kpitools.present import blocks, plots
from kpitools.present.blocks import STATUS_COLOURS


def _texts(ax: Axes) -> list[str]:
    """The text drawn in a panel (its labels and notes, not its ticks or title)."""
    return [t.get_text() for t in ax.texts]


def _render(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_dropout_bars_are_the_kpi_values_against_the_limit(audit: ProviderAudit) -> None:
    fig = plots.dropout_by_bootcamp(audit)
    ax = fig.axes[0]
    # B1 1/2, B2 0/1, ALL 1/3 as percentages; the limit line at 20 %
    assert [round(b.get_height(), 2) for b in ax.patches] == [50.0, 0.0, 33.33]
    assert ax.lines[0].get_ydata()[0] == 20.0
    colours = [b.get_facecolor() for b in ax.patches]
    assert colours[0] != colours[1]  # above the limit is drawn differently
    assert _render(fig).startswith(b"\x89PNG")


def test_dollar_text_is_not_mathtext() -> None:
    fig = plots.funnel([("Ba$$in", 3), ("a $5 b $6", 1)], "Cost $x$")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert r"Ba\$\$in" in labels
    assert _render(fig).startswith(b"\x89PNG")  # would raise on unbalanced mathtext
    fig = plots.due_vs_paid(
        pd.DataFrame({"employer": ["Ba$$in"], "due": [250.0], "paid": [100.0]}), tolerance=1.0
    )
    assert _render(fig).startswith(b"\x89PNG")


def test_nothing_to_draw_gives_none(audit: ProviderAudit) -> None:
    assert plots.funnel([("a", 0)], "t") is None
    assert (
        plots.due_vs_paid(pd.DataFrame(columns=["employer", "due", "paid"]), tolerance=1.0) is None
    )
    assert plots.kpi_funnel(audit, "guaranteed_interview", ("a", "b", "c")) is None


def test_satisfaction_distribution_counts_reached_scores(audit: ProviderAudit) -> None:
    # two reached contacts of E1: scores 4 and 2 → one bar each at 2 and 4
    fig = plots.satisfaction_distribution(audit)
    heights = [b.get_height() for b in fig.axes[0].patches]
    assert heights == [0, 0, 1, 0, 1, 0]


def test_due_vs_paid_colours_by_tolerance() -> None:
    frame = pd.DataFrame({"employer": ["E1", "E2"], "due": [250.0, 250.0], "paid": [249.0, 248.99]})
    fig = plots.due_vs_paid(frame, tolerance=1.0)
    paid_bars = fig.axes[0].patches[2:]
    # E1 is £1.00 short (within tolerance), E2 £1.01 short
    assert paid_bars[0].get_facecolor() != paid_bars[1].get_facecolor()


def test_trends_small_multiples_with_target_lines_and_status_colours(tmp_path: Path) -> None:
    months = write_months(tmp_path)  # drop-out 1/3 = 33.3 % in 2023-02 and 2023-03
    trends = audit_provider(months, as_of=AS_OF, trend_months=12).trends
    fig = plots.kpi_trends(trends)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    titles = [ax.get_title() for ax in shown]
    assert "Learner drop-out" in titles and titles[-1] == "Drop-out per bootcamp"
    dropout = shown[titles.index("Learner drop-out")]
    assert dropout.get_ylim() == (0, 105)  # the limit of 20 % is far from either end
    assert all(ax.get_xlim() == (-0.5, 1.5) for ax in shown)  # the months shared
    # the months under each column's lowest panel, each panel's own percentages beside
    # it (and "%" beside each row's first): on a grid of 3 columns
    labels = [[t.get_text() for t in ax.get_xticklabels()] for ax in shown]
    percents = {ax.get_title(): [t.get_text() for t in ax.get_yticklabels()] for ax in shown}
    for i in range(len(shown)):
        assert labels[i] == (["23-02", "23-03"] if i + 3 >= len(shown) else [])
        assert shown[i].get_ylabel() == ("%" if i % 3 == 0 else "")
    # new skills 1/1 = 100 % against 100 % in 2023-03: zoomed to 96-101 %, said so; the
    # others on the whole axis (co-funding 0 % against 100 %: the gap shows there)
    zoomed = {ax.get_title() for ax in shown if plots.ZOOMED in _texts(ax)}
    assert zoomed == {"New skills", "Referral to alternative opportunities"}
    new_skills = shown[titles.index("New skills")]
    assert new_skills.get_ylim() == (96, 101)
    assert percents["New skills"] == ["96", "97", "98", "99", "100"]
    for ax in shown:
        if ax.get_title() not in zoomed:
            assert ax.get_ylim() == (0, 105), ax.get_title()
            assert percents[ax.get_title()] == ["0", "20", "40", "60", "80", "100"]
    # the latest figure of each KPI written beside its point
    assert "33.3 %" in _texts(dropout) and "100.0 %" in _texts(new_skills)
    cofunding = shown[titles.index("Employer co-funding")]
    assert "0.0 %" in _texts(cofunding)
    dashed = [line for line in dropout.lines if line.get_linestyle() == "--"]
    assert [line.get_ydata()[0] for line in dashed] == [20.0]  # the limit
    # the provider's 1/3 = 33.3 % is above the 20 % limit in both months: off track
    (points,) = dropout.collections
    colours = {tuple(round(c, 3) for c in face[:3]) for face in points.get_facecolors()}
    off_track = STATUS_COLOURS["off_track"]
    assert colours == {tuple(round(int(off_track[i : i + 2], 16) / 255, 3) for i in (1, 3, 5))}
    per_bootcamp = shown[-1]
    assert sorted(
        line.get_label() for line in per_bootcamp.lines if line.get_linestyle() != "--"
    ) == ["B1", "B2"]
    assert blocks.png(fig).startswith(b"\x89PNG")
    single = audit_provider(months, as_of=AS_OF, trend_months=1).trends
    assert plots.dropout_trend(single) is None  # one month is no trend
    assert plots.dropout_trend(trends) is not None


def test_reused_trends_figure_draws_the_same_png_as_a_new_one(tmp_path: Path) -> None:
    months = write_months(tmp_path)
    trends = audit_provider(months, as_of=AS_OF, trend_months=12).trends
    # another provider's figures on the same panels and months: other values, statuses,
    # targets and bootcamps (the per-bootcamp lines take the colour cycle from its start)
    figures = trends.figures.assign(
        value=trends.figures["value"] / 2,
        status="at_risk",
        target=trends.figures["target"] / 2,
        bootcamp_id=trends.figures["bootcamp_id"].replace({"B1": "Z9"}),
    )
    other = replace(trends, figures=figures)
    fresh = blocks.png(plots.kpi_trends(other))
    first = plots.kpi_trends(trends, reuse=True)
    assert blocks.png(first) != fresh
    reused = plots.kpi_trends(other, reuse=True)
    assert reused is first and blocks.png(reused) == fresh
    # other months: a new figure, not the last one
    fewer = replace(other, figures=figures[figures["period"] == other.periods[-1]])
    assert plots.kpi_trends(fewer, reuse=True) is not reused
    assert plots.kpi_trends(other) is not plots.kpi_trends(other)  # without reuse: always new


def test_a_figure_just_short_of_a_100_percent_target_shows_its_gap(tmp_path: Path) -> None:
    # co-funding 98.0 % then 99.3 % against 100 %: on the whole axis both points sit on
    # the target line; zoomed to 96-101 % (98 to 100 with a 1-point margin, 5 points
    # high at least), the point at 99.3 stands 0.7 below the line, labelled
    trends = audit_provider(write_months(tmp_path), as_of=AS_OF, trend_months=12).trends
    figures = trends.figures
    cofunding = (figures["kpi"] == "employer_cofunding") & (figures["bootcamp_id"] == "ALL")
    values = figures["period"].map({"2023-02": 0.98, "2023-03": 0.993})
    short = replace(
        trends, figures=figures.assign(value=figures["value"].where(~cofunding, values))
    )
    fig = plots.kpi_trends(short)
    (ax,) = [ax for ax in fig.axes if ax.get_title() == "Employer co-funding"]
    assert ax.get_ylim() == (96, 101)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["96", "97", "98", "99", "100"]
    assert _texts(ax) == [plots.ZOOMED, "99.3 %"]
    (points,) = ax.collections
    assert [round(y, 1) for _, y in points.get_offsets()] == [98.0, 99.3]
    assert [line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--"] == [100]
    # the rule itself: only a target near an end of the axis zooms, and only where it helps
    assert plots.value_range([99.3], 100.0) == (96.0, 101.0)
    assert plots.value_range([2.0, 4.0], 5.0) == (1.0, 6.0)  # a limit of 5 %: 2-5, 1 more
    assert plots.value_range([99.3], 80.0) is None  # a target away from the ends
    assert plots.value_range([30.0], 100.0) is None  # the gap shows on the whole axis
    assert plots.value_range([], None) is None
    assert blocks.png(fig).startswith(b"\x89PNG")
