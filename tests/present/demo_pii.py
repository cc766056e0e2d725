"""The personal data of a demo return, looked for in what kpitools writes: the full
names and ULNs of its learners, and its employers' contact names, e-mails and phones
(in a CSV return or a datasheet)."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook


def table_rows(provider_dir: Path, table: str) -> list[dict[str, str]]:
    """A table of a return, its CSV file or its datasheet sheet, as text."""
    path = provider_dir / f"{table}.csv"
    if path.exists():
        with path.open(encoding="utf-8-sig") as handle:
            return list(csv.DictReader(handle))
    rows = list(load_workbook(provider_dir / "datasheet.xlsx")[table].iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return [
        {h: "" if v is None else str(v) for h, v in zip(header, row, strict=False)}
        for row in rows[1:]
    ]


def personal_data(provider_dir: Path) -> list[str]:
    """Full learner names, ULNs, dates of birth, postcodes and NI numbers, employer
    contact names, e-mails and phones of a return."""
    values = []
    for row in table_rows(provider_dir, "learners"):
        if row["given_name"] and row["family_name"]:
            values.append(f"{row['given_name']} {row['family_name']}")
        if row["uln"] and row["uln"] != "9999999999":
            values.append(row["uln"])
        values += [row[c] for c in ("date_of_birth", "postcode", "ni_number") if row.get(c)]
    for row in table_rows(provider_dir, "employers"):
        values += [row[c] for c in ("contact_name", "contact_email", "contact_phone") if row[c]]
    return values
