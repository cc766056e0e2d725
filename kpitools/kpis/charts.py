"""The figures behind the pack's charts, computed with the audit (``ProviderAudit.charts``):
the notebooks only draw them (:mod:`kpitools.present.plots`).

- :data:`COFUNDING_DUE_VS_PAID`: co-funding due against paid per employer;
- :data:`SATISFACTION_SCORES`: reached employer contacts per satisfaction score;
- :data:`FUNNELS`: completers, then the guaranteed-interview and career-progression
  KPIs' denominator and numerator, for the provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd

from kpitools.kpis.employer_cofunding import contributions
from kpitools.kpis.measured import measured_stack
from kpitools.model import KpiResult, ProviderReturn
from kpitools.returns.period import Stacks, owners_of, unscoped
from kpitools.rules import Rules

COFUNDING_DUE_VS_PAID = "cofunding_due_vs_paid"
SATISFACTION_SCORES = "satisfaction_scores"
FUNNELS = "funnels"
FUNNEL_KPIS = ("guaranteed_interview", "career_progression")
SCORES = range(6)  # the satisfaction scale, 0 (unacceptable) to 5 (excellent)


def pack_charts(
    returns: Mapping[str, ProviderReturn],
    kpi_results: Mapping[str, Sequence[KpiResult]],
    *,
    as_of: date,
    rules: Rules,
    measured: Mapping[str, Mapping[str, pd.DataFrame]] | None = None,
    stacks: Stacks | None = None,
) -> dict[str, dict[str, pd.DataFrame]]:
    """Every chart's figures for every provider of a run (a mapping of one for one
    provider), by provider, then by chart name.

    Args:
        returns: per provider id, its validated return.
        kpi_results: per provider id, its KPI results.
        as_of: the measurement date.
        rules: the rules in force for these providers.
        measured: per provider id, its tables as they stood at ``as_of`` when already
            measured (:class:`~kpitools.kpis.measured.Measurements`); else measured here.
        stacks: the run's stacked tables (:class:`~kpitools.returns.period.Stacks`).
    """
    tables = measured or {p: provider.tables for p, provider in returns.items()}
    cofunding = cofunding_due_vs_paid(tables, as_of=as_of, rules=rules, stacks=stacks)
    return {
        p: {
            COFUNDING_DUE_VS_PAID: cofunding[p],
            SATISFACTION_SCORES: satisfaction_scores(provider.tables),
            FUNNELS: funnels(provider.tables, kpi_results[p], as_of=as_of),
        }
        for p, provider in returns.items()
    }


def cofunding_due_vs_paid(
    tables: Mapping[str, Mapping[str, pd.DataFrame]],
    *,
    as_of: date,
    rules: Rules,
    stacks: Stacks | None = None,
) -> dict[str, pd.DataFrame]:
    """Co-funding due against paid per employer, for every provider of a run at once.

    The amounts are the co-funding KPI's own (:func:`kpitools.kpis.employer_cofunding.
    contributions`): required and paid per co-funded learner, here summed per employer
    over learners past M1 on or before ``as_of``; the contributions are computed once
    for all the providers, over their stacked tables
    (:func:`kpitools.kpis.measured.measured_stack`), and cut back by provider.

    Args:
        tables: per provider id, its validated (or measured) tables.
        as_of: the measurement date.
        rules: the rules in force for these providers.
        stacks: the run's stacked tables (:class:`~kpitools.returns.period.Stacks`).

    Returns:
        Per provider id (in the order given): columns ``employer`` (id), ``due`` and
        ``paid`` in pounds, largest due first.
    """
    providers = tuple(tables)
    if not providers:
        return {}
    owed = _owed(measured_stack(tables, as_of, stacks=stacks), as_of=as_of, rules=rules)
    # one group per (provider, employer): within a provider the scoped keys sort as the
    # provider's own, so each provider's slice is its own groupby's result
    summed = (
        owed.assign(provider=owners_of(owed["bootcamp_id"], providers))
        .groupby(["provider", "employer_key"], as_index=False)
        .agg(due=("required_pence", "sum"), paid=("paid_pence", "sum"))
    )
    summed = summed.assign(
        employer=unscoped(summed["employer_key"]),
        due=summed["due"] / 100,
        paid=summed["paid"] / 100,
    )
    per_provider = {
        provider: _largest_due_first(part[["employer", "due", "paid"]])
        for provider, part in summed.groupby("provider", sort=False)
    }
    return {
        provider: per_provider[provider] if provider in per_provider else _NOTHING_OWED.copy()
        for provider in providers
    }


def _owed(measured: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules) -> pd.DataFrame:
    """The co-funded learners past M1 on or before ``as_of``, with their contributions."""
    owed = contributions(measured, rules)
    return owed[owed["m1_date"].notna() & (owed["m1_date"] <= pd.Timestamp(as_of))]


_NOTHING_OWED = pd.DataFrame(columns=["employer", "due", "paid"])


def _largest_due_first(per_employer: pd.DataFrame) -> pd.DataFrame:
    return per_employer.sort_values("due", ascending=False, kind="stable").reset_index(drop=True)


def satisfaction_scores(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Reached employer contacts per satisfaction score.

    Returns:
        Columns ``score`` (0 to 5, every score) and ``contacts``; no rows when no
        reached contact has a score (or contacts were not supplied).
    """
    contacts = tables.get("employer_contacts")
    empty = pd.DataFrame(columns=["score", "contacts"])
    if contacts is None or "satisfaction_score" not in contacts:
        return empty
    # numpy, not pandas: this runs once per provider of a period, on a few hundred rows
    reached = contacts["reached"].to_numpy(dtype=bool, na_value=False)
    scores = contacts["satisfaction_score"].to_numpy(dtype=float, na_value=np.nan)[reached]
    scores = scores[~np.isnan(scores)]
    if not len(scores):
        return empty
    counts = np.array([np.count_nonzero(scores == score) for score in SCORES], dtype=np.int64)
    return pd.DataFrame({"score": list(SCORES), "contacts": counts})


def funnels(
    tables: Mapping[str, pd.DataFrame], kpi_results: Sequence[KpiResult], *, as_of: date
) -> pd.DataFrame:
    """Completers (on or before ``as_of``), then each funnel KPI's denominator and
    numerator for the provider (``ALL``).

    Returns:
        Columns ``kpi``, ``completers``, ``denominator``, ``numerator``: one row per KPI
        of :data:`FUNNEL_KPIS` that has a provider result.
    """
    learners = tables["learners"]
    completed = learners["completion_date"].notna() & (
        learners["completion_date"] <= pd.Timestamp(as_of)
    )
    rows = [
        {
            "kpi": r.kpi,
            "completers": int(completed.sum()),
            "denominator": r.denominator,
            "numerator": r.numerator,
        }
        for r in kpi_results
        if r.kpi in FUNNEL_KPIS and r.bootcamp_id == "ALL"
    ]
    return pd.DataFrame(rows, columns=["kpi", "completers", "denominator", "numerator"])
