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
from kpitools.kpis.measured import Measurements, measured_stack
from kpitools.model import KpiResult, ProviderReturn
from kpitools.returns.period import Stacks, owners_of, stacked_tables, unscoped
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
    measurements: Measurements | None = None,
    stacks: Stacks | None = None,
) -> dict[str, dict[str, pd.DataFrame]]:
    """Every chart's figures for every provider of a run (a mapping of one for one
    provider), by provider, then by chart name; each computed once over the providers'
    tables stacked (:func:`kpitools.returns.period.stacked_tables`) and cut back by
    provider.

    Args:
        returns: per provider id, its validated return.
        kpi_results: per provider id, its KPI results.
        as_of: the measurement date.
        rules: the rules in force for these providers.
        measurements: the run's measured tables (:class:`~kpitools.kpis.measured.
            Measurements`, at ``as_of``); else measured here.
        stacks: the run's stacked tables (:class:`~kpitools.returns.period.Stacks`).
    """
    if not returns:
        return {}
    measured = (measurements or Measurements(as_of)).tables(returns)
    cofunding = cofunding_due_vs_paid(
        measured, as_of=as_of, rules=rules, stacks=stacks, measurements=measurements
    )
    returned = stacked_tables(
        {p: provider.tables for p, provider in returns.items()},
        names=("learners", "employer_contacts"),
        stacks=stacks,
    )
    scores = _satisfaction_scores(
        returned["employer_contacts"], _owners(returns, "employer_contacts"), len(returns)
    )
    completers = _completers(
        returned["learners"], _owners(returns, "learners"), len(returns), as_of=as_of
    )
    return {
        p: {
            COFUNDING_DUE_VS_PAID: cofunding[p],
            SATISFACTION_SCORES: scores[position],
            FUNNELS: _funnels(completers[position], kpi_results[p]),
        }
        for position, p in enumerate(returns)
    }


def _owners(returns: Mapping[str, ProviderReturn], name: str) -> np.ndarray:
    """Each row's provider (its position in ``returns``) in table ``name`` stacked."""
    sizes = [len(provider.tables[name]) for provider in returns.values()]
    return np.repeat(np.arange(len(sizes)), sizes)


def cofunding_due_vs_paid(
    tables: Mapping[str, Mapping[str, pd.DataFrame]],
    *,
    as_of: date,
    rules: Rules,
    stacks: Stacks | None = None,
    measurements: Measurements | None = None,
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
        measurements: the run's measured tables (at ``as_of``), whose stack of
            ``tables`` (its own) the KPIs share.

    Returns:
        Per provider id (in the order given): columns ``employer`` (id), ``due`` and
        ``paid`` in pounds, largest due first.
    """
    providers = tuple(tables)
    if not providers:
        return {}
    stacked = (
        measured_stack(tables, as_of, stacks=stacks)
        if measurements is None
        else measurements.stacked(tables, as_of, stacks=stacks)
    )
    owed = _owed(stacked, as_of=as_of, rules=rules)
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
    # each provider's largest due first (a stable sort: ties in employer order), all
    # providers in one sort, then cut
    codes, names = pd.factorize(summed["provider"].to_numpy(dtype=object))
    order = np.lexsort((-summed["due"].to_numpy(dtype=float), codes))
    shown = summed[["employer", "due", "paid"]].iloc[order]
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1)).tolist()
    per_provider = {
        name: shown.iloc[bounds[i] : bounds[i + 1]].reset_index(drop=True)
        for i, name in enumerate(names.tolist())
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


def satisfaction_scores(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Reached employer contacts per satisfaction score.

    Returns:
        Columns ``score`` (0 to 5, every score) and ``contacts``; no rows when no
        reached contact has a score (or contacts were not supplied).
    """
    contacts = tables.get("employer_contacts")
    if contacts is None:
        return _NO_SCORES.copy()
    return _satisfaction_scores(contacts, np.zeros(len(contacts), dtype=int), 1)[0]


_NO_SCORES = pd.DataFrame(columns=["score", "contacts"])


def _satisfaction_scores(
    contacts: pd.DataFrame, owner: np.ndarray, count: int
) -> list[pd.DataFrame]:
    """:func:`satisfaction_scores` of each of ``count`` providers of a stack (``owner``:
    each contact's provider, by position), in one pass over the stacked contacts."""
    if "satisfaction_score" not in contacts:
        return [_NO_SCORES.copy() for _ in range(count)]
    reached = contacts["reached"].to_numpy(dtype=bool, na_value=False)
    scores = contacts["satisfaction_score"].to_numpy(dtype=float, na_value=np.nan)
    scored = reached & ~np.isnan(scores)
    # a provider with a scored reached contact has its row, zeros included
    shown = np.bincount(owner[scored], minlength=count) > 0
    counts = np.zeros((count, len(SCORES)), dtype=np.int64)
    on_scale = scored & np.isin(scores, list(SCORES))
    np.add.at(counts, (owner[on_scale], scores[on_scale].astype(int)), 1)
    return [
        pd.DataFrame({"score": list(SCORES), "contacts": row}) if show else _NO_SCORES.copy()
        for row, show in zip(counts, shown.tolist(), strict=True)
    ]


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
    return _funnels(
        _completers(learners, np.zeros(len(learners), dtype=int), 1, as_of=as_of)[0], kpi_results
    )


def _completers(learners: pd.DataFrame, owner: np.ndarray, count: int, *, as_of: date) -> list[int]:
    """Per provider of a stack (``owner``: each learner's, by position), its learners
    who completed on or before ``as_of``."""
    completed = learners["completion_date"].to_numpy(dtype="datetime64[ns]") <= np.datetime64(
        pd.Timestamp(as_of).value, "ns"
    )
    return np.bincount(owner[completed], minlength=count).tolist()


def _funnels(completers: int, kpi_results: Sequence[KpiResult]) -> pd.DataFrame:
    rows = [
        (r.kpi, completers, r.denominator, r.numerator)
        for r in kpi_results
        if r.kpi in FUNNEL_KPIS and r.bootcamp_id == "ALL"
    ]
    return pd.DataFrame(rows, columns=["kpi", "completers", "denominator", "numerator"])
