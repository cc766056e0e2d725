"""Run one notebook with papermill and render it to one self-contained HTML with nbconvert.

:func:`run_pack_job` is the unit of work of a batch: a plain, picklable function of a
:class:`PackJob`, so the same code runs in a local process pool and on a Dask cluster.
It never raises: a failure becomes a :class:`PackOutcome` with the reason, and the
executed notebook (with papermill's error banner) is kept and rendered too, so the
auditor can see where it stopped.
"""

from __future__ import annotations

import contextvars
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpitools.errors import PackError

if TYPE_CHECKING:
    from kpitools.run.kernel import WarmKernel

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = PACKAGE_DIR / "templates"
TEMPLATE_NAME = "kpipack"
# The notebooks live in the checkout's top-level notebooks/ folder (not in the package):
# an editable install or a run from the checkout finds them there; otherwise pass the
# folder (`--notebooks DIR` or $KPITOOLS_NOTEBOOKS). See notebook_path().
NOTEBOOKS_DIR = PACKAGE_DIR.parent / "notebooks"
NOTEBOOKS_ENV = "KPITOOLS_NOTEBOOKS"
PROVIDER_NOTEBOOK = NOTEBOOKS_DIR / "provider_pack.ipynb"
PORTFOLIO_NOTEBOOK = NOTEBOOKS_DIR / "portfolio.ipynb"
CELL_TIMEOUT = 600
START_TIMEOUT = 60
KERNEL_RETRIES = 2


def notebook_path(name: str, notebooks: str | Path | None = None) -> Path:
    """Where the notebook ``name`` (``provider_pack.ipynb`` or ``portfolio.ipynb``) is.

    Looked for in ``notebooks`` when given, else in ``$KPITOOLS_NOTEBOOKS`` when set,
    else in the checkout's ``notebooks/`` beside the ``kpitools`` package, else in
    ``./notebooks``.

    Raises:
        PackError: not found (a non-editable install has no notebooks: point
            ``--notebooks`` at a checkout's ``notebooks/`` folder).
    """
    explicit = notebooks or os.environ.get(NOTEBOOKS_ENV)
    folders = [Path(explicit)] if explicit else [NOTEBOOKS_DIR, Path.cwd() / "notebooks"]
    for folder in folders:
        if (folder / name).is_file():
            return (folder / name).resolve()
    tried = ", ".join(str(f) for f in folders)
    raise PackError(
        f"notebook {name} not found (looked in {tried}); the notebooks are in the top-level "
        f"notebooks/ folder of a kpitools checkout: run from the checkout, use an editable "
        f"install, or pass --notebooks DIR (or set {NOTEBOOKS_ENV})"
    )


@dataclass(frozen=True)
class PackJob:
    """One notebook to execute and render.

    Attributes:
        provider_id: whose pack this is (``portfolio`` for the index).
        notebook: the notebook to run.
        parameters: papermill parameters (plain values).
        executed_path: where the executed notebook is kept.
        html_path: where the rendered HTML goes.
        title: the HTML page title.
        cell_timeout: seconds any one cell may run.
        kernel_retries: extra attempts when the kernel fails to start.
        pdf_path: where to print the rendered pack as an A4 PDF ('' for no PDF).
    """

    provider_id: str
    notebook: str
    parameters: dict[str, Any]
    executed_path: str
    html_path: str
    title: str
    cell_timeout: int = CELL_TIMEOUT
    kernel_retries: int = KERNEL_RETRIES
    pdf_path: str = ""


@dataclass(frozen=True)
class PackOutcome:
    """What happened to one job: ``ok``, the files written, and the reason if not.
    A PDF that could not be printed leaves ``pdf_path`` None with the reason in
    ``notes``; the pack itself is still ``ok``."""

    provider_id: str
    ok: bool
    html_path: str | None
    executed_path: str | None
    error: str = ""
    seconds: float = 0.0
    attempts: int = 1
    notes: tuple[str, ...] = field(default_factory=tuple)
    pdf_path: str | None = None


def is_kernel_start_failure(error: BaseException) -> bool:
    """Kernel start/death problems are worth a retry; a failing cell is not."""
    from nbclient.exceptions import CellControlSignal, CellExecutionError, CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    # CellTimeoutError is a TimeoutError too: a slow cell would only be slow again
    if isinstance(
        error, PapermillExecutionError | CellExecutionError | CellTimeoutError | CellControlSignal
    ):
        return False
    return isinstance(error, RuntimeError | TimeoutError)


def execute(job: PackJob, kernel: WarmKernel | None = None) -> int:
    """Execute the job's notebook with papermill, retrying a kernel that fails to start.

    Args:
        job: the notebook to run.
        kernel: a warm kernel to run it in (reset first); None starts a kernel for this
            notebook only. A warm kernel is discarded after anything but a failing cell
            (a timeout leaves it busy, a dead one is dead): the next job gets a new one.

    Returns:
        The number of attempts made.

    Raises:
        PapermillExecutionError: a cell failed (the executed notebook is written).
        RuntimeError | TimeoutError: the kernel failed to start on every attempt.
    """
    import papermill

    from kpitools.run.kernel import WARM_ENGINE, kernel_options

    cwd = str(Path(job.executed_path).parent)
    Path(cwd).mkdir(parents=True, exist_ok=True)
    attempts = 0
    while True:
        attempts += 1
        try:
            options = kernel_options()
            if kernel is not None:
                kernel.prepare(cwd)
                options = {"engine_name": WARM_ENGINE, "warm": kernel}
            # A fresh context (or the warm kernel's own): jupyter_core keeps its event
            # loop in a ContextVar, and executors that copy the caller's context (Dask
            # worker threads) would otherwise hand one running loop to two concurrent packs.
            context = kernel.context if kernel is not None else contextvars.Context()
            context.run(
                papermill.execute_notebook,
                job.notebook,
                job.executed_path,
                parameters=job.parameters,
                cwd=cwd,
                progress_bar=False,
                log_output=False,
                execution_timeout=job.cell_timeout,
                start_timeout=START_TIMEOUT,
                kernel_name="python3",
                **options,
            )
            return attempts
        except Exception as error:
            if kernel is not None and not isinstance(error, _cell_failure_types()):
                kernel.discard()
            if attempts > job.kernel_retries or not is_kernel_start_failure(error):
                raise
            log.warning("%s: kernel failed (%s), retrying (%d)", job.provider_id, error, attempts)
            time.sleep(0.5 * attempts)


def _cell_failure_types() -> tuple[type[BaseException], ...]:
    """A cell that raised: the kernel itself is fine (and reset before the next job)."""
    from nbclient.exceptions import CellExecutionError
    from papermill.exceptions import PapermillExecutionError

    return PapermillExecutionError, CellExecutionError


def render_html(executed_path: str | Path, html_path: str | Path, *, title: str) -> Path:
    """Render an executed notebook to one self-contained HTML without code.

    Raises:
        PackError: the notebook cannot be read or rendered.
    """
    import nbformat

    from kpitools.run.kernel import pack_exporter

    try:
        notebook = nbformat.read(str(executed_path), as_version=4)
    except (OSError, ValueError) as error:
        raise PackError(f"cannot read the executed notebook: {error}", path=executed_path) from None
    notebook.metadata["title"] = title
    exporter = pack_exporter(TEMPLATE_NAME, str(TEMPLATES_DIR))
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    from kpitools.io.files import write_atomic

    return write_atomic(Path(html_path), body.encode("utf-8"))


def run_pack_job_warm(job: PackJob) -> PackOutcome:
    """:func:`run_pack_job` in this worker process's warm kernel
    (:func:`~kpitools.run.kernel.worker_kernel`): a pool of worker processes submits
    this, so each worker starts one kernel and imports pandas and matplotlib once.

    The kernel draws every chart, its first pack's too (``predraw=False``): the pool's
    other workers keep the other cores busy, so drawing them here while the kernel
    starts would gain no time, and cost this process matplotlib's import and a first
    draw (~0.45 s of CPU a worker; 2 workers were 1.58x faster than 1 on 20 packs
    with them, 1.7x without)."""
    from kpitools.run.kernel import worker_kernel

    return run_pack_job(job, worker_kernel(), predraw=False)


def _one_line(error: BaseException) -> str:
    ename = getattr(error, "ename", None)
    if ename:  # PapermillExecutionError: the notebook's own exception
        return f"{ename}: {getattr(error, 'evalue', '')}".strip()
    return f"{type(error).__name__}: {error}".splitlines()[0]


def run_pack_job(
    job: PackJob, kernel: WarmKernel | None = None, *, predraw: bool = True
) -> PackOutcome:
    """Execute and render one job (in ``kernel`` when given, see :func:`execute`); every
    failure is caught and reported, never raised.

    A warm kernel that is not running yet is launched first, and while it starts (and
    imports what the notebook imports) this process draws the pack's charts
    (:func:`predraw_charts`): the notebook then only embeds them. With ``predraw``
    False the kernel imports matplotlib as it starts and draws them itself."""
    started = time.perf_counter()
    attempts = 1
    error_text = ""
    try:
        if kernel is not None:
            _launch(job, kernel, predraw=predraw)
        else:  # the notebook draws the charts in its own kernel
            predraw_charts(job, draw=False)
        attempts = execute(job, kernel)
    except Exception as error:  # one failing pack must never stop the others
        error_text = _one_line(error)
        log.warning("%s: pack failed: %s", job.provider_id, error_text)
    html: str | None = None
    executed = job.executed_path if Path(job.executed_path).exists() else None
    if executed:
        try:
            html = str(render_html(executed, job.html_path, title=job.title))
        except Exception as error:
            render_error = f"rendering failed: {_one_line(error)}"
            error_text = f"{error_text}; {render_error}" if error_text else render_error
    elif not error_text:
        error_text = "papermill wrote no executed notebook"
    pdf, notes = _print_pdf(job, html) if job.pdf_path and html and not error_text else (None, ())
    return PackOutcome(
        provider_id=job.provider_id,
        ok=not error_text,
        html_path=html,
        executed_path=executed,
        error=error_text,
        seconds=round(time.perf_counter() - started, 3),
        attempts=attempts,
        notes=notes,
        pdf_path=pdf,
    )


def _launch(job: PackJob, kernel: WarmKernel, *, predraw: bool = True) -> None:
    """Launch the warm kernel unless it is running; for a provider's pack (a job with a
    saved audit), the kernel imports the notebook's modules while this process draws
    the charts (``predraw``; else the kernel imports matplotlib too, to draw them). A
    kernel that cannot start is retried by :func:`execute`."""
    from kpitools.run.kernel import PRELOAD_CHARTS, PRELOAD_TABLES

    provider = bool(job.parameters.get("audit_path"))
    try:
        launched = kernel.launch(
            preload=(PRELOAD_TABLES if predraw else PRELOAD_CHARTS) if provider else ""
        )
    except RuntimeError as error:
        log.warning("%s: kernel failed to launch (%s)", job.provider_id, error)
        launched = False
    predraw_charts(job, draw=launched and predraw)


def predraw_charts(job: PackJob, *, draw: bool = True) -> bool:
    """Draw a provider job's charts here, for its notebook to embed them
    (:func:`kpitools.present.context.save_charts` beside its saved audit), or with
    ``draw`` False make sure none from an earlier run is left there (the notebook then
    draws them). A job without a saved audit (the index) has none. Never raises: charts
    that cannot be drawn here are drawn by the notebook, which shows any failure.

    Returns:
        True when the charts were drawn and saved.
    """
    audit_path = job.parameters.get("audit_path")
    if not audit_path:
        return False
    from kpitools.layout import charts_path

    charts_path(audit_path).unlink(missing_ok=True)
    if not draw:
        return False
    try:
        from kpitools.present.context import load_audit, save_charts
        from kpitools.present.plots import draw_charts

        save_charts(draw_charts(load_audit(audit_path)), audit_path)
    except Exception as error:  # the notebook draws them, and shows what fails
        log.warning(
            "%s: charts not drawn before the notebook: %s", job.provider_id, _one_line(error)
        )
        return False
    return True


def _print_pdf(job: PackJob, html: str) -> tuple[str | None, tuple[str, ...]]:
    """Print the rendered pack to the job's PDF; a failure is a note, never raised."""
    from kpitools.run.pdf import html_to_pdf

    try:
        return str(html_to_pdf(html, job.pdf_path)), ()
    except PackError as error:
        log.warning("%s: no PDF: %s", job.provider_id, error.one_line())
        return None, (f"no PDF: {error.one_line()}",)
