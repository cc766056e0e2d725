"""The seven KPIs of the guidance, one module each, the KPIs a rule profile may add
(completion, starts: :func:`kpis_in_force`), and :func:`compute_kpis`.

Every KPI is a pure function ``kpi(tables, *, as_of, rules) -> list[KpiResult]``: one
result per bootcamp and one for the provider (``bootcamp_id == "ALL"``), employer
engagement once per stage. Their docstrings are the method statement
(:mod:`kpitools.method`).

:func:`compute_kpis` measures every provider of a run at once (one provider is a run
of one), each KPI run once over their tables stacked with their identifiers scoped
(:mod:`kpitools.returns.period`); each provider gets exactly the results it gets alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date

import pandas as pd

from kpitools.kpis.career_progression import career_progression
from kpitools.kpis.completion import completion
from kpitools.kpis.employer_cofunding import employer_cofunding
from kpitools.kpis.employer_engagement import employer_engagement
from kpitools.kpis.guaranteed_interview import guaranteed_interview
from kpitools.kpis.learner_dropout import learner_dropout
from kpitools.kpis.measured import Measurements, measured_stack
from kpitools.kpis.new_skills import new_skills
from kpitools.kpis.referral import referral
from kpitools.kpis.starts import starts
from kpitools.kpis.summary import ALL
from kpitools.model import KpiResult
from kpitools.returns.contract import KPIS, PROFILE_KPIS, STAGES
from kpitools.returns.period import Stacks, by_provider, owner_of
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
    "completion": completion,
    "starts": starts,
}
"""Every KPI function by KPI name, in the order of ``contract.KPIS`` then
``contract.PROFILE_KPIS``."""

KPI_TABLES: dict[str, tuple[str, ...]] = {
    "employer_engagement": ("employers", "employer_contacts"),
    "employer_cofunding": ("employers", "cofunding_payments"),
    "learner_dropout": (),
    "new_skills": ("assessments",),
    "guaranteed_interview": ("interviews",),
    "career_progression": ("outcomes",),
    "referral": ("outcomes", "referrals"),
    "completion": (),
    "starts": (),
}
"""The optional tables each KPI reads besides provider, bootcamps and learners: when one
is not supplied the KPI is ``no_data`` (data-contract.md, "Absent is not empty")."""

__all__ = ["ALL", "KPI_FUNCTIONS", "KPI_TABLES", "compute_kpis", "kpis_in_force", *KPI_FUNCTIONS]

_PROFILE_TARGETS = {"completion": "completion_target", "starts": "starts_target"}


def kpis_in_force(rules: Rules) -> tuple[str, ...]:
    """The KPIs measured under ``rules``: the guidance's seven (``contract.KPIS``), then
    each of ``contract.PROFILE_KPIS`` whose target the rules' profile sets."""
    return KPIS + tuple(k for k in PROFILE_KPIS if getattr(rules, _PROFILE_TARGETS[k]) is not None)


def compute_kpis(
    tables: Mapping[str, Mapping[str, pd.DataFrame]],
    *,
    as_of: date,
    rules: Rules,
    not_supplied: Mapping[str, Mapping[str, str]] | None = None,
    stacks: Stacks | None = None,
    measurements: Measurements | None = None,
) -> dict[str, list[KpiResult]]:
    """Every KPI of every provider of a run (a mapping of one for one provider), each
    KPI run once for all of them.

    The providers' tables are stacked into one frame per table, identifiers scoped to
    their provider (:func:`kpitools.kpis.measured.measured_stack`); each KPI's results
    are then cut back by provider and the scope taken out of their text
    (:func:`kpitools.returns.period.unscoped`). A provider gets exactly what it gets
    measured alone. One without a bootcamp is measured in a stack of its own: a stack
    gives a provider's ``ALL`` results from its bootcamps.

    Order of each provider's results: KPI as in :func:`kpis_in_force`, then stage (design,
    delivery, post), then bootcamp_id with ``ALL`` last.

    Args:
        tables: per provider id, its validated (or measured) tables, by table name.
        as_of: the measurement date.
        rules: the rules in force for these providers.
        not_supplied: per provider id, the tables absent from its return with the file
            looked for (``ProviderReturn.not_supplied``): every result of a KPI that
            reads one of them (:data:`KPI_TABLES`) is ``no_data`` with a note naming the
            file, and has no exceptions.
        stacks: the run's stacked tables (:class:`~kpitools.returns.period.Stacks`).
        measurements: the run's measured tables
            (:class:`~kpitools.kpis.measured.Measurements`, at ``as_of``), whose stack of
            ``tables`` the charts and worklists then share (``tables`` its own).

    Returns:
        Per provider id (in the order given), its results; the inputs are not changed.
    """
    absent = not_supplied or {}
    with_bootcamps = {p: frames for p, frames in tables.items() if len(frames["bootcamps"])}
    stacks_of = [with_bootcamps] if with_bootcamps else []
    stacks_of += [{p: frames} for p, frames in tables.items() if p not in with_bootcamps]
    per_provider: dict[str, list[KpiResult]] = {provider: [] for provider in tables}
    for together in stacks_of:
        providers = tuple(together)
        stacked = (
            measured_stack(together, as_of, stacks=stacks)
            if measurements is None
            else measurements.stacked(together, as_of, stacks=stacks)
        )
        found = by_provider(
            (
                (owner_of(result.bootcamp_id, providers), result)
                for result in _every_kpi(stacked, as_of=as_of, rules=rules)
            ),
            providers,
        )
        for provider, results in found.items():
            per_provider[provider] += results
    log.info(
        "%d providers measured together, %d without a bootcamp on their own",
        len(with_bootcamps),
        len(tables) - len(with_bootcamps),
    )
    return {
        provider: _finished(results, absent.get(provider, {}))
        for provider, results in per_provider.items()
    }


def _every_kpi(tables: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules) -> list[KpiResult]:
    return [
        result
        for name in kpis_in_force(rules)
        for result in KPI_FUNCTIONS[name](tables, as_of=as_of, rules=rules)
    ]


def _finished(results: list[KpiResult], not_supplied: Mapping[str, str]) -> list[KpiResult]:
    """One provider's results: ``no_data`` where a table was not supplied, in order."""
    return sorted((_not_measured(r, not_supplied) for r in results), key=_order)


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
    return (
        (*KPIS, *PROFILE_KPIS).index(result.kpi),
        stage,
        result.bootcamp_id == ALL,
        result.bootcamp_id,
    )
