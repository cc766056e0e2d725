"""EMP-UNKNOWN: an employer named in the return but not on its employer list."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from kpitools.model import (
    PERSONAL,
    Finding,
    employer_entity,
    irregularity,
    is_blank,
    learner_entity,
)

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
        One finding per row naming an unknown employer: on the learner whose row it is,
        or on the employer for a rejected learner row (the learner was not accepted).
    """
    return named_unknown_employers(tables) + rejected_unknown_employers(tables, rejected)


def named_unknown_employers(tables: Mapping[str, pd.DataFrame]) -> list[Finding]:
    """The EMP-UNKNOWN findings of :func:`unknown_employers` on accepted rows: of one
    return, or of a period's stacked tables (identifiers scoped, so each provider's
    employers are its own: :func:`kpitools.returns.period.stacked_tables`)."""
    listed = set(tables["employers"]["employer_id"].dropna().astype(str))
    findings: list[Finding] = []
    for table in NAMING_TABLES:
        frame = tables.get(table)
        if frame is None or frame.empty:
            continue
        unknown = [not is_blank(v) and v not in listed for v in frame["employer_id"].astype(object)]
        if not any(unknown):
            continue
        for row in frame[unknown].itertuples(index=False):
            findings.append(
                irregularity(
                    "EMP-UNKNOWN",
                    learner_entity(row.learner_ref),
                    [row.source],
                    f"{table} row {row.source} names employer "
                    f"{row.employer_id}, which is not in employers",
                    str(row.bootcamp_id),
                )
            )
    return findings


def rejected_unknown_employers(
    tables: Mapping[str, pd.DataFrame], rejected: pd.DataFrame
) -> list[Finding]:
    """The EMP-UNKNOWN findings of :func:`unknown_employers` on rejected learner rows."""
    findings: list[Finding] = []
    references = _rejected_learner_references(rejected)
    if references.empty:
        return findings
    listed = set(tables["employers"]["employer_id"].dropna().astype(str))
    for row in references.itertuples(index=False):
        if str(row.value) not in listed:
            findings.append(
                irregularity(
                    "EMP-UNKNOWN",
                    employer_entity(row.value),
                    [row.source],
                    f"co-funded learner row {row.source} (rejected) names employer {row.value}, "
                    "which is not in employers",
                )
            )
    return findings


def _rejected_learner_references(rejected: pd.DataFrame) -> pd.DataFrame:
    if rejected.empty:
        return rejected
    found = rejected[(rejected["table"] == "learners") & (rejected["rule"] == "REF-EMPLOYER")]
    # a value that could be personal data (a name typed as the employer) names no employer
    found = found[~found[PERSONAL].astype(bool)]
    return found[found["value"].map(lambda v: not is_blank(v))].drop_duplicates(["source", "value"])
