"""KPI 4: new skills, evidenced by an initial and a final assessment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from kpitools.calendar import iso
from kpitools.kpis.common import (
    learner_findings,
    learner_key,
    learner_members,
    lookup,
    per_learner,
)
from kpitools.kpis.measured import bootcamp_timing, measured_tables
from kpitools.kpis.summary import Measure, summarise
from kpitools.model import Finding, KpiResult
from kpitools.rules import Rules

KPI = "new_skills"
_KEY = ["learner_ref", "bootcamp_id"]


def new_skills(tables: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules) -> list[KpiResult]:
    """New skills: completers with an initial and a final assessment showing the skills.

    Population:
        Completers: learners with a completion_date on or before as_of, with or without
        an M1 date (a completer without one cannot have an initial assessment on or
        before M1 and fails; DATE-ORDER reports the missing M1). Every learner past M1
        is also checked for an initial assessment.
    Formula:
        Completers for whom some initial assessment dated on or before M1 and some final
        assessment with skills_achieved = Y dated between that initial assessment and
        the completion date (both included) exist, divided by completers. Several
        assessments: existence, not the latest initial assessment.
    Exclusions:
        Assessments dated after as_of are ignored (FUTURE-DATED). Learners not yet at M1
        are not checked.
    Statuses:
        not_due before the first M1 and before any case has fallen due (a failing
        completer without an M1 date opens the stage: off_track, never not_due);
        off_track while a learner past M1 has no initial assessment or a completer fails; on_track otherwise; due when the bootcamp is
        over: met when every completer passes, else not_met. NS-NO-INITIAL (past M1, no
        initial assessment on or before M1), NS-NO-FINAL (completer without a final
        assessment), NS-NOT-ACHIEVED (final assessments without skills_achieved = Y),
        NS-ORDER (final assessment outside initial..completion).
    Rules:
        (none: target 100 %)
    Guidance:
        "Learners who successfully complete a Skills Bootcamp will have acquired new
        skills within the scope of the Skills Bootcamp attended." "Milestone 1, Starts:
        DfE/WMCA expects that as part of a learner starting a course, the Provider will
        assess their current level of knowledge, skills, and behaviours." "Milestone 2,
        Completion: ... the provider will assess whether they have gained the knowledge,
        skills and behaviour targeted in the Skills Bootcamp." "Every learner should have
        an initial and final assessment to evidence that the required learning has been
        achieved."

    Args:
        tables: validated tables, by table name.
        as_of: the measurement date.
        rules: the rules in force.

    Returns:
        One KpiResult per bootcamp, then one for ALL.
    """
    measured = measured_tables(tables, as_of)
    learners = measured["learners"]
    checked = _assessment_facts(
        learners.loc[learners["m1_date"].notna() | learners["completion_date"].notna()],
        measured["assessments"],
    )
    completers = checked["completion_date"].notna()
    final_ok = checked["final_in_order"] & checked["final_achieved"]
    passed = checked["has_initial"] & (~completers | final_ok)
    cases = {
        "bootcamp_id": checked["bootcamp_id"],
        "member": learner_members(checked),
        "source": checked["source"],
        "due": checked["completion_date"].where(completers, checked["m1_date"]),
        "passed": passed,
        "in_value": completers,
        "reason": np.select(
            [~checked["has_initial"], ~checked["any_final"], ~checked["final_in_order"]],
            [
                "no initial assessment dated on or before M1",
                "completed without a final assessment",
                "final assessment not between the initial assessment and completion",
            ],
            default="final assessment does not record skills_achieved = Y",
        ),
    }
    measure = Measure(
        KPI,
        counted="an initial assessment on or before M1 and a final one showing the skills",
        not_counted="does not evidence the new skills",
    )
    findings = _findings(checked, completers)
    return summarise(
        measure, cases, bootcamp_timing(measured, as_of), as_of=as_of, findings=findings
    )


def _assessment_facts(learners: pd.DataFrame, assessments: pd.DataFrame) -> pd.DataFrame:
    """Per learner: has_initial, any_final, final_in_order, final_achieved (vectorised).

    The initial assessment is the earliest one dated on or before M1 (so a final
    assessment after any initial on or before M1 qualifies); a final assessment is in
    order when dated from that initial assessment to the completion date. Without an M1
    date no initial assessment qualifies.
    """
    keyed = learners[[*_KEY, "m1_date", "completion_date", "source"]]
    initial = assessments.loc[assessments["kind"].eq("initial"), [*_KEY, "assessment_date"]]
    initial = initial.merge(keyed[[*_KEY, "m1_date"]], on=_KEY)
    initial = initial.loc[initial["assessment_date"].le(initial["m1_date"])]
    initial_date = per_learner(learner_key(initial), initial["assessment_date"], "min")
    person = learner_key(keyed)
    facts = keyed.assign(initial_date=lookup(person, initial_date))
    finals = assessments.loc[
        assessments["kind"].eq("final"), [*_KEY, "assessment_date", "skills_achieved"]
    ]
    finals = finals.merge(facts[[*_KEY, "initial_date", "completion_date"]], on=_KEY)
    in_order = finals["assessment_date"].le(finals["completion_date"]) & (
        finals["initial_date"].isna() | finals["assessment_date"].ge(finals["initial_date"])
    )
    achieved = in_order & finals["skills_achieved"].fillna(False).astype(bool)
    final_key = learner_key(finals)
    in_order = per_learner(final_key, in_order, ["size", "any"])
    achieved = per_learner(final_key, achieved, "any")

    def known(flags: pd.Series) -> pd.Series:
        return lookup(person, flags).eq(True)  # no final assessment: False

    return facts.assign(
        any_final=lookup(person, in_order["size"]).fillna(0).astype(int) > 0,
        final_in_order=known(in_order["any"]),
        final_achieved=known(achieved),
        has_initial=facts["initial_date"].notna(),
    )


def _findings(checked: pd.DataFrame, completers: pd.Series) -> list[Finding]:
    findings: list[Finding] = []
    no_initial = checked.loc[~checked["has_initial"]]
    findings += _emit(
        no_initial,
        "NS-NO-INITIAL",
        [
            f"no initial assessment dated on or before M1 ({iso(m1)})"
            if pd.notna(m1)
            else "no M1 date, so no initial assessment on or before M1"
            for m1 in no_initial["m1_date"]
        ],
    )
    done = checked.loc[completers]
    no_final = done.loc[~done["any_final"]]
    findings += _emit(
        no_final,
        "NS-NO-FINAL",
        [f"completed on {iso(c)} without a final assessment" for c in no_final["completion_date"]],
    )
    order = done.loc[done["any_final"] & ~done["final_in_order"]]
    findings += _emit(
        order,
        "NS-ORDER",
        [
            f"final assessment not between the initial assessment and completion on {iso(c)}"
            for c in order["completion_date"]
        ],
    )
    missed = done.loc[done["final_in_order"] & ~done["final_achieved"]]
    findings += _emit(
        missed,
        "NS-NOT-ACHIEVED",
        ["final assessment does not record skills_achieved = Y"] * len(missed),
    )
    return findings


def _emit(frame: pd.DataFrame, rule_id: str, messages: list[str]) -> list[Finding]:
    return learner_findings(frame, rule_id, messages=messages)
