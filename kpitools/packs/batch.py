"""``kpitools packs``: compute once, render many.

1. :func:`prepare_period` audits every provider of the period in one pass
   (``audit_period``: cross-provider checks need them all), writes each provider's
   outputs (``kpi_results.csv``, ``exceptions.csv``, ``rejected_rows.csv``,
   ``manifest.json``, ``exceptions.xlsx``), its saved audit and its params YAML, and
   returns one :class:`~kpitools.packs.runner.PackJob` per provider.
2. :func:`run_jobs` executes the jobs with papermill in worker processes (a local
   process pool, or a Dask cluster when a scheduler is given; the same function runs
   in both) with a progress bar. A failing provider never stops the others.
3. :func:`write_index` renders ``OUT/PERIOD/index.html`` from the portfolio notebook.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from tqdm import tqdm

from kpitools import layout
from kpitools.calendar import period_end
from kpitools.errors import KpiToolsError, PackError
from kpitools.model import ProviderAudit
from kpitools.packs.context import AUDIT_FILE, PackContext, context_from_audit, save_audit
from kpitools.packs.pdf import PDF_FILE
from kpitools.packs.portfolio import PACK_FILE, SUMMARY_FILE, portfolio_summary, write_summary
from kpitools.packs.register import write_provider_register
from kpitools.packs.runner import (
    PORTFOLIO_NOTEBOOK,
    PROVIDER_NOTEBOOK,
    PackJob,
    PackOutcome,
    notebook_path,
    run_pack_job,
)
from kpitools.params import PackParams, write_params
from kpitools.trends import TREND_MONTHS

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


@dataclass
class BatchResult:
    """What a batch produced: per-provider outcomes, failures and the index page."""

    period_out: Path
    outcomes: dict[str, PackOutcome]
    failures: dict[str, str]
    index: PackOutcome | None

    @property
    def failed(self) -> list[str]:
        """Providers that could not be audited or whose pack failed."""
        bad = set(self.failures) | {pid for pid, o in self.outcomes.items() if not o.ok}
        return sorted(bad)

    @property
    def ok(self) -> bool:
        return not self.failed and self.index is not None and self.index.ok


def provider_params(base: PackParams, provider_dir: Path, out_dir: Path, period: str, as_of: date) -> PackParams:
    """One provider's params, from the batch's common settings (absolute paths)."""
    previous = layout.previous_provider_dir(provider_dir, period)
    return replace(
        base,
        provider_dir=str(provider_dir.resolve()),
        out_dir=str(out_dir.resolve()),
        period=period,
        as_of=as_of,
        previous_dir=str(previous.resolve()) if previous else "",
        audit_path=str((out_dir / AUDIT_FILE).resolve()),
    )


def write_provider_files(ctx: PackContext) -> None:
    """Every file of one provider except the pack: outputs, register, audit, params."""
    from kpitools.io.outputs import write_provider_outputs

    out_dir = Path(ctx.params.out_dir)
    write_provider_outputs(ctx.audit, out_dir, ctx.working)
    write_provider_register(ctx)
    save_audit(ctx.audit, ctx.params.audit_path)
    write_params(ctx.params, out_dir / "params.yaml")


def pack_job(
    params: PackParams, title: str, *, cell_timeout: int | None = None,
    notebook: str | Path | None = None, pdf: bool = False,
) -> PackJob:
    """The provider notebook job for one provider's params (``pdf``: also print
    ``audit_pack.pdf`` beside the pack).

    Raises:
        PackError: no ``notebook`` given and the provider notebook cannot be found
            (:func:`~kpitools.packs.runner.notebook_path`).
    """
    out_dir = Path(params.out_dir)
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
    as_of: date | None = None,
    audit: Callable[..., dict[str, ProviderAudit | KpiToolsError]] | None = None,
    cell_timeout: int | None = None,
    workers: int = 1,
    notebooks: str | Path | None = None,
) -> PreparedPeriod:
    """Audit every provider of a period once and write everything but the notebooks.

    Args:
        period_dir: ``DATA/PERIOD``.
        out: the output root; files go to ``OUT/PERIOD/<provider>``.
        base: common settings (include_pii, rules, key file); paths are filled in.
        as_of: the measurement date (default: the period's last day).
        audit: the period audit function (default ``kpitools.audit.audit_period``).
        cell_timeout: seconds any notebook cell may run (default ``runner.CELL_TIMEOUT``).
        workers: processes auditing providers side by side (same results, same order).
        notebooks: the folder of the notebooks (default: see
            :func:`~kpitools.packs.runner.notebook_path`).

    Raises:
        PackError: the period folder does not exist or is not named ``YYYY-MM``, or
            the notebooks cannot be found (checked before any provider is audited).
    """
    period_dir = Path(period_dir)
    if not period_dir.is_dir():
        raise PackError("period folder not found", path=period_dir)
    period = period_dir.name
    try:
        as_of = as_of or period_end(period)
    except ValueError as error:
        raise PackError(f"the period folder must be named YYYY-MM: {error}", path=period_dir) from None
    provider_notebook = notebook_path(PROVIDER_NOTEBOOK.name, notebooks)
    portfolio_notebook = notebook_path(PORTFOLIO_NOTEBOOK.name, notebooks)
    if audit is None:
        from kpitools.audit import audit_period as audit
    results = audit(period_dir, as_of=as_of, rules=base.rules_object(), workers=workers,
                    trend_months=TREND_MONTHS)
    period_out = layout.period_out_dir(out, period).resolve()
    prepared = PreparedPeriod(period, as_of, period_out, {}, [], portfolio_notebook=str(portfolio_notebook))
    for provider_id, result in sorted(results.items()):
        out_dir = period_out / provider_id
        out_dir.mkdir(parents=True, exist_ok=True)
        if isinstance(result, KpiToolsError):
            prepared.failures[provider_id] = result.one_line()
            (out_dir / "error.txt").write_text(result.one_line() + "\n", encoding="utf-8")
            continue
        params = provider_params(base, period_dir / provider_id, out_dir, period, as_of)
        try:
            ctx = context_from_audit(result, params)
            write_provider_files(ctx)
        except Exception as error:  # one provider's failure never stops the batch
            log.exception("%s: writing outputs failed", provider_id)
            prepared.failures[provider_id] = f"writing outputs failed: {type(error).__name__}: {error}"
            continue
        prepared.contexts[provider_id] = ctx
        title = f"Audit pack {provider_id} {period}"
        prepared.jobs.append(pack_job(params, title, cell_timeout=cell_timeout, notebook=provider_notebook))
    log.info("%s: %d providers audited, %d failed", period, len(prepared.contexts), len(prepared.failures))
    return prepared


def _run_local(jobs: list[PackJob], workers: int) -> Iterable[PackOutcome]:
    if workers <= 1:
        for job in jobs:
            yield run_pack_job(job)
        return
    context = multiprocessing.get_context("spawn")  # no forked copies of threads or locks
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(run_pack_job, job): job for job in jobs}
        for future in as_completed(futures):
            yield _collect(future.result, futures[future])


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
        return PackOutcome(job.provider_id, False, None, None, f"worker failed: {type(error).__name__}: {error}")


def run_jobs(
    jobs: list[PackJob], *, workers: int = 1, scheduler: Any = None, progress: bool = True
) -> dict[str, PackOutcome]:
    """Run every job, locally or on Dask, with a progress bar; never raises for a job.

    Args:
        jobs: the packs to build.
        workers: local worker processes (ignored with a scheduler).
        scheduler: a Dask scheduler address or ``distributed.Client``; None = local.
        progress: show a tqdm progress bar on stderr.
    """
    outcomes: dict[str, PackOutcome] = {}
    with tqdm(total=len(jobs), desc="packs", unit="pack", disable=not progress) as bar:
        stream = _run_dask(jobs, scheduler) if scheduler is not None else _run_local(jobs, workers)
        for outcome in stream:
            outcomes[outcome.provider_id] = outcome
            bar.set_postfix_str(f"{outcome.provider_id} {'ok' if outcome.ok else 'FAILED'}")
            bar.update()
    return outcomes


def write_index(prepared: PreparedPeriod, outcomes: dict[str, PackOutcome]) -> PackOutcome:
    """Write the portfolio summary and render ``OUT/PERIOD/index.html``."""
    summary = portfolio_summary(
        prepared.contexts, outcomes, prepared.failures,
        period=prepared.period, as_of=prepared.as_of.isoformat(), period_out=prepared.period_out,
    )
    summary_path = write_summary(summary, prepared.period_out / SUMMARY_FILE)
    job = PackJob(
        provider_id="portfolio",
        notebook=prepared.portfolio_notebook,
        parameters={"summary_path": str(summary_path.resolve())},
        executed_path=str(prepared.period_out / "index.ipynb"),
        html_path=str(prepared.period_out / "index.html"),
        title=f"Skills Bootcamps KPI audit {prepared.period}",
    )
    return run_pack_job(job)


def remove_saved_audits(jobs: Iterable[PackJob]) -> None:
    """Delete the saved audits once their packs are built: they hold the raw return,
    personal data included, and have no use after rendering."""
    for job in jobs:
        audit_path = job.parameters.get("audit_path")
        if audit_path:
            Path(audit_path).unlink(missing_ok=True)


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
) -> BatchResult:
    """The whole batch: prepare, run every provider's pack (and print each to PDF when
    ``pdf`` is set and Chromium is installed: :func:`kpitools.packs.pdf.find_chromium`),
    write the index."""
    prepared = prepare_period(period_dir, out, base=base, as_of=as_of, cell_timeout=cell_timeout,
                              workers=workers, notebooks=notebooks)
    if pdf:
        from kpitools.packs.pdf import find_chromium

        if find_chromium() is not None:
            prepared.jobs = [replace(job, pdf_path=str(Path(job.html_path).with_name(PDF_FILE)))
                             for job in prepared.jobs]
    outcomes = run_jobs(prepared.jobs, workers=workers, scheduler=scheduler, progress=progress)
    index = write_index(prepared, outcomes)
    remove_saved_audits(prepared.jobs)
    return BatchResult(prepared.period_out, outcomes, prepared.failures, index)
