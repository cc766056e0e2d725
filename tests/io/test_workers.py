"""Worker processes end with the run that started them (issue 14 item 10): killed with
SIGKILL, or stopping on an exception, a run leaves no worker behind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kpitools.io.workers import process_pool

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's"
)


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_until(predicate, what: str, seconds: float = 60) -> None:  # noqa: ANN001 - test helper
    """Poll with a generous ceiling: a hang fails the test, speed is not measured."""
    end = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.1)


def test_workers_end_when_the_run_is_killed(tmp_path):
    # The run submits a job that sleeps two minutes and is SIGKILLed while it sleeps:
    # no clean-up code of the run can execute, the kernel ends the worker.
    pid_file = tmp_path / "worker.pid"
    run = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent("""
        import sys
        from kpitools.io.workers import process_pool
        from tests.io.test_workers import sleep_after_writing_pid
        with process_pool(1) as pool:
            pool.submit(sleep_after_writing_pid, sys.argv[1]).result()
    """),
            str(pid_file),
        ],
        cwd=Path(__file__).parents[2],
    )
    wait_until(lambda: pid_file.exists() and pid_file.read_text(), "the worker to start")
    worker = int(pid_file.read_text())
    assert running(worker)
    run.kill()
    run.wait()
    wait_until(lambda: not running(worker), f"worker {worker} to end with its parent")


def sleep_after_writing_pid(path: str) -> None:
    Path(path).write_text(str(os.getpid()))
    time.sleep(120)


def test_workers_are_terminated_when_the_run_stops_on_an_exception(tmp_path):
    pid_file = tmp_path / "worker.pid"
    with pytest.raises(KeyboardInterrupt), process_pool(1) as pool:
        pool.submit(sleep_after_writing_pid, str(pid_file))
        wait_until(lambda: pid_file.exists() and pid_file.read_text(), "the worker to start")
        raise KeyboardInterrupt  # as Ctrl-C would, or SIGTERM turned into SystemExit
    worker = int(pid_file.read_text())
    assert not running(worker)  # terminated and joined, not waited for two minutes


def test_pool_still_returns_results():
    with process_pool(2) as pool:
        assert list(pool.map(abs, [-1, -2, 3])) == [1, 2, 3]


def validate_notebooks_in_worker() -> tuple[object, str]:
    """In a pool worker: import nbformat (jsonschema with it), validate a good notebook
    and a bad one; what stands for rfc3987_syntax, and the bad notebook's error."""
    import nbformat

    nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]))
    bad = nbformat.v4.new_notebook()
    bad.cells.append({"cell_type": "spreadsheet", "source": "", "metadata": {}})
    try:
        nbformat.validate(bad)
    except nbformat.ValidationError as error:
        return sys.modules.get("rfc3987_syntax", "not imported"), type(error).__name__
    return sys.modules.get("rfc3987_syntax", "not imported"), "no error"


def test_workers_validate_notebooks_without_the_unused_grammar_module():
    # rfc3987_syntax only serves jsonschema's "iri" format checks (~1 s of CPU to import);
    # notebooks are still validated against nbformat's schema
    with process_pool(1) as pool:
        skipped, error = pool.submit(validate_notebooks_in_worker).result()
    assert skipped is None
    assert error == "NotebookValidationError"
