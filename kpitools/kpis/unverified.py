"""The learners whose KPI cases are unverified: their evidence comes from the ILR, which
records an interview offer or an outcome (an event, an ``AchDate``) but not its role
type nor whether it matches the skills
(:data:`~kpitools.returns.contract.UNKNOWN_FROM_ILR`). The KPIs leave them out of their
figures and count them beside it (:attr:`kpitools.model.KpiResult.unverified`); the
verification sample lists every one of them (:mod:`kpitools.worklists.sampling`), from
the same cases the KPIs judge, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd

from kpitools.kpis._offers import UNVERIFIED
from kpitools.kpis.career_progression import outcome_facts
from kpitools.kpis.guaranteed_interview import interview_cases
from kpitools.kpis.referral import referral_cases
from kpitools.returns.contract import UNKNOWN_FROM_ILR
from kpitools.rules import Rules

UNVERIFIED_COLUMNS = ("learner_ref", "bootcamp_id", "kpis", "evidence", "reason", "source")
_KEY = ["learner_ref", "bootcamp_id"]


def unverified_cases(
    measured: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules
) -> pd.DataFrame:
    """One row per learner (and bootcamp) with an unverified case at ``as_of``.

    Args:
        measured: the tables as at as_of (:func:`~kpitools.kpis.measured.measured_tables`;
            a period's stacked tables work as well).
        as_of: the measurement date.
        rules: the rules in force.

    Returns:
        :data:`UNVERIFIED_COLUMNS`: the KPIs whose case it is (``;``-separated, in the
        contract's order), the ILR evidence to verify (offers and outcomes with their
        dates), the reason ("role type unknown (ILR)") and the learner's source.
    """
    interviews = interview_cases(measured)
    progression = outcome_facts(measured, rules)
    closed = progression["window_close"].le(pd.Timestamp(as_of))
    referral = referral_cases(measured, as_of=as_of, rules=rules)
    parts = [
        interviews.loc[interviews["unverified_case"], [*_KEY, "source"]].assign(
            kpi="guaranteed_interview"
        ),
        progression.loc[closed & progression["unverified_case"], [*_KEY, "source"]].assign(
            kpi="career_progression"
        ),
        referral.loc[referral["in_value"] & referral["unverified_case"], [*_KEY, "source"]].assign(
            kpi="referral"
        ),
    ]
    cases = pd.concat(parts, ignore_index=True)
    if cases.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in UNVERIFIED_COLUMNS})
    grouped = cases.groupby(_KEY, sort=False).agg(
        kpis=("kpi", lambda kpis: ";".join(dict.fromkeys(kpis))), source=("source", "first")
    )
    evidence = _evidence(measured)
    grouped = grouped.reset_index().assign(
        evidence=lambda frame: [
            evidence.get((ref, bootcamp), "")
            for ref, bootcamp in zip(frame["learner_ref"], frame["bootcamp_id"], strict=True)
        ],
        reason=UNVERIFIED,
    )
    return grouped[list(UNVERIFIED_COLUMNS)].astype(object).reset_index(drop=True)


def _evidence(measured: Mapping[str, pd.DataFrame]) -> dict[tuple[str, str], str]:
    """Per learner, the offers and outcomes read from the ILR, e.g. ``interview offer
    2023-03-10; new_job outcome 2023-05-02``."""
    found: dict[tuple[str, str], list[str]] = {}
    offers = measured["interviews"]
    offers = offers[offers["role_type"].eq(UNKNOWN_FROM_ILR)]
    for ref, bootcamp, day in zip(
        offers["learner_ref"], offers["bootcamp_id"], offers["offer_date"], strict=True
    ):
        found.setdefault((ref, bootcamp), []).append(f"interview offer {day.date().isoformat()}")
    outcomes = measured["outcomes"]
    outcomes = outcomes[outcomes["role_type"].eq(UNKNOWN_FROM_ILR)]
    for ref, bootcamp, kind, day in zip(
        outcomes["learner_ref"],
        outcomes["bootcamp_id"],
        outcomes["outcome_type"],
        outcomes["outcome_date"],
        strict=True,
    ):
        found.setdefault((ref, bootcamp), []).append(f"{kind} outcome {day.date().isoformat()}")
    return {key: "; ".join(items) for key, items in found.items()}
