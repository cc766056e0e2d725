"""Local worker processes whose life is tied to the run that started them.

Auditing a period and building its packs both use :func:`process_pool`. A worker must
never outlive its run: killed with the run (SIGKILL included) it would go on writing
into the output folder. On Linux the kernel is asked to send each worker SIGTERM when
its parent dies (``PR_SET_PDEATHSIG``); and when the run itself stops with an exception
(SIGTERM turned into SystemExit, Ctrl-C), the workers are terminated at once instead of
being waited for.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # linux/prctl.h

# jsonschema (papermill -> nbformat imports it) imports rfc3987_syntax when it is installed,
# which compiles 38 grammars: 1 to 1.5 s of CPU in every process, only to offer the "iri"
# format checks. Neither nbformat, nbconvert, nbclient nor papermill validates with a
# format checker, and kpitools uses none, so our own processes (the command line, pack
# and audit workers, the test processes) import jsonschema without it. kpitools does not
# install it: JupyterLab does (jupyter_server -> jupyter_events asks for
# jsonschema[format-nongpl]), so it is there wherever the `lab` extra is, as after `make
# setup`, and absent from an install without JupyterLab, where this changes nothing.
UNUSED_MODULES = ("rfc3987_syntax",)


def skip_unused_imports() -> None:
    """Mark :data:`UNUSED_MODULES` as absent in this process (an import of one raises
    ImportError, which jsonschema expects of an optional module); a module already
    imported is left alone."""
    for name in UNUSED_MODULES:
        # None in sys.modules is Python's documented way to make an import fail;
        # typeshed types the values as modules only
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


@contextlib.contextmanager
def process_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` fresh (spawned) processes that end with this one."""
    context = multiprocessing.get_context("spawn")  # no forked copies of threads or locks
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_end_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        yield pool
    except BaseException:
        _terminate(pool)
        raise
    pool.shutdown(wait=True)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now: a running notebook is not worth waiting for once the run
    is stopping (Python < 3.14 has no public call for this)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.terminate()
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            process.join(timeout=5)


def _end_with_parent(parent_pid: int) -> None:
    """Worker initializer: have the kernel end this process when its parent dies (and
    leave out :data:`UNUSED_MODULES`)."""
    skip_unused_imports()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - exotic libc
            log.debug("prctl(PR_SET_PDEATHSIG) unavailable")
    if os.getppid() != parent_pid:  # the parent died before the request was made
        os._exit(1)
