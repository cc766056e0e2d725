"""A profile's KPI: starts against the bootcamp's planned learners (dfe-2025-extension)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from kpitools.kpis.common import learner_members
from kpitools.kpis.measured import bootcamp_timing, measured_tables
from kpitools.kpis.summary import Measure, all_of, concat_cases, is_all, summarise
from kpitools.model import KpiResult, finding
from kpitools.returns.period import provider_of
from kpitools.rules import Rules

KPI = "starts"
BREACHES = ("off_track", "not_met")


def starts(tables: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules) -> list[KpiResult]:
    """Starts: learners past M1 against the bootcamp's planned_learners.

    Population:
        The places planned: bootcamps.planned_learners, per bootcamp; when more learners
        started than planned, the starts. A bootcamp without planned_learners is not
        measured (no_data, with a note). Measured only under a profile that sets
        starts_target (dfe-2025-extension: 50 %).
    Formula:
        Starts (learners with an M1 date on or before as_of, whether or not they later
        withdrew or completed) divided by planned_learners (or by the starts when
        more). The provider figure sums starts and places over the bootcamps that give
        planned_learners and have begun (first M1 on or before as_of, or ended).
    Exclusions:
        Learners without an M1 date (or with one after as_of); bootcamps without
        planned_learners; bootcamps not yet begun (not_due, 0 of 0).
    Statuses:
        not_due before the first M1; while the bootcamp runs on_track or off_track by the
        starts so far against starts_target (rule); due when the bootcamp is over: met
        when the starts are at least starts_target of the places, else not_met. A bootcamp
        off track or not met is listed as STARTS-BELOW-TARGET.
    Rules:
        starts_target
    Guidance:
        Not in the September 2022 guidance, which calls M1 "Starts": the 2025 DfE contract
        extensions judged starts at least 50 % of the planned learners (kpi-rules.md,
        "Rule profiles"; profile dfe-2025-extension).

    Args:
        tables: validated tables, by table name.
        as_of: the measurement date.
        rules: the rules in force.

    Returns:
        One KpiResult per bootcamp, then one for ALL.
    """
    measured = measured_tables(tables, as_of)
    timing = bootcamp_timing(measured, as_of)
    bootcamps = measured["bootcamps"].drop_duplicates("bootcamp_id").set_index("bootcamp_id")
    planned = bootcamps["planned_learners"].reindex(timing.index)
    learners = measured["learners"]
    learned = learners.loc[learners["m1_date"].notna()]
    started = learned["bootcamp_id"]
    counts = started.value_counts().reindex(timing.index, fill_value=0)
    measured_ids = planned.index[planned.notna()]
    starts_in = started.loc[started.isin(measured_ids)]
    learners_in = learned.loc[starts_in.index]
    places = [
        (bootcamp_id, int(planned[bootcamp_id]) - int(counts[bootcamp_id]))
        for bootcamp_id in measured_ids
    ]
    missing = np.repeat(
        np.array([b for b, _ in places], dtype=object), [max(gap, 0) for _, gap in places]
    )
    finish = timing["finish_date"]
    # a bootcamp is judged from its first M1 (or its end): the places of one that has
    # not begun would pull the provider's pooled figure down
    begun = (timing["first_m1"].le(pd.Timestamp(as_of)) | timing["finished"]).astype(bool)
    cases = concat_cases(
        {
            "bootcamp_id": starts_in,
            "member": learner_members(learners_in),
            "source": learners_in["source"],
            "due": finish.reindex(starts_in.to_numpy()).to_numpy(),
            "passed": True,
            "in_value": begun.reindex(starts_in.to_numpy(), fill_value=False).to_numpy(dtype=bool),
        },
        {  # each place planned and not started: the bootcamp's own row
            "bootcamp_id": pd.Series(missing, dtype=object),
            "member": np.array([f"bootcamp:{b}" for b in missing], dtype=object),
            "source": bootcamps["source"].reindex(missing).to_numpy(dtype=object),
            "due": finish.reindex(missing).to_numpy(),
            "passed": False,
            "in_value": begun.reindex(missing, fill_value=False).to_numpy(dtype=bool),
        },
    )
    measure = Measure(
        KPI,
        target=rules.starts_target,
        counted="a start: M1 on or before as_of",
        not_counted="a planned place (planned_learners) without a start",
    )
    notes = _notes(planned, counts)
    results = summarise(measure, cases, timing, as_of=as_of, notes=notes)
    sources = bootcamps["source"].to_dict()
    return [_flag_below_target(result, rules, planned, sources) for result in results]


def _notes(planned: pd.Series, counts: pd.Series) -> dict[str, tuple[str, ...]]:
    """Per bootcamp: not measured without planned_learners, or more starts than planned;
    per provider's ALL: how many bootcamps were left out."""
    notes: dict[str, tuple[str, ...]] = {}
    left_out: dict[str, int] = {}
    for bootcamp_id, places in planned.items():
        if pd.isna(places):
            notes[str(bootcamp_id)] = ("planned_learners not given: not measured",)
            owner = all_of(provider_of(str(bootcamp_id)))
            left_out[owner] = left_out.get(owner, 0) + 1
        elif counts[bootcamp_id] > places:
            notes[str(bootcamp_id)] = (
                f"{counts[bootcamp_id]} starts against {int(places)} planned learners",
            )
    for owner, n in left_out.items():
        notes[owner] = (f"{n} bootcamp(s) without planned_learners left out",)
    return notes


def _flag_below_target(
    result: KpiResult, rules: Rules, planned: pd.Series, sources: dict[str, str]
) -> KpiResult:
    if is_all(result.bootcamp_id) or result.status not in BREACHES:
        return result
    below = finding(
        "STARTS-BELOW-TARGET",
        f"bootcamp:{result.bootcamp_id}",
        [sources.get(result.bootcamp_id, "bootcamps")],
        f"{result.numerator} starts of {int(planned[result.bootcamp_id])} planned learners "
        f"({result.value or 0:.1%}), below the {rules.starts_target:.0%} target",
        result.bootcamp_id,
    )
    return replace(result, exceptions=(below, *result.exceptions))
