"""Opening the audit store, ``OUT/kpitools.duckdb``, safely.

- **One writer at a time.** DuckDB lets one process at a time open a database file for
  writing. Runs never keep the store open: each opens it for one short transaction
  (:func:`open_store`) while holding ``OUT/.kpitools.duckdb.lock``
  (:func:`kpitools.io.workspace.waiting_lock`), waiting its turn, so two runs on
  different periods of one OUT both write, in turn. A program outside kpitools holding
  the file (the DuckDB command line, a notebook) is waited for too, then named.
- **All or nothing.** Everything a call writes is one transaction: a run killed in the
  middle (even by SIGKILL) leaves the store as it was before it (DuckDB's write-ahead
  log replays only what was committed).
- **Owner only.** The database and its write-ahead log are created 0600: they hold
  learner refs and pseudonyms (never names, ULNs, contact details, birth dates,
  postcodes or NI numbers).
- **Versioned.** A store of an older schema is migrated
  (:func:`kpitools.store.schema.migrate`); one of a newer schema is refused in one line.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kpitools import __version__
from kpitools.errors import StoreError
from kpitools.io.workspace import waiting_lock
from kpitools.store import schema

STORE_FILE = "kpitools.duckdb"
LOCK_FILE = ".kpitools.duckdb.lock"
WAIT_SECONDS = 120.0
"""How long a run waits for its turn to write (another run's transaction, or another
program holding the file) before it stops with a message."""


def first_row(con: Any, sql: str, parameters: list[object] | None = None) -> tuple[Any, ...] | None:
    """The first row a query gives (None: none). The whole result is fetched: DuckDB
    keeps a connection busy until every row of its last result is read."""
    found = con.execute(sql, parameters or []).fetchall()
    return tuple(found[0]) if found else None


def store_path(out_root: str | Path) -> Path:
    """``OUT/kpitools.duckdb``: the audit store of an output root."""
    return Path(out_root) / STORE_FILE


@contextlib.contextmanager
def _owner_only() -> Iterator[None]:
    """Files created in the block are the owner's only (0600): DuckDB creates its
    database and write-ahead log with the process's umask. The umask is the process's, so
    the block is kept short (one transaction)."""
    before = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(before)


def _connect(path: Path, *, read_only: bool, deadline: float) -> Any:
    """A DuckDB connection, retried while another program holds the file.

    Raises:
        StoreError: the file is not a DuckDB database, or was held past the deadline.
    """
    import duckdb

    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            text = str(error)
            if "lock" not in text.lower():
                raise StoreError(
                    f"not a kpitools audit store ({text.splitlines()[0]}); move it aside",
                    path=path,
                ) from None
            if time.monotonic() >= deadline:
                raise StoreError(
                    "the audit store is held by another program (the DuckDB command line, a "
                    "notebook?); close it and run again",
                    path=path,
                ) from None
            time.sleep(0.1)
        except duckdb.Error as error:
            raise StoreError(
                f"not a kpitools audit store ({type(error).__name__}); move it aside", path=path
            ) from None


EMPTY = 0  # the version of a database without a table: one whose creation was stopped


def _version(con: Any, path: Path) -> int:
    """The store's schema version, checked against this kpitools's; :data:`EMPTY` for a
    database that holds no table (the run that created it was killed before it committed).

    Raises:
        StoreError: not a kpitools store, or one of a newer schema.
    """
    tables = {str(r[0]) for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if not tables:
        return EMPTY
    row = None
    if schema.META_TABLE in tables:
        row = first_row(
            con, f"SELECT value FROM {schema.META_TABLE} WHERE name = ?", [schema.VERSION_KEY]
        )
    if row is None:
        raise StoreError("not a kpitools audit store (no schema version); move it aside", path=path)
    found = int(row[0])
    if found > schema.SCHEMA_VERSION:
        raise StoreError(
            f"the audit store was written by a newer kpitools (schema version {found}; "
            f"kpitools {__version__} reads up to {schema.SCHEMA_VERSION}): upgrade kpitools",
            path=path,
        )
    return found


def _create(con: Any, key_fingerprint: str) -> None:
    for statement in schema.create_statements():
        con.execute(statement).fetchall()
    for name, value in (
        (schema.VERSION_KEY, str(schema.SCHEMA_VERSION)),
        (schema.KEY_FINGERPRINT_KEY, key_fingerprint),
        ("created_utc", datetime.now(UTC).replace(microsecond=0).isoformat()),
        ("created_by", f"kpitools {__version__}"),
    ):
        con.execute(f"INSERT INTO {schema.META_TABLE} VALUES (?, ?)", [name, value]).fetchall()


@contextlib.contextmanager
def open_store(out_root: str | Path, *, key_fingerprint: str) -> Iterator[Any]:
    """The store of ``out_root`` open for one transaction, created (recording
    ``key_fingerprint`` as the store's key) or migrated as needed; committed when the
    block ends, rolled back when it raises.

    Raises:
        StoreError: a newer store, not a store, or held too long by another program.
    """
    path = store_path(out_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + WAIT_SECONDS
    with _turn(out_root), _owner_only():
        con = _connect(path, read_only=False, deadline=deadline)
        try:
            con.execute("BEGIN TRANSACTION").fetchall()
            found = _version(con, path)
            if found == EMPTY:
                _create(con, key_fingerprint)
            elif found < schema.SCHEMA_VERSION:
                schema.migrate(con, found)
            yield con
            con.execute("COMMIT").fetchall()
        except BaseException:
            with contextlib.suppress(Exception):
                con.execute("ROLLBACK").fetchall()
            raise
        finally:
            con.close()


@contextlib.contextmanager
def read_store(out_root: str | Path) -> Iterator[Any]:
    """The store of ``out_root`` open read-only (an older schema is migrated first).

    Raises:
        StoreError: there is no store, it is newer, not a store, or held too long.
    """
    path = store_path(out_root)
    if not path.is_file():
        raise StoreError(
            "no audit store here: kpitools packs writes OUT/kpitools.duckdb at its first run",
            path=path,
        )
    deadline = time.monotonic() + WAIT_SECONDS
    with _turn(out_root), _owner_only():
        con = _connect(path, read_only=True, deadline=deadline)
        try:
            found = _version(con, path)
            if found == EMPTY:
                raise StoreError("the audit store holds no run yet", path=path)
        except BaseException:
            con.close()
            raise
        if found < schema.SCHEMA_VERSION:
            con.close()
            con = _connect(path, read_only=False, deadline=deadline)
            con.execute("BEGIN TRANSACTION").fetchall()
            schema.migrate(con, found)
            con.execute("COMMIT").fetchall()
        try:
            yield con
        finally:
            con.close()


def stored_key_fingerprint(out_root: str | Path) -> str | None:
    """The fingerprint of the key the store of ``out_root`` was written with; None when
    there is no store. Reads only (nothing in OUT changes).

    Raises:
        StoreError: as :func:`read_store`, but an older store is read as it is.
    """
    path = store_path(out_root)
    if not path.is_file():
        return None
    deadline = time.monotonic() + WAIT_SECONDS
    with _turn(out_root), _owner_only():
        con = _connect(path, read_only=True, deadline=deadline)
        try:
            if _version(con, path) == EMPTY:
                return None
            row = first_row(
                con,
                f"SELECT value FROM {schema.META_TABLE} WHERE name = ?",
                [schema.KEY_FINGERPRINT_KEY],
            )
        finally:
            con.close()
    return None if row is None else str(row[0])


@contextlib.contextmanager
def _turn(out_root: str | Path) -> Iterator[None]:
    """This process's turn at the store (:func:`waiting_lock` on its lock file).

    Raises:
        StoreError: another run held it for longer than :data:`WAIT_SECONDS`.
    """
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(waiting_lock(Path(out_root) / LOCK_FILE, wait=WAIT_SECONDS))
        except TimeoutError:
            raise StoreError(
                f"another kpitools run held the audit store for over {WAIT_SECONDS:g} s; "
                "run again when it has ended",
                path=store_path(out_root),
            ) from None
        yield
