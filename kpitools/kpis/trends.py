"""Each KPI of a provider month by month: its figure as measured at the end of each earlier
period found beside this one (up to a year), and this period's.

An earlier month is the provider's own return of that month (``DATA/<earlier
period>/<provider>``), measured at that period's last day by the same KPI functions and
rules: the figure the auditor would have seen then. Drop-out is also kept per bootcamp.
A month whose return cannot be read is left out with a note.
"""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd

from kpitools.calendar import period_end, period_of
from kpitools.errors import KpiToolsError
from kpitools.model import KpiResult, ProviderAudit, ProviderReturn, Trends

log = logging.getLogger(__name__)

TREND_MONTHS = 12
TREND_COLUMNS: tuple[str, ...] = (
    "period", "as_of", "kpi", "stage", "bootcamp_id", "value", "status", "target", "target_kind",
)
# KPIs drawn per bootcamp as well as for the provider.
PER_BOOTCAMP = ("learner_dropout",)


def _rows(period: str, results: list[KpiResult]) -> list[dict[str, object]]:
    return [
        {"period": period, "as_of": r.as_of, "kpi": r.kpi, "stage": r.stage,
         "bootcamp_id": r.bootcamp_id, "value": r.value, "status": r.status,
         "target": r.target, "target_kind": r.target_kind}
        for r in results if r.bootcamp_id == "ALL" or r.kpi in PER_BOOTCAMP
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
    from kpitools.ilr.load import load_provider
    from kpitools.kpis import compute_all
    from kpitools.layout import earlier_provider_dirs

    rows: list[dict[str, object]] = []
    notes: list[str] = []
    if audit.period:
        for period, folder in earlier_provider_dirs(audit.provider.path, audit.period, months - 1):
            try:
                ret = _reuse(audit.previous, folder) or load_provider(folder, rules=audit.rules)
            except KpiToolsError as error:
                notes.append(f"{period}: not in the trend ({error.one_line()})")
                log.warning("%s: trend month %s left out: %s", audit.provider_id, period, error.one_line())
                continue
            as_of: date = period_end(period)
            rows += _rows(period, compute_all(ret.tables, as_of=as_of, rules=audit.rules))
    rows += _rows(audit.period or period_of(audit.as_of), audit.kpi_results)
    figures = pd.DataFrame(rows, columns=list(TREND_COLUMNS))
    return Trends(figures.sort_values("period", kind="stable").reset_index(drop=True), tuple(notes))


def _reuse(previous: ProviderReturn | None, folder: object) -> ProviderReturn | None:
    """The audit's previous return when it is this folder's (loaded once, not twice)."""
    from pathlib import Path

    if previous is not None and Path(previous.path).resolve() == Path(str(folder)).resolve():
        return previous
    return None
