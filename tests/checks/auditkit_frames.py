"""Typed frames and returns from a handful of hand-written records, for the auditor's
toolkit tests (checks, sampling, ageing, risk). Dtypes follow kpitools/model.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kpitools.model import ProviderReturn, TableCount, empty_rejected
from kpitools.returns.contract import TABLES

_TRUE = {"y", "yes", "true"}


def frame(
    table: str, records: list[dict] | None = None, *, file: str | None = None
) -> pd.DataFrame:
    """A validated-looking frame: every contract column, typed, plus ``source``.

    Records give only the columns they need; ``source`` defaults to ``<table>.csv:<n>``
    with n = 2, 3, ... (line 1 is the header).
    """
    records = records or []
    spec = TABLES[table]
    data: dict[str, pd.Series] = {}
    for column in spec.columns:
        values = [r.get(column.name) for r in records]
        data[column.name] = _typed(column.kind, values)
    name = file or f"{table}.csv"
    data["source"] = pd.Series(
        [r.get("source", f"{name}:{i + 2}") for i, r in enumerate(records)], dtype=object
    )
    result = pd.DataFrame(data)
    if table == "learners" and len(result):
        default = result["learner_type"] == "independent"
        result["wants_interview"] = result["wants_interview"].fillna(default).astype("boolean")
    if table == "bootcamps" and len(result):
        result["accelerated_apprenticeship"] = result["accelerated_apprenticeship"].fillna(False)
    return result


def _typed(kind: str, values: list) -> pd.Series:
    if kind == "date":
        return pd.Series(pd.to_datetime(values), dtype="datetime64[ns]")
    if kind == "flag":
        flags = [None if v is None else str(v).lower() in _TRUE for v in values]
        return pd.Series(flags, dtype="boolean")
    if kind == "money":
        return pd.Series(values, dtype="float64")
    if kind in ("int", "score"):
        return pd.Series(values, dtype="Int64")
    return pd.Series([None if v is None else str(v) for v in values], dtype=object)


def provider_return(
    provider_id: str = "P001",
    *,
    path: str | Path | None = None,
    rejected: list[dict] | None = None,
    **tables: list[dict],
) -> ProviderReturn:
    """A ProviderReturn with every table present (empty unless given)."""
    frames = {name: frame(name, tables.get(name)) for name in TABLES}
    if not tables.get("provider"):
        frames["provider"] = frame(
            "provider", [{"provider_id": provider_id, "name": "Test", "ukprn": "10000001"}]
        )
    rejected_frame = empty_rejected()
    if rejected:
        rejected_frame = pd.DataFrame(rejected, columns=list(rejected_frame.columns)).astype(object)
    counts = {name: TableCount(name, len(f), len(f), 0) for name, f in frames.items()}
    return ProviderReturn(
        provider_id=provider_id,
        path=Path(path or f"/data/2023-03/{provider_id}"),
        tables=frames,
        rejected=rejected_frame,
        counts=counts,
    )


def bootcamp(
    bootcamp_id: str = "B1", start: str = "2023-01-09", end: str = "2023-03-31", **extra
) -> dict:
    return {
        "bootcamp_id": bootcamp_id,
        "start_date": start,
        "end_date": end,
        "price_per_learner": 3000,
        **extra,
    }


def learner(
    ref: str,
    bootcamp_id: str = "B1",
    *,
    start: str = "2023-01-09",
    learner_type: str = "independent",
    **extra,
) -> dict:
    return {
        "learner_ref": ref,
        "bootcamp_id": bootcamp_id,
        "learner_type": learner_type,
        "start_date": start,
        **extra,
    }
