"""The seven KPIs of the guidance, one module each, and :func:`compute_all`.

Every KPI is a pure function ``kpi(tables, *, as_of, rules) -> list[KpiResult]``: one
result per bootcamp and one for the provider (``bootcamp_id == "ALL"``), employer
engagement once per stage. Their docstrings are the method statement
(:mod:`kpitools.packs.method`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date

import pandas as pd

from kpitools.kpis._summary import ALL
from kpitools.kpis.career_progression import career_progression
from kpitools.kpis.employer_cofunding import employer_cofunding
from kpitools.kpis.employer_engagement import employer_engagement
from kpitools.kpis.guaranteed_interview import guaranteed_interview
from kpitools.kpis.learner_dropout import learner_dropout
from kpitools.kpis.measured import measured_tables
from kpitools.kpis.new_skills import new_skills
from kpitools.kpis.referral import referral
from kpitools.model import KpiResult
from kpitools.returns.contract import KPIS, STAGES
from kpitools.rules import Rules

KpiFunction = Callable[..., list[KpiResult]]

KPI_FUNCTIONS: dict[str, KpiFunction] = {
    "employer_engagement": employer_engagement,
    "employer_cofunding": employer_cofunding,
    "learner_dropout": learner_dropout,
    "new_skills": new_skills,
    "guaranteed_interview": guaranteed_interview,
    "career_progression": career_progression,
    "referral": referral,
}
"""Every KPI function by KPI name, in the order of ``contract.KPIS``."""

KPI_TABLES: dict[str, tuple[str, ...]] = {
    "employer_engagement": ("employers", "employer_contacts"),
    "employer_cofunding": ("employers", "cofunding_payments"),
    "learner_dropout": (),
    "new_skills": ("assessments",),
    "guaranteed_interview": ("interviews",),
    "career_progression": ("outcomes",),
    "referral": ("outcomes", "referrals"),
}
"""The optional tables each KPI reads besides provider, bootcamps and learners: when one
is not supplied the KPI is ``no_data`` (data-contract.md, "Absent is not empty")."""

__all__ = ["ALL", "KPI_FUNCTIONS", "KPI_TABLES", "compute_all", *KPI_FUNCTIONS]


def compute_all(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: date,
    rules: Rules,
    not_supplied: Mapping[str, str] | None = None,
) -> list[KpiResult]:
    """Every KPI for one provider, in a stable order.

    Order: KPI as in ``contract.KPIS``, then stage (design, delivery, post), then
    bootcamp_id with ``ALL`` last.

    Args:
        tables: validated tables (kpitools.model), by table name.
        as_of: the measurement date.
        rules: the rules in force.
        not_supplied: tables absent from the return, with the file looked for
            (``ProviderReturn.not_supplied``): every result of a KPI that reads one of
            them (:data:`KPI_TABLES`) is ``no_data`` with a note naming the file, and
            has no exceptions.

    Returns:
        Every KpiResult; the inputs are not changed.
    """
    measured = measured_tables(tables, as_of)
    results = [
        result for name in KPIS for result in KPI_FUNCTIONS[name](measured, as_of=as_of,
                                                                   rules=rules)
    ]
    absent = not_supplied or {}
    results = [_not_measured(r, absent) for r in results]
    return sorted(results, key=_order)


def _not_measured(result: KpiResult, not_supplied: Mapping[str, str]) -> KpiResult:
    """The result as ``no_data`` when its KPI reads a table that was not supplied."""
    missing = [not_supplied[t] for t in KPI_TABLES[result.kpi] if t in not_supplied]
    if not missing:
        return result
    note = f"{' and '.join(missing)} not supplied: not measured (nothing is inferred from a missing file)"
    return replace(result, numerator=0, denominator=0, status="no_data", due_date=None,
                   exceptions=(), notes=(note,))


def _order(result: KpiResult) -> tuple[int, int, bool, str]:
    stage = STAGES.index(result.stage) if result.stage in STAGES else -1
    return (KPIS.index(result.kpi), stage, result.bootcamp_id == ALL, result.bootcamp_id)
