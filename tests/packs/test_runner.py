"""The runner retries a kernel that fails to start, never a failing cell, and turns any
failure into an outcome instead of an exception."""

from __future__ import annotations

from pathlib import Path

import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

from kpitools.packs import runner
from kpitools.packs.runner import PackJob, execute, run_pack_job


def _job(tmp_path: Path, retries: int = 2) -> PackJob:
    return PackJob("P001", "nb.ipynb", {}, str(tmp_path / "x.ipynb"), str(tmp_path / "x.html"), "t",
                   kernel_retries=retries)


class _Flaky:
    """Fails ``failures`` times with ``error``, then succeeds."""

    def __init__(self, failures: int, error: BaseException) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self, *args: object, **kwargs: object) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner.time, "sleep", lambda seconds: None)


@pytest.mark.parametrize("error", [RuntimeError("Kernel died before replying"), TimeoutError("kernel_info")])
def test_kernel_start_failure_retried_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    flaky = _Flaky(2, error)
    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    assert execute(_job(tmp_path)) == 3
    flaky = _Flaky(3, error)
    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    with pytest.raises(type(error)):
        execute(_job(tmp_path))
    assert flaky.calls == 3  # one try and two retries, no more


def test_failing_cell_is_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flaky = _Flaky(1, PapermillExecutionError(3, 3, "x", "ValueError", "bad", []))
    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    outcome = run_pack_job(_job(tmp_path))
    assert flaky.calls == 1
    assert not outcome.ok
    # nothing was written by the fake, so the reason says so too
    assert outcome.error == "ValueError: bad"
    assert outcome.html_path is None


def test_unexpected_error_becomes_an_outcome(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(papermill, "execute_notebook", _Flaky(1, KeyError("no such kernel")))
    outcome = run_pack_job(_job(tmp_path))
    assert (outcome.ok, outcome.error) == (False, "KeyError: 'no such kernel'")


@pytest.mark.slow
def test_cell_timeout_fails_the_pack_without_retry(tmp_path: Path) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import time\ntime.sleep(30)")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "slow.ipynb"
    nbformat.write(notebook, str(path))
    job = PackJob("P009", str(path), {}, str(tmp_path / "out.ipynb"), str(tmp_path / "out.html"), "slow",
                  cell_timeout=2)
    outcome = run_pack_job(job)
    assert not outcome.ok and "Timeout" in outcome.error
    assert outcome.seconds < 25
    # a cell timeout is a TimeoutError, but not a kernel-start failure: never retried
    from nbclient.exceptions import CellTimeoutError

    assert not runner._is_kernel_start_failure(CellTimeoutError("tb", "CellTimeoutError", "2 s"))
    assert runner._is_kernel_start_failure(TimeoutError("kernel_info"))
