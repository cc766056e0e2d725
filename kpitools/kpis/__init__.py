"""The seven KPIs of the guidance, one module each, and :func:`compute_all`.

Every KPI is a pure function ``kpi(tables, *, as_of, rules) -> list[KpiResult]``: one
result per bootcamp and one for the provider (``bootcamp_id == "ALL"``), employer
engagement once per stage. Their docstrings are the method statement
(:mod:`kpitools.packs.method`).

:func:`compute_all` measures one provider; :func:`compute_period` measures every
provider of a period at once, each KPI run once over the period's tables stacked with
their identifiers scoped (:mod:`kpitools.returns.period`), and gives each provider
exactly the results :func:`compute_all` gives it.
"""

from __future__ import annotations

import logging
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
from kpitools.layout import is_provider_name
from kpitools.model import KpiResult
from kpitools.returns.contract import KPIS, STAGES
from kpitools.returns.period import provider_of, stacked_tables, unscoped, unscoped_finding
from kpitools.rules import Rules

log = logging.getLogger(__name__)

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

__all__ = ["ALL", "KPI_FUNCTIONS", "KPI_TABLES", "compute_all", "compute_period", *KPI_FUNCTIONS]


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
    return _finished(_every_kpi(tables, as_of=as_of, rules=rules), not_supplied or {})


def compute_period(
    tables: Mapping[str, Mapping[str, pd.DataFrame]],
    *,
    as_of: date,
    rules: Rules,
    not_supplied: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, list[KpiResult]]:
    """Every KPI of every provider of a period, each KPI run once for all of them.

    The providers' tables are stacked into one frame per table, identifiers scoped to
    their provider (:func:`kpitools.returns.period.stacked_tables`); each KPI's
    results are then split by provider and the scope taken out of their text. A
    provider gets exactly what :func:`compute_all` gives it on its own; one without a
    bootcamp (it has no result but ``ALL``), or with an id that cannot be scoped, is
    measured on its own.

    Args:
        tables: per provider id, its validated tables.
        as_of: the measurement date.
        rules: the rules in force.
        not_supplied: per provider id, its tables not supplied (as for
            :func:`compute_all`).

    Returns:
        Per provider id (in the order given), its results as :func:`compute_all` orders them.
    """
    absent = not_supplied or {}
    together = {
        provider: frames
        for provider, frames in tables.items()
        if len(frames["bootcamps"]) and is_provider_name(provider)
    }
    if len(together) < 2:
        together = {}
    per_provider: dict[str, list[KpiResult]] = {provider: [] for provider in together}
    if together:
        stacked = stacked_tables(together)
        for result in _every_kpi(stacked, as_of=as_of, rules=rules):
            per_provider[provider_of(result.bootcamp_id)].append(_unscoped(result))
    log.info(
        "%d providers measured together, %d on their own",
        len(together),
        len(tables) - len(together),
    )
    return {
        provider: _finished(per_provider[provider], absent.get(provider, {}))
        if provider in together
        else compute_all(frames, as_of=as_of, rules=rules, not_supplied=absent.get(provider))
        for provider, frames in tables.items()
    }


def _every_kpi(tables: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules) -> list[KpiResult]:
    measured = measured_tables(tables, as_of)
    return [
        result
        for name in KPIS
        for result in KPI_FUNCTIONS[name](measured, as_of=as_of, rules=rules)
    ]


def _finished(results: list[KpiResult], not_supplied: Mapping[str, str]) -> list[KpiResult]:
    """One provider's results: ``no_data`` where a table was not supplied, in order."""
    return sorted((_not_measured(r, not_supplied) for r in results), key=_order)


def _unscoped(result: KpiResult) -> KpiResult:
    """A result of a period's stacked tables as the provider's own: no scope in its text."""
    return replace(
        result,
        bootcamp_id=unscoped(result.bootcamp_id),
        exceptions=tuple(map(unscoped_finding, result.exceptions)),
        informational=tuple(map(unscoped_finding, result.informational)),
        notes=tuple(map(unscoped, result.notes)),
    )


def _not_measured(result: KpiResult, not_supplied: Mapping[str, str]) -> KpiResult:
    """The result as ``no_data`` when its KPI reads a table that was not supplied."""
    missing = [not_supplied[t] for t in KPI_TABLES[result.kpi] if t in not_supplied]
    if not missing:
        return result
    note = f"{' and '.join(missing)} not supplied: not measured (nothing is inferred from a missing file)"
    return replace(
        result,
        numerator=0,
        denominator=0,
        unverified=0,
        status="no_data",
        due_date=None,
        exceptions=(),
        notes=(note,),
    )


def _order(result: KpiResult) -> tuple[int, int, bool, str]:
    stage = STAGES.index(result.stage) if result.stage in STAGES else -1
    return (KPIS.index(result.kpi), stage, result.bootcamp_id == ALL, result.bootcamp_id)
