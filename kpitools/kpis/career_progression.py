"""KPI 6: career progression, a valid positive outcome within six months of completion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

import pandas as pd

from kpitools.calendar import iso
from kpitools.kpis._offers import offer_problems, same_employer, tally
from kpitools.kpis.common import (
    learner_findings,
    learner_members,
    wants_interview,
)
from kpitools.kpis.measured import bootcamp_timing, derived, measured_tables
from kpitools.kpis.summary import Measure, all_of, summarise
from kpitools.model import Finding, KpiResult
from kpitools.returns.period import providers_of
from kpitools.rules import Rules

KPI = "career_progression"
NO_OUTCOME = "CP-NO-OUTCOME"
_KEY = ["learner_ref", "bootcamp_id"]


def career_progression(
    tables: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules
) -> list[KpiResult]:
    """Career progression: due completers with a valid outcome inside their window.

    Population:
        The due cohort: completers whose window (start_date to completion_date +
        outcome_window_months calendar months, both ends included) closed on or before
        as_of.
    Formula:
        Due completers with a valid outcome dated inside the window, divided by the due
        cohort. Valid outcome by learner type: independent learners, and self-employed
        learners whose stated aim is employment (wants_interview = Y): new_job with a new
        or different employer, role_type job / apprenticeship / accelerated
        apprenticeship (not a full apprenticeship on an accelerated-apprenticeship
        bootcamp) and matches_skills = Y; co-funded: new_role with the learner's own
        employer; other self-employed: self_employment_plan. Outcomes already won by
        completers whose window is still open are shown as an interim figure (notes).
    Exclusions:
        Outcomes dated after as_of are ignored (FUTURE-DATED). Completers whose window
        is still open are not in the value. Unverified: a due completer expected to win a
        new_job, without a valid outcome, whose outcomes inside the window include one
        read from the ILR (its AchDate), which does not say the role type or the skills
        match ("role type unknown (ILR)"), is left out of numerator and denominator and
        counted as unverified beside the figure (column unverified; listed in the
        verification sample): never failed, never met. new_role and
        self_employment_plan outcomes need no role type: the ILR's count as they are.
    Statuses:
        not_due before the first M2; reported while no target is set
        (progression_target null); with a target, the minimum-target statuses.
        CP-NO-OUTCOME (due completer without any outcome: a finding with a target,
        else an informational item, since no target can be missed), CP-INVALID-OUTCOME
        (outcomes invalid or outside the window; always a finding).
    Rules:
        outcome_window_months, progression_target
    Guidance:
        "Learners should achieve one of three potential positive outcomes within 6 months
        of successful completion of their Skills Bootcamps." "Independent Learners ...
        should get the offer of a new job (which can be an Apprenticeship) within 6 months
        ... that utilises the skills acquired and in the case of any learner participating
        in a Skills Bootcamp leading to an Accelerated Apprenticeship, should get an
        Accelerated Apprenticeship or another job, but not for a full-length
        Apprenticeship." "Co-funded Learners ... should get the offer of a new or
        different role with new responsibilities with their existing employer."
        "Self-employed Learners (who do not have a stated aim of wanting to move into
        employment) should be provided with support to develop a realistic action plan."

    Args:
        tables: validated tables, by table name.
        as_of: the measurement date.
        rules: the rules in force.

    Returns:
        One KpiResult per bootcamp, then one for ALL.
    """
    measured = measured_tables(tables, as_of)
    facts = outcome_facts(measured, rules)
    closed = facts["window_close"].le(pd.Timestamp(as_of))
    unverified = facts["unverified_case"]
    invalid = "no valid outcome: " + facts["problem"].astype(object).fillna("").astype(str)
    cases = {
        "bootcamp_id": facts["bootcamp_id"],
        "member": learner_members(facts),
        "source": facts["source"],
        "due": facts["window_close"],
        "passed": facts["valid_outcomes"].gt(0),
        "in_value": closed,
        "unverified": unverified,
        "reason": invalid.where(facts["outcomes"].gt(0), "no outcome by the window's close"),
    }
    measure = Measure(
        KPI,
        target=rules.progression_target,
        start_column="first_m2",
        lag_months=rules.outcome_window_months,
        counted="a valid positive outcome within the window",
        not_counted="no valid outcome within the window",
    )
    failing = facts.loc[closed & facts["valid_outcomes"].eq(0) & ~unverified]
    results = summarise(
        measure,
        cases,
        bootcamp_timing(measured, as_of),
        as_of=as_of,
        findings=_findings(failing),
        notes=_interim_notes(facts, ~closed),
    )
    if rules.progression_target is not None:
        return results
    # Without a target nothing is missed: "no outcome yet" is reported, not flagged.
    return [
        replace(
            r,
            exceptions=tuple(f for f in r.exceptions if f.rule != NO_OUTCOME),
            informational=tuple(f for f in r.exceptions if f.rule == NO_OUTCOME),
        )
        for r in results
    ]


def expected_outcome(learners: pd.DataFrame) -> pd.Series:
    """The outcome type that counts for each learner (by learner type and stated aim)."""
    kind = learners["learner_type"]
    employment = kind.eq("independent") | (kind.eq("self-employed") & wants_interview(learners))
    expected = pd.Series("self_employment_plan", index=learners.index, dtype=object)
    expected = expected.mask(kind.eq("co-funded"), "new_role")
    return expected.mask(employment, "new_job")


def outcome_facts(measured: Mapping[str, pd.DataFrame], rules: Rules) -> pd.DataFrame:
    """Per completer: window_close, outcomes, valid_outcomes, unverified (outcomes read
    from the ILR whose role type decides them, inside the window), the first problem and
    ``unverified_case`` (no valid outcome but an unverified one).

    ``measured`` are the tables as at as_of (:func:`measured_tables`). Shared with the
    referral KPI, which needs the same judgement of "unsuccessful"; built once per
    measured tables and window.
    """
    return derived(
        measured,
        ("outcome_facts", rules.outcome_window_months),
        lambda: _outcome_facts(measured, rules),
    )


def _outcome_facts(measured: Mapping[str, pd.DataFrame], rules: Rules) -> pd.DataFrame:
    learners = measured["learners"]
    completers = learners.loc[learners["completion_date"].notna()]
    people = (
        completers[
            [
                *_KEY,
                "learner_type",
                "employer_id",
                "start_date",
                "completion_date",
                "withdrawal_date",
                "m1_date",
                "source",
            ]
        ]
        .assign(
            expected=expected_outcome(completers),
            window_close=completers["completion_date"]
            + pd.DateOffset(months=rules.outcome_window_months),
        )
        .rename(columns={"employer_id": "own_employer"})
    )
    outcomes = measured["outcomes"][
        [*_KEY, "outcome_type", "outcome_date", "employer_id", "role_type", "matches_skills"]
    ]
    outcomes = outcomes.merge(people, on=_KEY).merge(
        measured["bootcamps"][["bootcamp_id", "accelerated_apprenticeship"]],
        on="bootcamp_id",
        how="left",
    )
    problem = _outcome_problems(outcomes)
    facts = tally(
        people,
        outcomes,
        problem,
        date_column="outcome_date",
        counted="outcomes",
        valid="valid_outcomes",
    )
    return facts.assign(unverified_case=facts["valid_outcomes"].eq(0) & facts["unverified"].gt(0))


def _outcome_problems(outcomes: pd.DataFrame) -> pd.Series:
    in_window = outcomes["outcome_date"].ge(outcomes["start_date"]) & outcomes["outcome_date"].le(
        outcomes["window_close"]
    )
    same = same_employer(outcomes["employer_id"], outcomes["own_employer"])
    new_job = offer_problems(
        outcomes["role_type"],
        outcomes["matches_skills"],
        outcomes["accelerated_apprenticeship"].fillna(False),
        same,
    )
    moved = outcomes["employer_id"].notna() & outcomes["own_employer"].notna() & ~same
    problem = new_job.where(outcomes["expected"].eq("new_job"), "")
    problem = problem.mask(
        outcomes["expected"].eq("new_role") & moved, "new role not with the learner's own employer"
    )
    problem = problem.mask(
        outcomes["outcome_type"].ne(outcomes["expected"]),
        "outcome type "
        + outcomes["outcome_type"].astype(str)
        + " does not fit the learner (expected "
        + outcomes["expected"].astype(str)
        + ")",
    )
    return problem.mask(~in_window, "dated outside the window (start to completion + months)")


def _findings(failing: pd.DataFrame) -> list[Finding]:
    none = failing.loc[failing["outcomes"].eq(0)]
    invalid = failing.loc[failing["outcomes"].gt(0)]
    return learner_findings(
        none,
        NO_OUTCOME,
        messages=[f"no outcome by the window's close on {iso(c)}" for c in none["window_close"]],
    ) + learner_findings(
        invalid,
        "CP-INVALID-OUTCOME",
        messages=[
            f"{n} outcome(s), none valid ({p}); window closed {iso(c)}"
            for n, p, c in zip(
                invalid["outcomes"], invalid["problem"], invalid["window_close"], strict=True
            )
        ],
    )


def _interim_notes(facts: pd.DataFrame, open_window: pd.Series) -> dict[str, tuple[str, ...]]:
    interim = facts.loc[open_window]
    won = interim["valid_outcomes"].gt(0).groupby(interim["bootcamp_id"]).agg(["sum", "size"])
    notes: dict[str, tuple[str, ...]] = {
        str(b): (
            f"interim: {int(total)} of {int(size)} completers whose window "
            "is still open already have a valid outcome",
        )
        for b, total, size in zip(won.index, won["sum"], won["size"], strict=True)
    }
    won = (
        interim["valid_outcomes"]
        .gt(0)
        .groupby(providers_of(interim["bootcamp_id"]), sort=False)
        .agg(["sum", "size"])
    )
    for provider, total, size in zip(won.index, won["sum"], won["size"], strict=True):
        notes[all_of(provider)] = (
            f"interim: {int(total)} of {int(size)} completers whose "
            "window is still open already have a valid outcome",
        )
    return notes
