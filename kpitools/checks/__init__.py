"""Irregularity checks that cut across KPIs: the auditor's view beside the KPIs.

Every check is a pure function of validated frames returning
:class:`~kpitools.model.Finding` rows with ``kpi == "irregularity"``. Two entry points:

- :func:`run_provider_checks` for one provider's return (and its previous month's);
- :func:`run_portfolio_checks` for every provider of one period (cross-provider ULNs).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date

from kpitools.checks.date_order import date_order
from kpitools.checks.duplicates import (
    duplicate_learner_rows,
    exact_duplicate_rows,
    uln_overlaps_across,
    uln_overlaps_within,
)
from kpitools.checks.employers import unknown_employers
from kpitools.checks.evidence import m2_without_evidence
from kpitools.checks.restated import restatements
from kpitools.model import Finding, ProviderReturn
from kpitools.rules import Rules

__all__ = [
    "run_portfolio_checks",
    "run_provider_checks",
    "unchecked",
]

log = logging.getLogger(__name__)


def run_provider_checks(
    current: ProviderReturn,
    previous: ProviderReturn | None,
    *,
    as_of: date,
    rules: Rules,
) -> list[Finding]:
    """Every within-provider irregularity check, in register order.

    DUP-ROW, DUP-ULN-OVERLAP (within the provider), DATE-ORDER, M2-NO-EVIDENCE,
    EMP-UNKNOWN, and RESTATED-* when a previous return is given. FUTURE-DATED is the
    KPI engineer's check (:mod:`kpitools.checks.future_dated`) and is run with the KPIs.

    Args:
        current: this month's validated return.
        previous: the previous month's return of the same provider, or None.
        as_of: the measurement date.
        rules: the rules in force (kept for checks whose thresholds become rules).

    Returns:
        Findings with ``kpi == "irregularity"``.
    """
    del rules  # no irregularity threshold is a rule yet; the signature is shared
    tables = current.tables
    skipped = set(unchecked(current, previous))
    findings = duplicate_learner_rows(tables["learners"], current.rejected)
    findings += exact_duplicate_rows(tables)
    findings += uln_overlaps_within(tables["learners"], tables["bootcamps"])
    findings += date_order(tables["learners"], tables["outcomes"])
    if "M2-NO-EVIDENCE" not in skipped:
        findings += m2_without_evidence(
            tables["learners"], tables["interviews"], tables["outcomes"], as_of=as_of
        )
    if "EMP-UNKNOWN" not in skipped:
        findings += unknown_employers(tables, current.rejected)
    if previous is not None and "RESTATED-*" not in skipped:
        findings += restatements(current, previous,
                                 payments="RESTATED-PAYMENT-*" not in skipped)
    log.info("%s: %d irregularities", current.provider_id, len(findings))
    return findings


CHECK_TABLES: dict[str, tuple[str, ...]] = {
    "M2-NO-EVIDENCE": ("interviews", "outcomes"),
    "EMP-UNKNOWN": ("employers",),
    "RESTATED-PAYMENT-*": ("cofunding_payments",),
}
"""The optional tables a check reads: without one (not supplied) the check is not run,
since the absence of evidence in a file left out proves nothing."""


def unchecked(current: ProviderReturn, previous: ProviderReturn | None) -> dict[str, str]:
    """The checks not run because a table they read was not supplied, each with the
    reason in words (``RESTATED-PAYMENT-*`` also when last month's return lacks it)."""
    reasons: dict[str, str] = {}
    count = current.counts.get("learners")
    if previous is not None and count is not None and count.read and not count.accepted:
        # each learner is in the file but rejected, not gone: see the rejected rows
        reasons["RESTATED-*"] = ("restatements (RESTATED-*) not checked: every learner row "
                                 "of this return was rejected (so were the rows naming them)")
    if count is not None and count.read and not count.accepted:
        reasons["ILR-MISMATCH-*"] = ("ILR reconciliation (ILR-MISMATCH-*) not checked: every "
                                     "learner row of the datasheet was rejected")
    for check, needed in CHECK_TABLES.items():
        returns = [current] if previous is None or not check.startswith("RESTATED") else [current, previous]
        missing = [ret.not_supplied[t] for ret in returns for t in needed if t in ret.not_supplied]
        if missing:
            reasons[check] = f"{check} not checked: {' and '.join(dict.fromkeys(missing))} not supplied"
    return reasons


def run_portfolio_checks(
    returns: Mapping[str, ProviderReturn], *, as_of: date
) -> dict[str, list[Finding]]:
    """Checks across every provider of one period: DUP-ULN-OVERLAP between providers.

    Pairs within one provider are reported by :func:`run_provider_checks`, so they are
    not repeated here. ``as_of`` is part of the shared signature; learning periods use
    the recorded dates as they stand.

    Returns:
        Findings per provider id (every provider present, maybe with none).
    """
    del as_of
    learners = {pid: r.tables["learners"] for pid, r in returns.items()}
    bootcamps = {pid: r.tables["bootcamps"] for pid, r in returns.items()}
    return uln_overlaps_across(learners, bootcamps)
