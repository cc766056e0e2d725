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

import pandas as pd

from kpitools.checks.date_order import date_order
from kpitools.checks.duplicates import (
    duplicate_learner_rows,
    exact_duplicate_rows,
    uln_overlaps_across,
    uln_overlaps_within,
)
from kpitools.checks.employers import named_unknown_employers, rejected_unknown_employers
from kpitools.checks.evidence import m2_without_evidence
from kpitools.checks.restated import period_restatements, restatements
from kpitools.layout import is_provider_name
from kpitools.model import Finding, ProviderReturn
from kpitools.returns.period import provider_of, stacked_tables, unscoped_finding
from kpitools.rules import Rules

__all__ = [
    "run_period_checks",
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
    return _provider_checks(
        current, previous, as_of=as_of, row_checks=_row_checks(current.tables, as_of=as_of)
    )


def run_period_checks(
    returns: Mapping[str, tuple[ProviderReturn, ProviderReturn | None]],
    *,
    as_of: date,
    rules: Rules,
) -> dict[str, list[Finding]]:
    """:func:`run_provider_checks` of every provider of a period, the same findings in
    the same order; the checks that look at one row at a time (DUP-ROW of the
    evidence tables, DUP-ULN-OVERLAP within a provider, DATE-ORDER, M2-NO-EVIDENCE,
    EMP-UNKNOWN on accepted rows) run once over the period's tables stacked with their
    identifiers scoped (:func:`kpitools.returns.period.stacked_tables`), and the
    restatements once for every provider with a previous return
    (:func:`kpitools.checks.restated.period_restatements`).

    Args:
        returns: per provider id (a provider folder name), its return and previous
            month's return (or None).
        as_of, rules: as for :func:`run_provider_checks`.

    Returns:
        Findings per provider id, in the order given.
    """
    del rules
    if len(returns) < 2 or not all(map(is_provider_name, returns)):
        return {
            provider: _provider_checks(
                current, previous, as_of=as_of, row_checks=_row_checks(current.tables, as_of=as_of)
            )
            for provider, (current, previous) in returns.items()
        }
    stacked = stacked_tables(
        {provider: current.tables for provider, (current, _) in returns.items()}
    )
    per_provider: dict[str, dict[str, list[Finding]]] = {provider: {} for provider in returns}
    for check, findings in _row_checks(stacked, as_of=as_of).items():
        for finding in findings:
            per_provider[_provider_of_finding(finding)].setdefault(check, []).append(
                unscoped_finding(finding)
            )
    skipped = {
        provider: set(unchecked(current, previous))
        for provider, (current, previous) in returns.items()
    }
    restated = period_restatements(
        {
            provider: (current, previous)
            for provider, (current, previous) in returns.items()
            if previous is not None and "RESTATED-*" not in skipped[provider]
        },
        payments={
            provider for provider in returns if "RESTATED-PAYMENT-*" not in skipped[provider]
        },
    )
    return {
        provider: _provider_checks(
            current,
            previous,
            as_of=as_of,
            row_checks=per_provider[provider],
            restated=restated.get(provider),
        )
        for provider, (current, previous) in returns.items()
    }


def _row_checks(tables: Mapping[str, pd.DataFrame], *, as_of: date) -> dict[str, list[Finding]]:
    """The checks of one row at a time, by name: of one provider, or of a period's
    stacked tables."""
    return {
        "exact_duplicates": exact_duplicate_rows(tables),
        "uln_overlaps_within": uln_overlaps_within(tables["learners"], tables["bootcamps"]),
        "date_order": date_order(tables["learners"], tables["outcomes"]),
        "m2_without_evidence": m2_without_evidence(
            tables["learners"], tables["interviews"], tables["outcomes"], as_of=as_of
        ),
        "unknown_employers": named_unknown_employers(tables),
    }


def _provider_of_finding(finding: Finding) -> str:
    """The provider of a finding on a period's stacked tables: its entity's."""
    provider = provider_of(finding.entity.partition(":")[2])
    if not provider:
        raise ValueError(f"{finding.rule}: a finding of no provider ({finding.entity!r})")
    return provider


def _provider_checks(
    current: ProviderReturn,
    previous: ProviderReturn | None,
    *,
    as_of: date,
    row_checks: Mapping[str, list[Finding]],
    restated: list[Finding] | None = None,
) -> list[Finding]:
    """Every within-provider check in register order, those of :func:`_row_checks`
    already run (missing: none found), and the restatements when given (None: they
    are found here when they are checked)."""
    del as_of  # the row checks have used it
    tables = current.tables
    skipped = set(unchecked(current, previous))
    findings = duplicate_learner_rows(tables["learners"], current.rejected)
    findings += row_checks.get("exact_duplicates", [])
    findings += row_checks.get("uln_overlaps_within", [])
    findings += row_checks.get("date_order", [])
    if "M2-NO-EVIDENCE" not in skipped:
        findings += row_checks.get("m2_without_evidence", [])
    if "EMP-UNKNOWN" not in skipped:
        findings += row_checks.get("unknown_employers", [])
        findings += rejected_unknown_employers(tables, current.rejected)
    if previous is not None and "RESTATED-*" not in skipped:
        findings += (
            restated
            if restated is not None
            else restatements(current, previous, payments="RESTATED-PAYMENT-*" not in skipped)
        )
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
        reasons["RESTATED-*"] = (
            "restatements (RESTATED-*) not checked: every learner row "
            "of this return was rejected (so were the rows naming them)"
        )
    if count is not None and count.read and not count.accepted:
        reasons["ILR-MISMATCH-*"] = (
            "ILR reconciliation (ILR-MISMATCH-*) not checked: every "
            "learner row of the datasheet was rejected"
        )
    for check, needed in CHECK_TABLES.items():
        returns = (
            [current]
            if previous is None or not check.startswith("RESTATED")
            else [current, previous]
        )
        missing = [ret.not_supplied[t] for ret in returns for t in needed if t in ret.not_supplied]
        if missing:
            reasons[check] = (
                f"{check} not checked: {' and '.join(dict.fromkeys(missing))} not supplied"
            )
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
