"""The audit engine: every provider of a run audited at once, each audit complete when
returned.

One engine, whatever the run. :func:`audit_period` audits every provider folder of a
period; :func:`audit_provider` and :func:`audit_single_provider` audit one provider
folder, which is the same run with one provider. Every step takes all the providers of
the run at once (a mapping of one for one provider) and gives each provider what it
gets alone:

1. **load** (:func:`_load`): each return and its previous month's read on its own, then
   validated together (:func:`kpitools.load.load_providers`);
2. **measure** (:func:`_measure`, once per rule set of the run): the KPIs
   (:func:`kpitools.kpis.compute_kpis`), FUTURE-DATED, the checks
   (:func:`kpitools.checks.run_checks`), the charts (:func:`kpitools.kpis.charts.pack_charts`),
   the samples and ageing lists (:func:`kpitools.worklists.build.build_worklists`) and the
   ILR review (:func:`kpitools.ilr.reconcile.ilr_reviews`), each over the
   providers' tables stacked (:mod:`kpitools.returns.period`);
3. **trends** (:func:`_trends`, when asked for): each earlier month loaded and measured
   once for every provider that has it, handed to :func:`kpitools.kpis.trends.kpi_trends`;
4. **portfolio** (:func:`_portfolio`): what needs every provider of the run, once all are
   measured: DUP-ULN-OVERLAP across providers (:func:`kpitools.checks.run_portfolio_checks`)
   and the breach risk (:func:`kpitools.worklists.build.breach_risks`, each provider's
   hazard shrunk toward the period's pooled one, :func:`~kpitools.worklists.build.
   portfolio_hazard_of`, in a period; its own alone);
5. **follow-up** (:func:`kpitools.worklists.followup.provider_followup`, when a register
   trail is given): last month's register read back against every finding;

and then each :class:`~kpitools.model.ProviderAudit` is built, once, frozen.

With N workers, steps 1 to 3 run in N worker processes, each on contiguous shares of the
providers (:func:`shares`); 4 and 5 in the calling process. The results are the same,
in folder order, whatever N.

**Failures.** A step that reads one provider's files fails for that provider alone: its
result is the error (a ``KpiToolsError`` for bad input, a ``ProviderFailure`` with its
traceback for a fault of kpitools), and the others go on. Those steps are: the memory
estimate, reading each folder of this month and last (:func:`kpitools.load.load_providers`),
the provider named by provider.csv (a period's folder is its provider), reading its ILR
files, and reading its last register. An earlier month that cannot be read is left out
of that provider's trends with a note. Every other step runs over the providers together
and holds no input of its own: an error there is a fault of kpitools and stops the run
with its traceback (no step falls back to another way of computing the same thing).
A run on one provider raises its failure.

**Caches** (each owned by the run, let go with it): :class:`~kpitools.returns.period.Stacks`
(each table stacked once), :class:`~kpitools.kpis.measured.Measurements` (each
return's tables as they stood at ``as_of``, with the frames derived from them) and
:class:`~kpitools.ilr.mapping.IlrReads` (each ILR file parsed once, by the loader, the
review and the trends), one of each per process of the run (:class:`_Caches`): with one
worker every step shares them; with N, each worker share has its own and the calling
process's portfolio step takes the measured tables each share sends back.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pandas as pd

from kpitools import layout
from kpitools.calendar import as_of_outside, period_end, period_of, previous_period
from kpitools.checks import run_checks, run_portfolio_checks, unchecked
from kpitools.checks.future_dated import future_dated
from kpitools.checks.people import PERSON_MATCHES, identity_records, person_matches
from kpitools.errors import FileLevelError, KpiToolsError, ParameterError, ProviderFailure
from kpitools.io.memory import check_provider_memory, fewer_collections
from kpitools.io.workers import process_pool
from kpitools.kpis import compute_kpis
from kpitools.kpis.charts import pack_charts
from kpitools.kpis.measured import MeasuredTables, Measurements
from kpitools.kpis.trends import kpi_trends
from kpitools.model import (
    Finding,
    IlrScope,
    InputFile,
    KpiResult,
    ProviderAudit,
    ProviderReturn,
    Trends,
    findings_of,
)
from kpitools.returns.period import Stacks
from kpitools.returns.validate import MAX_REJECTED_REASONS
from kpitools.rules import Rules
from kpitools.worklists import BREACH_RISK
from kpitools.worklists.build import breach_risks, build_worklists, portfolio_hazard_of
from kpitools.worklists.followup import RegisterTrail, provider_followup
from kpitools.worklists.replies import returned_replies

if TYPE_CHECKING:
    from kpitools.ilr.mapping import IlrReads

log = logging.getLogger(__name__)
_T = TypeVar("_T")

SINGLE_PROVIDER_NOTE = (
    "cross-provider checks (one ULN at two providers with overlapping learning, "
    "DUP-ULN-OVERLAP; one person matched at two providers, DUP-PERSON-*) were not run: "
    "they need the other providers of the period, "
    "`kpitools pack --period-dir DATA/PERIOD` (period_dir in the params or the notebook), "
    "`kpitools kpis --period-dir DATA/PERIOD` or `kpitools packs DATA/PERIOD`"
)


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
    """Load one provider's return (and its previous month's) and audit it: the engine's
    run of one provider.

    Args:
        provider_dir: the provider folder, ``DATA/<period>/<provider id>``.
        as_of: the measurement date.
        rules: the rules in force (default: the spec's).
        period: the reporting period ``YYYY-MM`` (default: the parent folder's name when
            it is one).
        previous_dir: the previous month's folder of the same provider, if any.
        trend_months: when above 0, the audit also holds its KPI trends over that many
            periods (``ProviderAudit.trends``, :func:`kpitools.kpis.trends.kpi_trends`).

    Raises:
        KpiToolsError: a file of the return cannot be read at all.
        ParameterError: ``previous_dir`` holds another provider's return.
        TooLargeError: the audit is estimated to need more memory than the limit
            (:func:`kpitools.io.memory.check_provider_memory`), checked before loading.
    """
    return _audit_alone(
        Path(provider_dir),
        as_of=as_of,
        rules=rules or Rules(),
        period=period,
        previous_dir=previous_dir,
        trend_months=trend_months,
    )


@fewer_collections()
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
    provider_dir, rules = Path(provider_dir), rules or Rules()
    if period_dir is None:
        others: dict[str, ProviderReturn] = {}
        note = SINGLE_PROVIDER_NOTE
    else:
        others, note = _other_providers(provider_dir, Path(period_dir), rules)
    return _audit_alone(
        provider_dir,
        as_of=as_of,
        rules=rules,
        period=period,
        previous_dir=previous_dir,
        trend_months=trend_months,
        others=others,
        note=note,
        register=register,
    )


def _audit_alone(
    provider_dir: Path,
    *,
    as_of: date,
    rules: Rules,
    period: str | None,
    previous_dir: Path | None,
    trend_months: int,
    others: Mapping[str, ProviderReturn] | None = None,
    note: str | None = None,
    register: RegisterTrail | None = None,
) -> ProviderAudit:
    """The engine's run of one provider; its failure raised (a fault of kpitools as the
    error itself, with its traceback)."""
    task = _ProviderTask(
        provider_dir, previous_dir, rules, period or layout.provider_period(provider_dir)
    )
    [result] = _audit(
        [task],
        _Run(as_of, trend_months),
        pooled=False,
        others=others or {},
        notes=(note,) if note else (),
        registers={task.key: register} if register is not None else {},
    )
    if isinstance(result, ProviderFailure) and isinstance(result.__cause__, Exception):
        raise result.__cause__
    if isinstance(result, KpiToolsError):
        raise result
    return result


def _other_providers(
    provider_dir: Path, period_dir: Path, rules: Rules
) -> tuple[dict[str, ProviderReturn], str]:
    """The returns of the other providers of ``period_dir`` (for the cross-provider
    checks of a run on one provider), by provider id, and the note that says how many
    were compared and which could not be read.

    Raises:
        KpiToolsError: ``period_dir`` is not a folder.
    """
    from kpitools.load import load_providers

    if not period_dir.is_dir():
        raise KpiToolsError("--period-dir: period folder not found", path=period_dir)
    here = provider_dir.resolve()
    # the provider's own folder is not another provider, nor is an earlier submission of
    # it left there (a resubmission audited from another folder): same folder name, same id
    folders = [
        f
        for f in layout.provider_folders(period_dir)
        if f.resolve() != here and f.name != provider_dir.name
    ]
    others: dict[str, ProviderReturn] = {}
    unread: list[str] = []
    for folder, other in zip(folders, load_providers(folders, rules=rules), strict=True):
        if isinstance(other, KpiToolsError):
            unread.append(folder.name)
        else:
            others[other.provider_id] = other
    note = (
        f"cross-provider checks run against {len(others)} other provider(s) of "
        f"{period_dir.as_posix()}"
    )
    if unread:
        note += f" ({len(unread)} could not be read: {', '.join(unread)})"
    return others, note


def audit_period(
    period_dir: str | Path,
    *,
    as_of: date,
    rules: Rules | Mapping[str, Rules] | None = None,
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
        rules: the rules in force (default: the spec's): one set for every provider, or
            each provider folder's own (a mapping naming every provider folder).
        previous_period_dir: ``DATA/<previous period>``; by default the sibling folder of
            the previous month when ``period_dir`` is named ``YYYY-MM`` and it exists.
        workers: processes auditing providers side by side (1: all in this process).
            The results are the same, in the same order, whatever the number.
        trend_months: when above 0, each audit also gets its KPI trends over that many
            periods (``ProviderAudit.trends``, :func:`kpitools.kpis.trends.kpi_trends`).
        period_out: ``OUT/<period>``, with ``pseudonym_key``: each audit also holds its
            register's follow-up (``ProviderAudit.followup``) against last month's
            register of the provider, ``OUT/<previous period>/<provider>/exceptions.xlsx``
            (:func:`kpitools.worklists.followup.provider_followup`).
        pseudonym_key: the key the register's exception ids are made with.

    Returns:
        Per provider id (sorted): its ProviderAudit, or the KpiToolsError that stopped it.

    Raises:
        KpiToolsError: the period folder does not exist.
        ParameterError: rules given per provider leave a provider folder out.
    """
    period_dir = Path(period_dir)
    if not period_dir.is_dir():
        raise KpiToolsError("period folder not found", path=period_dir)
    period = period_dir.name if layout.is_period_name(period_dir.name) else None
    if previous_period_dir is None:
        previous_period_dir = layout.previous_period_dir(period_dir)
    folders = layout.provider_folders(period_dir)
    rules_of = _rules_of(rules, [folder.name for folder in folders])
    tasks = [
        _ProviderTask(
            folder,
            None if previous_period_dir is None else previous_period_dir / folder.name,
            rules_of[folder.name],
            period,
            named_by_folder=True,
        )
        for folder in folders
    ]
    registers = (
        {
            task.key: RegisterTrail(
                period_out / task.key,
                pseudonym_key,
                reply=layout.evidence_reply(task.provider_dir),
            )
            for task in tasks
        }
        if period_out is not None and pseudonym_key is not None
        else {}
    )
    results = _audit(
        tasks, _Run(as_of, trend_months), workers=workers, pooled=True, registers=registers
    )
    audits: dict[str, ProviderAudit | KpiToolsError] = {}
    for task, result in zip(tasks, results, strict=True):
        if isinstance(result, KpiToolsError):
            log.warning("%s: %s", task.key, result.one_line())
        audits[task.key] = result
    return audits


def _rules_of(rules: Rules | Mapping[str, Rules] | None, providers: list[str]) -> dict[str, Rules]:
    """Each provider's rules: the one set given (the spec's by default), or its own.

    Raises:
        ParameterError: rules given per provider leave one out.
    """
    if rules is None or isinstance(rules, Rules):
        return dict.fromkeys(providers, rules or Rules())
    missing = [p for p in providers if p not in rules]
    if missing:
        raise ParameterError(f"no rules given for provider folder(s) {', '.join(missing)}")
    return {provider: rules[provider] for provider in providers}


# --- the engine ------------------------------------------------------------------------


@dataclass(frozen=True)
class _ProviderTask:
    """One provider of a run to audit (picklable, for worker processes).

    Attributes:
        named_by_folder: the folder is the provider (a period's): its outputs, its
            previous month and the index are all found by that name, so provider.csv
            must name it.
    """

    provider_dir: Path
    previous_dir: Path | None
    rules: Rules
    period: str | None
    named_by_folder: bool = False

    @property
    def key(self) -> str:
        """The provider's key in the run: its folder's name."""
        return self.provider_dir.name


@dataclass(frozen=True)
class _Run:
    """What every provider of a run shares (picklable, for worker processes)."""

    as_of: date
    trend_months: int = 0


@dataclass(frozen=True)
class _Loaded:
    """A provider's return, its previous month's (if any) and what was said about them."""

    task: _ProviderTask
    current: ProviderReturn
    previous: ProviderReturn | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Measured:
    """What steps 1 to 3 give one provider (in a worker process, sent back): its audit
    but for what needs the whole run (cross-provider findings, breach risk) and its
    register's follow-up.

    Attributes:
        worklists: the samples and ageing lists (the breach risk goes after them).
        ilr_worklists: the ILR review's (last).
        ilr_scope, ilr_inputs: what the ILR review covered and the ILR files it read
            (:attr:`~kpitools.model.ProviderAudit.ilr_scope`, ``ilr_inputs``).
        measured: the return's tables as they stood at ``as_of``, for the portfolio step.
    """

    current: ProviderReturn
    previous: ProviderReturn | None
    as_of: date
    rules: Rules
    period: str | None
    notes: tuple[str, ...]
    kpi_results: tuple[KpiResult, ...]
    irregularities: tuple[Finding, ...]
    worklists: Mapping[str, pd.DataFrame]
    ilr_worklists: Mapping[str, pd.DataFrame]
    charts: Mapping[str, pd.DataFrame]
    measured: MeasuredTables
    ilr_scope: IlrScope | None = None
    ilr_inputs: tuple[InputFile, ...] = ()
    trends: Trends | None = None


def _audit(
    tasks: list[_ProviderTask],
    run: _Run,
    *,
    workers: int = 1,
    pooled: bool,
    others: Mapping[str, ProviderReturn] | None = None,
    notes: tuple[str, ...] = (),
    registers: Mapping[str, RegisterTrail] | None = None,
) -> list[ProviderAudit | KpiToolsError]:
    """Every task's audit (or what stopped it), in task order.

    Args:
        tasks: the providers of the run.
        run: what they share.
        workers: processes for steps 1 to 3.
        pooled: the breach risk shrinks each hazard toward the providers' pooled one
            (a period), else each provider's own.
        others: returns of providers not audited, by provider id, that the
            cross-provider checks compare with (a run on one provider of a period).
        notes: said in every audit, last.
        registers: per task key, its register trail: the audit holds its follow-up.
    """
    caches = _Caches.for_run(run)  # this process's, for the run
    measured = list(_measured_shares(tasks, run, workers, caches))
    audited = {
        task.key: part
        for task, part in zip(tasks, measured, strict=True)
        if isinstance(part, _Measured)
    }
    cross, risk = _portfolio(
        audited, as_of=run.as_of, pooled=pooled, others=others or {}, caches=caches
    )
    matched = _people(audited, others=others or {}, everyone=pooled or bool(others), caches=caches)
    trails = registers or {}
    return [
        part
        if isinstance(part, KpiToolsError)
        else _finished(
            part, cross[task.key], risk[task.key], matched[task.key], notes, trails.get(task.key)
        )
        for task, part in zip(tasks, measured, strict=True)
    ]


@dataclass(frozen=True)
class _Caches:
    """What one process of a run keeps while the run lasts: each table stacked once
    (:class:`~kpitools.returns.period.Stacks`), each return measured once
    (:class:`~kpitools.kpis.measured.Measurements`), each ILR file parsed once
    (:class:`~kpitools.ilr.mapping.IlrReads`)."""

    measurements: Measurements
    stacks: Stacks
    ilr_reads: IlrReads

    @classmethod
    def for_run(cls, run: _Run) -> _Caches:
        from kpitools.ilr.mapping import IlrReads  # lxml, which a pack's kernel never needs

        return cls(Measurements(run.as_of), Stacks(), IlrReads())


def _measured_shares(
    tasks: list[_ProviderTask], run: _Run, workers: int, caches: _Caches
) -> Iterator[_Measured | KpiToolsError]:
    """Steps 1 to 3 of every task, in task order: in this process with its ``caches``
    (the portfolio step then reuses them), or in ``workers`` processes when more than
    one, each measuring contiguous shares of the run with caches of its own (two shares
    a worker, so one slow share does not leave the other worker idle for long)."""
    workers = min(workers, len(tasks))
    if workers <= 1:
        yield from _measure_share(tasks, run, caches)
        return
    with process_pool(workers) as pool:
        # each return comes back with its measured tables, so the portfolio step does
        # not measure them again
        job = partial(_measure_share, run=run)
        for parts in pool.map(job, shares(tasks, 2 * workers), chunksize=1):
            yield from parts


def shares(items: list[_T], count: int) -> list[list[_T]]:
    """``items`` cut into at most ``count`` contiguous shares, in order, their sizes
    differing by at most one (none empty)."""
    count = max(1, min(len(items), count))
    size, extra = divmod(len(items), count)
    bounds = [i * size + min(i, extra) for i in range(count + 1)]
    return [items[start:end] for start, end in itertools.pairwise(bounds)] if items else []


@fewer_collections()
def _measure_share(
    tasks: list[_ProviderTask], run: _Run, caches: _Caches | None = None
) -> list[_Measured | KpiToolsError]:
    """Steps 1 to 3 of some providers of a run, in this process, with its ``caches`` (in
    a worker process, caches of its own)."""
    caches = caches or _Caches.for_run(run)
    loaded = _load(tasks, caches.ilr_reads)
    found = {part.task.key: part for part in loaded if isinstance(part, _Loaded)}
    measurements, stacks = caches.measurements, caches.stacks
    measured: dict[str, _Measured | KpiToolsError] = {}
    for rules, keys in _by_rules({key: part.task.rules for key, part in found.items()}):
        measured.update(
            _measure(
                {key: found[key] for key in keys},
                as_of=run.as_of,
                rules=rules,
                measurements=measurements,
                stacks=stacks,
                ilr_reads=caches.ilr_reads,
            )
        )
    if run.trend_months:
        parts = {key: part for key, part in measured.items() if isinstance(part, _Measured)}
        for key, trend in _trends(parts, months=run.trend_months, reads=caches.ilr_reads).items():
            measured[key] = replace(parts[key], trends=trend)
    return [
        part if isinstance(part, KpiToolsError) else measured[task.key]
        for task, part in zip(tasks, loaded, strict=True)
    ]


def _by_rules(rules_of: Mapping[str, Rules]) -> list[tuple[Rules, list[str]]]:
    """The keys of ``rules_of`` by rule set, in order of first appearance: a step that
    measures runs once per rule set (in a run given one set, once)."""
    groups: dict[Rules, list[str]] = {}
    for key, rules in rules_of.items():
        groups.setdefault(rules, []).append(key)
    return list(groups.items())


def _load(tasks: list[_ProviderTask], reads: IlrReads) -> list[_Loaded | KpiToolsError]:
    """Step 1: each task's return and its previous month's, each folder read on its own
    and the returns validated together (:func:`kpitools.load.load_providers`); a
    provider that cannot be loaded gets the error that stopped it.

    A provider fails here when its audit would need more memory than the limit
    (checked before loading), a file cannot be read, its previous month's return is
    another provider's, or (a period's folder) its provider.csv names another provider.
    """
    from kpitools.load import load_providers  # lxml, which a pack's kernel never needs

    checked: list[_ProviderTask | KpiToolsError] = []
    for task in tasks:
        try:
            check_provider_memory(
                task.provider_dir, task.previous_dir, reasons_per_table=MAX_REJECTED_REASONS
            )
            checked.append(task)
        except KpiToolsError as error:
            checked.append(error)
    ready = {task.key: task for task in checked if isinstance(task, _ProviderTask)}
    returns: dict[Path, ProviderReturn | KpiToolsError] = {}
    for rules, keys in _by_rules({key: task.rules for key, task in ready.items()}):
        folders = [
            folder
            for task in (ready[key] for key in keys)
            for folder in (task.provider_dir, task.previous_dir)
            if folder is not None and (folder == task.provider_dir or folder.is_dir())
        ]
        returns.update(zip(folders, load_providers(folders, rules=rules, reads=reads), strict=True))
    return [task if isinstance(task, KpiToolsError) else _loaded(task, returns) for task in checked]


def _loaded(
    task: _ProviderTask, returns: Mapping[Path, ProviderReturn | KpiToolsError]
) -> _Loaded | KpiToolsError:
    """One task's returns, as :func:`_load` read them, with the notes that say which."""
    current = returns[task.provider_dir]
    previous = returns.get(task.previous_dir) if task.previous_dir is not None else None
    if isinstance(current, KpiToolsError):
        return current
    if isinstance(previous, KpiToolsError):
        return previous
    # checked before the previous month: the folder names the provider, so when the two
    # differ this month's provider.csv is the one to blame, not last month's return
    if task.named_by_folder and current.provider_id != task.provider_dir.name:
        return folder_mismatch(current.provider_id, task.provider_dir)
    try:
        notes = _previous_notes(current, task.previous_dir, previous)
    except KpiToolsError as error:
        return error
    return _Loaded(task, current, previous, notes)


def folder_mismatch(provider_id: str, provider_dir: Path) -> FileLevelError:
    """The error of a return whose provider.csv names another provider than its folder."""
    return FileLevelError(
        f"provider.csv names provider {provider_id!r} but the folder is "
        f"{provider_dir.name!r}; rename the folder or correct provider.csv",
        path=provider_dir,
    )


def _previous_notes(
    current: ProviderReturn, previous_dir: Path | None, previous: ProviderReturn | None
) -> tuple[str, ...]:
    """What the audit says of the previous month's return (``previous``, loaded from
    ``previous_dir`` when that is a folder).

    Raises:
        ParameterError: the previous return is another provider's: every learner would
            look restated. FileLevelError: it names the provider this return's folder is
            named for, and this return's provider.csv does not (provider.csv is wrong).
    """
    if previous_dir is None:
        return (
            "no previous month's return beside this one: restatements (RESTATED-*) not checked",
        )
    if previous is None:
        return (
            f"no previous return found at {layout.shown_path(previous_dir)} (in the data "
            "folder): "
            "restatements (RESTATED-*) not checked",
        )
    if previous.provider_id != current.provider_id:
        if previous.provider_id == Path(current.path).name:
            raise folder_mismatch(current.provider_id, Path(current.path))
        raise ParameterError(
            f"the previous return is provider {previous.provider_id}'s, not {current.provider_id}'s: "
            "previous_dir must be the same provider's previous month (leave it blank to find it "
            "beside provider_dir)",
            path=previous.path,
        )
    return (f"previous return: {layout.shown_path(previous_dir)} (in the data folder)",)


def _measure(
    loaded: Mapping[str, _Loaded],
    *,
    as_of: date,
    rules: Rules,
    measurements: Measurements,
    stacks: Stacks,
    ilr_reads: IlrReads,
) -> dict[str, _Measured | KpiToolsError]:
    """Step 2 for the loaded providers of one rule set: every KPI, check, chart, worklist
    and ILR review, each once for all of them."""
    from kpitools.ilr.reconcile import ilr_reviews  # lxml, only when auditing

    returns = {key: part.current for key, part in loaded.items()}
    measured = measurements.tables(returns)
    kpis = compute_kpis(
        measured,
        as_of=as_of,
        rules=rules,
        not_supplied={key: current.not_supplied for key, current in returns.items()},
        stacks=stacks,
        measurements=measurements,
    )
    checked = run_checks(
        {key: (part.current, part.previous) for key, part in loaded.items()},
        as_of=as_of,
        rules=rules,
        stacks=stacks,
    )
    charts = pack_charts(
        returns, kpis, as_of=as_of, rules=rules, measurements=measurements, stacks=stacks
    )
    worklists = build_worklists(
        returns, as_of=as_of, rules=rules, measurements=measurements, stacks=stacks
    )
    # ILR files beside the returns: DfE rule findings, ILR-MISMATCH-* and the ILR's
    # drop-outs with their withdrawal reason; an ILR file that cannot be read stops its
    # provider
    reviews = ilr_reviews(returns, as_of=as_of, rules=rules, reads=ilr_reads)
    results: dict[str, _Measured | KpiToolsError] = {}
    for key, part in loaded.items():
        review = reviews[key]
        if isinstance(review, KpiToolsError):
            results[key] = review
            continue
        current, previous = part.current, part.previous
        skipped = unchecked(current, previous)
        outside = as_of_outside(as_of, part.task.period)
        ilr_findings = [
            f
            for f in review.findings
            if not ("ILR-MISMATCH-*" in skipped and f.rule.startswith("ILR-MISMATCH-"))
        ]
        irregularities = (
            *future_dated(current.tables, as_of=as_of),
            *checked[key],
            *ilr_findings,
        )
        log.info(
            "%s: %d KPI results, %d irregularities",
            current.provider_id,
            len(kpis[key]),
            len(irregularities),
        )
        results[key] = _Measured(
            current=current,
            previous=previous,
            as_of=as_of,
            rules=rules,
            period=part.task.period,
            notes=(
                *learner_notes(current),
                *([outside] if outside else []),
                *part.notes,
                *skipped.values(),
            ),
            kpi_results=tuple(kpis[key]),
            irregularities=irregularities,
            worklists=worklists[key],
            ilr_worklists=review.worklists,
            charts=charts[key],
            measured=measured[key],
            ilr_scope=review.scope,
            ilr_inputs=tuple(review.inputs),
        )
    return results


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


def _trends(parts: Mapping[str, _Measured], *, months: int, reads: IlrReads) -> dict[str, Trends]:
    """Step 3: each provider's KPI figures over ``months`` periods ending with its own,
    each earlier month loaded and measured once for every provider that has it, one
    month in memory at a time (:func:`kpitools.kpis.trends.kpi_trends`). A month that
    cannot be read is left out of that provider's trend, with a note."""
    wanted: dict[str, dict[str, Path]] = {}  # earlier period -> key -> folder
    months_of: dict[str, list[str]] = {}  # key -> its earlier periods, oldest first
    for key, part in parts.items():
        found = (
            layout.earlier_provider_dirs(part.current.path, part.period, months - 1)
            if part.period
            else []
        )
        months_of[key] = [period for period, _ in found]
        for period, folder in found:
            wanted.setdefault(period, {})[key] = folder
    figures: dict[tuple[str, str], list[KpiResult] | str] = {}
    for period, folders in wanted.items():
        for rules, keys in _by_rules({key: parts[key].rules for key in folders}):
            for key, month in _earlier_month(period, folders, keys, parts, rules, reads).items():
                figures[(key, period)] = month
    return kpi_trends(
        {
            key: (part.period or period_of(part.as_of), part.kpi_results)
            for key, part in parts.items()
        },
        {key: {period: figures[(key, period)] for period in months_of[key]} for key in parts},
    )


def _earlier_month(
    period: str,
    folders: Mapping[str, Path],
    keys: list[str],
    parts: Mapping[str, _Measured],
    rules: Rules,
    reads: IlrReads,
) -> dict[str, list[KpiResult] | str]:
    """The KPI results of an earlier ``period`` of the providers ``keys`` (their
    ``folders`` of that period, loaded, or their previous return when it is that
    folder's), measured at the period's last day; for a provider whose return of that
    month cannot be read, why its trend leaves the month out."""
    from kpitools.load import load_providers

    reused = {key: parts[key].previous for key in keys if _is_previous(parts[key], folders[key])}
    to_load = [key for key in keys if key not in reused]
    loaded = dict(
        zip(
            to_load,
            load_providers([folders[key] for key in to_load], rules=rules, reads=reads),
            strict=True,
        )
    )
    returns: dict[str, ProviderReturn] = {}
    found: dict[str, list[KpiResult] | str] = {}
    for key in keys:
        earlier = reused.get(key) or loaded[key]
        if isinstance(earlier, KpiToolsError):
            found[key] = f"{period}: not in the trend ({earlier.one_line()})"
            log.warning("%s: trend month %s left out: %s", key, period, earlier.one_line())
        elif earlier is not None:
            returns[key] = earlier
    if returns:
        found.update(
            compute_kpis(
                {key: earlier.tables for key, earlier in returns.items()},
                as_of=period_end(period),
                rules=rules,
            )
        )
    return {key: found[key] for key in keys}


def _is_previous(part: _Measured, folder: Path) -> bool:
    """Whether the provider's previous return is the one in ``folder`` (loaded once,
    not twice)."""
    previous = part.previous
    return previous is not None and Path(previous.path).resolve() == Path(folder).resolve()


def _portfolio(
    audited: Mapping[str, _Measured],
    *,
    as_of: date,
    pooled: bool,
    others: Mapping[str, ProviderReturn],
    caches: _Caches,
) -> tuple[dict[str, tuple[Finding, ...]], dict[str, pd.DataFrame]]:
    """Step 4, for the providers measured: their cross-provider findings (against each
    other and ``others``) and breach risks, per key; with this process's ``caches``,
    which take the measured tables the workers sent back."""
    if not audited:
        return {}, {}
    measurements, stacks = caches.measurements, caches.stacks
    for part in audited.values():
        measurements.keep(part.current, part.measured)
    returns = {key: part.current for key, part in audited.items()}
    compared = {**others, **{current.provider_id: current for current in returns.values()}}
    found = run_portfolio_checks(compared, as_of=as_of, stacks=stacks) if len(compared) > 1 else {}
    cross = {key: tuple(found.get(current.provider_id, ())) for key, current in returns.items()}
    prior = (
        portfolio_hazard_of(returns, as_of=as_of, measurements=measurements, stacks=stacks)
        if pooled
        else None
    )
    risk: dict[str, pd.DataFrame] = {}
    for rules, keys in _by_rules({key: part.rules for key, part in audited.items()}):
        risk.update(
            breach_risks(
                {key: returns[key] for key in keys},
                as_of=as_of,
                rules=rules,
                portfolio=prior,
                measurements=measurements,
                stacks=stacks,
            )
        )
    return cross, risk


def _people(
    audited: Mapping[str, _Measured],
    *,
    others: Mapping[str, ProviderReturn],
    everyone: bool,
    caches: _Caches,
) -> dict[str, _Matched]:
    """Step 4 too: the person matching (:func:`kpitools.checks.people.person_matches`) of
    the providers measured, against each other, ``others`` and the earlier periods found
    beside the period (``person_history_months``): every provider folder of each earlier
    month when the run compares providers (``everyone``: a period, or one provider
    against its period's others), else the provider's own. Once per rule set.

    The identity values are read from the returns on disk here, at run time, one month
    at a time, and kept only as long as the matching runs."""
    matched: dict[str, _Matched] = {}
    current = {part.current.provider_id: part.current for part in audited.values()}
    records = identity_records(
        {**others, **current},
        period=_period_of(next(iter(audited.values()), None)),
        stacks=caches.stacks,
    )
    for rules, keys in _by_rules({key: part.rules for key, part in audited.items()}):
        earlier, unread = _earlier_identities(
            [audited[key] for key in keys],
            months=rules.person_history_months,
            everyone=everyone,
            rules=rules,
            reads=caches.ilr_reads,
        )
        report_to = tuple(dict.fromkeys(audited[key].current.provider_id for key in keys))
        found = person_matches(records, earlier, report_to=report_to, rules=rules)
        model = {**found.model, "unread": unread}
        for key in keys:
            provider = audited[key].current.provider_id
            matched[key] = _Matched(
                tuple(found.findings[provider]), found.worklists[provider], model
            )
    return matched


@dataclass(frozen=True)
class _Matched:
    """What the person matching gives one provider: its findings, its worklist of the
    matches behind them and the model's record (for the manifest)."""

    findings: tuple[Finding, ...]
    worklist: pd.DataFrame
    model: Mapping[str, object]


def _period_of(part: _Measured | None) -> str:
    return "" if part is None else part.period or period_of(part.as_of)


def _earlier_identities(
    parts: list[_Measured],
    *,
    months: int,
    everyone: bool,
    rules: Rules,
    reads: IlrReads,
) -> tuple[pd.DataFrame, list[str]]:
    """The identity records of the ``months`` periods before the run's, read from
    ``DATA/<earlier period>/``, one month at a time (a provider's previous return
    reused), and the folders that could not be read (left out, named in the manifest)."""
    from kpitools.load import load_providers

    frames: list[pd.DataFrame] = []
    unread: list[str] = []
    reused = {
        Path(part.previous.path).resolve(): part.previous
        for part in parts
        if part.previous is not None
    }
    for period, folders in _earlier_folders(parts, months, everyone).items():
        to_load = [folder for folder in folders if folder.resolve() not in reused]
        loaded = dict(zip(to_load, load_providers(to_load, rules=rules, reads=reads), strict=True))
        returns: dict[str, ProviderReturn] = {}
        for folder in folders:
            earlier = reused.get(folder.resolve()) or loaded[folder]
            if isinstance(earlier, KpiToolsError):
                unread.append(f"{period}/{folder.name}")
                log.warning("%s/%s: not matched: %s", period, folder.name, earlier.one_line())
            else:
                returns[earlier.provider_id] = earlier
        frames.append(identity_records(returns, period=period))
    if not frames:
        return identity_records({}, period=""), unread
    return pd.concat(frames, ignore_index=True), unread


def _earlier_folders(parts: list[_Measured], months: int, everyone: bool) -> dict[str, list[Path]]:
    """Per earlier period found (newest first), the provider folders to read: each
    period folder listed once, however many of ``parts`` it lies beside."""
    found: dict[str, dict[Path, None]] = {}  # an ordered set of folders per period
    listed: set[Path] = set()
    for part in parts:
        if not part.period:
            continue
        provider_dir = Path(part.current.path).resolve()
        period = part.period
        for _ in range(max(months, 0)):
            period = previous_period(period)
            period_dir = provider_dir.parent.parent / period
            if everyone and period_dir in listed:
                continue
            if not period_dir.is_dir():
                continue
            if everyone:
                listed.add(period_dir)
            folders = (
                layout.provider_folders(period_dir)
                if everyone
                else [f for f in [period_dir / provider_dir.name] if f.is_dir()]
            )
            found.setdefault(period, {}).update(dict.fromkeys(folders))
    return {period: list(folders) for period, folders in found.items()}


def _finished(
    part: _Measured,
    cross: tuple[Finding, ...],
    risk: pd.DataFrame,
    matched: _Matched,
    notes: tuple[str, ...],
    register: RegisterTrail | None,
) -> ProviderAudit | KpiToolsError:
    """Step 5 and the audit built: the register's follow-up over every finding (when a
    trail is given), then the :class:`~kpitools.model.ProviderAudit`, whole."""
    irregularities = (*part.irregularities, *cross, *matched.findings)
    people = {PERSON_MATCHES: matched.worklist} if len(matched.worklist) else {}
    followup = None
    if register is not None:
        try:
            followup = provider_followup(
                findings_of(part.kpi_results, irregularities),
                provider_id=part.current.provider_id,
                period=part.period,
                as_of=part.as_of,
                trail=register,
                replies=returned_replies(register.reply, part.current.provider_id),
            )
        except Exception as error:  # a fault of kpitools on this provider's register
            # that provider fails (audit_period logs its one line), not the run
            return ProviderFailure.during("register follow-up", error)
    return ProviderAudit(
        provider=part.current,
        as_of=part.as_of,
        rules=part.rules,
        kpi_results=part.kpi_results,
        period=part.period,
        irregularities=irregularities,
        previous=part.previous,
        worklists={**part.worklists, BREACH_RISK: risk, **people, **part.ilr_worklists},
        charts=part.charts,
        notes=(*part.notes, *notes),
        followup=followup,
        trends=part.trends,
        ilr_scope=part.ilr_scope,
        ilr_inputs=part.ilr_inputs,
        person_model=matched.model,
    )
