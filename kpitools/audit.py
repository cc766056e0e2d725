"""Assemble a provider's audit: load the return, compute the KPIs and the irregularities.

This module orchestrates; the work is done by the loader (:mod:`kpitools.ilr.load`), the
KPIs (:mod:`kpitools.kpis`) and the checks (:mod:`kpitools.checks`). Packs, registers and
``kpitools kpis`` all start from the :class:`~kpitools.model.ProviderAudit` built here.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pandas as pd

from kpitools import layout
from kpitools.calendar import as_of_outside
from kpitools.checks import run_period_checks, run_portfolio_checks, run_provider_checks, unchecked
from kpitools.checks.future_dated import future_dated
from kpitools.errors import FileLevelError, KpiToolsError, ParameterError, ProviderFailure
from kpitools.io.memory import check_provider_memory, fewer_collections
from kpitools.io.workers import process_pool
from kpitools.kpis import compute_all, compute_period
from kpitools.kpis.charts import pack_charts, period_cofunding_due_vs_paid
from kpitools.kpis.measured import measured
from kpitools.model import Finding, KpiResult, ProviderAudit, ProviderReturn
from kpitools.returns.period import shared_stacks
from kpitools.returns.validate import MAX_REJECTED_REASONS
from kpitools.rules import Rules
from kpitools.worklists import BREACH_RISK
from kpitools.worklists.build import (
    period_worklists,
    portfolio_breach_risk,
    provider_worklists,
    with_breach_risk,
)
from kpitools.worklists.followup import RegisterTrail, provider_followup
from kpitools.worklists.risk import breach_risk

if TYPE_CHECKING:  # the ILR's reader loads lxml, which a pack's kernel never needs
    from kpitools.ilr.reconcile import IlrReview

log = logging.getLogger(__name__)
_T = TypeVar("_T")


@fewer_collections()
def audit_provider(
    provider_dir: str | Path,
    *,
    as_of: date,
    rules: Rules | None = None,
    period: str | None = None,
    previous_dir: Path | None = None,
    trend_months: int = 0,
) -> ProviderAudit:
    """Load one provider's return (and its previous month's) and audit it.

    Args:
        provider_dir: the provider folder, ``DATA/<period>/<provider id>``.
        as_of: the measurement date.
        rules: the rules in force (default: the spec's).
        period: the reporting period ``YYYY-MM`` (default: the parent folder's name when
            it is one).
        previous_dir: the previous month's folder of the same provider, if any.
        trend_months: when above 0, the audit also holds its KPI trends over that many
            periods (``ProviderAudit.trends``, :func:`kpitools.kpis.trends.provider_trends`).

    Raises:
        KpiToolsError: a file of the return cannot be read at all.
        ParameterError: ``previous_dir`` holds another provider's return.
        TooLargeError: the audit is estimated to need more memory than the limit
            (:func:`kpitools.io.memory.check_provider_memory`), checked before loading.
    """
    loaded = _load(Path(provider_dir), previous_dir, rules)
    period = period or layout.provider_period(provider_dir)
    audit = audit_return(
        loaded.current,
        as_of=as_of,
        rules=rules,
        period=period,
        previous=loaded.previous,
        notes=loaded.notes,
    )
    if trend_months:
        from kpitools.kpis.trends import provider_trends

        audit.trends = provider_trends(audit, months=trend_months)
    return audit


@dataclass
class _Loaded:
    """A provider's return, its previous month's (if any) and what was said about it."""

    current: ProviderReturn
    previous: ProviderReturn | None
    notes: list[str]


def _load(provider_dir: Path, previous_dir: Path | None, rules: Rules | None) -> _Loaded:
    """Load a provider's return and its previous month's (the first step of an audit).

    Raises:
        KpiToolsError: a file cannot be read; ParameterError: the previous return is
            another provider's; TooLargeError: the audit would need more memory than
            the limit (checked before loading).
    """
    from kpitools.ilr.load import load_provider

    check_provider_memory(provider_dir, previous_dir, reasons_per_table=MAX_REJECTED_REASONS)
    current = load_provider(provider_dir, rules=rules)
    previous = (
        load_provider(previous_dir, rules=rules)
        if previous_dir is not None and Path(previous_dir).is_dir()
        else None
    )
    return _paired(current, previous_dir, previous)


def _paired(
    current: ProviderReturn, previous_dir: Path | None, previous: ProviderReturn | None
) -> _Loaded:
    """A return with its previous month's (``previous``, loaded from ``previous_dir`` when
    that is a folder), with the notes that say which.

    Raises:
        ParameterError: the previous return is another provider's.
    """
    notes: list[str] = []
    if previous_dir is None:
        notes.append(
            "no previous month's return beside this one: restatements (RESTATED-*) not checked"
        )
    elif previous is None:
        notes.append(
            f"no previous return found at {Path(previous_dir).as_posix()}: "
            "restatements (RESTATED-*) not checked"
        )
    else:
        _same_provider(current, previous)
        notes.append(f"previous return: {Path(previous_dir).as_posix()}")
    return _Loaded(current, previous, notes)


def _load_period(tasks: list[_ProviderTask]) -> list[_Loaded | KpiToolsError]:
    """:func:`_load_task` of every task, each return (and its previous month's) read on
    its own and all validated at once (:func:`kpitools.ilr.load.load_providers`); on a
    fault of kpitools there, each task is loaded on its own (logged)."""
    from kpitools.ilr.load import load_providers

    try:
        checked: list[_ProviderTask | KpiToolsError] = []
        for task in tasks:
            try:
                check_provider_memory(
                    task.provider_dir,
                    task.previous_dir,
                    reasons_per_table=MAX_REJECTED_REASONS,
                )
                checked.append(task)
            except KpiToolsError as error:
                checked.append(error)
        folders = [
            folder
            for task in checked
            if isinstance(task, _ProviderTask)
            for folder in (task.provider_dir, task.previous_dir)
            if folder is not None and (folder == task.provider_dir or folder.is_dir())
        ]
        rules = tasks[0].rules if tasks else None
        returns = dict(zip(folders, load_providers(folders, rules=rules), strict=True))
        return [
            task if isinstance(task, KpiToolsError) else _loaded(task, returns) for task in checked
        ]
    except Exception as error:  # a fault in kpitools: each provider on its own
        log.warning(
            "loading the period's returns together failed (%s: %s); each provider "
            "is loaded on its own",
            type(error).__name__,
            error,
        )
        log.debug("period loading failed", exc_info=error)
        return [_load_task(task) for task in tasks]


def _loaded(
    task: _ProviderTask, returns: Mapping[Path, ProviderReturn | KpiToolsError]
) -> _Loaded | KpiToolsError:
    """One task's returns, loaded by :func:`_load_period`, paired as :func:`_load` does."""
    current = returns[task.provider_dir]
    previous = returns.get(task.previous_dir) if task.previous_dir is not None else None
    if isinstance(current, KpiToolsError):
        return current
    if isinstance(previous, KpiToolsError):
        return previous
    try:
        return _paired(current, task.previous_dir, previous)
    except KpiToolsError as error:
        return error


SINGLE_PROVIDER_NOTE = (
    "cross-provider checks (one ULN at two providers with overlapping learning, "
    "DUP-ULN-OVERLAP) were not run: they need the whole period, `kpitools packs DATA/PERIOD` "
    "(or `kpitools kpis --period-dir DATA/PERIOD`)"
)


def audit_single_provider(
    provider_dir: str | Path,
    *,
    as_of: date,
    rules: Rules | None = None,
    period: str | None = None,
    previous_dir: Path | None = None,
    period_dir: str | Path | None = None,
    trend_months: int = 0,
    register: RegisterTrail | None = None,
) -> ProviderAudit:
    """:func:`audit_provider` for a run on one provider (``kpitools kpis``, ``kpitools
    pack``, a notebook on its own), which says what it could not check.

    Args:
        provider_dir, as_of, rules, period, previous_dir, trend_months: as for
            :func:`audit_provider`.
        period_dir: ``DATA/PERIOD``: the other providers there are loaded and the
            cross-provider checks run against them. Without it the audit notes that
            those checks were not run (:data:`SINGLE_PROVIDER_NOTE`).
        register: where the provider's register is kept (and the key of its exception
            ids): the audit then holds the register's follow-up against last month's
            (``ProviderAudit.followup``, :func:`kpitools.worklists.followup.provider_followup`).

    Raises:
        KpiToolsError: as :func:`audit_provider`; or ``period_dir`` is not a folder.
    """
    audit = audit_provider(
        provider_dir,
        as_of=as_of,
        rules=rules,
        period=period,
        previous_dir=previous_dir,
        trend_months=trend_months,
    )
    if period_dir is None:
        audit.notes.append(SINGLE_PROVIDER_NOTE)
    else:
        _cross_provider_checks(audit, Path(provider_dir), Path(period_dir))
    if register is not None:  # last: the follow-up covers every finding
        audit.followup = provider_followup(audit, register)
    return audit


def _cross_provider_checks(audit: ProviderAudit, provider_dir: Path, period_dir: Path) -> None:
    """The cross-provider checks of one provider against the others of ``period_dir``,
    added to its irregularities, with a note of how many were compared."""
    from kpitools.ilr.load import load_provider

    if not period_dir.is_dir():
        raise KpiToolsError("--period-dir: period folder not found", path=period_dir)
    here = provider_dir.resolve()
    others: dict[str, ProviderReturn] = {}
    unread: list[str] = []
    for folder in layout.provider_folders(period_dir):
        if folder.resolve() == here:
            continue
        try:
            other = load_provider(folder, rules=audit.rules)
        except KpiToolsError:
            unread.append(folder.name)
            continue
        others[other.provider_id] = other
    returns = {**others, audit.provider_id: audit.provider}
    audit.irregularities.extend(run_portfolio_checks(returns, as_of=audit.as_of)[audit.provider_id])
    note = f"cross-provider checks run against {len(others)} other provider(s) of {period_dir.as_posix()}"
    if unread:
        note += f" ({len(unread)} could not be read: {', '.join(unread)})"
    audit.notes.append(note)


def _same_provider(current: ProviderReturn, previous: ProviderReturn) -> None:
    """Refuse to compare a return with another provider's previous month: every learner
    would look restated. When last month's return names the provider its folder is named
    for and this month's does not, this month's provider.csv is the one to correct."""
    if previous.provider_id != current.provider_id:
        folder = Path(current.path).name
        if previous.provider_id == folder:
            raise folder_mismatch(current.provider_id, Path(current.path))
        raise ParameterError(
            f"the previous return is provider {previous.provider_id}'s, not {current.provider_id}'s: "
            "previous_dir must be the same provider's previous month (leave it blank to find it "
            "beside provider_dir)",
            path=previous.path,
        )


def folder_mismatch(provider_id: str, provider_dir: Path) -> FileLevelError:
    """The error of a return whose provider.csv names another provider than its folder."""
    return FileLevelError(
        f"provider.csv names provider {provider_id!r} but the folder is "
        f"{provider_dir.name!r}; rename the folder or correct provider.csv",
        path=provider_dir,
    )


def audit_return(
    current: ProviderReturn,
    *,
    as_of: date,
    rules: Rules | None = None,
    period: str | None = None,
    previous: ProviderReturn | None = None,
    notes: list[str] | None = None,
    kpi_results: list[KpiResult] | None = None,
    checked: list[Finding] | None = None,
    cofunding: pd.DataFrame | None = None,
    worklists: Mapping[str, pd.DataFrame] | None = None,
    ilr: IlrReview | None = None,
    breach: bool = True,
) -> ProviderAudit:
    """Audit an already loaded return: KPIs, FUTURE-DATED and the irregularity checks.

    Args:
        current: the validated return.
        as_of: the measurement date.
        rules: the rules in force (default: the spec's).
        period: the reporting period ``YYYY-MM``, if known.
        previous: the previous month's return, if any.
        notes: plain-language notes to carry into the audit.
        kpi_results: the return's KPI results when already measured with its period
            (:func:`kpitools.kpis.compute_period`); by default they are measured here.
        checked: the return's irregularity checks when already run with its period
            (:func:`kpitools.checks.run_period_checks`); by default they are run here.
        cofunding: the return's co-funding chart when already computed with its period
            (:func:`kpitools.kpis.charts.period_cofunding_due_vs_paid`); by default here.
        worklists: the return's worklists when already built with its period
            (:func:`kpitools.worklists.build.period_worklists`, with the breach risk
            when ``breach``); by default they are built here.
        ilr: the review of the return's ILR files when already made with its period
            (:func:`kpitools.ilr.reconcile.period_ilr_reviews`); by default made here.
        breach: False leaves the breach risk out of the worklists, for :func:`audit_period`,
            which adds it once with the portfolio's hazard (:func:`_portfolio_checks`).
    """
    rules = rules or Rules()
    outside = as_of_outside(as_of, period)
    skipped = unchecked(current, previous)
    notes = [
        *learner_notes(current),
        *([outside] if outside else []),
        *(notes or []),
        *skipped.values(),
    ]
    if kpi_results is None:
        kpi_results = compute_all(
            measured(current, as_of), as_of=as_of, rules=rules, not_supplied=current.not_supplied
        )
    # ILR files beside the return (kpitools.ilr.reconcile): DfE rule findings,
    # ILR-MISMATCH-* and the ILR's drop-outs with their withdrawal reason.
    if ilr is None:
        from kpitools.ilr.reconcile import ilr_review

        ilr = ilr_review(current, as_of=as_of, rules=rules)
    ilr_findings = [
        f
        for f in ilr.findings
        if not ("ILR-MISMATCH-*" in skipped and f.rule.startswith("ILR-MISMATCH-"))
    ]
    irregularities = (
        _irregularities(current, previous, as_of=as_of, rules=rules, checked=checked) + ilr_findings
    )
    # Auditor's worklists (kpitools.worklists.build): samples, ageing, breach risk.
    if worklists is None:
        worklists = provider_worklists(current, as_of=as_of, rules=rules, breach=breach)
    worklists = {**worklists, **ilr.worklists}
    log.info(
        "%s: %d KPI results, %d irregularities",
        current.provider_id,
        len(kpi_results),
        len(irregularities),
    )
    return ProviderAudit(
        provider=current,
        as_of=as_of,
        rules=rules,
        kpi_results=kpi_results,
        period=period,
        irregularities=irregularities,
        previous=previous,
        notes=notes,
        worklists=worklists,
        charts=pack_charts(current, kpi_results, as_of=as_of, rules=rules, cofunding=cofunding),
        ilr_scope=ilr.scope,
        ilr_inputs=ilr.inputs,
    )


def learner_notes(current: ProviderReturn, *, top: int = 3) -> list[str]:
    """A plain sentence when the return has no accepted learner: none yet (a header
    only), or every learner row rejected, with the count and the commonest reasons.

    Returns:
        One note, or none when some learner was accepted.
    """
    count = current.counts.get("learners")
    if count is None or count.accepted:
        return []
    if count.read == 0:
        return [
            "No learners yet: the learners table has no rows, so no learner KPI can be "
            "measured until learners start."
        ]
    rejected = current.rejected[current.rejected["table"] == "learners"]
    reasons = (
        rejected.drop_duplicates(["source", "column", "reason"])
        .groupby(["column", "reason"], sort=False)
        .size()
        .sort_values(ascending=False, kind="stable")
        .head(top)
    )
    listed = "; ".join(
        f"{column}: {reason} ({rows} rows)" for (column, reason), rows in reasons.items()
    )
    return [
        f"Every learner row was rejected ({count.rejected} of {count.read}), so no learner "
        f"KPI can be measured until the file is corrected. Top reasons: {listed}."
    ]


def _irregularities(
    current: ProviderReturn,
    previous: ProviderReturn | None,
    *,
    as_of: date,
    rules: Rules,
    checked: list[Finding] | None = None,
) -> list[Finding]:
    findings = future_dated(current.tables, as_of=as_of)
    # Irregularity checks (kpitools.checks): DUP-*, DATE-ORDER, M2-NO-EVIDENCE,
    # EMP-UNKNOWN, and RESTATED-* when a previous return was found.
    if checked is None:
        checked = run_provider_checks(current, previous, as_of=as_of, rules=rules)
    return findings + checked


def audit_period(
    period_dir: str | Path,
    *,
    as_of: date,
    rules: Rules | None = None,
    previous_period_dir: Path | None = None,
    workers: int = 1,
    trend_months: int = 0,
    period_out: Path | None = None,
    pseudonym_key: bytes | None = None,
) -> dict[str, ProviderAudit | KpiToolsError]:
    """Audit every provider folder of one period; a provider that fails does not stop others.

    Args:
        period_dir: ``DATA/<period>``; each sub-folder named like a provider id is audited.
        as_of: the measurement date.
        rules: the rules in force (default: the spec's).
        previous_period_dir: ``DATA/<previous period>``; by default the sibling folder of
            the previous month when ``period_dir`` is named ``YYYY-MM`` and it exists.
        workers: processes auditing providers side by side (1: all in this process,
            every KPI measured once for the whole period, :func:`kpitools.kpis.
            compute_period`). The results are the same, in the same order, whatever the
            number.
        trend_months: when above 0, each audit also gets its KPI trends over that many
            periods (``ProviderAudit.trends``, :func:`kpitools.kpis.trends.provider_trends`),
            computed in the same worker.
        period_out: ``OUT/<period>``, with ``pseudonym_key``: each audit also holds its
            register's follow-up (``ProviderAudit.followup``) against last month's
            register of the provider, ``OUT/<previous period>/<provider>/exceptions.xlsx``
            (:func:`kpitools.worklists.followup.provider_followup`).
        pseudonym_key: the key the register's exception ids are made with.

    Returns:
        Per provider id (sorted): its ProviderAudit, or the KpiToolsError that stopped it.

    Raises:
        KpiToolsError: the period folder does not exist.
    """
    period_dir = Path(period_dir)
    if not period_dir.is_dir():
        raise KpiToolsError("period folder not found", path=period_dir)
    period = period_dir.name if layout.is_period_name(period_dir.name) else None
    if previous_period_dir is None:
        previous_period_dir = layout.previous_period_dir(period_dir)
    folders = layout.provider_folders(period_dir)
    tasks = [
        _ProviderTask(
            folder,
            None if previous_period_dir is None else previous_period_dir / folder.name,
            as_of,
            rules,
            period,
            trend_months,
        )
        for folder in folders
    ]
    results: dict[str, ProviderAudit | KpiToolsError] = {}
    with shared_stacks():  # each table of the period stacked once for every step
        for folder, result in zip(folders, _run_tasks(tasks, workers), strict=True):
            if isinstance(result, KpiToolsError):
                log.warning("%s: %s", folder.name, result.one_line())
            results[folder.name] = result
        _period_portfolio(
            {k: v for k, v in results.items() if isinstance(v, ProviderAudit)}, as_of=as_of
        )
    if period_out is not None and pseudonym_key is not None:
        _follow_up(results, period_out, pseudonym_key)
    return results


def _period_portfolio(audits: Mapping[str, ProviderAudit], *, as_of: date) -> None:
    """:func:`_portfolio_checks` of a period's audits; on a fault of kpitools, every
    audit says so and gets the breach risk of its own hazard."""
    try:
        _portfolio_checks(audits, as_of=as_of)
    except Exception as error:  # a fault in kpitools: say so in every pack, stop nobody
        log.warning("cross-provider checks failed: %s: %s", type(error).__name__, error)
        log.debug("cross-provider checks failed", exc_info=error)
        for audit in audits.values():
            audit.notes.append(
                f"cross-provider checks (DUP-ULN-OVERLAP between providers) "
                f"failed on an unexpected error ({type(error).__name__}) and "
                "are missing from this audit"
            )
            if BREACH_RISK not in audit.worklists:  # the provider's own hazard, as alone
                audit.worklists = with_breach_risk(
                    audit.worklists, breach_risk(audit.provider, as_of=as_of, rules=audit.rules)
                )


def _follow_up(
    results: dict[str, ProviderAudit | KpiToolsError], period_out: Path, key: bytes
) -> None:
    """Each audit's register follow-up, once every finding is in (the cross-provider
    ones too); a provider whose follow-up fails on an unexpected error fails alone."""
    for provider_id, audit in results.items():
        if isinstance(audit, KpiToolsError):
            continue
        try:
            audit.followup = provider_followup(audit, RegisterTrail(period_out / provider_id, key))
        except Exception as error:  # a fault in kpitools: that provider fails, not the period
            log.warning(
                "%s: register follow-up failed: %s: %s", provider_id, type(error).__name__, error
            )
            results[provider_id] = ProviderFailure.during("register follow-up", error)


@dataclass(frozen=True)
class _ProviderTask:
    """One provider of a period to audit (picklable, for worker processes)."""

    provider_dir: Path
    previous_dir: Path | None
    as_of: date
    rules: Rules | None
    period: str | None
    trend_months: int = 0


@fewer_collections()
def _load_task(task: _ProviderTask) -> _Loaded | KpiToolsError:
    try:
        return _load(task.provider_dir, task.previous_dir, task.rules)
    except KpiToolsError as error:
        return error
    except Exception as error:  # a fault in kpitools: that provider fails, not the batch
        # one line here (audit_period logs it); the traceback goes to error.txt
        return ProviderFailure.during("audit", error, path=task.provider_dir)


def _finish_task(
    task: _ProviderTask,
    loaded: _Loaded,
    kpi_results: list[KpiResult] | None = None,
    checked: list[Finding] | None = None,
    cofunding: pd.DataFrame | None = None,
    worklists: Mapping[str, pd.DataFrame] | None = None,
    ilr: IlrReview | None = None,
    *,
    trends: bool = True,
) -> ProviderAudit | KpiToolsError:
    """The audit of a loaded return (its KPI results, checks and worklists when already
    built), with its trends when ``trends`` and the task asks for them."""
    try:
        audit = audit_return(
            loaded.current,
            as_of=task.as_of,
            rules=task.rules,
            period=task.period or layout.provider_period(task.provider_dir),
            previous=loaded.previous,
            notes=loaded.notes,
            kpi_results=kpi_results,
            checked=checked,
            cofunding=cofunding,
            worklists=worklists,
            ilr=ilr,
            breach=False,
        )  # the period adds it (_portfolio_checks)
    except KpiToolsError as error:
        return error
    except Exception as error:  # a fault in kpitools: that provider fails, not the batch
        return ProviderFailure.during("audit", error, path=task.provider_dir)
    if audit.provider_id != task.provider_dir.name:
        # In a period the folder is the provider: its outputs, its previous month and
        # the index are all found by that name, so a return naming another provider
        # cannot be filed anywhere without hiding one of the two.
        return folder_mismatch(audit.provider_id, task.provider_dir)
    if trends and task.trend_months:
        from kpitools.kpis.trends import provider_trends

        audit.trends = provider_trends(audit, months=task.trend_months)
    return audit


@fewer_collections()
@shared_stacks()  # in a worker process; in audit_period's own, it is already shared
def _period_tasks(tasks: list[_ProviderTask]) -> list[ProviderAudit | KpiToolsError]:
    """Every task's audit in this process: each return loaded, every KPI measured once
    for all the loaded returns (:func:`kpitools.kpis.compute_period`), every check and
    worklist likewise (:func:`kpitools.checks.run_period_checks`,
    :func:`kpitools.worklists.build.period_worklists`), the ILR files of all of them
    mapped and reviewed at once (:func:`kpitools.ilr.reconcile.period_ilr_reviews`), then
    each audit finished on its own; the trends' earlier months are measured once for the
    period (:func:`kpitools.kpis.trends.period_trends`). The returns are validated
    together (:func:`_load_period`)."""
    loaded = _load_period(tasks)
    returns = {
        task.provider_dir.name: found.current
        for task, found in zip(tasks, loaded, strict=True)
        if isinstance(found, _Loaded)
    }
    kpis: dict[str, list[KpiResult]] = {}
    checked: dict[str, list[Finding]] = {}
    cofunding: dict[str, pd.DataFrame] = {}
    worklists: dict[str, dict[str, pd.DataFrame]] = {}
    if tasks and returns:
        as_of, rules = tasks[0].as_of, tasks[0].rules or Rules()
        try:
            kpis = compute_period(
                {p: measured(r, as_of) for p, r in returns.items()},
                as_of=as_of,
                rules=rules,
                not_supplied={p: r.not_supplied for p, r in returns.items()},
            )
            pairs = {
                task.provider_dir.name: (found.current, found.previous)
                for task, found in zip(tasks, loaded, strict=True)
                if isinstance(found, _Loaded)
            }
            checked = run_period_checks(pairs, as_of=as_of, rules=rules)
            cofunding = period_cofunding_due_vs_paid(
                {p: measured(r, as_of) for p, r in returns.items()}, as_of=as_of, rules=rules
            )
        except Exception as error:  # a fault in kpitools: each provider on its own
            kpis, checked, cofunding = {}, {}, {}
            log.warning(
                "the period's KPIs and checks failed (%s: %s); each provider is audited on its own",
                type(error).__name__,
                error,
            )
            log.debug("period KPIs and checks failed", exc_info=error)
        worklists = _period_worklists(returns, as_of=as_of, rules=rules)
    reviews = _period_ilr_reviews(tasks, returns)
    results = [
        found
        if isinstance(found, KpiToolsError)
        else _finish_task(
            task,
            found,
            kpis.get(task.provider_dir.name),
            checked.get(task.provider_dir.name),
            cofunding.get(task.provider_dir.name),
            worklists.get(task.provider_dir.name),
            reviews.get(task.provider_dir.name),
            trends=False,
        )
        for task, found in zip(tasks, loaded, strict=True)
    ]
    audits = {audit.provider_id: audit for audit in results if isinstance(audit, ProviderAudit)}
    if tasks and tasks[0].trend_months and audits:
        from kpitools.kpis.trends import period_trends

        # each earlier month measured once for every provider, not once per provider
        for provider_id, trend in period_trends(audits, months=tasks[0].trend_months).items():
            audits[provider_id].trends = trend
    return results


def _period_worklists(
    returns: Mapping[str, ProviderReturn], *, as_of: date, rules: Rules
) -> dict[str, dict[str, pd.DataFrame]]:
    """Every return's worklists built once for the period, the breach risk left out (the
    portfolio step adds it); none when that faults, so that each audit builds its own."""
    try:
        return period_worklists(returns, as_of=as_of, rules=rules, breach=False)
    except Exception as error:  # a fault in kpitools: each provider on its own
        log.warning(
            "the period's worklists failed (%s: %s); each provider's are built on its own",
            type(error).__name__,
            error,
        )
        log.debug("period worklists failed", exc_info=error)
        return {}


def _period_ilr_reviews(
    tasks: list[_ProviderTask], returns: dict[str, ProviderReturn]
) -> dict[str, IlrReview]:
    """The ILR review of every loaded return, made once for the period; none (each
    provider reviews its own) when that step fails on an unexpected error."""
    if not tasks or not returns:
        return {}
    from kpitools.ilr.reconcile import period_ilr_reviews

    try:
        return period_ilr_reviews(returns, as_of=tasks[0].as_of, rules=tasks[0].rules or Rules())
    except Exception as error:  # a fault in kpitools: each provider on its own
        log.warning(
            "the period's ILR review failed (%s: %s); each provider's ILR is reviewed on its own",
            type(error).__name__,
            error,
        )
        log.debug("period ILR review failed", exc_info=error)
        return {}


def _run_tasks(tasks: list[_ProviderTask], workers: int) -> Iterator[ProviderAudit | KpiToolsError]:
    """Each task's audit, in task order; in ``workers`` processes when more than one,
    each auditing contiguous shares of the period with the period engine
    (:func:`_period_tasks`), so the period's steps run once a share, not once a provider."""
    workers = min(workers, len(tasks))
    if workers <= 1:
        yield from _period_tasks(tasks)
        return
    with process_pool(workers) as pool:
        # each return comes back with its measured tables (ProviderReturn.measured), so
        # the portfolio step does not derive them again; two shares a worker, so one
        # slow share does not leave the other worker idle for long
        for audits in pool.map(_period_tasks, shares(tasks, 2 * workers), chunksize=1):
            yield from audits


def shares(items: list[_T], count: int) -> list[list[_T]]:
    """``items`` cut into at most ``count`` contiguous shares, in order, their sizes
    differing by at most one (none empty)."""
    count = max(1, min(len(items), count))
    size, extra = divmod(len(items), count)
    bounds = [i * size + min(i, extra) for i in range(count + 1)]
    return [items[start:end] for start, end in itertools.pairwise(bounds)] if items else []


def _portfolio_checks(audits: Mapping[str, ProviderAudit], *, as_of: date) -> None:
    """Portfolio-wide checks: cross-provider DUP-ULN-OVERLAP findings are appended to
    each provider's irregularities, and the breach risk is added (the audits leave it
    out, ``audit_return(breach=False)``) with each provider's drop-out hazard shrunk
    toward the portfolio's (kpitools.worklists.risk)."""
    if not audits:
        return
    returns = {provider_id: audit.provider for provider_id, audit in audits.items()}
    for provider_id, findings in run_portfolio_checks(returns, as_of=as_of).items():
        audits[provider_id].irregularities.extend(findings)
    rules = next(iter(audits.values())).rules  # one rule set for the whole period
    for provider_id, risk in portfolio_breach_risk(returns, as_of=as_of, rules=rules).items():
        audits[provider_id].worklists = with_breach_risk(audits[provider_id].worklists, risk)
