"""The status of a KPI, from its figures and where the bootcamp is in its life.

Statuses (kpi-rules.md, "Common ideas"):

- ``not_due``: the KPI's monitoring stage has not begun.
- ``on_track`` / ``at_risk`` / ``off_track``: the stage is running.
- ``met`` / ``not_met``: the target is due, i.e. every case of the bootcamp's
  population has fallen due.
- ``no_data``: the stage is running (or due) but there is nothing to measure.
- ``reported``: the KPI has no target (career progression by default).
"""

from __future__ import annotations

# Rates are compared as counts (numerator against target x denominator); this margin
# only absorbs binary floating-point error, e.g. 0.8 * 0.2 * 25 = 4.000000000000001.
_EPSILON = 1e-9


def min_status(
    *,
    started: bool,
    target_due: bool,
    numerator: int,
    denominator: int,
    target: float | None,
    overdue_short: int,
    open_short: int,
) -> str:
    """Status of a minimum-type target (100 % of cases, or a progression target).

    Args:
        started: the monitoring stage has begun.
        target_due: every case of the population has fallen due.
        numerator: due cases that pass.
        denominator: due cases.
        target: minimum share, or None when the KPI is only reported.
        overdue_short: failing cases past their own due date (also outside the value).
        open_short: failing cases not yet due, which can still be put right.

    Returns:
        For a 100 % target, ``at_risk`` while a case is short but can still be put right
        and ``off_track`` once a case is past its own due date; for a partial target,
        ``off_track`` while the value is below it; ``met`` / ``not_met`` once the target
        is due.
    """
    if not started:
        return "not_due"
    if target is None:
        return "reported" if denominator else "no_data"
    below = numerator < target * denominator - _EPSILON
    if target_due:
        if denominator == 0:
            return "no_data"
        return "not_met" if below else "met"
    if target < 1:
        # A partial target (e.g. progression) is judged on the value so far: single
        # failing cases are expected and do not by themselves put it off track.
        if not denominator:
            return "no_data"
        return "off_track" if below else "on_track"
    if overdue_short:
        return "off_track"
    if open_short:
        return "at_risk"
    return "on_track" if denominator else "no_data"


def max_status(
    *,
    started: bool,
    target_due: bool,
    numerator: int,
    denominator: int,
    limit: float | None,
    amber_fraction: float,
) -> str:
    """Status of a maximum-type target (drop-out at most ``limit``).

    ``at_risk`` when the value is above ``amber_fraction`` of the limit (rule
    ``amber_fraction``), ``off_track`` above the limit while running; ``met`` when the
    value is at most the limit once due (exactly the limit is met).
    """
    if not started:
        return "not_due"
    if denominator == 0:
        return "no_data"
    if limit is None:
        return "reported"
    above = numerator > limit * denominator + _EPSILON
    if target_due:
        return "not_met" if above else "met"
    if above:
        return "off_track"
    if numerator > amber_fraction * limit * denominator + _EPSILON:
        return "at_risk"
    return "on_track"
