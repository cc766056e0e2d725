"""Using an output folder safely: checked before any work, locked against a second run,
each provider's outputs replaced as a set, and intermediate files kept out of it.

- :func:`check_output_folder` refuses, in one line, an output folder that is a file,
  cannot be written, lies under ``/proc``, ``/sys`` or ``/dev``, or lies inside the input;
  :func:`check_provider_places` anything at ``OUT/PERIOD/<provider>`` that is not a
  folder (a file there would be renamed aside and never removed, jamming every run).
- :func:`run_lock` holds ``OUT/PERIOD/.kpitools.lock`` for a run; a second run is told
  who holds it (pid, host, start time) and stops. :func:`waiting_lock` is the lock that
  waits its turn instead, for short writes that runs take in turn.
- :func:`staging_folder` and :func:`replace_folder`: a provider's outputs are built in a
  hidden folder beside their final place, then swapped in by two renames, so a run
  killed at any point leaves the old set or the new one, never a mix.
- :func:`private_folder`: saved audits hold the raw return (names, ULNs); they live in a
  temporary folder only the user can open (0700, files 0600), outside OUT, removed when
  the run ends, also on SIGTERM or Ctrl-C; those of killed runs, and the socket folders
  of their kernels (:data:`KERNEL_PREFIX`), are removed by the next run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kpitools.errors import PackError

if sys.platform == "win32":  # pragma: no cover - Windows: msvcrt byte-range locks instead
    import msvcrt
else:
    import fcntl

log = logging.getLogger(__name__)

LOCK_FILE = ".kpitools.lock"
STAGING_PREFIX = ".building-"  # OUT/PERIOD/.building-P001: the new set being built
REPLACED_PREFIX = ".replaced-"  # OUT/PERIOD/.replaced-P001: the old set, for an instant
PRIVATE_PREFIX = "kpitools-work-"
KERNEL_PREFIX = "kpitools-kernel-"  # $TMPDIR/kpitools-kernel-<pid>-...: a kernel's sockets
_SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))
_LOCKED_BYTE = 1 << 20  # Windows locks a byte range: one far past the holder's record


def check_output_folder(folder: str | Path, *, inputs: Sequence[str | Path] = ()) -> Path:
    """Create the output folder, or refuse it in one line before any work is done.

    Args:
        folder: the output folder (``OUT/PERIOD`` for a batch).
        inputs: input folders the output must not lie in (nor be).

    Returns:
        The folder, resolved and created.

    Raises:
        PackError: the folder (or a folder above it) is a file, it lies under /proc,
            /sys or /dev, inside an input folder, or cannot be created or written.
    """
    folder = Path(folder)
    resolved = folder.resolve()
    for above in (resolved, *resolved.parents):
        if above.exists() and not above.is_dir():
            raise PackError(
                f"output folder: {above} is a file, not a folder; give a folder", path=folder
            )
    for system in _SYSTEM_FOLDERS:
        if resolved == system or system in resolved.parents:
            raise PackError(
                f"output folder is under {system}, which is no place for files; "
                "give another folder",
                path=folder,
            )
    for given in inputs:
        source = Path(given).resolve()
        if resolved == source or source in resolved.parents:
            raise PackError(
                f"output folder is inside the input folder {given}; inputs are read-only: "
                "give a folder outside it",
                path=folder,
            )
    try:
        resolved.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=resolved):  # the only sure test of "writable"
            pass
    except OSError as error:
        raise PackError(
            f"cannot write to the output folder: {error.strerror or error}", path=folder
        ) from None
    return resolved


def check_provider_places(period_out: Path, providers: Sequence[str]) -> None:
    """Refuse, before any work, anything at ``OUT/PERIOD/<provider>`` (or at the
    ``.building-`` and ``.replaced-`` names beside it) that is not a folder: a file or
    a link there would be renamed aside by :func:`replace_folder` and jam every later
    run.

    Raises:
        PackError: naming the first such path and what to do.
    """
    for provider in providers:
        for name in (provider, STAGING_PREFIX + provider, REPLACED_PREFIX + provider):
            place = period_out / name
            if place.is_symlink() or (place.exists() and not place.is_dir()):
                what = "a link" if place.is_symlink() else "a file"
                raise PackError(
                    f"{what}, not a folder, is where provider {provider}'s outputs go; "
                    "move it out of the way and run again",
                    path=place,
                )


@contextlib.contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder/.kpitools.lock`` for the time of a run.

    The lock is an ``flock`` on the file (a byte-range lock on Windows): the system
    releases it when the run ends,
    even by SIGKILL, so a killed run never leaves a stale lock behind. The file holds
    who has it, for the message a second run gives.

    Raises:
        PackError: another run holds the lock (its pid, host and start time named).
    """
    path = folder / LOCK_FILE
    handle = path.open("a+", encoding="utf-8")  # "a+": never empties the holder's record
    try:
        _lock(handle)
    except OSError:
        handle.seek(0)
        holder = _holder_text(handle.read())
        handle.close()
        raise PackError(
            f"another kpitools run is writing this folder ({holder}); wait until it "
            f"ends (the lock goes with it)",
            path=folder,
        ) from None
    try:
        handle.seek(0)
        handle.truncate()
        started = datetime.now(UTC).replace(microsecond=0).isoformat()
        handle.write(
            json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": started})
        )
        handle.flush()
        yield
    finally:
        handle.truncate(0)
        handle.close()  # closing the file releases the lock


@contextlib.contextmanager
def waiting_lock(path: Path, *, wait: float) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed, mode 0600), waiting up to
    ``wait`` seconds for another process to release it: for short critical sections
    that runs take in turn (the audit store's transactions), unlike :func:`run_lock`,
    which refuses at once. Released when the block ends, or by the system when the
    process dies.

    Raises:
        TimeoutError: another process held it for longer than ``wait``.
    """
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    handle = os.fdopen(descriptor, "r+b")
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                _lock(handle)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"{path} held by another process for over {wait:g} s"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        handle.close()  # closing the file releases the lock


def _lock(handle: Any) -> None:
    """Take the lock without waiting; OSError when another process holds it."""
    if sys.platform == "win32":  # pragma: no cover - Windows
        handle.seek(_LOCKED_BYTE)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _holder_text(record: str) -> str:
    try:
        holder = json.loads(record)
        return f"pid {holder['pid']} on {holder['host']}, started {holder['started']}"
    except (ValueError, KeyError, TypeError):
        return "holder not yet recorded"


def staging_folder(final: Path) -> Path:
    """A fresh hidden folder beside ``final`` to build its new set of outputs in."""
    staging = final.with_name(STAGING_PREFIX + final.name)
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    return staging


def replace_folder(staging: Path, final: Path) -> Path:
    """Put ``staging`` in the place of ``final`` (created or replaced whole).

    The old folder is renamed aside, the new one renamed in, the old one deleted: at
    every instant the old set or the new one is whole. A run killed between the two
    renames leaves the old set under ``.replaced-<name>``, which
    :func:`tidy_period_folder` puts back.
    """
    aside = final.with_name(REPLACED_PREFIX + final.name)
    if aside.is_dir() and not aside.is_symlink():
        shutil.rmtree(aside)
    elif aside.is_symlink() or aside.exists():  # refused up front: check_provider_places
        aside.unlink()
    if final.exists():
        final.rename(aside)
    staging.rename(final)
    shutil.rmtree(aside, ignore_errors=True)
    return final


def moved_path(path: str | None, staging: Path, final: Path) -> str | None:
    """Where a file written in ``staging`` is once :func:`replace_folder` has run."""
    return str(final / Path(path).relative_to(staging)) if path else path


def tidy_period_folder(folder: Path) -> None:
    """Clear what a killed run left in ``folder``: half-built sets are deleted, an old set
    moved aside but never replaced is put back. Call with the run lock held."""
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(STAGING_PREFIX) and entry.is_dir():
            log.warning("removing %s, left half-built by a run that was stopped", entry.name)
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(REPLACED_PREFIX) and entry.is_dir():
            final = entry.with_name(entry.name[len(REPLACED_PREFIX) :])
            if final.exists():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.rename(final)


@contextlib.contextmanager
def private_folder() -> Iterator[Path]:
    """A temporary folder only this user can open (0700), removed when the block ends,
    also when the run is stopped by SIGTERM or Ctrl-C.

    It is made in the system's temporary folder (``$TMPDIR``), never in OUT: after a
    SIGKILL nothing of it is left among the outputs, and the next run removes it.
    With ``--scheduler``, point ``TMPDIR`` at a folder the Dask workers share.
    """
    _remove_orphans()
    folder = Path(tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-"))
    with _sigterm_as_exit():
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _remove_orphans() -> None:
    """Private folders and kernel socket folders of runs that were killed (their pid is
    gone) and are ours."""
    for prefix in (PRIVATE_PREFIX, KERNEL_PREFIX):
        for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*-*"):
            pid = folder.name[len(prefix) :].split("-", 1)[0]
            with contextlib.suppress(OSError, ValueError):
                mine = not hasattr(os, "getuid") or folder.stat().st_uid == os.getuid()
                if mine and folder.is_dir() and not _alive(int(pid)):
                    shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill there would end the process: assume it lives
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """SIGTERM raises SystemExit (as Ctrl-C raises KeyboardInterrupt), so clean-up code
    runs; only the main thread can set a handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_signal(signum: int, frame: Any) -> None:  # noqa: ARG001 - signal handler
    log.warning("stopped by signal %d: cleaning up", signum)
    sys.exit(128 + signum)
