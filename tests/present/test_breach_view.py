"""Drop-out breach risk shown beside the drop-out KPI, and sections shown as one output,
on the hand-made audit of builders.py (its docstring works out the breach figures)."""

from __future__ import annotations

import io
import math
from dataclasses import replace

import pandas as pd
import pytest
from builders import AS_OF, FLAT_HAZARD
from markupsafe import Markup, escape

from kpitools.present import blocks, breach, plots, report
from kpitools.present.context import PackContext
from kpitools.rules import Rules
from kpitools.worklists import BREACH_RISK
from kpitools.worklists.build import breach_risks


def _rows(html: Markup) -> pd.DataFrame:
    return pd.read_html(io.StringIO(str(html)))[0].set_index("bootcamp")


def test_running_bootcamp_projection_and_probability(ctx: PackContext) -> None:
    text = str(breach.breach_risk(ctx))
    rows = _rows(breach.breach_risk(ctx))
    # B2 is over (L3 completed): only B1 runs. 1 of 2 withdrawn; L1's chance 1 - 0.98^13
    # = 0.2310 → projected 1.2310 / 2 = 0.6155: 61.5 %; 1 withdrawal already breaches 20 %
    assert rows.index.tolist() == ["B1"]
    b1 = rows.loc["B1"]
    assert (b1["ends"], b1["cohort"], b1["withdrawn"], b1["still active"]) == (
        "2023-06-30",
        2,
        1,
        1,
    )
    assert (b1["rate so far"], b1["projected final rate"]) == ("50.0 %", "61.5 %")
    assert (b1["P(final rate > 20.0 %)"], b1["at risk"]) == ("100.0 %", "at risk")
    assert 'title="at_risk">at risk' in text
    assert "How this is worked out" in text and "from a probability of 50.0 %" in text


def test_rate_exactly_at_the_limit_is_not_a_breach(ctx: PackContext) -> None:
    # limit 50 %: B1's 1 of 2 is at the limit, not above; above needs floor(0.5 x 2) + 1 = 2
    # withdrawals, i.e. L1 too: P = 1 - 0.98^13 = 23.1 %, below the 50 % flag
    rules = Rules(dropout_limit=0.5)
    risk = breach_risks(
        {"P001": ctx.audit.provider}, as_of=AS_OF, rules=rules, portfolio=FLAT_HAZARD
    )["P001"]
    audit = replace(ctx.audit, rules=rules, worklists={BREACH_RISK: risk})
    b1 = _rows(breach.breach_risk(replace(ctx, audit=audit))).loc["B1"]
    assert (b1["P(final rate > 50.0 %)"], b1["at risk"]) == ("23.1 %", "no")
    assert b1["projected final rate"] == "61.5 %"  # the projection does not depend on the limit


def test_nothing_running_or_nothing_computed(ctx: PackContext) -> None:
    empty = replace(ctx.audit, worklists={BREACH_RISK: ctx.audit.worklists[BREACH_RISK].iloc[0:0]})
    assert "No bootcamp is running" in str(breach.breach_risk(replace(ctx, audit=empty)))
    absent = replace(ctx.audit, worklists={})
    assert "not computed" in str(breach.breach_risk(replace(ctx, audit=absent)))


@pytest.mark.parametrize(
    ("chance", "shown"),
    [
        (math.nan, "no estimate"),
        (0.0, "0.0 %"),
        (4.7e-12, "< 0.1 %"),
        (0.001, "0.1 %"),
        (0.9989, "99.9 %"),
        (0.9995, "> 99.9 %"),
        (1.0, "100.0 %"),
    ],
)
def test_probabilities_near_the_extremes_stay_visible(chance: float, shown: str) -> None:
    assert breach.chance_text(chance) == shown


def test_worklists_section_points_to_the_dropout_section(ctx: PackContext) -> None:
    text = str(report.worklists(ctx))
    assert "see Learner drop-out" in text and "Breach risk" not in text and "61.5 %" not in text


def test_show_joins_blocks_embeds_charts_and_skips_nothing_to_draw(ctx: PackContext) -> None:
    output = blocks.show(
        Markup("<p>a</p>"), None, plots.dropout_by_bootcamp(ctx.audit), Markup("<p>b</p>")
    )
    shown = output._repr_html_()
    assert shown.startswith("<p>a</p>") and shown.endswith("<p>b</p>")
    # the executed notebook's text/plain beside the HTML: one line, not the block again
    assert repr(output).startswith("<IPython.core.display.HTML object")
    assert (
        shown.count('<img alt="Drop-out per bootcamp" src="data:image/png;base64,iVBORw0KGgo') == 1
    )
    with pytest.raises(TypeError, match="cannot show a str"):
        blocks.show("<script>alert(1)</script>")
    # a block that reads like a URL or a file's name is shown, never fetched or read
    for text in ("http://example.invalid/x", __file__):
        assert blocks.show(escape(text))._repr_html_() == text


def test_figure_alt_text_is_escaped_and_png_has_no_version() -> None:
    fig = plots.funnel([("a", 1)], 'Ba$$in <b> "x"')
    html = blocks.figure_html(fig)
    assert html.startswith('<img alt="Ba$$in &lt;b&gt; &#34;x&#34;" src="data:image/png;base64,')
    assert b"Matplotlib" not in blocks.png(fig)


def test_png_draws_once_the_bytes_savefig_would_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """savefig draws a constrained-layout figure twice (layout pass, then paint); the
    pack draws it once and writes the same PNG bytes."""
    from matplotlib.figure import Figure

    fig = plots.funnel([("completers", 12), ("want an interview", 9), ("valid offer", 4)], "Funnel")
    assert fig.get_layout_engine() is not None
    saved = io.BytesIO()
    fig.savefig(saved, format="png", dpi=blocks.DPI, metadata={"Software": None})
    draws = []
    real = Figure.draw
    monkeypatch.setattr(
        Figure, "draw", lambda self, renderer: draws.append(1) or real(self, renderer)
    )
    assert blocks.png(fig) == saved.getvalue()
    assert len(draws) == 1


def test_show_escapes_control_characters_in_values() -> None:
    # a value's control characters are shown as \xNN, as in every other output
    shown = blocks.show(Markup("<p>{}</p>").format("Acme\x07 Ltd\x1b[2J"))._repr_html_()
    assert shown == "<p>Acme\\x07 Ltd\\x1b[2J</p>"
