"""The runner retries a kernel that fails to start, never a failing cell, and turns any
failure into an outcome instead of an exception."""

from __future__ import annotations

from pathlib import Path

import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

from kpitools.errors import PackError
from kpitools.run import runner
from kpitools.run.runner import PackJob, execute, run_pack_job


def _job(tmp_path: Path, retries: int = 2) -> PackJob:
    return PackJob(
        "P001",
        "nb.ipynb",
        {},
        str(tmp_path / "x.ipynb"),
        str(tmp_path / "x.html"),
        "t",
        kernel_retries=retries,
    )


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


@pytest.mark.parametrize(
    "error", [RuntimeError("Kernel died before replying"), TimeoutError("kernel_info")]
)
def test_kernel_start_failure_retried_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
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


def test_unexpected_error_becomes_an_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(papermill, "execute_notebook", _Flaky(1, KeyError("no such kernel")))
    outcome = run_pack_job(_job(tmp_path))
    assert (outcome.ok, outcome.error) == (False, "KeyError: 'no such kernel'")


@pytest.mark.slow
def test_cell_timeout_fails_the_pack_without_retry(tmp_path: Path) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import time\ntime.sleep(30)")]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "slow.ipynb"
    nbformat.write(notebook, str(path))
    job = PackJob(
        "P009",
        str(path),
        {},
        str(tmp_path / "out.ipynb"),
        str(tmp_path / "out.html"),
        "slow",
        cell_timeout=1,
    )
    outcome = run_pack_job(job)
    assert not outcome.ok and "Timeout" in outcome.error
    assert outcome.attempts == 1  # the timeout ended the one run: no retry
    # a cell timeout is a TimeoutError, but not a kernel-start failure: never retried
    from nbclient.exceptions import CellTimeoutError

    assert not runner.is_kernel_start_failure(CellTimeoutError("tb", "CellTimeoutError", "2 s"))
    assert runner.is_kernel_start_failure(TimeoutError("kernel_info"))


@pytest.mark.slow
def test_kernel_over_ipc_quietly_and_leaves_no_sockets(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import os

    import nbformat

    from kpitools.run.kernel import IpcKernelManager, kernel_options

    assert kernel_options().get("kernel_manager_class") is (
        None if os.name == "nt" else IpcKernelManager
    )
    assert kernel_options()["shutdown_kernel"] == "immediate"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import os\nfrom ipykernel.kernelapp import IPKernelApp\n"
            "folder = os.path.dirname(IPKernelApp.instance().ip)\n(folder, sorted(os.listdir(folder)))"
        )
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, str(tmp_path / "ipc.ipynb"))
    outcome = run_pack_job(
        PackJob(
            "P001",
            str(tmp_path / "ipc.ipynb"),
            {},
            str(tmp_path / "out.ipynb"),
            str(tmp_path / "out.html"),
            "ipc",
        )
    )
    assert outcome.ok, outcome.error
    executed = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    folder, sockets = eval(executed.cells[0].outputs[0]["data"]["text/plain"])  # noqa: S307 - our own repr
    # the kernel listened on Unix sockets (kernel-<port>) in its private folder, not on TCP
    assert os.path.basename(folder).startswith("kpitools-kernel-")
    assert sockets and all(name.startswith("kernel-") for name in sockets)
    assert "without encryption" not in capfd.readouterr().err
    assert not os.path.exists(folder)  # the folder is removed with the kernel


def test_notebooks_found_in_checkout_folder_env_or_given_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kpitools.run.runner import NOTEBOOKS_DIR, NOTEBOOKS_ENV, notebook_path

    monkeypatch.delenv(NOTEBOOKS_ENV, raising=False)
    assert notebook_path("provider_pack.ipynb") == (NOTEBOOKS_DIR / "provider_pack.ipynb").resolve()
    (tmp_path / "provider_pack.ipynb").write_text("{}", encoding="utf-8")
    assert notebook_path("provider_pack.ipynb", tmp_path) == tmp_path / "provider_pack.ipynb"
    monkeypatch.setenv(NOTEBOOKS_ENV, str(tmp_path))
    assert notebook_path("provider_pack.ipynb") == tmp_path / "provider_pack.ipynb"
    # a folder given explicitly is the only place looked at: no silent fallback
    with pytest.raises(PackError, match=r"portfolio.ipynb not found .*--notebooks DIR"):
        notebook_path("portfolio.ipynb")


def test_missing_notebooks_fail_before_any_audit(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kpitools.cli import main
    from kpitools.params import PackParams
    from kpitools.run.batch import prepare_period

    period = tmp_path / "2023-03"
    period.mkdir()
    audited: list[str] = []
    with pytest.raises(PackError, match="provider_pack.ipynb not found"):
        prepare_period(
            period,
            tmp_path / "out",
            base=PackParams(provider_dir="", out_dir=""),
            work_dir=tmp_path,
            audit=lambda *a, **k: audited.append("called") or {},
            notebooks=tmp_path / "none",
        )
    assert audited == []
    result = CliRunner().invoke(
        main,
        [
            "packs",
            str(period),
            "--out",
            str(tmp_path / "out"),
            "--notebooks",
            str(tmp_path / "none"),
            "--no-progress",
        ],
    )
    assert result.exit_code == 2 and "provider_pack.ipynb not found" in result.output


@pytest.mark.slow
def test_executed_notebook_written_once_even_when_a_cell_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """papermill would write the notebook before and after every cell, and once more at
    the end; a pack's notebook is written once, with every output up to a failing cell."""
    import nbformat
    import papermill.engines
    import papermill.execute

    writes: list[str] = []
    real = papermill.engines.write_ipynb
    for module in (
        papermill.engines,
        papermill.execute,
    ):  # the engine's saves, papermill's final write
        monkeypatch.setattr(
            module, "write_ipynb", lambda nb, path: writes.append(path) or real(nb, path)
        )
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("1 + 1"),
        nbformat.v4.new_code_cell("raise ValueError('bad')"),
        nbformat.v4.new_code_cell("3"),
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, str(tmp_path / "three.ipynb"))
    executed = tmp_path / "out.ipynb"
    outcome = run_pack_job(
        PackJob(
            "P001",
            str(tmp_path / "three.ipynb"),
            {},
            str(executed),
            str(tmp_path / "out.html"),
            "three",
        )
    )
    assert (outcome.ok, outcome.error) == (False, "ValueError: bad")
    assert writes == [str(executed)]
    cells = [c for c in nbformat.read(str(executed), as_version=4).cells if c.cell_type == "code"]
    assert cells[0].outputs[0]["data"]["text/plain"] == "2"
    assert cells[1].outputs[0]["ename"] == "ValueError" and cells[2].outputs == []
    assert outcome.html_path  # the stopped notebook is rendered
    notebook.cells = [nbformat.v4.new_code_cell("1 + 1")]  # and a notebook that runs to its end
    nbformat.write(notebook, str(tmp_path / "one.ipynb"))
    writes.clear()
    outcome = run_pack_job(
        PackJob(
            "P001",
            str(tmp_path / "one.ipynb"),
            {},
            str(executed),
            str(tmp_path / "out.html"),
            "one",
        )
    )
    assert outcome.ok and writes == [str(executed)]
