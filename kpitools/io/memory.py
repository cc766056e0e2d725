"""Refuse a provider too large for this machine before loading it, never an OOM kill.

Before a provider is audited, :func:`check_provider_memory` estimates the memory its
audit will need from the sizes of its input files (this month's and the previous
month's) and refuses, with one line naming the folder, the estimate and the limit, when
the estimate is above the limit. In a batch that provider becomes a FAILED row and the
others go on.

The estimate is ``TABLE_FACTOR`` × the bytes of the CSV tables + ``WORKBOOK_FACTOR`` ×
the bytes of ``datasheet.xlsx`` (compressed) + ``ILR_FACTOR`` × the bytes of the ILR
files (streamed: only bootcamp learners are kept), factors measured on demo providers of
1,000 to 100,000 learners (``benchmarks/provider_scaling.py``: peak memory of the audit,
its outputs and the pack preparation above the interpreter's own, per input byte).

The limit is ``KPITOOLS_MEMORY_LIMIT_MB`` (megabytes; ``0`` turns the check off; the
CLI's ``kpitools --memory-limit MB`` sets it for the run and its worker processes),
else :data:`AVAILABLE_SHARE` of the memory available when the provider is checked
(``MemAvailable`` of ``/proc/meminfo``; no check where that cannot be read).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from kpitools.errors import KpiToolsError, TooLargeError

log = logging.getLogger(__name__)

LIMIT_ENV = "KPITOOLS_MEMORY_LIMIT_MB"
AVAILABLE_SHARE = 0.8
# Peak memory of a provider's audit, outputs and pack preparation above the interpreter's
# own, per byte of input (this month's and the previous month's files), measured with
# benchmarks/provider_scaling.py on demo providers of 1k to 100k learners and rounded up:
# about 13 per CSV byte (text cells become Python strings in frames), 25 per byte of a
# compressed workbook, 0.5 per byte of ILR XML (streamed; only bootcamp learners kept).
TABLE_FACTOR = 15.0
WORKBOOK_FACTOR = 30.0
ILR_FACTOR = 1.0
_MB = 1024 * 1024
# Allocations between two collections of Python's youngest generation while a provider is
# audited or written (the default is 700): see fewer_collections.
YOUNG_THRESHOLD = 50_000


def memory_limit_mb() -> float | None:
    """The limit in MB: ``KPITOOLS_MEMORY_LIMIT_MB`` when set (None for ``0``: no
    limit), else :data:`AVAILABLE_SHARE` of the available memory (None when unknown).

    Raises:
        KpiToolsError: ``KPITOOLS_MEMORY_LIMIT_MB`` is not a number of at least 0.
    """
    given = os.environ.get(LIMIT_ENV, "").strip()
    if given:
        try:
            limit = float(given)
        except ValueError:
            limit = -1.0
        if not limit >= 0:
            raise KpiToolsError(
                f"{LIMIT_ENV} must be a number of megabytes (0: no limit), got {given!r}"
            )
        return limit or None
    available = available_mb()
    return None if available is None else AVAILABLE_SHARE * available


def available_mb() -> float | None:
    """The memory the system says is available (``MemAvailable``), in MB; None where it
    cannot be read (not Linux): :func:`memory_limit_mb` then sets no limit."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def estimated_mb(folders: Iterable[Path]) -> float:
    """The memory an audit of these provider folders is estimated to need, in MB."""
    total = 0.0
    for folder in folders:
        for path in Path(folder).rglob("*"):
            try:
                if not path.is_file():
                    continue
                size = path.stat().st_size
            except OSError:
                continue  # the loader reports what it cannot read
            suffix = path.suffix.lower()
            factor = (
                ILR_FACTOR
                if suffix == ".xml"
                else WORKBOOK_FACTOR
                if suffix == ".xlsx"
                else TABLE_FACTOR
                if suffix == ".csv"
                else 0.0
            )
            total += factor * size
    return total / _MB


def check_provider_memory(provider_dir: Path, previous_dir: Path | None = None) -> None:
    """Refuse the provider when its audit is estimated above the memory limit.

    Raises:
        TooLargeError: the estimate is above :func:`memory_limit_mb`; one line naming the
            provider folder, the estimate and the limit, and how to change the limit.
    """
    limit = memory_limit_mb()
    if limit is None:
        return
    folders = [Path(provider_dir)] + (
        [Path(previous_dir)] if previous_dir is not None and Path(previous_dir).is_dir() else []
    )
    estimate = estimated_mb(folders)
    log.debug("%s: estimated %.0f MB, limit %.0f MB", provider_dir, estimate, limit)
    if estimate > limit:
        where = (
            f"{LIMIT_ENV}={os.environ[LIMIT_ENV].strip()}"
            if os.environ.get(LIMIT_ENV, "").strip()
            else f"{AVAILABLE_SHARE:.0%} of the memory available now"
        )
        raise TooLargeError(
            f"too large for this machine: its audit would need about {estimate:,.0f} MB of memory, "
            f"over the limit of {limit:,.0f} MB ({where}); not loaded. Run it on a larger "
            f"machine, or raise the limit with `kpitools --memory-limit MB` ({LIMIT_ENV})",
            path=provider_dir,
        )


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the block with Python's cyclic garbage collector collecting its youngest
    generation every :data:`YOUNG_THRESHOLD` allocations instead of 700, then restore.

    A large provider allocates millions of long-lived objects (ILR records, register
    cells): with the default threshold the collector's passes over them took 38% of one
    100,000-learner provider's time (22 s of 58 s) against 20% at 10,000, which made the
    cost per learner grow with the provider; with this threshold 4 s
    (``benchmarks/provider_scaling.py``). Memory freed by reference counting, nearly
    all of it, is freed as before.
    """
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_THRESHOLD), *older)
    try:
        yield
    finally:
        gc.set_threshold(young, *older)
