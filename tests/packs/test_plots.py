"""Charts: figures returned (never shown), bars from the KPI results, `$` kept literal."""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.figure import Figure

from kpitools.model import ProviderAudit
from kpitools.packs import plots


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
    fig = plots.due_vs_paid(pd.DataFrame({"employer": ["Ba$$in"], "due": [250.0], "paid": [100.0]}), tolerance=1.0)
    assert _render(fig).startswith(b"\x89PNG")


def test_nothing_to_draw_gives_none(audit: ProviderAudit) -> None:
    assert plots.funnel([("a", 0)], "t") is None
    assert plots.due_vs_paid(pd.DataFrame(columns=["employer", "due", "paid"]), tolerance=1.0) is None
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
