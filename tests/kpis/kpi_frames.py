"""Typed test frames built from a handful of hand-written rows.

``make(table, rows)`` turns string cells into the dtypes of kpitools/model.py (dates
ISO, flags Y/N, blank = missing) and fills the contract defaults, like validation does.
"""

from __future__ import annotations

import pandas as pd

from kpitools.contract import TABLES
from kpitools.kpis._common import empty_table

_FLAG = {"Y": True, "N": False, "": pd.NA}


def _column(kind: str, values: list[str]) -> pd.Series:
    if kind == "date":
        return pd.to_datetime(pd.Series([v or None for v in values], dtype=object),
                              format="%Y-%m-%d").astype("datetime64[ns]")
    if kind == "flag":
        return pd.Series([_FLAG[v] for v in values], dtype="boolean")
    if kind == "money":
        return pd.Series([float(v) if v else float("nan") for v in values], dtype="float64")
    if kind in ("int", "score"):
        return pd.Series([int(v) if v else pd.NA for v in values], dtype="Int64")
    return pd.Series([v or None for v in values], dtype=object)


def make(name: str, rows: list[dict[str, str]]) -> pd.DataFrame:
    """A validated frame of table ``name``; source is ``<name>.csv:<line>`` (line 2 up)."""
    if not rows:
        return empty_table(name)
    spec = TABLES[name]
    data = {
        c.name: _column(c.kind, [str(r.get(c.name, "")) for r in rows]) for c in spec.columns
    }
    frame = pd.DataFrame(data)
    frame["source"] = [f"{name}.csv:{i + 2}" for i in range(len(rows))]
    if name == "bootcamps":
        frame["accelerated_apprenticeship"] = frame["accelerated_apprenticeship"].fillna(False)
    if name == "learners":
        default = frame["learner_type"].eq("independent")
        frame["wants_interview"] = frame["wants_interview"].fillna(default)
    return frame


def bootcamp(bootcamp_id: str = "B1", start: str = "2023-01-01", end: str = "2023-03-31",
             price: str = "3000", accelerated: str = "N") -> dict[str, str]:
    return {"bootcamp_id": bootcamp_id, "start_date": start, "end_date": end,
            "price_per_learner": price, "accelerated_apprenticeship": accelerated}


def learner(ref: str, bootcamp_id: str = "B1", *, start: str = "2023-01-02", m1: str = "",
            withdrawn: str = "", reported: str = "", completed: str = "",
            learner_type: str = "independent", employer: str = "", wants: str = "",
            evidence: str = "") -> dict[str, str]:
    return {"learner_ref": ref, "bootcamp_id": bootcamp_id, "learner_type": learner_type,
            "employer_id": employer, "wants_interview": wants, "start_date": start,
            "m1_date": m1, "withdrawal_date": withdrawn, "withdrawal_reported_date": reported,
            "completion_date": completed, "new_role_evidence_date": evidence,
            "given_name": "Ada", "family_name": "Lovelace"}


def build(**rows: list[dict[str, str]]) -> dict[str, pd.DataFrame]:
    """Every contract table: the given rows, one default bootcamp B1, the rest empty."""
    rows.setdefault("bootcamps", [bootcamp()])
    rows.setdefault("provider", [{"provider_id": "P1", "name": "Prov", "ukprn": "10000001"}])
    return {name: make(name, rows.get(name, [])) for name in TABLES}
