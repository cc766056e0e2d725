"""Each KPI of a provider month by month: its figure as measured at the end of each earlier
period found beside this one (up to a year), and this period's.

An earlier month is the provider's own return of that month (``DATA/<earlier
period>/<provider>``), measured at that period's last day by the same KPI functions and
rules: the figure the auditor would have seen then. Drop-out is also kept per bootcamp.
A month whose return cannot be read is left out with a note.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from kpitools.calendar import period_end, period_of
from kpitools.errors import KpiToolsError
from kpitools.model import KpiResult, ProviderAudit, ProviderReturn, Trends

log = logging.getLogger(__name__)

TREND_MONTHS = 12
TREND_COLUMNS: tuple[str, ...] = (
    "period",
    "as_of",
    "kpi",
    "stage",
    "bootcamp_id",
    "value",
    "status",
    "target",
    "target_kind",
)
# KPIs drawn per bootcamp as well as for the provider.
PER_BOOTCAMP = ("learner_dropout",)


def _rows(period: str, results: list[KpiResult]) -> list[dict[str, object]]:
    return [
        {
            "period": period,
            "as_of": r.as_of,
            "kpi": r.kpi,
            "stage": r.stage,
            "bootcamp_id": r.bootcamp_id,
            "value": r.value,
            "status": r.status,
            "target": r.target,
            "target_kind": r.target_kind,
        }
        for r in results
        if r.bootcamp_id == "ALL" or r.kpi in PER_BOOTCAMP
    ]


def provider_trends(audit: ProviderAudit, *, months: int = TREND_MONTHS) -> Trends:
    """The KPI figures of the provider over ``months`` periods ending with the audit's.

    Args:
        audit: this period's audit (its previous return, when loaded, is reused).
        months: how many periods at most, this one included.

    Returns:
        The :class:`Trends`; only this period's figures when the audit has no period or
        no earlier month is found.
    """
    return period_trends({audit.provider_id: audit}, months=months)[audit.provider_id]


def period_trends(
    audits: Mapping[str, ProviderAudit], *, months: int = TREND_MONTHS
) -> dict[str, Trends]:
    """:func:`provider_trends` of every audit of one period, each earlier month measured
    once for all the providers that have it (:func:`kpitools.kpis.compute_period`), one
    month in memory at a time.

    Returns:
        Per provider id (as given), its :class:`Trends`.
    """
    from kpitools.ilr.load import load_provider
    from kpitools.kpis import compute_period
    from kpitools.layout import earlier_provider_dirs

    wanted: dict[str, dict[str, Path]] = {}  # earlier period -> provider id -> folder
    months_of: dict[str, list[str]] = {}  # provider id -> its earlier periods, oldest first
    for provider_id, audit in audits.items():
        found = (
            earlier_provider_dirs(audit.provider.path, audit.period, months - 1)
            if audit.period
            else []
        )
        months_of[provider_id] = [period for period, _ in found]
        for period, folder in found:
            wanted.setdefault(period, {})[provider_id] = folder
    figures: dict[tuple[str, str], list[KpiResult]] = {}
    left_out: dict[tuple[str, str], str] = {}
    for period, folders in wanted.items():
        returns: dict[str, ProviderReturn] = {}
        for provider_id, folder in folders.items():
            audit = audits[provider_id]
            try:
                returns[provider_id] = _reuse(audit.previous, folder) or load_provider(
                    folder, rules=audit.rules
                )
            except KpiToolsError as error:
                left_out[(provider_id, period)] = f"{period}: not in the trend ({error.one_line()})"
                log.warning(
                    "%s: trend month %s left out: %s", provider_id, period, error.one_line()
                )
        rules = next(iter(audits.values())).rules  # one rule set for the whole period
        measured = compute_period(
            {p: r.tables for p, r in returns.items()}, as_of=period_end(period), rules=rules
        )
        figures.update(
            ((provider_id, period), results) for provider_id, results in measured.items()
        )
    trends = {}
    for provider_id, audit in audits.items():
        rows: list[dict[str, object]] = []
        notes = []
        for period in months_of[provider_id]:
            if (provider_id, period) in left_out:
                notes.append(left_out[(provider_id, period)])
            else:
                rows += _rows(period, figures[(provider_id, period)])
        rows += _rows(audit.period or period_of(audit.as_of), audit.kpi_results)
        table = pd.DataFrame(rows, columns=list(TREND_COLUMNS))
        trends[provider_id] = Trends(
            table.sort_values("period", kind="stable").reset_index(drop=True), tuple(notes)
        )
    return trends


def _reuse(previous: ProviderReturn | None, folder: object) -> ProviderReturn | None:
    """The audit's previous return when it is this folder's (loaded once, not twice)."""
    if previous is not None and Path(previous.path).resolve() == Path(str(folder)).resolve():
        return previous
    return None
