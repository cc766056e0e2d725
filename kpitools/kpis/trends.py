"""Each KPI of a provider month by month: its figure as measured at the end of each earlier
period found beside this one (up to a year), and this period's.

An earlier month is the provider's own return of that month (``DATA/<earlier
period>/<provider>``), measured at that period's last day by the same KPI functions and
rules: the figure the auditor would have seen then. Drop-out is also kept per bootcamp.
A month whose return cannot be read is left out with a note.

The earlier months are loaded and measured by the audit engine (:mod:`kpitools.audit`),
which hands them to :func:`kpi_trends`: nothing here reads a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from kpitools.model import KpiResult, Trends

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


def _rows(period: str, results: Sequence[KpiResult]) -> list[dict[str, object]]:
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


def kpi_trends(
    current: Mapping[str, tuple[str, Sequence[KpiResult]]],
    earlier: Mapping[str, Mapping[str, Sequence[KpiResult] | str]],
) -> dict[str, Trends]:
    """The KPI figures of every provider of a run, month by month: each earlier month's
    results (measured by the audit engine, :mod:`kpitools.audit`, from the provider's
    return of that month at the month's last day) and this period's.

    Args:
        current: per provider id, this period (``YYYY-MM``) and its KPI results.
        earlier: per provider id, its earlier periods found beside this one (oldest
            first), each with its KPI results, or why it is left out of the trend.

    Returns:
        Per provider id (as ``current`` gives them), its :class:`Trends`, oldest period
        first: only this period's figures when no earlier month was found.
    """
    trends = {}
    for provider_id, (period, results) in current.items():
        rows: list[dict[str, object]] = []
        notes = []
        for month, found in earlier.get(provider_id, {}).items():
            if isinstance(found, str):
                notes.append(found)
            else:
                rows += _rows(month, found)
        rows += _rows(period, results)
        table = pd.DataFrame(rows, columns=list(TREND_COLUMNS))
        trends[provider_id] = Trends(
            table.sort_values("period", kind="stable").reset_index(drop=True), tuple(notes)
        )
    return trends
