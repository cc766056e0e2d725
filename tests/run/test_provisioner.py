"""The environment's kernel (``make setup``): CurveZMQ over TCP, no interrupt of an idle
kernel at shutdown, and notebook runs outside packs (papermill, nbconvert) that print
neither "Kernel is running over TCP without encryption" nor "KeyboardInterrupt caught
in kernel" after a successful run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from jupyter_client.provisioning import LocalProvisioner

from kpitools.run import provisioner
from kpitools.run.provisioner import (
    KERNEL_NAME,
    PROVISIONER_NAME,
    QuietProvisioner,
    declare,
    kernel_json,
)

pytestmark = pytest.mark.slow
NOISE = ("without encryption", "KeyboardInterrupt")
BIN = Path(sys.executable).parent
# In the kernel: a SIGINT that reaches it while idle is written to a file. (ipykernel
# puts its saved handler back after each request, so the recorder is set there.)
RECORD_SIGINT = """\
import pathlib
def _record(signum, frame):
    with pathlib.Path({path!r}).open("a") as log:
        log.write("SIGINT\\n")
get_ipython().kernel.saved_sigint_handler = _record
"""
BUSY_CELL = """\
import pathlib, time
try:
    time.sleep(60)
except KeyboardInterrupt:
    pathlib.Path({path!r}).write_text("interrupted")
"""


def test_the_environment_kernel_names_the_provisioner() -> None:
    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    assert Path(spec.resource_dir) == kernel_json(sys.prefix).parent, "not the venv's kernel"
    provisioner = spec.metadata.get("kernel_provisioner", {}).get("provisioner_name")
    assert provisioner == PROVISIONER_NAME, "run `make setup` (it declares the provisioner)"


def test_declare_adds_the_provisioner_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "kernel.json"
    spec = {"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]}
    spec |= {"display_name": "Python 3", "metadata": {"supported_encryption": ["curve"]}}
    path.write_text(json.dumps(spec))
    declare(path)
    assert json.loads(path.read_text()) == {
        **spec,
        "metadata": {
            "supported_encryption": ["curve"],
            "kernel_provisioner": {"provisioner_name": PROVISIONER_NAME, "config": {}},
        },
    }


def _manager(tmp_path: Path, quiet: bool) -> KernelManager:
    """A manager of the environment's kernel, or of the same kernel with jupyter_client's
    own provisioner (the behaviour the provisioner changes)."""
    if quiet:
        return KernelManager(kernel_name=KERNEL_NAME)
    folder = tmp_path / "kernels" / "plain"
    shutil.copytree(kernel_json(sys.prefix).parent, folder)
    spec = json.loads((folder / "kernel.json").read_text())
    del spec["metadata"]["kernel_provisioner"]
    (folder / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    return KernelManager(kernel_name="plain", kernel_spec_manager=specs)


def _start(manager: KernelManager) -> object:
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return client


@pytest.mark.parametrize(("quiet", "signals"), [(True, ""), (False, "SIGINT\n")])
def test_an_idle_kernel_is_not_interrupted_when_it_is_shut_down(
    tmp_path: Path, quiet: bool, signals: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # held back longer than the manager waits before SIGTERM: whatever the load, the
    # test sees whether the shutdown's own SIGINT reaches the kernel, not how fast it stops
    monkeypatch.setattr(provisioner, "INTERRUPT_GRACE", 30.0)
    record = tmp_path / "signals.txt"
    record.touch()
    manager = _manager(tmp_path, quiet)
    client = _start(manager)
    try:
        reply = client.execute_interactive(RECORD_SIGINT.format(path=str(record)), timeout=30)
        assert reply["content"]["status"] == "ok"
        assert isinstance(manager.provisioner, QuietProvisioner) is quiet
        assert isinstance(manager.provisioner, LocalProvisioner)
    finally:
        client.stop_channels()
        manager.shutdown_kernel()
    assert not manager.is_alive()
    assert record.read_text() == signals


def test_a_kernel_still_running_a_cell_is_interrupted_when_it_is_shut_down(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "interrupted.txt"
    manager = _manager(tmp_path, quiet=True)
    client = _start(manager)
    try:
        client.execute(BUSY_CELL.format(path=str(marker)))
        client.get_iopub_msg(timeout=30)  # busy: the cell has been taken
    finally:
        client.stop_channels()
        manager.shutdown_kernel()
    assert marker.read_text() == "interrupted"  # a SIGINT, not the SIGTERM that follows


def test_a_tcp_kernel_is_given_curve_keys(tmp_path: Path) -> None:
    manager = _manager(tmp_path, quiet=True)
    client = _start(manager)
    try:
        info = manager.get_connection_info()
        assert info["transport"] == "tcp"
        assert info.get("curve_publickey") and info.get("curve_secretkey")
        reply = client.execute_interactive("1 + 1", timeout=30)
        assert reply["content"]["status"] == "ok"  # the encrypted channels work
    finally:
        client.stop_channels()
        manager.shutdown_kernel()


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("quiet") / "quiet.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("total = 40 + 2\nprint(total)")]
    notebook.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3"}
    nbformat.write(notebook, str(path))
    return path


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["papermill", "{nb}", "{out}"], id="papermill"),
        pytest.param(
            ["jupyter", "nbconvert", "--execute", "--to", "notebook", "{nb}", "--output", "{out}"],
            id="jupyter nbconvert --execute",
        ),
    ],
)
def test_a_notebook_run_prints_no_kernel_noise(
    notebook: Path, tmp_path: Path, command: list[str]
) -> None:
    out = tmp_path / "executed.ipynb"
    argv = [str(BIN / command[0]), *(a.format(nb=notebook, out=out) for a in command[1:])]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    executed = nbformat.read(str(out), as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "42\n"
    assert [line for line in run.stderr.splitlines() if any(n in line for n in NOISE)] == []
