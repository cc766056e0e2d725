"""KPI 3: learner drop-out between M1 and M2."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

import pandas as pd

from kpitools.calendar import iso
from kpitools.kpis.common import learner_findings, learner_members
from kpitools.kpis.measured import bootcamp_timing, measured_tables
from kpitools.kpis.summary import Measure, all_of, is_all, summarise
from kpitools.model import Finding, KpiResult, finding
from kpitools.returns.period import providers_of
from kpitools.rules import Rules

KPI = "learner_dropout"
BEFORE_M1 = "withdrew before M1: recorded, but not part of the KPI"


def learner_dropout(
    tables: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules
) -> list[KpiResult]:
    """Learner drop-out: share of the M1 cohort who withdrew after reaching M1.

    Population:
        The cohort: learners of the bootcamp with an M1 date on or before as_of.
    Formula:
        Cohort learners with a withdrawal_date on or after their M1 date and on or before
        as_of, divided by the cohort. The provider figure (ALL) sums both counts over its
        bootcamps.
    Exclusions:
        Withdrawals before M1 are counted and shown in the notes but are not part of the
        KPI. Records dated after as_of are ignored (reported as FUTURE-DATED).
        Learners who started after as_of are not counted.
    Statuses:
        not_due before the first M1; while running on_track, at_risk above
        amber_fraction of the limit, off_track above the limit; due when the bootcamp is
        over (every cohort learner completed or withdrew, or as_of is past end_date):
        met at or below the limit, else not_met. DROP-ABOVE-LIMIT lists a bootcamp above
        the limit, citing the bootcamp's row and each drop-out's. A withdrawal reported
        later than withdrawal_date + the reporting months is DROP-LATE-REPORT.
    Rules:
        dropout_limit, amber_fraction, withdrawal_report_months
    Guidance:
        "Max 20% dropout. Dropouts are measured as learners who drop out between
        Milestone 1 and 2." "For the avoidance of doubt any learner who drops out of the
        Skills Bootcamp training following payment of the 1st Milestone will count
        towards the measurement of the Dropout Key Performance Indicator." "Learner
        dropouts will still be recorded from date the learner starts training, from day 1
        of training, but this will not be measured as part of the KPI." "Dropouts must be
        reported via ILR as a requirement to report any changes within 1 month."

    Args:
        tables: validated tables (kpitools.model), by table name.
        as_of: the measurement date.
        rules: the rules in force.

    Returns:
        One KpiResult per bootcamp, then one for ALL.
    """
    measured = measured_tables(tables, as_of)
    learners = measured["learners"]
    timing = bootcamp_timing(measured, as_of)
    in_cohort = learners["m1_date"].notna()
    cohort = learners.loc[in_cohort]
    dropped = cohort["withdrawal_date"].ge(cohort["m1_date"])
    cases = {
        "bootcamp_id": cohort["bootcamp_id"],
        "member": learner_members(cohort),
        "source": cohort["source"],
        "due": cohort["m1_date"],
        "passed": dropped,  # maximum-type: "passed" marks the numerator (drop-outs)
        "in_value": True,
        "reason": cohort["withdrawal_date"]
        .lt(cohort["m1_date"])
        .map({True: BEFORE_M1, False: None}),
    }
    before_m1 = learners["withdrawal_date"].notna() & ~(
        in_cohort & learners["withdrawal_date"].ge(learners["m1_date"])
    )
    notes = _before_m1_notes(learners.loc[before_m1, "bootcamp_id"])
    early = learners.loc[before_m1 & ~in_cohort]
    excluded = {
        "bootcamp_id": early["bootcamp_id"],
        "member": learner_members(early),
        "source": early["source"],
        "reason": BEFORE_M1,
    }
    measure = Measure(
        KPI,
        target=rules.dropout_limit,
        target_kind="max",
        amber_fraction=rules.amber_fraction,
        counted="withdrew on or after M1: a drop-out",
        not_counted="reached M1 and has not withdrawn",
    )
    findings = late_reports(learners, rules)
    results = summarise(
        measure, cases, timing, as_of=as_of, findings=findings, notes=notes, excluded=excluded
    )
    bootcamps = measured["bootcamps"]
    sources = dict(zip(bootcamps["bootcamp_id"], bootcamps["source"], strict=True))
    return [_flag_above_limit(result, rules, sources) for result in results]


def late_reports(learners: pd.DataFrame, rules: Rules) -> list[Finding]:
    """DROP-LATE-REPORT: withdrawal reported after withdrawal_date + the allowed months.

    Exactly one calendar month later is on time (windows include both ends).
    """
    deadline = learners["withdrawal_date"] + pd.DateOffset(months=rules.withdrawal_report_months)
    late = learners.loc[learners["withdrawal_reported_date"].gt(deadline)]
    messages = [
        f"withdrawal on {iso(w)} reported on {iso(r)}, after the deadline {iso(d)}"
        for w, r, d in zip(
            late["withdrawal_date"],
            late["withdrawal_reported_date"],
            deadline[late.index],
            strict=True,
        )
    ]
    return learner_findings(late, "DROP-LATE-REPORT", messages=messages)


def _before_m1_notes(bootcamp_ids: pd.Series) -> dict[str, tuple[str, ...]]:
    counts = bootcamp_ids.value_counts()
    notes: dict[str, tuple[str, ...]] = {
        str(b): (f"{n} withdrawal(s) before M1, not part of the KPI",) for b, n in counts.items()
    }
    per_provider = pd.Series(providers_of(bootcamp_ids), dtype=object).value_counts(sort=False)
    for provider, n in per_provider.items():
        notes[all_of(provider)] = (f"{n} withdrawal(s) before M1, not part of the KPI",)
    return notes


def _flag_above_limit(result: KpiResult, rules: Rules, sources: dict[str, str]) -> KpiResult:
    value = result.value
    if is_all(result.bootcamp_id) or value is None or result.status not in ("off_track", "not_met"):
        return result
    # the bootcamp's row, then the row of each drop-out it counts: its members in the
    # numerator (every member is in kpi_members.csv and the register)
    members = result.members
    above = finding(
        "DROP-ABOVE-LIMIT",
        f"bootcamp:{result.bootcamp_id}",
        [
            sources.get(result.bootcamp_id, "bootcamps"),
            *members.source[members.in_numerator].tolist(),
        ],
        f"drop-out {result.numerator} of {result.denominator} ({value:.1%}) is above "
        f"the {rules.dropout_limit:.0%} limit; its {result.denominator} members, the "
        f"{result.numerator} drop-outs first cited, are in kpi_members.csv",
        result.bootcamp_id,
    )
    return replace(result, exceptions=(above, *result.exceptions))
