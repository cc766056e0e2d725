"""A batch's warm kernel: one kernel for many notebooks, reset between them, replaced
when it hangs or dies, and giving the same executed notebook as a fresh kernel.

On the demo's packs and index, a warm kernel against fresh ones: test_batch_demo.py
(`kpitools packs` in one warm kernel, compared with the Dask run's fresh kernels)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from kpitools.run.kernel import WarmKernel
from kpitools.run.runner import PackJob, run_pack_job

pytestmark = pytest.mark.slow


def _notebook(folder: Path, name: str, *cells: str) -> str:
    """A notebook with a parameters cell (``x = 1``) and ``cells``."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]})]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, str(path))
    return str(path)


def _job(folder: Path, name: str, notebook: str, **options: int) -> PackJob:
    out = folder / "out" / name
    return PackJob(
        name, notebook, {"x": 2}, str(out / "run.ipynb"), str(out / "run.html"), name, **options
    )


def _outputs(outcome: object) -> list[tuple[object, list[object]]]:
    """Each cell's execution count and outputs (text or plain data), ids left out."""
    executed = nbformat.read(outcome.executed_path, as_version=4)
    return [
        (
            cell.execution_count,
            [o.get("text") or o.get("data", {}).get("text/plain") for o in cell.outputs],
        )
        for cell in executed.cells
    ]


@pytest.fixture(scope="module")
def kernel() -> WarmKernel:
    with WarmKernel() as warm:
        yield warm


def test_state_reset_between_notebooks_same_outputs_as_a_fresh_kernel(
    tmp_path: Path, kernel: WarmKernel
) -> None:
    sets = _notebook(tmp_path, "sets", "leak = 40\nprint(x + leak)", "import os\nos.getcwd()")
    reads = _notebook(
        tmp_path, "reads", "print('leak' in dir(), 'os' in dir())", "import os\nos.getcwd()"
    )
    first = run_pack_job(_job(tmp_path, "P001", sets), kernel)
    second = run_pack_job(_job(tmp_path, "P002", reads), kernel)
    assert first.ok and second.ok, (first.error, second.error)
    starts = kernel.starts
    # execution counts from 1 (parameters, injected parameters, then the cells), the
    # working folder is the pack's, and nothing of P001's namespace reached P002
    assert _outputs(first) == [
        (1, []),
        (2, []),
        (3, ["42\n"]),
        (4, [repr(str(tmp_path / "out" / "P001"))]),
    ]
    assert _outputs(second) == [
        (1, []),
        (2, []),
        (3, ["False False\n"]),
        (4, [repr(str(tmp_path / "out" / "P002"))]),
    ]
    cold = run_pack_job(_job(tmp_path / "cold", "P002", reads))
    assert cold.ok and _outputs(cold)[:3] == _outputs(second)[:3]
    assert (
        Path(cold.html_path).read_text().replace("/cold", "") == Path(second.html_path).read_text()
    )
    assert kernel.starts == starts  # the cold run did not touch the warm kernel


def test_failing_cell_fails_only_its_notebook_and_keeps_the_kernel(
    tmp_path: Path, kernel: WarmKernel
) -> None:
    bad = _notebook(tmp_path, "bad", "raise ValueError('boom')")
    good = _notebook(tmp_path, "good", "print(x)")
    kernel.prepare(str(tmp_path))
    starts = kernel.starts
    failed = run_pack_job(_job(tmp_path, "P001", bad), kernel)
    assert (failed.ok, failed.error) == (False, "ValueError: boom")
    assert failed.html_path  # the stopped notebook is rendered, as in a fresh kernel
    after = run_pack_job(_job(tmp_path, "P002", good), kernel)
    assert after.ok and _outputs(after)[2] == (3, ["2\n"])
    assert kernel.starts == starts  # a failing cell does not cost a new kernel


@pytest.mark.parametrize(
    ("cell", "options", "reason"),
    [
        ("import time\ntime.sleep(60)", {"cell_timeout": 1}, "CellTimeoutError"),
        ("import os\nos._exit(1)", {"kernel_retries": 0}, "DeadKernelError"),
    ],
)
def test_hung_or_dead_kernel_is_replaced_for_the_next_notebook(
    tmp_path: Path, kernel: WarmKernel, cell: str, options: dict[str, int], reason: str
) -> None:
    broken = _notebook(tmp_path, "broken", cell)
    good = _notebook(tmp_path, "good", "import os\nos.getpid()")
    kernel.prepare(str(tmp_path))
    starts, pid = kernel.starts, kernel.km.provisioner.pid
    failed = run_pack_job(_job(tmp_path, "P001", broken, **options), kernel)
    assert not failed.ok and failed.error.startswith(reason)
    # the engine raised, so papermill wrote nothing: the pack engine wrote the notebook
    # as far as it ran, and it is rendered
    assert failed.executed_path and failed.html_path
    assert nbformat.read(failed.executed_path, as_version=4).cells[-1].source == cell
    after = run_pack_job(_job(tmp_path, "P002", good), kernel)
    assert after.ok, after.error
    assert kernel.starts == starts + 1
    assert (
        _outputs(after)[2] == (3, [str(kernel.km.provisioner.pid)])
        and kernel.km.provisioner.pid != pid
    )


def test_shutdown_stops_the_kernel(tmp_path: Path) -> None:
    with WarmKernel() as warm:
        warm.prepare(str(tmp_path))
        pid = warm.km.provisioner.pid
    assert warm.km is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_kernel_that_dies_or_never_answers_before_it_is_ready_is_reported(tmp_path: Path) -> None:
    with WarmKernel(
        start_timeout=20
    ) as warm:  # dies running its preload: found dead, not waited for
        warm.launch(preload="import os\nos._exit(1)")
        with pytest.raises(RuntimeError, match="died before replying"):
            warm.wait_ready()
        assert warm.km is None  # stopped, for prepare() to start another
        warm.launch(preload="import os\nos._exit(1)")
        warm.prepare(str(tmp_path))  # replaces it
        assert warm.ready and warm.starts == 3
    with WarmKernel(start_timeout=1) as warm:  # busy past the start timeout
        warm.launch(preload="import time\ntime.sleep(30)")
        with pytest.raises(TimeoutError, match="did not answer within 1 s"):
            warm.wait_ready()
