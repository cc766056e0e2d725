"""Typed test frames built from a handful of hand-written rows.

``make(table, rows)`` turns string cells into the dtypes of kpitools/model.py (dates
ISO, flags Y/N, blank = missing) and fills the contract defaults, like validation does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd

from kpitools.kpis import compute_kpis
from kpitools.model import KpiResult
from kpitools.returns.contract import TABLES
from kpitools.returns.validate import empty_table
from kpitools.rules import Rules

_FLAG = {"Y": True, "N": False, "": pd.NA}


def _column(kind: str, values: list[str]) -> pd.Series:
    if kind in ("date", "birth_date"):
        return pd.to_datetime(
            pd.Series([v or None for v in values], dtype=object), format="%Y-%m-%d"
        ).astype("datetime64[ns]")
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
    data = {c.name: _column(c.kind, [str(r.get(c.name, "")) for r in rows]) for c in spec.columns}
    frame = pd.DataFrame(data)
    frame["source"] = pd.Series([f"{name}.csv:{i + 2}" for i in range(len(rows))], dtype=object)
    if name == "bootcamps":
        frame["accelerated_apprenticeship"] = frame["accelerated_apprenticeship"].fillna(False)
    if name == "learners":
        default = frame["learner_type"].eq("independent")
        frame["wants_interview"] = frame["wants_interview"].fillna(default)
    return frame


def bootcamp(
    bootcamp_id: str = "B1",
    start: str = "2023-01-01",
    end: str = "2023-03-31",
    price: str = "3000",
    accelerated: str = "N",
) -> dict[str, str]:
    return {
        "bootcamp_id": bootcamp_id,
        "start_date": start,
        "end_date": end,
        "price_per_learner": price,
        "accelerated_apprenticeship": accelerated,
    }


def learner(
    ref: str,
    bootcamp_id: str = "B1",
    *,
    start: str = "2023-01-02",
    m1: str = "",
    withdrawn: str = "",
    reported: str = "",
    completed: str = "",
    learner_type: str = "independent",
    employer: str = "",
    wants: str = "",
    evidence: str = "",
) -> dict[str, str]:
    return {
        "learner_ref": ref,
        "bootcamp_id": bootcamp_id,
        "learner_type": learner_type,
        "employer_id": employer,
        "wants_interview": wants,
        "start_date": start,
        "m1_date": m1,
        "withdrawal_date": withdrawn,
        "withdrawal_reported_date": reported,
        "completion_date": completed,
        "new_role_evidence_date": evidence,
        "given_name": "Ada",
        "family_name": "Lovelace",
    }


def build(**rows: list[dict[str, str]]) -> dict[str, pd.DataFrame]:
    """Every contract table: the given rows, one default bootcamp B1, the rest empty."""
    rows.setdefault("bootcamps", [bootcamp()])
    rows.setdefault("provider", [{"provider_id": "P1", "name": "Prov", "ukprn": "10000001"}])
    return {name: make(name, rows.get(name, [])) for name in TABLES}


def kpis_alone(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: date,
    rules: Rules,
    not_supplied: Mapping[str, str] | None = None,
) -> list[KpiResult]:
    """Every KPI of one provider's tables: :func:`kpitools.kpis.compute_kpis` of a run of
    one provider."""
    return compute_kpis(
        {"P1": tables},
        as_of=as_of,
        rules=rules,
        not_supplied=None if not_supplied is None else {"P1": not_supplied},
    )["P1"]


def write_return(folder, rows: dict[str, list[dict[str, str]]]) -> None:
    """Write a provider folder of CSVs (contract headers) from text rows, for CLI tests."""
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    for name, records in rows.items():
        columns = TABLES[name].column_names
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            for record in records:
                writer.writerow({c: record.get(c, "") for c in columns})


def small_return(provider_id: str = "P1") -> dict[str, list[dict[str, str]]]:
    """A tiny return at 2023-03-31: B1 with five learners (hand-worked figures below).

    L1..L3 completed 2023-03-20 with initial and final assessments and a valid interview;
    L4 withdrew 2023-02-01 (after M1 2023-01-10), reported 2023-03-15 (more than one
    month: DROP-LATE-REPORT) and was referred 2023-02-10; L5 is still learning.
    Drop-out: 1 / 5 = 20 %. A referral of L5 dated 2023-04-02 is FUTURE-DATED.
    """
    learners = [learner(f"L{i}", m1="2023-01-10", completed="2023-03-20") for i in (1, 2, 3)]
    learners += [
        learner("L4", m1="2023-01-10", withdrawn="2023-02-01", reported="2023-03-15"),
        learner("L5", m1="2023-01-10"),
    ]
    assessments = [
        {
            "learner_ref": f"L{i}",
            "bootcamp_id": "B1",
            "kind": kind,
            "assessment_date": day,
            "skills_achieved": ok,
        }
        for i in (1, 2, 3)
        for kind, day, ok in (("initial", "2023-01-05", ""), ("final", "2023-03-20", "Y"))
    ] + [
        {"learner_ref": r, "bootcamp_id": "B1", "kind": "initial", "assessment_date": "2023-01-05"}
        for r in ("L4", "L5")
    ]
    interviews = [
        {
            "learner_ref": f"L{i}",
            "bootcamp_id": "B1",
            "employer_id": "E1",
            "offer_date": "2023-03-01",
            "role_type": "job",
            "matches_skills": "Y",
        }
        for i in (1, 2, 3)
    ]
    return {
        "provider": [{"provider_id": provider_id, "name": "Example Training", "ukprn": "10000001"}],
        "bootcamps": [bootcamp(end="2023-04-30")],
        "learners": learners,
        "employers": [
            {
                "employer_id": "E1",
                "name": '=HYPERLINK("http://x.invalid","x")',
                "roles": "interviewing",
                "contact_name": "Pat",
                "contact_phone": "0100",
                "status": "active",
            }
        ],
        "assessments": assessments,
        "interviews": interviews,
        "referrals": [
            {"learner_ref": "L4", "bootcamp_id": "B1", "referral_date": "2023-02-10"},
            {"learner_ref": "L5", "bootcamp_id": "B1", "referral_date": "2023-04-02"},
        ],
        # supplied with a header and no rows (an absent file would be "not supplied")
        "employer_contacts": [],
        "cofunding_payments": [],
        "outcomes": [],
    }
