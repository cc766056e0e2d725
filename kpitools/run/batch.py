"""``kpitools packs``: compute once, render many.

0. :func:`build_packs` first checks the output folder and the pseudonym key (one line,
   exit 2, before any work), then holds the period's run lock
   (:mod:`kpitools.io.workspace`) and a private folder for the saved audits.
1. :func:`prepare_period` audits every provider of the period in one pass
   (``audit_period``: cross-provider checks need them all), writes each provider's
   outputs (``kpi_results.csv``, ``kpi_members.csv``, ``exceptions.csv``, ``rejected_rows.csv``,
   ``manifest.json``, ``exceptions.xlsx``) and params YAML into a staging folder
   beside ``OUT/PERIOD/<provider>``, saves its audit in the private folder, and returns
   one :class:`~kpitools.run.runner.PackJob` per provider.
2. :func:`run_jobs` executes the jobs with papermill in worker processes (a local
   process pool, or a Dask cluster when a scheduler is given; the same function runs
   in both) with a progress bar. A failing provider never stops the others. Locally,
   each worker keeps one warm kernel for all its packs (reset between providers), so
   the kernel start and the pandas/matplotlib imports are paid once per worker.
3. :func:`publish` swaps each provider's new set of outputs in whole, and notes the
   provider folders an earlier run left that this one did not rebuild (stale). Before
   the first swap it replaces ``index.html`` by a page saying the index is out of date
   (:func:`mark_index_stale`): a run killed while swapping leaves packs of two runs,
   never an index that shows one run's figures and links the other's packs unmarked.
4. :func:`write_index` renders ``OUT/PERIOD/index.html`` from the portfolio notebook:
   every provider built or failed, every folder of the period skipped, every stale one,
   and the run that built them (its number in the audit store, also in each
   ``manifest.json``).
   Locally it runs in a warm kernel of step 2 (:func:`local_runner`), not a cold one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from markupsafe import Markup
from tqdm import tqdm

from kpitools import layout
from kpitools.calendar import period_end
from kpitools.errors import KpiToolsError, PackError, ProviderFailure
from kpitools.io.files import write_atomic
from kpitools.io.memory import fewer_collections
from kpitools.io.workers import process_pool
from kpitools.io.workspace import (
    check_output_folder,
    check_provider_places,
    moved_path,
    private_folder,
    replace_folder,
    run_lock,
    staging_folder,
    tidy_period_folder,
)
from kpitools.kpis.trends import TREND_MONTHS
from kpitools.model import THIS_PERIOD_REGISTER, FollowUp, ProviderAudit
from kpitools.outputs.register import keep_replaced_register, write_provider_register
from kpitools.outputs.results import MANIFEST_FILE, write_error_file, write_provider_outputs
from kpitools.params import PackParams, write_params
from kpitools.present.context import AUDIT_FILE, PackContext, context_from_audit, save_audit
from kpitools.privacy.pseudonym import load_key
from kpitools.run.index import PACK_FILE, SUMMARY_FILE, portfolio_summary, write_summary
from kpitools.run.pdf import PDF_FILE
from kpitools.run.recording import BUILT, FAILED, SKIPPED, STALE, recorded_run
from kpitools.run.runner import (
    PORTFOLIO_NOTEBOOK,
    PROVIDER_NOTEBOOK,
    PackJob,
    PackOutcome,
    notebook_path,
    run_pack_job,
    run_pack_job_warm,
)
from kpitools.store.connection import read_store, store_path
from kpitools.store.keys import check_run_key
from kpitools.store.queries import KpiMonth, kpi_history

log = logging.getLogger(__name__)


@dataclass
class PreparedPeriod:
    """A period audited and written out, ready for its notebooks to run."""

    period: str
    as_of: date
    period_out: Path
    contexts: dict[str, PackContext]
    jobs: list[PackJob]
    failures: dict[str, str] = field(default_factory=dict)
    portfolio_notebook: str = str(PORTFOLIO_NOTEBOOK)
    skipped: dict[str, str] = field(default_factory=dict)  # DATA/PERIOD folders not audited
    stale: dict[str, str] = field(default_factory=dict)  # OUT/PERIOD folders not rebuilt
    staging: dict[str, Path] = field(default_factory=dict)  # new sets not yet published
    run: int | None = None  # this run's number in the audit store: in manifests, the index


@dataclass
class BatchResult:
    """What a batch produced: per-provider outcomes, failures and the index page."""

    period_out: Path
    outcomes: dict[str, PackOutcome]
    failures: dict[str, str]
    index: PackOutcome | None
    skipped: dict[str, str] = field(default_factory=dict)
    stale: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        """Providers that could not be audited or whose pack failed."""
        bad = set(self.failures) | {pid for pid, o in self.outcomes.items() if not o.ok}
        return sorted(bad)

    @property
    def ok(self) -> bool:
        return not self.failed and self.index is not None and self.index.ok


def provider_params(
    base: PackParams, provider_dir: Path, out_dir: Path, period: str, as_of: date, work_dir: Path
) -> PackParams:
    """One provider's params, from the batch's common settings (absolute paths); its
    saved audit goes to the private ``work_dir``, never to the output folder. Its
    ``period_dir`` is the batch's, so that a pack rebuilt alone from the ``params.yaml``
    written beside it (``kpitools pack``) keeps the cross-provider checks."""
    previous = layout.previous_provider_dir(provider_dir, period)
    return replace(
        base,
        provider_dir=str(provider_dir.resolve()),
        out_dir=str(out_dir.resolve()),
        period=period,
        as_of=as_of,
        previous_dir=str(previous.resolve()) if previous else "",
        period_dir=str(provider_dir.parent.resolve()),
        audit_path=str((work_dir / f"{provider_dir.name}{AUDIT_FILE}").resolve()),
    )


@fewer_collections()
def write_provider_files(
    ctx: PackContext, out_dir: Path | None = None, *, run: int | None = None
) -> None:
    """Every file of one provider except the pack: outputs, register and params in
    ``out_dir`` (default: the params' ``out_dir``), the audit at its ``audit_path``;
    ``run`` (the run's number in the audit store) is recorded in the manifest."""
    out_dir = Path(ctx.params.out_dir) if out_dir is None else out_dir
    write_provider_outputs(ctx.audit, out_dir, ctx.working, run=run)
    write_provider_register(ctx, out_dir)
    save_audit(ctx.audit, ctx.params.audit_path)
    # without audit_path: the saved audit is a private temporary file, gone after the run
    write_params(replace(ctx.params, audit_path=""), out_dir / "params.yaml")


def pack_job(
    params: PackParams,
    title: str,
    *,
    cell_timeout: int | None = None,
    notebook: str | Path | None = None,
    out_dir: Path | None = None,
    pdf: bool = False,
) -> PackJob:
    """The provider notebook job for one provider's params, writing the executed
    notebook and the pack into ``out_dir`` (default: the params' ``out_dir``); with
    ``pdf``, also ``audit_pack.pdf`` beside the pack.

    Raises:
        PackError: no ``notebook`` given and the provider notebook cannot be found
            (:func:`~kpitools.run.runner.notebook_path`).
    """
    out_dir = Path(params.out_dir) if out_dir is None else out_dir
    extra = {"cell_timeout": cell_timeout} if cell_timeout else {}
    return PackJob(
        provider_id=Path(params.provider_dir).name,
        notebook=str(notebook or notebook_path(PROVIDER_NOTEBOOK.name)),
        parameters=params.notebook_parameters(),
        executed_path=str(out_dir / "audit_pack.ipynb"),
        html_path=str(out_dir / PACK_FILE),
        title=title,
        pdf_path=str(out_dir / PDF_FILE) if pdf else "",
        **extra,
    )


def prepare_period(
    period_dir: str | Path,
    out: str | Path,
    *,
    base: PackParams,
    work_dir: Path,
    as_of: date | None = None,
    audit: Callable[..., dict[str, ProviderAudit | KpiToolsError]] | None = None,
    cell_timeout: int | None = None,
    workers: int = 1,
    notebooks: str | Path | None = None,
    run: int | None = None,
) -> PreparedPeriod:
    """Audit every provider of a period once and write everything but the notebooks.

    Each provider's files go to a staging folder (``prepared.staging``) that
    :func:`publish` swaps in once its pack is built; a provider that cannot be audited
    gets a set holding only ``error.txt``.

    Args:
        period_dir: ``DATA/PERIOD``.
        out: the output root; files go to ``OUT/PERIOD/<provider>``.
        base: common settings (include_pii, rules, key file); paths are filled in.
        work_dir: the private folder for the saved audits
            (:func:`kpitools.io.workspace.private_folder`).
        as_of: the measurement date (default: the period's last day).
        audit: the period audit function (default ``kpitools.audit.audit_period``).
        cell_timeout: seconds any notebook cell may run (default ``runner.CELL_TIMEOUT``).
        workers: processes auditing providers side by side (same results, same order).
        notebooks: the folder of the notebooks (default: see
            :func:`~kpitools.run.runner.notebook_path`).
        run: this run's number in the audit store (:mod:`kpitools.run.recording`),
            recorded in each manifest and the index.

    Raises:
        PackError: the period folder does not exist or is not named ``YYYY-MM``, or
            the notebooks cannot be found (checked before any provider is audited).
    """
    period_dir = Path(period_dir)
    period = period_name(period_dir)
    as_of = as_of or period_end(period)
    provider_notebook = notebook_path(PROVIDER_NOTEBOOK.name, notebooks)
    portfolio_notebook = notebook_path(PORTFOLIO_NOTEBOOK.name, notebooks)
    if audit is None:
        from kpitools.audit import audit_period

        audit = audit_period
    period_out = layout.period_out_dir(out, period).resolve()
    results = audit(
        period_dir,
        as_of=as_of,
        rules=base.rules_object(),
        workers=workers,
        trend_months=TREND_MONTHS,
        period_out=period_out,
        pseudonym_key=load_key(base.pseudonym_key_file or None, out_dir=period_out),
    )
    prepared = PreparedPeriod(
        period,
        as_of,
        period_out,
        {},
        [],
        portfolio_notebook=str(portfolio_notebook),
        skipped=layout.skipped_folders(period_dir),
        run=run,
    )
    for name, reason in prepared.skipped.items():
        log.warning("%s: %s", name, reason)
    for provider_id, result in sorted(results.items()):
        out_dir = period_out / provider_id
        staging = prepared.staging[provider_id] = staging_folder(out_dir)
        if isinstance(result, KpiToolsError):
            _fail(prepared, provider_id, result)
            continue
        try:
            params = provider_params(
                base, period_dir / provider_id, out_dir, period, as_of, work_dir
            )
            ctx = context_from_audit(result, params)
            write_provider_files(ctx, staging, run=run)
        except KpiToolsError as error:
            _fail(prepared, provider_id, error)
            continue
        except Exception as error:  # one provider's failure never stops the batch
            log.warning(
                "%s: writing outputs failed: %s: %s", provider_id, type(error).__name__, error
            )
            _fail(prepared, provider_id, ProviderFailure.during("writing outputs", error))
            continue
        prepared.contexts[provider_id] = ctx
        title = f"Audit pack {provider_id} {period}"
        prepared.jobs.append(
            pack_job(
                params,
                title,
                cell_timeout=cell_timeout,
                notebook=provider_notebook,
                out_dir=staging,
            )
        )
    log.info(
        "%s: %d providers audited, %d failed",
        period,
        len(prepared.contexts),
        len(prepared.failures),
    )
    return prepared


def period_name(period_dir: Path) -> str:
    """The period of ``DATA/PERIOD``, checked.

    Raises:
        PackError: the folder does not exist or is not named ``YYYY-MM``.
    """
    if not period_dir.is_dir():
        raise PackError("period folder not found", path=period_dir)
    if not layout.is_period_name(period_dir.name):
        raise PackError("the period folder must be named YYYY-MM", path=period_dir)
    return period_dir.name


def _fail(prepared: PreparedPeriod, provider_id: str, error: KpiToolsError) -> None:
    """A provider that cannot be audited: its new set of outputs is one error.txt, its
    one plain line first and the detail (a traceback for a fault in kpitools) after."""
    # the reason is shown in the index (circulated): its file named from the period on
    shown = layout.shown_path(error.path) if error.path else None
    prepared.failures[provider_id] = error.one_line(path=shown)
    staging = prepared.staging[provider_id]
    for leftover in staging.iterdir():  # what was written before the failure
        leftover.unlink()
    write_error_file(staging, error.one_line(), getattr(error, "detail", ""))


def write_pack_errors(prepared: PreparedPeriod, outcomes: dict[str, PackOutcome]) -> None:
    """``error.txt`` beside each pack that failed (in its staging folder, published with
    the rest of its set): the reason, then where to look."""
    for provider_id, outcome in outcomes.items():
        staging = prepared.staging.get(provider_id)
        if outcome.ok or staging is None:
            continue
        where = (
            f"The executed notebook, stopped at the failing cell, is rendered as "
            f"{Path(outcome.html_path).name} beside this file."
            if outcome.html_path
            else "No notebook was rendered."
        )
        write_error_file(staging, f"pack failed: {outcome.error}", where)


JobRunner = Callable[[list[PackJob]], Iterable[PackOutcome]]


@contextlib.contextmanager
def local_runner(workers: int) -> Iterator[JobRunner]:
    """Run jobs locally: in one warm kernel in this process (``workers`` <= 1) or in a
    pool of ``workers`` processes, each keeping one warm kernel for all its packs
    (:class:`~kpitools.run.kernel.WarmKernel`). The kernel, or the pool, lasts as long
    as the context: :func:`build_packs` renders the index in it after the packs, instead
    of starting a cold kernel (and importing pandas and matplotlib again) for it."""
    if workers <= 1:
        from kpitools.run.kernel import WarmKernel

        with WarmKernel() as kernel:
            yield lambda jobs: (run_pack_job(job, kernel) for job in jobs)
        return
    with process_pool(workers) as pool:

        def run(jobs: list[PackJob]) -> Iterable[PackOutcome]:
            futures = {pool.submit(run_pack_job_warm, job): job for job in jobs}
            for future in as_completed(futures):
                yield _collect(future.result, futures[future])

        yield run


def _run_local(jobs: list[PackJob], workers: int) -> Iterable[PackOutcome]:
    with local_runner(workers) as run:
        yield from run(jobs)


def _run_dask(jobs: list[PackJob], scheduler: Any) -> Iterable[PackOutcome]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = {client.submit(run_pack_job, job, pure=False): job for job in jobs}
        for future in dask_completed(list(futures)):
            yield _collect(future.result, futures[future])
    finally:
        if client is not scheduler:
            client.close()


def _collect(result: Callable[[], PackOutcome], job: PackJob) -> PackOutcome:
    """A finished future's outcome; a worker that died becomes a FAILED outcome."""
    try:
        return result()
    except Exception as error:  # the worker process itself failed
        return PackOutcome(
            job.provider_id, False, None, None, f"worker failed: {type(error).__name__}: {error}"
        )


def run_jobs(
    jobs: list[PackJob],
    *,
    workers: int = 1,
    scheduler: Any = None,
    progress: bool = True,
    runner: JobRunner | None = None,
) -> dict[str, PackOutcome]:
    """Run every job, locally or on Dask, with a progress bar; never raises for a job.

    Args:
        jobs: the packs to build.
        workers: local worker processes (ignored with a scheduler or a runner).
        scheduler: a Dask scheduler address or ``distributed.Client``; None = local.
        progress: show a tqdm progress bar on stderr, when stderr is a terminal (a log
            gets no carriage-return updates).
        runner: run the jobs with this (from :func:`local_runner`) instead.
    """
    outcomes: dict[str, PackOutcome] = {}
    # disable=None: tqdm's own test, off when stderr is not a terminal
    with tqdm(
        total=len(jobs), desc="packs", unit="pack", disable=None if progress else True
    ) as bar:
        if runner is not None:
            stream = runner(jobs)
        elif scheduler is not None:
            stream = _run_dask(jobs, scheduler)
        else:
            stream = _run_local(jobs, workers)
        for outcome in stream:
            outcomes[outcome.provider_id] = outcome
            bar.set_postfix_str(f"{outcome.provider_id} {'ok' if outcome.ok else 'FAILED'}")
            bar.update()
    return outcomes


def publish(prepared: PreparedPeriod, outcomes: dict[str, PackOutcome]) -> dict[str, PackOutcome]:
    """Swap each provider's new set of outputs into ``OUT/PERIOD/<provider>`` whole, and
    note the provider folders there that this run did not rebuild (``prepared.stale``).

    Returns:
        The outcomes, their paths pointing at the published files.
    """
    if prepared.staging:
        mark_index_stale(prepared)
    published = dict(outcomes)
    for provider_id, staging in sorted(prepared.staging.items()):
        final = prepared.period_out / provider_id
        kept = keep_replaced_register(final, staging)
        ctx = prepared.contexts.get(provider_id)
        if kept is not None and ctx is not None and ctx.audit.followup is not None:
            _saved_since_read(provider_id, kept, ctx.audit.followup)
        final = replace_folder(staging, final)
        outcome = outcomes.get(provider_id)
        if outcome is not None:
            published[provider_id] = replace(
                outcome,
                html_path=moved_path(outcome.html_path, staging, final),
                executed_path=moved_path(outcome.executed_path, staging, final),
                pdf_path=moved_path(outcome.pdf_path, staging, final),
            )
    prepared.staging.clear()
    built = set(prepared.contexts) | set(prepared.failures)
    prepared.stale = {
        folder.name: _stale_reason(folder, prepared.period)
        for folder in layout.provider_folders(prepared.period_out)
        if folder.name not in built
    }
    for name, reason in prepared.stale.items():
        log.warning("%s: %s", name, reason)
    return published


def _saved_since_read(provider_id: str, kept: Path, followup: FollowUp) -> None:
    """Warn when the register replaced was saved after this run read it back: the edits
    made in between are not in the new register (they are in the copy kept)."""
    read = [s for s in followup.sources if s.role == THIS_PERIOD_REGISTER]
    digest = hashlib.sha256(kept.read_bytes()).hexdigest()
    if read and read[0].sha256 != digest:
        log.warning(
            "%s: the register was saved while this run was building the new one: the edits "
            "saved since it was read are not carried; they are in %s",
            provider_id,
            kept,
        )


def _stale_reason(folder: Path, period: str) -> str:
    """Why an output folder was not rebuilt, and when (and by which run) it was made."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        made = manifest["generated_at_utc"]
        by = f" by run {manifest['run']}" if manifest.get("run") else ""
    except (OSError, ValueError, KeyError, TypeError):
        made, by = "an unknown time", ""
    return (
        f"stale: left by an earlier run (made {made}{by}); not rebuilt, as the data for "
        f"{period} has no folder {folder.name}"
    )


_STALE_INDEX = Markup(
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
    "<title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>\n"
)


def mark_index_stale(prepared: PreparedPeriod) -> None:
    """Replace ``OUT/PERIOD/index.html`` by a page saying it is out of date, before the
    first provider's files are swapped: until :func:`write_index` writes the new one,
    the folder holds packs of two runs, and a run killed meanwhile leaves it so (the
    next run writes the index again)."""
    run = "A run" if prepared.run is None else f"Run {prepared.run}"
    text = (
        f"{run} of kpitools packs started replacing the providers' files "
        f"of {prepared.period} and has not written the new index: it is still running, or "
        "it was stopped, and the provider folders may hold the files of two runs. Run "
        "kpitools packs for this period again to rebuild them and this index."
    )
    write_stale_index(prepared.period_out, prepared.period, text)


def write_stale_index(period_out: Path, period: str, text: str) -> None:
    """Replace ``OUT/PERIOD/index.html`` by a page of its own saying why it is out of date."""
    title = f"Index of {period} out of date"
    page = _STALE_INDEX.format(title=title, text=text)
    write_atomic(period_out / "index.html", str(page).encode("utf-8"))


def earlier_kpis(out_root: Path, period: str) -> list[KpiMonth]:
    """The KPI statuses of the periods before ``period`` in the audit store of
    ``out_root`` (:func:`kpitools.store.queries.kpi_history`); none without a store (an
    index written outside a recorded run, as the tests of its parts do)."""
    if not store_path(out_root).is_file():
        return []
    with read_store(out_root) as con:
        return kpi_history(con, before=period)


def write_index(
    prepared: PreparedPeriod, outcomes: dict[str, PackOutcome], runner: JobRunner | None = None
) -> PackOutcome:
    """Write the portfolio summary and render ``OUT/PERIOD/index.html`` (with ``runner``,
    from :func:`local_runner`, in its warm kernel; else in a kernel of its own)."""
    history = earlier_kpis(prepared.period_out.parent, prepared.period)
    summary = portfolio_summary(
        prepared.contexts,
        outcomes,
        prepared.failures,
        period=prepared.period,
        as_of=prepared.as_of.isoformat(),
        period_out=prepared.period_out,
        skipped=prepared.skipped,
        stale=prepared.stale,
        history=history,
    )
    summary["run"] = prepared.run
    write_summary(summary, prepared.period_out / SUMMARY_FILE)
    job = index_job(prepared.period_out, prepared.period, prepared.portfolio_notebook)
    return next(iter(runner([job]))) if runner is not None else run_pack_job(job)


def index_job(period_out: Path, period: str, notebook: str | Path) -> PackJob:
    """The portfolio notebook's job: ``OUT/PERIOD/index.html`` from the summary written
    beside it (``.portfolio.json``)."""
    return PackJob(
        provider_id="portfolio",
        notebook=str(notebook),
        parameters={"summary_path": str((period_out / SUMMARY_FILE).resolve())},
        executed_path=str(period_out / "index.ipynb"),
        html_path=str(period_out / "index.html"),
        title=f"Skills Bootcamps KPI audit {period}",
    )


def build_packs(
    period_dir: str | Path,
    out: str | Path,
    *,
    base: PackParams,
    as_of: date | None = None,
    workers: int = 1,
    scheduler: Any = None,
    progress: bool = True,
    cell_timeout: int | None = None,
    notebooks: str | Path | None = None,
    pdf: bool = False,
    command_line: Sequence[str] | None = None,
) -> BatchResult:
    """The whole batch: check, lock, prepare, run every provider's pack (and print each
    to PDF when ``pdf`` is set and Chromium is installed:
    :func:`kpitools.run.pdf.find_chromium`), publish, index; on record in the audit
    store ``OUT/kpitools.duckdb`` (:mod:`kpitools.run.recording`) from start to end,
    what each provider read (the registers read back included) recorded before its
    outputs are replaced.

    Args:
        command_line: the command's arguments, for the run's record (default: the
            period folder and the output root).

    Raises:
        PackError: a bad period folder, an output folder that cannot be used
            (:func:`~kpitools.io.workspace.check_output_folder`), or another run
            holding the period's lock; all before any provider is audited.
        ParameterError: the pseudonym key is missing, short, unreadable or inside OUT,
            or it is not the key the audit store of OUT was written with
            (:func:`kpitools.store.keys.check_run_key`): refused before anything in OUT
            changes.
        StoreError: the audit store cannot be used (written by a newer kpitools).
    """
    period_dir = Path(period_dir)
    period = period_name(period_dir)
    # the key first: a run refused for its key changes nothing in OUT
    _, fingerprint = check_run_key(base.pseudonym_key_file or None, out_root=out)
    period_out = check_output_folder(layout.period_out_dir(out, period), inputs=[period_dir])
    check_provider_places(period_out, [f.name for f in layout.provider_folders(period_dir)])
    arguments = list(command_line) if command_line is not None else [str(period_dir), str(out)]
    local = local_runner(workers) if scheduler is None else contextlib.nullcontext()
    with (
        run_lock(period_out),
        recorded_run(
            period_out.parent,
            command="packs",
            arguments=arguments,
            period=period,
            key_fingerprint=fingerprint,
            rules=base.rules_object(),
        ) as record,
        private_folder() as work_dir,
        local as runner,
    ):
        tidy_period_folder(period_out)
        prepared = prepare_period(
            period_dir,
            out,
            base=base,
            work_dir=work_dir,
            as_of=as_of,
            cell_timeout=cell_timeout,
            workers=workers,
            notebooks=notebooks,
            run=record.run_id,
        )
        if pdf:
            from kpitools.run.pdf import find_chromium

            if find_chromium() is not None:
                prepared.jobs = [
                    replace(job, pdf_path=str(Path(job.html_path).with_name(PDF_FILE)))
                    for job in prepared.jobs
                ]
        record.reads(prepared.contexts)  # before any provider's outputs are replaced
        outcomes = run_jobs(
            prepared.jobs, workers=workers, scheduler=scheduler, progress=progress, runner=runner
        )
        write_pack_errors(prepared, outcomes)
        outcomes = publish(prepared, outcomes)
        index = write_index(prepared, outcomes, runner)
        result = BatchResult(
            prepared.period_out,
            outcomes,
            prepared.failures,
            index,
            skipped=prepared.skipped,
            stale=prepared.stale,
        )
        record.results(prepared.contexts)
        record.finish(0 if result.ok else 1, provider_outcomes(result))
    return result


def provider_outcomes(result: BatchResult) -> dict[str, tuple[str, str]]:
    """Each provider's outcome in a batch, with its reason: built, FAILED, SKIPPED (its
    folder name is not an id) or STALE (left by an earlier run)."""
    outcomes: dict[str, tuple[str, str]] = {
        pid: (BUILT, "") if outcome.ok else (FAILED, outcome.error or "")
        for pid, outcome in result.outcomes.items()
    }
    outcomes.update({pid: (FAILED, reason) for pid, reason in result.failures.items()})
    outcomes.update({name: (SKIPPED, reason) for name, reason in result.skipped.items()})
    outcomes.update({name: (STALE, reason) for name, reason in result.stale.items()})
    return outcomes
