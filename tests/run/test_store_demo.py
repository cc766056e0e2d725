"""Issue 25's "done when", end to end with the real command on the demo (P001, and P002
with its ILR files): building 2023-01..03 in order into one OUT, editing the 2023-03
register and rebuilding it keeps every edit, the added column and the row added by hand,
leaves a backup under .history and records the edits in the audit store; another key is
refused and nothing in OUT changes; ``kpitools log`` lists every run; a rebuild killed in
the middle loses nothing; two periods built at once are both recorded."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kpitools.privacy.pseudonym import key_fingerprint
from kpitools.store.connection import read_store

pytestmark = pytest.mark.slow

KEY = "store-demo-key-0123456789abcdef"
PERIODS = ("2023-01", "2023-02", "2023-03")
EDITS = {  # row of the Exceptions sheet -> status, owner, response
    2: ("queried", "Sam", "asked for the start letter"),
    3: ("accepted", "Alex", "=explained by phone"),  # formula-looking text stays text
}
NOTE = "call back on Tuesday"
MANUAL = "visit the provider about the missing letters"


@dataclass
class Built:
    data: Path
    out: Path
    runs: list[int] = field(default_factory=list)  # exit status of every run on record
    edited: dict[str, tuple[str, str, str]] = field(default_factory=dict)


def kpitools(*args: str, key: str = KEY, **popen: object) -> subprocess.Popen[str]:
    env = {**os.environ, "KPITOOLS_PSEUDONYM_KEY": key}
    return subprocess.Popen(
        [sys.executable, "-c", "from kpitools.cli import main; main()", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,  # type: ignore[arg-type]
    )


def packs(built: Built, period: str, *, key: str = KEY) -> subprocess.CompletedProcess[str]:
    process = kpitools(
        "packs",
        str(built.data / period),
        "--out",
        str(built.out),
        "--workers",
        "1",
        "--no-progress",
        key=key,
    )
    stdout, stderr = process.communicate(timeout=600)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def register(built: Built, provider: str = "P001") -> Path:
    return built.out / "2023-03" / provider / "exceptions.xlsx"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(demo_dir, tmp_path_factory) -> Built:
    root = tmp_path_factory.mktemp("store")
    result = Built(root / "data", root / "out")
    for period in PERIODS:
        for provider in ("P001", "P002"):
            shutil.copytree(demo_dir[0] / period / provider, result.data / period / provider)
    for period in PERIODS:
        done = packs(result, period)
        assert done.returncode == 0, done.stderr
        result.runs.append(0)
    return result


def _edit(built: Built) -> None:
    """The auditor's work on the 2023-03 register of P001, saved as in Excel."""
    book = load_workbook(register(built))
    sheet = book["Exceptions"]
    header = [c.value for c in sheet[1]]
    column = {name: i + 1 for i, name in enumerate(header)}
    for row, values in EDITS.items():
        for name, value in zip(("status", "owner", "response"), values, strict=True):
            cell = sheet.cell(row=row, column=column[name], value=value)
            cell.data_type = "s"
        built.edited[sheet.cell(row=row, column=1).value] = values
    added = len(header) + 1
    sheet.cell(row=1, column=added, value="auditor_notes")
    sheet.cell(row=2, column=added, value=NOTE)
    last = sheet.max_row + 1
    for name, value in (("rule", "VISIT"), ("severity", "medium"), ("message", MANUAL)):
        sheet.cell(row=last, column=column[name], value=value)
    book.properties.lastModifiedBy = "Sam Auditor"
    book.save(register(built))


def _rows(path: Path) -> dict[str, dict[str, object]]:
    sheet = load_workbook(path)["Exceptions"]
    header = [c.value for c in sheet[1]]
    return {
        str(row[0]): dict(zip(header, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }


def test_a_rebuild_keeps_every_edit_backs_up_the_register_and_records_the_edits(
    built: Built,
) -> None:
    _edit(built)
    edited = sha256(register(built))
    done = packs(built, "2023-03")
    assert done.returncode == 0, done.stderr
    built.runs.append(0)
    rows = _rows(register(built))
    for exception, (status, owner, response) in built.edited.items():
        row = rows[exception]
        assert (row["status"], row["owner"], row["response"]) == (status, owner, response)
    first = next(iter(built.edited))
    assert rows[first]["auditor_notes"] == NOTE
    (manual,) = [r for r in rows.values() if r["message"] == MANUAL]
    assert str(manual["exception_id"]).startswith("MAN-") and manual["change"] == "manual"
    # the register replaced is kept whole under .history
    kept = list((built.out / "2023-03" / "P001" / ".history").glob("exceptions-*.xlsx"))
    assert edited in {sha256(p) for p in kept}
    # the Summary says what was carried and from where
    summary = {
        r[0]: r[1]
        for r in load_workbook(register(built))["Summary"].iter_rows(min_row=2, values_only=True)
    }
    assert summary["carried from this period's earlier register (in the output folder)"] == (
        "2023-03/P001/exceptions.xlsx"
    )
    this = "this period's earlier register"
    assert summary[f"{this}: saved by, at"].startswith("Sam Auditor, ")
    assert summary[f"{this}: columns an auditor added"] == "auditor_notes"
    assert summary[f"{this}: rows added by hand"] == 1
    # 2 rows x status, owner, response; the note; the manual row's rule, severity, message
    assert summary[f"{this}: values an auditor changed in it"] == 10
    # the edits are in the store, with who saved the register
    with read_store(built.out) as con:
        events = con.execute(
            "SELECT exception_id, field, value, last_modified_by, register_sha256 "
            "FROM register_events WHERE register_path = '2023-03/P001/exceptions.xlsx'"
        ).fetchall()
    found = {(e[0], e[1]): e[2] for e in events}
    for exception, (status, owner, response) in built.edited.items():
        assert found[(exception, "status")] == status
        assert found[(exception, "owner")] == owner
        assert found[(exception, "response")] == response
    assert found[(first, "auditor_notes")] == NOTE
    assert found[(manual["exception_id"], "message")] == MANUAL
    assert {e[3] for e in events} == {"Sam Auditor"} and {e[4] for e in events} == {edited}
    # and the pack says so
    pack = (built.out / "2023-03" / "P001" / "audit_pack.html").read_text(encoding="utf-8")
    assert "This period&#39;s register was built before" in pack
    assert key_fingerprint(KEY.encode()) in pack


def _snapshot(out: Path) -> dict[str, tuple[int, int, str]]:
    return {
        str(p.relative_to(out)): (p.stat().st_size, p.stat().st_mtime_ns, sha256(p))
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def test_another_key_is_refused_in_one_line_and_nothing_in_out_changes(built: Built) -> None:
    before = _snapshot(built.out)
    other = "another-laptop-key-0123456789abcdef"
    refused = packs(built, "2023-03", key=other)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1
    assert key_fingerprint(KEY.encode()) in refused.stderr
    assert key_fingerprint(other.encode()) in refused.stderr
    assert "$KPITOOLS_PSEUDONYM_KEY" in refused.stderr  # where the key is expected
    assert _snapshot(built.out) == before


def test_the_log_lists_every_run_and_inputs_hold_the_ilr_and_previous_return(
    built: Built,
) -> None:
    process = kpitools("log", str(built.out))
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    lines = stdout.splitlines()
    assert len(lines) == len(built.runs)
    assert [line.split()[1] for line in lines] == [str(n) for n in range(len(lines), 0, -1)]
    statuses = zip(lines, built.runs[::-1], strict=True)
    assert all(f"exit {status}" in line for line, status in statuses)
    assert "packs 2023-03  built 2, failed 0" in lines[0]
    assert "2023-03/P001/exceptions.xlsx (10 edits)" in lines[0]
    with read_store(built.out) as con:
        roles = con.execute(
            "SELECT role, path, sha256 FROM inputs WHERE run_id = 3 AND provider_id = 'P002'"
        ).fetchall()
    by_role: dict[str, list[tuple[str, str]]] = {}
    for role, path, digest in roles:
        by_role.setdefault(role, []).append((path, digest))
    assert [p for p, _ in by_role["ILR, current state"]] == [
        f"2023-03/P002/ilr/{p.name}"
        for p in sorted((built.data / "2023-03" / "P002" / "ilr").glob("*.xml"))[-1:]
    ]
    previous = dict(by_role["previous month's return"])
    assert previous["2023-02/P002/learners.csv"] == sha256(
        built.data / "2023-02" / "P002" / "learners.csv"
    )
    ilr = by_role["ILR, current state"][0]
    assert ilr[1] == sha256(built.data / ilr[0])


def _kill_group(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGKILL)  # the run and the kernel it started
    process.communicate(timeout=60)


def test_a_rebuild_killed_in_the_middle_loses_nothing(built: Built) -> None:
    book = load_workbook(register(built))
    sheet = book["Exceptions"]
    status = [c.value for c in sheet[1]].index("owner") + 1
    sheet.cell(row=2, column=status, value="Robin")
    book.save(register(built))
    edited = sha256(register(built))
    run = kpitools(
        "packs",
        str(built.data / "2023-03"),
        "--out",
        str(built.out),
        "--workers",
        "1",
        "--no-progress",
        start_new_session=True,
    )
    staging = built.out / "2023-03" / ".building-P001" / "exceptions.xlsx"
    deadline = time.monotonic() + 300
    while not staging.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, "the run ended before it could be killed"
    _kill_group(run)
    # the old set, with the auditor's edit, is whole; the store opens and says so
    assert sha256(register(built)) == edited
    log = kpitools("log", str(built.out))
    stdout, _ = log.communicate(timeout=60)
    assert "unfinished (killed, or still running)" in stdout.splitlines()[0]
    done = packs(built, "2023-03")
    assert done.returncode == 0, done.stderr
    built.runs += [-1, 0]
    first = next(iter(built.edited))
    assert _rows(register(built))[first]["owner"] == "Robin"


def test_two_periods_built_at_once_are_both_recorded(built: Built) -> None:
    runs = [
        kpitools(
            "packs",
            str(built.data / period),
            "--out",
            str(built.out),
            "--workers",
            "1",
            "--no-progress",
        )
        for period in ("2023-01", "2023-02")
    ]
    for process in runs:
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr
    with read_store(built.out) as con:
        last = con.execute(
            "SELECT period, exit_status FROM runs ORDER BY run_id DESC LIMIT 2"
        ).fetchall()
        recorded = con.execute(
            "SELECT DISTINCT period FROM kpi_results WHERE run_id IN "
            "(SELECT run_id FROM runs ORDER BY run_id DESC LIMIT 2)"
        ).fetchall()
    assert sorted(last) == [("2023-01", 0), ("2023-02", 0)]
    assert sorted(recorded) == [("2023-01",), ("2023-02",)]


def test_the_example_queries_of_docs_store_md_run(built: Built) -> None:
    text = (Path(__file__).parents[2] / "docs" / "store.md").read_text(encoding="utf-8")
    block = text.split("```sql\n", 1)[1].split("```", 1)[0]
    statements = [s.strip() for s in block.split(";") if s.strip()]
    assert len(statements) == 8
    with read_store(built.out) as con:
        results = [con.execute(statement).fetchall() for statement in statements]
    assert all(results[:3])  # runs, periods, the trend
