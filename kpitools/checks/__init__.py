"""Irregularity checks that cut across KPIs: the auditor's view beside the KPIs.

Every check is a pure function of validated frames returning
:class:`~kpitools.model.Finding` rows with ``kpi == "irregularity"``. Two entry points:

- :func:`run_checks` for each provider's return (and its previous month's), every
  provider of a run at once (one provider is a run of one);
- :func:`run_portfolio_checks` across the providers of one period (cross-provider ULNs).
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
from kpitools.checks.restated import restatements
from kpitools.model import Finding, ProviderReturn
from kpitools.returns.period import Stacks, by_provider, owner_of, stacked_tables
from kpitools.rules import Rules

__all__ = [
    "run_checks",
    "run_portfolio_checks",
    "unchecked",
]

log = logging.getLogger(__name__)


def run_checks(
    returns: Mapping[str, tuple[ProviderReturn, ProviderReturn | None]],
    *,
    as_of: date,
    rules: Rules,
    stacks: Stacks | None = None,
) -> dict[str, list[Finding]]:
    """Every within-provider irregularity check of every provider of a run (a mapping
    of one for one provider), in register order.

    DUP-ROW, DUP-ULN-OVERLAP (within the provider), DATE-ORDER, M2-NO-EVIDENCE,
    EMP-UNKNOWN, and RESTATED-* when a previous return is given. FUTURE-DATED is the
    KPI engineer's check (:mod:`kpitools.checks.future_dated`) and is run with the KPIs.
    The checks that look at one row at a time run once over the providers' tables
    stacked with their identifiers scoped (:func:`kpitools.returns.period.stacked_tables`),
    the restatements once for every provider with a previous return
    (:func:`kpitools.checks.restated.restatements`); each provider gets the findings it
    gets alone, in the same order.

    Args:
        returns: per provider id, this month's validated return and the previous month's
            return of the same provider (or None).
        as_of: the measurement date.
        rules: the rules in force (kept for checks whose thresholds become rules).
        stacks: the run's stacked tables (:class:`~kpitools.returns.period.Stacks`).

    Returns:
        Findings with ``kpi == "irregularity"`` per provider id, in the order given.
    """
    del rules  # no irregularity threshold is a rule yet; the signature is shared
    providers = tuple(returns)
    if not providers:
        return {}
    stacked = stacked_tables(
        {provider: current.tables for provider, (current, _) in returns.items()}, stacks=stacks
    )
    per_provider: dict[str, dict[str, list[Finding]]] = {provider: {} for provider in returns}
    for check, findings in _row_checks(stacked, as_of=as_of).items():
        owned = ((_owner_of_finding(finding, providers), finding) for finding in findings)
        for owner, found in by_provider(owned, providers).items():
            if found:
                per_provider[owner][check] = found
    skipped = {
        provider: set(unchecked(current, previous))
        for provider, (current, previous) in returns.items()
    }
    restated = restatements(
        {
            provider: (current, previous)
            for provider, (current, previous) in returns.items()
            if previous is not None and "RESTATED-*" not in skipped[provider]
        },
        payments={
            provider for provider in returns if "RESTATED-PAYMENT-*" not in skipped[provider]
        },
        stacks=stacks,
    )
    return {
        provider: _provider_checks(
            current,
            previous,
            row_checks=per_provider[provider],
            restated=restated.get(provider, []),
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


def _owner_of_finding(finding: Finding, providers: tuple[str, ...]) -> str:
    """The provider of a finding on stacked tables: its entity's."""
    provider = owner_of(finding.entity.partition(":")[2], providers)
    if provider not in providers:
        raise ValueError(f"{finding.rule}: a finding of no provider ({finding.entity!r})")
    return provider


def _provider_checks(
    current: ProviderReturn,
    previous: ProviderReturn | None,
    *,
    row_checks: Mapping[str, list[Finding]],
    restated: list[Finding],
) -> list[Finding]:
    """Every within-provider check in register order, those of :func:`_row_checks` and
    the restatements already run (a check missing from ``row_checks``: none found)."""
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
        findings += restated
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
    returns: Mapping[str, ProviderReturn], *, as_of: date, stacks: Stacks | None = None
) -> dict[str, list[Finding]]:
    """Checks across every provider of one period: DUP-ULN-OVERLAP between providers.

    Pairs within one provider are reported by :func:`run_checks`, so they are not
    repeated here. ``as_of`` is part of the shared signature; learning periods use the
    recorded dates as they stand.

    Returns:
        Findings per provider id (every provider present, maybe with none).
    """
    del as_of
    learners = {pid: r.tables["learners"] for pid, r in returns.items()}
    bootcamps = {pid: r.tables["bootcamps"] for pid, r in returns.items()}
    return uln_overlaps_across(learners, bootcamps, stacks=stacks)
