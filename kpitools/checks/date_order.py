"""DATE-ORDER: a learner's dates out of order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import pandas as pd

from kpitools.calendar import iso
from kpitools.model import Finding, irregularity, learner_entity


class _LearnerDates(Protocol):
    """The dates of a learner row (``itertuples``) that are compared; NaT when blank."""

    start_date: pd.Timestamp
    m1_date: pd.Timestamp
    completion_date: pd.Timestamp
    withdrawal_date: pd.Timestamp


class _Outcome(Protocol):
    """An outcome row (``itertuples``) dated before its learner's start."""

    outcome_date: pd.Timestamp
    source: str


def date_order(learners: pd.DataFrame, outcomes: pd.DataFrame) -> list[Finding]:
    """DATE-ORDER: dates that cannot all be true.

    Per learner row (kpi-rules.md, "Irregularities beyond the KPIs"):

    - M1 before the start date;
    - completion before M1 (or before the start when there is no M1);
    - a completion without an M1 date (a completer has passed M1);
    - a withdrawal and a completion both set;
    - an outcome dated before the learner's start date.

    A date equal to the one it must follow is in order (same-day M1 or completion is
    allowed). Blank dates are not compared.

    Args:
        learners: accepted learners.
        outcomes: accepted outcomes.

    Returns:
        One finding per learner with any problem, listing every problem and citing the
        learner row and any outcome rows concerned.
    """
    early_outcomes = _outcomes_before_start(learners, outcomes)
    findings: list[Finding] = []
    for row in _suspects(learners, early_outcomes).itertuples(index=False):
        problems = _learner_problems(row)
        sources = [row.source]
        key = (row.learner_ref, row.bootcamp_id)
        for outcome in early_outcomes.get(key, []):
            problems.append(
                f"outcome dated {iso(outcome.outcome_date, missing='blank')} ({outcome.source}) is before "
                f"the start {iso(row.start_date, missing='blank')}"
            )
            sources.append(outcome.source)
        if problems:
            findings.append(
                irregularity(
                    "DATE-ORDER",
                    learner_entity(row.learner_ref),
                    sources,
                    "; ".join(problems),
                    str(row.bootcamp_id),
                )
            )
    return findings


def _suspects(
    learners: pd.DataFrame, early_outcomes: Mapping[tuple[str, str], list[_Outcome]]
) -> pd.DataFrame:
    """The learners that may have a problem, in order (a period holds tens of thousands,
    nearly all in order): M1 before the start, a completion with no M1, before M1, or
    beside a withdrawal, or an outcome before the start; each is then looked at row by
    row (:func:`_learner_problems`)."""
    m1, completion = learners["m1_date"], learners["completion_date"]
    suspect = (m1 < learners["start_date"]) | (
        completion.notna() & (m1.isna() | (completion < m1) | learners["withdrawal_date"].notna())
    )
    if early_outcomes:
        suspect |= pd.Series(
            [
                key in early_outcomes
                for key in zip(
                    learners["learner_ref"].tolist(), learners["bootcamp_id"].tolist(), strict=True
                )
            ],
            index=learners.index,
            dtype=bool,
        )
    return learners[suspect]


def _learner_problems(row: _LearnerDates) -> list[str]:
    start, m1 = row.start_date, row.m1_date
    completion, withdrawal = row.completion_date, row.withdrawal_date
    problems: list[str] = []
    if pd.notna(m1) and pd.notna(start) and m1 < start:
        problems.append(
            f"M1 {iso(m1, missing='blank')} is before the start {iso(start, missing='blank')}"
        )
    if pd.notna(completion):
        if pd.notna(m1) and completion < m1:
            problems.append(
                f"completion {iso(completion, missing='blank')} is before M1 {iso(m1, missing='blank')}"
            )
        elif pd.isna(m1) and pd.notna(start) and completion < start:
            problems.append(
                f"completion {iso(completion, missing='blank')} is before the start {iso(start, missing='blank')}"
            )
        if pd.isna(m1):  # a completer must have passed M1 (kpi-rules.md, new skills)
            problems.append(f"completed on {iso(completion, missing='blank')} without an M1 date")
        if pd.notna(withdrawal):
            problems.append(
                f"both withdrawn ({iso(withdrawal, missing='blank')}) and completed ({iso(completion, missing='blank')})"
            )
    return problems


def _outcomes_before_start(
    learners: pd.DataFrame, outcomes: pd.DataFrame
) -> dict[tuple[str, str], list[_Outcome]]:
    if outcomes.empty or learners.empty:
        return {}
    starts = learners[["learner_ref", "bootcamp_id", "start_date"]]
    joined = outcomes.merge(starts, on=["learner_ref", "bootcamp_id"], how="inner")
    early = joined[joined["outcome_date"] < joined["start_date"]]
    found: dict[tuple[str, str], list[_Outcome]] = {}
    for outcome in early.itertuples(index=False):
        found.setdefault((outcome.learner_ref, outcome.bootcamp_id), []).append(outcome)
    return found
