"""Drop-out breach risk as the pack shows it, beside the drop-out KPI: per running
bootcamp the rate so far, the projected final rate and the probability of ending above
the limit (figures from :func:`kpitools.worklists.risk.breach_risk`, via the audit's worklist),
with the method in plain language."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from markupsafe import Markup

from kpitools.method import percent
from kpitools.present.blocks import heading, html_table, note, row, status_cell
from kpitools.worklists import BREACH_RISK

if TYPE_CHECKING:
    from kpitools.present.context import PackContext


def chance_text(value: float | None) -> str:
    """A probability as shown: one decimal, with the extremes that round away kept visible."""
    if value is None or pd.isna(value):
        return "no estimate"
    value = float(value)
    if 0 < value < 0.001:
        return "< 0.1 %"
    if 0.999 < value < 1:
        return "> 99.9 %"
    return percent(value)


def breach_risk_note(limit: float) -> str:
    """The plain-language method of the breach risk, as the pack states it."""
    from kpitools.worklists.risk import FLAG_PROBABILITY, PRIOR_STRENGTH

    return (
        "How this is worked out: from the bootcamps that are already over (this provider's "
        "and, across the portfolio, every provider's), kpitools learns how likely a learner "
        "is to withdraw in each week after their first milestone (M1). The provider's own "
        "pattern is blended with the portfolio's, weighted as if the portfolio had "
        f"{PRIOR_STRENGTH:.0f} learners in each week, so a provider with few finished learners "
        "looks like the portfolio and one with many like itself. Every learner still active "
        "is given that chance of withdrawing before the bootcamp's end date; adding the "
        "chances gives the projected final rate and, exactly (no simulation), the probability "
        f"that the final rate ends above the {percent(limit)} limit (a rate exactly at the "
        f"limit is not a breach). A bootcamp is flagged at risk from a probability of "
        f"{percent(FLAG_PROBABILITY)}. Limits: learners not yet at M1 are not projected, a "
        "learner is assumed to stay until the end date, and the uncertainty of the learned "
        "pattern is not included, so probabilities near 0 or 1 are more confident than they "
        "should be."
    )


def breach_risk(ctx: PackContext) -> Markup:
    """Drop-out breach risk of every running bootcamp, for the drop-out section: rate so
    far, projected final rate and probability of ending above the limit, with the
    method in plain language. Figures come from the ``breach_risk`` worklist
    (:func:`kpitools.worklists.risk.breach_risk`)."""
    title = heading("Breach risk of running bootcamps")
    limit = ctx.audit.rules.dropout_limit
    frame = ctx.audit.worklists.get(BREACH_RISK)
    if frame is None:
        return title + note("Breach risk was not computed for this audit.")
    if frame.empty:
        return title + note("No bootcamp is running at the measurement date: nothing to project.")
    head = (
        "bootcamp",
        "ends",
        "cohort",
        "withdrawn",
        "still active",
        "rate so far",
        "projected final rate",
        f"P(final rate > {percent(limit)})",
        "at risk",
        "basis",
    )
    rows = []
    for r in frame.itertuples(index=False):
        projected = "no estimate" if pd.isna(r.projected_rate) else percent(r.projected_rate)
        flag = status_cell("at_risk", "at risk") if r.at_risk else status_cell("on_track", "no")
        rows.append(
            row(
                r.bootcamp_id,
                pd.Timestamp(r.end_date).date().isoformat(),
                int(r.cohort),
                int(r.withdrawn),
                int(r.active),
                percent(r.current_rate),
                projected,
                chance_text(r.p_above_limit),
                flag,
                r.basis,
            )
        )
    return title + html_table(head, rows) + note(breach_risk_note(limit))
