"""The figures behind the pack's charts, computed with the audit (``ProviderAudit.charts``):
the notebooks only draw them (:mod:`kpitools.packs.plots`).

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
from kpitools.kpis.measured import measured, measured_tables
from kpitools.layout import is_provider_name
from kpitools.model import KpiResult, ProviderReturn
from kpitools.returns.period import providers_of, stacked_tables, unscoped
from kpitools.rules import Rules

COFUNDING_DUE_VS_PAID = "cofunding_due_vs_paid"
SATISFACTION_SCORES = "satisfaction_scores"
FUNNELS = "funnels"
FUNNEL_KPIS = ("guaranteed_interview", "career_progression")
SCORES = range(6)  # the satisfaction scale, 0 (unacceptable) to 5 (excellent)


def pack_charts(
    provider: ProviderReturn,
    kpi_results: Sequence[KpiResult],
    *,
    as_of: date,
    rules: Rules,
    cofunding: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every chart's figures for one provider, by name.

    Args:
        provider: the provider's validated return.
        kpi_results: its KPI results.
        as_of: the measurement date.
        rules: the rules in force.
        cofunding: its co-funding due against paid when already computed with its period
            (:func:`period_cofunding_due_vs_paid`); by default computed here.
    """
    if cofunding is None:
        cofunding = cofunding_due_vs_paid(measured(provider, as_of), as_of=as_of, rules=rules)
    return {
        COFUNDING_DUE_VS_PAID: cofunding,
        SATISFACTION_SCORES: satisfaction_scores(provider.tables),
        FUNNELS: funnels(provider.tables, kpi_results, as_of=as_of),
    }


def cofunding_due_vs_paid(
    tables: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules
) -> pd.DataFrame:
    """Co-funding due against paid per employer.

    The amounts are the co-funding KPI's own (:func:`kpitools.kpis.employer_cofunding.
    contributions`): required and paid per co-funded learner, here summed per employer
    over learners past M1 on or before ``as_of``.

    Returns:
        Columns ``employer`` (id), ``due`` and ``paid`` in pounds, largest due first.
    """
    return _due_vs_paid(_owed(measured_tables(tables, as_of), as_of=as_of, rules=rules))


def period_cofunding_due_vs_paid(
    tables: Mapping[str, Mapping[str, pd.DataFrame]], *, as_of: date, rules: Rules
) -> dict[str, pd.DataFrame]:
    """:func:`cofunding_due_vs_paid` of every provider of a period, the co-funding
    contributions computed once for all of them on the stacked tables
    (:func:`kpitools.returns.period.stacked_tables`) and split by provider; each provider
    gets exactly what it gets on its own.

    Args:
        tables: per provider id, its validated (or measured) tables.
        as_of: the measurement date.
        rules: the rules in force.

    Returns:
        Per provider id (in the order given), its co-funding due against paid.
    """
    together = [provider for provider in tables if is_provider_name(provider)]
    per_provider: dict[str, pd.DataFrame] = {}
    if together:
        owed = _owed(
            measured_tables(stacked_tables({p: tables[p] for p in together}), as_of),
            as_of=as_of,
            rules=rules,
        )
        # one group per (provider, employer): within a provider the scoped keys sort as
        # the provider's own, so each provider's slice is its own groupby's result
        summed = (
            owed.assign(provider=providers_of(owed["bootcamp_id"]))
            .groupby(["provider", "employer_key"], as_index=False)
            .agg(due=("required", "sum"), paid=("paid", "sum"))
        )
        summed = summed.assign(employer=summed["employer_key"].map(unscoped))
        for provider, part in summed.groupby("provider", sort=False):
            per_provider[provider] = _largest_due_first(part[["employer", "due", "paid"]])
        for provider in together:
            per_provider.setdefault(provider, _due_vs_paid(owed.iloc[:0]))
    return {
        provider: per_provider[provider]
        if provider in per_provider
        else cofunding_due_vs_paid(tables[provider], as_of=as_of, rules=rules)
        for provider in tables
    }


def _owed(measured: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules) -> pd.DataFrame:
    """The co-funded learners past M1 on or before ``as_of``, with their contributions."""
    owed = contributions(measured, rules)
    return owed[owed["m1_date"].notna() & (owed["m1_date"] <= pd.Timestamp(as_of))]


def _due_vs_paid(owed: pd.DataFrame) -> pd.DataFrame:
    if owed.empty:
        return pd.DataFrame(columns=["employer", "due", "paid"])
    per_employer = owed.groupby("employer_key", as_index=False).agg(
        due=("required", "sum"), paid=("paid", "sum")
    )
    return _largest_due_first(per_employer.rename(columns={"employer_key": "employer"}))


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
