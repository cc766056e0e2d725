"""EMP-UNKNOWN: an employer named in the return but not on its employer list."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from kpitools.checks.common import employer_entity, irregularity, is_blank
from kpitools.model import Finding

# Accepted tables whose employer_id must name a listed employer.
NAMING_TABLES = ("learners", "cofunding_payments", "interviews", "outcomes")


def unknown_employers(tables: Mapping[str, pd.DataFrame], rejected: pd.DataFrame) -> list[Finding]:
    """EMP-UNKNOWN: employer ids used in learners, payments, interviews or outcomes that
    are not in ``employers``.

    The loader already rejects a co-funded learner naming an unknown employer (rule
    REF-EMPLOYER); those rejected learner rows are included here so that the employer is
    not lost from the register. Blank employer ids are not checked.

    Args:
        tables: the accepted tables of one return.
        rejected: its rejected rows (table, source, column, value, reason, rule).

    Returns:
        One finding per unknown employer id, citing every row that names it.
    """
    listed = set(tables["employers"]["employer_id"].dropna().astype(str))
    uses: dict[str, list[tuple[str, str, str]]] = {}  # employer -> (table, source, bootcamp)
    for table in NAMING_TABLES:
        frame = tables.get(table)
        if frame is None or frame.empty:
            continue
        named = frame[frame["employer_id"].map(lambda v: not is_blank(v))]
        for row in named.itertuples(index=False):
            employer = str(row.employer_id)
            if employer not in listed:
                uses.setdefault(employer, []).append((table, row.source, str(row.bootcamp_id)))
    for row in _rejected_learner_references(rejected).itertuples(index=False):
        employer = str(row.value)
        if employer not in listed:
            uses.setdefault(employer, []).append(("learners (rejected)", row.source, "ALL"))
    findings = []
    for employer, rows in uses.items():
        bootcamps = {b for _, _, b in rows if b != "ALL"}
        tables_named = sorted({t for t, _, _ in rows})
        findings.append(irregularity(
            "EMP-UNKNOWN", employer_entity(employer), [s for _, s, _ in rows],
            f"employer {employer} is named in {', '.join(tables_named)} "
            f"({len(rows)} row{'s' if len(rows) != 1 else ''}) but is not in employers",
            bootcamps.pop() if len(bootcamps) == 1 else "ALL",
        ))
    return findings


def _rejected_learner_references(rejected: pd.DataFrame) -> pd.DataFrame:
    if rejected.empty:
        return rejected
    mask = (rejected["table"] == "learners") & (rejected["rule"] == "REF-EMPLOYER")
    found = rejected[mask]
    return found[found["value"].map(lambda v: not is_blank(v))].drop_duplicates(["source", "value"])
