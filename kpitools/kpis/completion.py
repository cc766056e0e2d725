"""A profile's KPI: completion, completers over starts past M1 (dfe-2025-extension)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

import pandas as pd

from kpitools.kpis.common import learner_members
from kpitools.kpis.measured import bootcamp_timing, measured_tables
from kpitools.kpis.summary import Measure, is_all, summarise
from kpitools.model import KpiResult, finding
from kpitools.rules import Rules

KPI = "completion"
BREACHES = ("off_track", "not_met")


def completion(tables: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules) -> list[KpiResult]:
    """Completion: share of the starts past M1 who completed, per bootcamp once it ended.

    Population:
        Starts past M1 of the bootcamps that have ended: learners with an M1 date on or
        before as_of (the drop-out cohort). The provider figure pools the bootcamps that
        have ended. Measured only under a profile that sets completion_target
        (dfe-2025-extension: 80 %).
    Formula:
        Starts with a completion_date on or before as_of and no withdrawal on or after
        their M1 date, divided by the starts past M1. A learner with both a withdrawal
        after M1 and a completion (DATE-ORDER) is read adversely: a drop-out, not a
        completion.
    Exclusions:
        Learners without an M1 date (or with one after as_of); bootcamps still running;
        completions dated after as_of (FUTURE-DATED) are not yet completions.
    Statuses:
        not_due until the bootcamp is over (every start completed or withdrew, or as_of
        past end_date); then met when completers are at least completion_target of the
        starts, else not_met, listed as COMP-BELOW-TARGET for the bootcamp. The provider
        is on_track or off_track by its ended bootcamps while others run.
    Rules:
        completion_target
    Guidance:
        Not in the September 2022 guidance: the 2025 DfE contract extensions judged
        completion at least 80 % of starts (kpi-rules.md, "Rule profiles"; profile
        dfe-2025-extension).

    Args:
        tables: validated tables, by table name.
        as_of: the measurement date.
        rules: the rules in force.

    Returns:
        One KpiResult per bootcamp, then one for ALL.
    """
    measured = measured_tables(tables, as_of)
    learners = measured["learners"]
    timing = bootcamp_timing(measured, as_of)
    starts = learners.loc[learners["m1_date"].notna()]
    withdrew = starts["withdrawal_date"].ge(starts["m1_date"])
    of_bootcamp = starts["bootcamp_id"].to_numpy()
    # only a bootcamp that has ended is judged: a running one's learners are still
    # learning, and would pull the provider's pooled figure down
    cases = {
        "bootcamp_id": starts["bootcamp_id"],
        "member": learner_members(starts),
        "source": starts["source"],
        "due": timing["finish_date"].reindex(of_bootcamp).to_numpy(),
        "passed": starts["completion_date"].notna() & ~withdrew,
        "in_value": timing["finished"].reindex(of_bootcamp, fill_value=False).to_numpy(dtype=bool),
    }
    measure = Measure(
        KPI,
        target=rules.completion_target,
        start_column="finish_date",
        counted="a start past M1 who completed, without a withdrawal after M1",
        not_counted="a start past M1 who withdrew after M1 or has not completed",
    )
    results = summarise(measure, cases, timing, as_of=as_of)
    bootcamps = measured["bootcamps"]
    sources = dict(zip(bootcamps["bootcamp_id"], bootcamps["source"], strict=True))
    return [_flag_below_target(result, rules, sources) for result in results]


def _flag_below_target(result: KpiResult, rules: Rules, sources: dict[str, str]) -> KpiResult:
    if is_all(result.bootcamp_id) or result.status not in BREACHES:
        return result
    below = finding(
        "COMP-BELOW-TARGET",
        f"bootcamp:{result.bootcamp_id}",
        [sources.get(result.bootcamp_id, "bootcamps")],
        f"{result.numerator} of {result.denominator} starts completed "
        f"({result.value or 0:.1%}), below the "
        f"{rules.completion_target:.0%} target",
        result.bootcamp_id,
    )
    return replace(result, exceptions=(below, *result.exceptions))
