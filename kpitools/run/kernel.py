"""How a pack's kernel is started and its notebook rendered, tuned for many packs in a row.

- :class:`IpcKernelManager`: the kernel talks to papermill over Unix sockets in a private
  temporary folder instead of TCP on localhost. Nothing listens on a port, and ipykernel
  no longer prints "Kernel is running over TCP without encryption" on stderr for every
  pack. (Windows has no IPC transport: TCP is kept there.)
- :func:`kernel_options`: and the kernel is stopped at once when its notebook is done.
- :class:`PackEngine`: papermill's engine writing the executed notebook once, at the
  end, instead of before and after every cell (:class:`FinalSaveManager`).
- :class:`PackExporter`: nbconvert's HTML exporter without its BeautifulSoup pass, which
  re-parses the whole page only to add missing ``alt`` texts and ``tabindex`` attributes
  (our charts carry their own ``alt``); it was about half of the rendering time.
  :func:`pack_exporter` keeps one per thread, so a worker compiles the templates once.
"""

from __future__ import annotations

import contextvars
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async, run_sync
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import TagRemovePreprocessor
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from papermill.log import logger as papermill_logger
from traitlets import CaselessStrEnum, default

from kpitools.io.workspace import KERNEL_PREFIX

log = logging.getLogger(__name__)
HIDDEN_CELL_TAGS = frozenset({"parameters", "injected-parameters"})
KILL_POLL = 0.005  # seconds between looks at a killed kernel (IpcKernelManager._async_wait)
IOPUB_CHECK = 0.2  # seconds a new kernel's IOPub channel may take to deliver its first message
_local = threading.local()


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager using the ``ipc`` transport in its own temporary folder."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _ip_default(self) -> str:
        # an absolute path: the kernel runs in the pack's folder, papermill elsewhere
        # named for this process, so that a run killed with its kernels has them swept
        # by the next (kpitools.io.workspace.private_folder)
        self._socket_dir = tempfile.mkdtemp(prefix=f"{KERNEL_PREFIX}{os.getpid()}-")
        return os.path.join(self._socket_dir, "kernel")

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        """Remove the socket folder too once the kernel is gone."""
        await super()._async_cleanup_resources(restart=restart)
        folder = getattr(self, "_socket_dir", None)
        if folder and not restart:
            shutil.rmtree(folder, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        """Wait for a killed kernel to be gone, looking every 5 ms: it is gone within a
        few ms of the kill, and jupyter_client's 0.1 s between looks was most of the
        time a pack's kernel took to stop."""
        await super()._async_wait(pollinterval=min(pollinterval, KILL_POLL))


class FinalSaveManager(NotebookExecutionManager):
    """papermill's execution manager, writing the executed notebook only when the engine
    raises (a cell timeout, a dead kernel), for papermill then writes nothing; otherwise
    papermill writes it once the engine returns, and that write is the only one.
    papermill itself writes the whole notebook before and after every cell, serialised
    and validated again each time as it grows: for a pack of 30 cells and a dozen
    charts, about 60 writes between cells, on the critical path."""

    engine_raised = False

    def save(self, **kwargs: Any) -> None:
        if self.engine_raised:  # notebook_complete's save, after a failed engine
            super().save(**kwargs)


class PackEngine(NBClientEngine):
    """papermill's nbclient engine with :class:`FinalSaveManager`."""

    @classmethod
    def execute_notebook(
        cls,
        nb: Any,
        kernel_name: str,
        output_path: str | None = None,
        progress_bar: bool = True,
        log_output: bool = False,
        autosave_cell_every: int = 30,
        **kwargs: Any,
    ) -> Any:
        """As ``papermill.engines.Engine.execute_notebook``, with the notebook written
        once, at the end (by papermill, or here when the engine raises)."""
        nb_man = FinalSaveManager(
            nb,
            output_path=output_path,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=autosave_cell_every,
        )
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        except BaseException:
            nb_man.engine_raised = True
            raise
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


PACK_ENGINE = "kpitools"
papermill_engines.register(PACK_ENGINE, PackEngine)


def kernel_options() -> dict[str, Any]:
    """Extra papermill (nbclient) options for a pack's kernel: IPC where it exists, the
    kernel stopped at once when the notebook is done (every output has arrived by then;
    a graceful shutdown only waits about 0.1 s longer for nothing), and the executed
    notebook written once (:class:`PackEngine`)."""
    options: dict[str, Any] = {"shutdown_kernel": "immediate", "engine_name": PACK_ENGINE}
    if os.name != "nt":
        options["kernel_manager_class"] = IpcKernelManager
    return options


class PackExporter(HTMLExporter):
    """``HTMLExporter`` rendering the template only (no BeautifulSoup round trip)."""

    # HTMLExporter's own override is ignored the same way: Exporter says a notebook comes
    # back, every template exporter returns text
    def from_notebook_node(  # type: ignore[override]
        self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        """Render ``nb`` as :class:`HTMLExporter` does, minus the accessibility re-parse."""
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight = self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
        )
        resources = self._init_resources(resources)
        data_types = WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("highlight_code", highlight)
        self.register_filter("filter_data_type", data_types)
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


def pack_exporter(template_name: str, template_dir: str) -> PackExporter:
    """This thread's exporter for the template (created on first use, then reused)."""
    cache: dict[tuple[str, str], PackExporter] = _local.__dict__.setdefault("exporters", {})
    exporter = cache.get((template_name, template_dir))
    if exporter is None:
        exporter = PackExporter(
            template_name=template_name,
            extra_template_basedirs=[template_dir],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            # the notebook validated once, after the last preprocessor, not after each
            # of the dozen (all but one disabled): the same check, a tenth of the time
            optimistic_validation=True,
        )
        # the parameter cells carry random ids and no output: leave them out of the page
        exporter.register_preprocessor(
            TagRemovePreprocessor(remove_cell_tags=set(HIDDEN_CELL_TAGS)), enabled=True
        )
        cache[(template_name, template_dir)] = exporter
    return exporter


# Run in a warm kernel before each notebook, silently (no output, no history, the
# execution count untouched): the namespace emptied, the count back to 1 and the working
# folder set, so the executed notebook is the same as in a fresh kernel. Imported modules
# stay loaded: that is the point (pandas, matplotlib and kpitools are imported once).
# (``reset(new_session=True)`` is ``%reset -f`` plus a new history session, so the
# history never sees the same line number twice.) The reset ends with a full garbage
# collection (IPython's output cache flush): what survives it (modules, caches) is then
# frozen (``gc.freeze``), so the next reset's collection, and the collector's own passes
# during a pack, scan only what the last pack made: ~140 ms -> ~8 ms a reset with pandas
# and matplotlib loaded, the kernel's memory flat over 30 packs (154 MB either way).
RESET_CODE = """\
get_ipython().reset(new_session=True)
__import__("gc").freeze()
__import__("os").chdir({cwd!r})
"""
WARM_ENGINE = "kpitools-warm"
# What a provider pack's first cell imports, for WarmKernel.launch(preload=...): the
# presentation modules, and matplotlib when the kernel draws the charts itself (a runner
# that has drawn them, see kpitools.run.runner, leaves it out)
PRELOAD_TABLES = (
    "import kpitools.present.context, kpitools.present.blocks, kpitools.present.breach, "
    "kpitools.present.findings, kpitools.present.plots, kpitools.present.report"
)
PRELOAD_CHARTS = (
    PRELOAD_TABLES + ", matplotlib.figure, matplotlib.backends.backend_agg, matplotlib.image"
)


class WarmKernel:
    """One kernel kept alive for many notebooks (a batch's worker runs every pack in it).

    The kernel and its client live in one private :class:`contextvars.Context`, so every
    call runs on the same event loop (jupyter_core keeps its loop in a ContextVar). Before
    each notebook, :meth:`prepare` starts the kernel if there is none or it died, and
    resets it (:data:`RESET_CODE`); a kernel that does not answer the reset in time is
    replaced. :meth:`discard` stops it, so the next :meth:`prepare` starts a new one: the
    runner calls it after anything but a failing cell (a cell timeout leaves the kernel
    busy, a dead kernel is dead).

    Use as a context manager, or call :meth:`shutdown`.
    """

    def __init__(self, *, start_timeout: float = 60, reset_timeout: float = 30) -> None:
        self.start_timeout = start_timeout
        self.reset_timeout = reset_timeout
        self.context = contextvars.Context()
        self.km: AsyncKernelManager | None = None
        self.kc: Any = None
        self.ready = False  # the kernel answered (launched kernels are not, at first)
        self.starts = 0  # kernels started so far (a test and the log read it)

    def __enter__(self) -> WarmKernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def launch(self, preload: str = "") -> bool:
        """Start the kernel process if there is none, without waiting for it to be ready
        (:meth:`prepare` waits), so the caller can work while it starts.

        Args:
            preload: code the kernel runs silently as soon as it is up, before anything
                else (the imports of the notebook, :data:`PRELOAD_TABLES`): its time
                overlaps the caller's instead of the first cell's. A failure is ignored
                here; the notebook's own import cell then fails where it shows.

        Returns:
            True when a kernel was launched now (its start-up is time the caller may use).

        Raises:
            RuntimeError: the kernel process cannot be started.
        """
        if self.km is not None:
            return False
        self.context.run(run_sync(self._launch), preload)
        return True

    def wait_ready(self) -> None:
        """Wait until the launched kernel answers (:meth:`prepare` does before each
        notebook); a kernel that died or does not answer in time is stopped.

        Raises:
            RuntimeError: the kernel died before replying.
            TimeoutError: no answer within ``start_timeout`` seconds.
        """
        self.context.run(run_sync(self._wait_ready))

    def prepare(self, cwd: str) -> None:
        """A live kernel with an empty namespace, running in ``cwd``.

        Raises:
            RuntimeError | TimeoutError: the kernel cannot be started or reset.
        """
        if self.km is not None and not self.context.run(run_sync(self._alive)):
            log.warning("the warm kernel died; starting a new one")
            self.discard()
        if self.km is None:
            self.context.run(run_sync(self._launch), "")
        try:
            if not self.ready:
                self.wait_ready()
            self.context.run(run_sync(self._execute_silently), RESET_CODE.format(cwd=cwd))
        except (RuntimeError, TimeoutError) as error:
            log.warning("the warm kernel did not start or reset (%s); starting a new one", error)
            self.discard()
            self.context.run(run_sync(self._launch), "")
            self.wait_ready()
            self.context.run(run_sync(self._execute_silently), RESET_CODE.format(cwd=cwd))

    def discard(self) -> None:
        """Stop the kernel now (if any); the next :meth:`prepare` starts a new one."""
        if self.km is not None:
            self.context.run(run_sync(self._stop))

    shutdown = discard

    async def _alive(self) -> bool:
        return self.km is not None and bool(await ensure_async(self.km.is_alive()))

    async def _launch(self, preload: str) -> None:
        manager_class = IpcKernelManager if os.name != "nt" else AsyncKernelManager
        self.km = manager_class(kernel_name="python3")
        self.ready = False
        self.starts += 1
        try:
            # the history in memory, as nbclient does for the kernels it starts
            await self.km.start_kernel(
                cwd=tempfile.gettempdir(), extra_arguments=["--HistoryManager.hist_file=:memory:"]
            )
            self.kc = self.km.client()
            self.kc.start_channels()
            if preload:  # queued: the kernel runs it first, once it is up
                self.kc.execute(preload, silent=True, store_history=False, allow_stdin=False)
        except BaseException:
            await self._stop()
            raise

    async def _wait_ready(self) -> None:
        try:
            await self._kernel_info()
        except BaseException:
            await self._stop()
            raise
        self.kc.allow_stdin = False
        self.ready = True

    async def _kernel_info(self) -> None:
        """Wait until the kernel answers a ``kernel_info_request`` and its IOPub channel
        delivers, as jupyter_client's ``wait_for_ready`` does, minus its last step: 0.2 s
        spent draining IOPub messages that no one reads (nbclient reads only the
        messages of its own requests), on the critical path of every cold pack.

        Raises:
            RuntimeError: the kernel died first.
            TimeoutError: no answer within ``start_timeout`` seconds.
        """
        deadline = time.monotonic() + self.start_timeout
        while True:
            msg_id = self.kc.kernel_info()
            try:  # a queued preload's reply comes first: its request was sent first
                while True:
                    reply = await self.kc.get_shell_msg(
                        timeout=max(min(deadline - time.monotonic(), 1), 0.01)
                    )
                    if reply["parent_header"].get("msg_id") == msg_id:
                        break
            except queue.Empty:
                pass
            else:
                try:  # IOPub is connected once it delivers (the request's busy status)
                    await self.kc.get_iopub_msg(timeout=IOPUB_CHECK)
                except queue.Empty:
                    pass
                else:
                    self.kc._handle_kernel_info_reply(
                        reply
                    )  # the protocol version, as wait_for_ready
                    return
            if not await self._alive():
                raise RuntimeError("the kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the kernel did not answer within {self.start_timeout:g} s")

    async def _stop(self) -> None:
        km, kc, self.km, self.kc, self.ready = self.km, self.kc, None, None, False
        if kc is not None:
            kc.stop_channels()
        if km is None:
            return
        try:
            if await ensure_async(km.is_alive()):
                await km.shutdown_kernel(now=True)
        except RuntimeError as error:  # already gone
            log.debug("warm kernel shutdown: %s", error)
        finally:
            await ensure_async(km.cleanup_resources())

    async def _execute_silently(self, code: str) -> None:
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + self.reset_timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                reply = await self.kc.get_shell_msg(timeout=max(remaining, 0.01))
            except queue.Empty:
                raise TimeoutError(f"no reply within {self.reset_timeout:g} s") from None
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content.get("status") != "ok":
            raise RuntimeError(f"{content.get('ename', 'error')}: {content.get('evalue', '')}")


class WarmEngine(PackEngine):
    """:class:`PackEngine`, executing in a :class:`WarmKernel` (``warm=``) instead of a
    kernel of its own; the kernel is left running when the notebook ends."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        warm: WarmKernel | None = None,
        **kwargs: Any,
    ) -> Any:
        """Execute ``nb_man``'s notebook cell by cell in ``warm``'s kernel."""
        if warm is None or warm.km is None:
            raise RuntimeError("the warm engine needs a started WarmKernel (warm=)")
        client = PapermillNotebookClient(
            nb_man,
            km=warm.km,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=papermill_logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        client.kc = warm.kc  # the kernel's client, not a new one per notebook
        return client.execute()


papermill_engines.register(WARM_ENGINE, WarmEngine)


_worker_kernel: WarmKernel | None = None


def worker_kernel() -> WarmKernel:
    """This process's warm kernel (a batch's worker process), stopped when it exits."""
    global _worker_kernel
    if _worker_kernel is None:
        from multiprocessing.util import Finalize

        _worker_kernel = WarmKernel()
        # a pool's worker exits through multiprocessing, which runs these (not atexit)
        Finalize(None, _worker_kernel.shutdown, exitpriority=10)
    return _worker_kernel
