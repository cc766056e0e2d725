"""The audit store opens safely: created owner-only, versioned (a newer store refused in
one line, an older one migrated), a file that is not a store named, two processes
writing in turn, and a process killed in the middle of a transaction leaving the store
as it was before it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from kpitools.cli import main
from kpitools.errors import StoreError
from kpitools.store import schema
from kpitools.store.connection import (
    first_row,
    open_store,
    read_store,
    store_path,
    stored_key_fingerprint,
)
from kpitools.store.record import RunStart, end_run, start_run

START = RunStart("packs", ("DATA/2023-03", "--out", "OUT"), "2023-03", "KF-000000000001", "0" * 64)


def _runs(out: Path) -> list[tuple[object, ...]]:
    with read_store(out) as con:
        return con.execute("SELECT run_id, exit_status FROM runs ORDER BY run_id").fetchall()


def test_a_new_store_is_created_owner_only_with_its_key_and_version(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask: new files 0644
    try:
        with open_store(tmp_path, key_fingerprint="KF-000000000001") as con:
            run_id = start_run(con, START)
            end_run(con, run_id, 0, {"P001": ("built", "")})
    finally:
        os.umask(previous)
    files = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert files == {"kpitools.duckdb": 0o600, ".kpitools.duckdb.lock": 0o600}
    assert stored_key_fingerprint(tmp_path) == "KF-000000000001"
    assert _runs(tmp_path) == [(1, 0)]
    with read_store(tmp_path) as con:
        meta = dict(con.execute("SELECT name, value FROM store_meta").fetchall())
    assert meta["schema_version"] == str(schema.SCHEMA_VERSION)


def test_no_store_is_none_for_the_key_and_an_error_for_the_log(tmp_path: Path) -> None:
    assert stored_key_fingerprint(tmp_path) is None
    assert not store_path(tmp_path).exists()  # reading never creates it
    with pytest.raises(StoreError, match="no audit store here"):
        with read_store(tmp_path):
            pass
    result = CliRunner().invoke(main, ["log", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1


def test_a_newer_store_is_refused_in_one_line(tmp_path: Path) -> None:
    with open_store(tmp_path, key_fingerprint="KF-000000000001") as con:
        con.execute(
            "UPDATE store_meta SET value = ? WHERE name = 'schema_version'",
            [str(schema.SCHEMA_VERSION + 1)],
        ).fetchall()
    newer = schema.SCHEMA_VERSION + 1
    with pytest.raises(StoreError, match=rf"written by a newer kpitools \(schema version {newer}"):
        with open_store(tmp_path, key_fingerprint="KF-000000000001"):
            pass
    result = CliRunner().invoke(main, ["log", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "upgrade kpitools" in result.stderr


def test_an_older_store_is_migrated_in_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(tmp_path, key_fingerprint="KF-000000000001") as con:
        start_run(con, START)
    # the next kpitools's schema: its version adds a column to runs
    current = schema.SCHEMA_VERSION
    monkeypatch.setattr(schema, "SCHEMA_VERSION", current + 1)
    monkeypatch.setattr(
        schema, "MIGRATIONS", {current: ("ALTER TABLE runs ADD COLUMN reviewer VARCHAR",)}
    )
    with open_store(tmp_path, key_fingerprint="KF-000000000001") as con:
        version = first_row(con, "SELECT value FROM store_meta WHERE name = 'schema_version'")
        reviewer = con.execute("SELECT reviewer FROM runs").fetchall()
    assert version == (str(current + 1),) and reviewer == [(None,)]


FINDINGS_V2 = """
    run_id BIGINT NOT NULL,
    period VARCHAR NOT NULL,
    provider_id VARCHAR NOT NULL,
    exception_id VARCHAR NOT NULL,
    first_seen DATE,
    bootcamp_id VARCHAR NOT NULL,
    kpi VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    learner_ref VARCHAR NOT NULL,
    pseudonym VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    message VARCHAR NOT NULL
"""
"""The ``findings`` table of schema versions 1 and 2, as kpitools created it then."""
FINDING_V2 = (1, "2023-02", "P001", "EX-0123456789AB", None, "B1", "irregularity")
FINDING_V2 += ("DUP-ULN-OVERLAP", "high", "learner:L1", "L1", "L-0123456789")
FINDING_V2 += ("learners.csv:2", "the learner has the ULN of provider P002's learner")


def _old_store(out: Path, version: int) -> None:
    """A store as a kpitools of schema ``version`` (1 or 2) wrote it, by that schema's
    statements: one run and one finding (version 1: no kpi_members either)."""
    tables = {**schema.TABLES, "findings": FINDINGS_V2}
    if version == 1:
        del tables["kpi_members"]
    con = duckdb.connect(str(store_path(out)))
    try:
        for name in schema.SEQUENCES:
            con.execute(f"CREATE SEQUENCE {name} START 1").fetchall()
        for name, columns in tables.items():
            con.execute(f"CREATE TABLE {name} ({columns})").fetchall()
        for name, value in (
            ("schema_version", str(version)),
            ("key_fingerprint", START.key_fingerprint),
        ):
            con.execute("INSERT INTO store_meta VALUES (?, ?)", [name, value]).fetchall()
        end_run(con, start_run(con, START), 0, {"P001": ("built", "")})
        con.execute(f"INSERT INTO findings VALUES ({', '.join('?' * 14)})", list(FINDING_V2))
    finally:
        con.close()


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_store_is_migrated_keeping_its_rows(tmp_path: Path, version: int) -> None:
    # version 1, before issue 26: no kpi_members; version 2: findings without related
    _old_store(tmp_path, version)
    with open_store(tmp_path, key_fingerprint=START.key_fingerprint) as con:
        found = first_row(con, "SELECT value FROM store_meta WHERE name = 'schema_version'")
        members = con.execute("SELECT count(*) FROM kpi_members").fetchall()
        runs = con.execute("SELECT run_id, exit_status FROM runs").fetchall()
        findings = con.execute("SELECT * FROM findings").fetchall()
        columns = [r[0] for r in con.execute("DESCRIBE findings").fetchall()]
        # what a run of this kpitools inserts goes in beside the earlier run's rows
        con.execute(
            f"INSERT INTO findings VALUES ({', '.join('?' * 15)})",
            [2, *FINDING_V2[1:], "P002/learner:L9"],
        ).fetchall()
    assert found == (str(schema.SCHEMA_VERSION),) and members == [(0,)] and runs == [(1, 0)]
    assert findings == [(*FINDING_V2, "")]  # the earlier run's finding kept, related ''
    assert columns == [line.split()[0] for line in schema.TABLES["findings"].strip().splitlines()]
    with read_store(tmp_path) as con:
        related = con.execute("SELECT run_id, related FROM findings ORDER BY run_id").fetchall()
    assert related == [(1, ""), (2, "P002/learner:L9")]
    with pytest.raises(duckdb.ConstraintException):  # NOT NULL, as in a new store
        with open_store(tmp_path, key_fingerprint=START.key_fingerprint) as con:
            con.execute(
                f"INSERT INTO findings VALUES ({', '.join('?' * 15)})", [3, *FINDING_V2[1:], None]
            ).fetchall()


def test_a_store_of_version_2_is_migrated_by_a_read(tmp_path: Path) -> None:
    # kpitools case / history / log read the store: an older one is migrated first
    _old_store(tmp_path, 2)
    with read_store(tmp_path) as con:
        related = con.execute("SELECT related FROM findings").fetchall()
    assert related == [("",)]


def test_a_file_that_is_not_a_store_is_named(tmp_path: Path) -> None:
    store_path(tmp_path).write_bytes(b"my spreadsheet, not a database" * 200)
    with pytest.raises(StoreError, match="not a kpitools audit store"):
        stored_key_fingerprint(tmp_path)


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


WRITER = """
    import sys, time
    from kpitools.store.connection import open_store
    from kpitools.store.record import RunStart, end_run, start_run
    out, name = sys.argv[1], sys.argv[2]
    start = RunStart("packs", (name,), name, "KF-000000000001", "0" * 64)
    for _ in range(15):
        with open_store(out, key_fingerprint="KF-000000000001") as con:
            run_id = start_run(con, start)
            time.sleep(0.02)  # hold the transaction a while: the other waits its turn
            end_run(con, run_id, 0, {})
    print("done")
"""


def test_two_processes_write_in_turn_and_both_are_recorded(tmp_path: Path) -> None:
    writers = [_python(WRITER, str(tmp_path), period) for period in ("2023-01", "2023-02")]
    for writer in writers:
        stdout, stderr = writer.communicate(timeout=120)
        assert writer.returncode == 0, stderr
        assert stdout.strip() == "done"
    with read_store(tmp_path) as con:
        counts = dict(con.execute("SELECT period, count(*) FROM runs GROUP BY period").fetchall())
        ended = first_row(con, "SELECT count(*) FROM runs WHERE ended_utc IS NOT NULL")
    assert counts == {"2023-01": 15, "2023-02": 15} and ended == (30,)


KILLED = """
    import sys, time
    import pandas as pd
    from kpitools.store.connection import open_store
    from kpitools.store.record import RunStart, insert, start_run
    out = sys.argv[1]
    with open_store(out, key_fingerprint="KF-000000000001") as con:
        start_run(con, RunStart("packs", (), "2023-04", "KF-000000000001", "0" * 64))
        rows = pd.DataFrame({
            "learner_ref": [f"L{i:06d}" for i in range(200_000)],
            "pseudonym": "L-0000000000", "bootcamp_id": "B1", "source": "learners.csv:2",
        })
        insert(con, "learner_facts", rows, run_id=99, period="2023-04", provider_id="P001")
        print("inserted", flush=True)
        time.sleep(120)
"""


def test_a_process_killed_in_a_transaction_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    with open_store(tmp_path, key_fingerprint="KF-000000000001") as con:
        end_run(con, start_run(con, START), 0, {})
    killed = _python(KILLED, str(tmp_path))
    assert killed.stdout is not None and killed.stdout.readline().strip() == "inserted"
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    # the store opens, holds the run before and nothing of the killed one; runs go on
    assert _runs(tmp_path) == [(1, 0)]
    with open_store(tmp_path, key_fingerprint="KF-000000000001") as con:
        assert first_row(con, "SELECT count(*) FROM learner_facts") == (0,)
        assert start_run(con, START) > 1


def test_a_store_whose_creation_was_killed_is_created_again(tmp_path: Path) -> None:
    creating = _python(
        """
        import sys, time
        from kpitools.store.connection import open_store
        with open_store(sys.argv[1], key_fingerprint="KF-000000000009"):
            print("creating", flush=True)
            time.sleep(120)
        """,
        str(tmp_path),
    )
    assert creating.stdout is not None and creating.stdout.readline().strip() == "creating"
    creating.send_signal(signal.SIGKILL)
    creating.wait(timeout=30)
    assert stored_key_fingerprint(tmp_path) is None  # nothing committed: no store yet
    with open_store(tmp_path, key_fingerprint="KF-000000000001") as con:
        start_run(con, START)
    assert stored_key_fingerprint(tmp_path) == "KF-000000000001"
