"""Refuse a provider too large for this machine before loading it, never an OOM kill.

Before a provider is audited, :func:`check_provider_memory` estimates the memory its
audit will need from the sizes of its input files (this month's and the previous
month's) and refuses, with one line naming the folder, the estimate and the limit, when
the estimate is above the limit. In a batch that provider becomes a FAILED row and the
others go on.

The estimate is, for each CSV table, ``TABLE_FACTOR`` × its bytes or ``CELL_FACTOR`` ×
its cells, whichever is more (a file of short fields holds more cells, each a Python
string, than its bytes suggest: 100,000 rows of 14 bad one-letter fields are 3.7 MB and
1.5 million cells), + ``WORKBOOK_FACTOR`` × the bytes of ``datasheet.xlsx`` (compressed)
+ ``ILR_FACTOR`` × the bytes of the ILR files (streamed: only bootcamp learners are
kept), + ``REASON_FACTOR`` for each rejection reason validation may keep (at most
``reasons_per_table`` a table, :data:`kpitools.returns.validate.MAX_REJECTED_REASONS`:
the reasons beyond are counted, not held). Factors measured on demo providers of 1,000 to
100,000 learners (``benchmarks/provider_scaling.py``: peak memory of the audit, its
outputs and the pack preparation above the interpreter's own, per input byte) and on a
return of bad rows (``benchmarks/bad_rows_memory.py``).

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
# Raised by a third on 2026-12-08: with the KPI members and the person matching the 100k
# provider peaked at 1,632 MB above the interpreter's against 1,451 MB estimated (10k:
# 273 against 243), so the estimate no longer covered what it must refuse.
TABLE_FACTOR = 20.0
WORKBOOK_FACTOR = 30.0
ILR_FACTOR = 1.0
# ... and per cell of a CSV table (a field: commas and line ends counted), about 108 on
# the demo (7.2 bytes a cell) and 80 on a file of one-letter fields; raised by a third
# with TABLE_FACTOR
CELL_FACTOR = 145.0
# ... and per rejection reason kept: its row of the rejected rows, its cells in the
# register and rejected_rows.csv (about 1 kB, bad_rows_memory.py at 5,000 and 50,000)
REASON_FACTOR = 1500.0
WORKBOOK_TABLES = 10  # a datasheet holds at most one sheet per contract table
_CHUNK = 1 << 20
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


def estimated_mb(folders: Iterable[Path], *, reasons_per_table: int) -> float:
    """The memory an audit of these provider folders is estimated to need, in MB (see
    the module docstring), validation keeping at most ``reasons_per_table`` rejection
    reasons a table."""
    total = 0.0
    for folder in folders:
        for path in Path(folder).rglob("*"):
            try:
                if not path.is_file():
                    continue
                size = path.stat().st_size
                suffix = path.suffix.lower()
                if suffix == ".csv":
                    cells = _csv_cells(path)
                    total += max(TABLE_FACTOR * size, CELL_FACTOR * cells)
                    total += REASON_FACTOR * min(reasons_per_table, cells)
                elif suffix == ".xlsx":
                    total += WORKBOOK_FACTOR * size
                    total += REASON_FACTOR * reasons_per_table * WORKBOOK_TABLES
                elif suffix == ".xml":
                    total += ILR_FACTOR * size + REASON_FACTOR * min(reasons_per_table, size)
            except OSError:
                continue  # the loader reports what it cannot read
    return total / _MB


def _csv_cells(path: Path) -> int:
    """The fields of a CSV file, at most (commas and line ends, quoted ones too), read
    a megabyte at a time: never the whole file in memory before it is judged."""
    cells = 1
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            cells += chunk.count(b",") + chunk.count(b"\n")
    return cells


def check_provider_memory(
    provider_dir: Path, previous_dir: Path | None = None, *, reasons_per_table: int
) -> None:
    """Refuse the provider when its audit is estimated above the memory limit
    (:func:`estimated_mb`; validation keeps at most ``reasons_per_table`` rejection
    reasons a table).

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
    estimate = estimated_mb(folders, reasons_per_table=reasons_per_table)
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
