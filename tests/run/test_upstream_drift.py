"""The upstream code that kpitools copies or overrides has not changed since it was checked.

``kpitools/run/kernel.py`` copies papermill's ``Engine.execute_notebook`` and
``NBClientEngine.execute_managed_notebook``, nbconvert's ``HTMLExporter.from_notebook_node``
and jupyter_client's ``wait_for_ready``, and overrides private methods of
jupyter_client's kernel manager and papermill's execution manager;
``kpitools/run/provisioner.py`` overrides jupyter_client's local provisioner and relies
on how the kernel manager shuts a kernel down. A lock update that changes one of them
may leave our copy stale or our override wrong without any test noticing, so each is
pinned here by a hash of its code (the syntax tree: comments, docstrings and layout
left out), with the version it was checked against and what to re-check.

When this test fails after a lock update: read the upstream change (the diff between a
version named and the one installed), re-check what the message says, adapt our code if
needed, then add the installed version and its hash to the entry (``python
tests/run/test_upstream_drift.py`` prints them). An entry keeps every version checked,
so the lowest versions pyproject.toml allows and the locked ones can both pass.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import textwrap
from dataclasses import dataclass
from importlib import metadata

import pytest


@dataclass(frozen=True)
class Pinned:
    """One upstream function, method or class whose code our code depends on."""

    target: str  # "module:Qualified.name", in the distribution named like its package
    recheck: str  # what to verify in our code when it changes
    checked: dict[str, str]  # version checked -> hash of its code (see code_hash)

    @property
    def distribution(self) -> str:
        return self.target.split(".")[0]


KERNEL = "kpitools/run/kernel.py"
PROVISIONER = "kpitools/run/provisioner.py"
PINNED = (
    # --- copied code ---------------------------------------------------------------------
    Pinned(
        "papermill.engines:Engine.execute_notebook",
        f"PackEngine.execute_notebook ({KERNEL}) is a copy of it: carry the change over",
        {"2.7.0": "01bc2e8f69e84395"},
    ),
    Pinned(
        "papermill.engines:NBClientEngine.execute_managed_notebook",
        f"WarmEngine.execute_managed_notebook ({KERNEL}) is a copy of it with the warm "
        "kernel's km and kc: carry the change over",
        {"2.7.0": "0b051dacad79491b"},
    ),
    Pinned(
        "nbconvert.exporters.html:HTMLExporter.from_notebook_node",
        f"PackExporter.from_notebook_node ({KERNEL}) is a copy of it without the "
        "BeautifulSoup pass: carry the change over (a security fix above all)",
        {"7.17.2": "01bef2063ae43d25"},
    ),
    Pinned(
        "jupyter_client.client:KernelClient._async_wait_for_ready",
        f"WarmKernel._kernel_info ({KERNEL}) does the same minus the IOPub drain",
        {"8.10.0": "341561d8ddcb1994"},
    ),
    # --- overridden or called private internals ------------------------------------------
    Pinned(
        "jupyter_client.client:KernelClient._handle_kernel_info_reply",
        f"WarmKernel._kernel_info ({KERNEL}) calls it as wait_for_ready does",
        {"8.10.0": "82431b0686346b73"},
    ),
    Pinned(
        "jupyter_client.manager:KernelManager._async_cleanup_resources",
        f"IpcKernelManager ({KERNEL}) extends it (removes its socket folder after it)",
        {"8.10.0": "5b31f71af8ae0a43"},
    ),
    Pinned(
        "jupyter_client.manager:KernelManager._async_wait",
        f"IpcKernelManager._async_wait ({KERNEL}) calls it with a shorter poll interval",
        {"8.10.0": "46ad08f4ad3efe7b"},
    ),
    Pinned(
        "jupyter_client.manager:AsyncKernelManager",
        f"IpcKernelManager ({KERNEL}) rebinds cleanup_resources to its override as this "
        "class binds the async methods: rebind any new alias of an overridden method",
        {"8.10.0": "b9003a06504fe283"},
    ),
    Pinned(
        "jupyter_client.connect:ConnectionFileMixin._ip_default",
        f"IpcKernelManager._ip_default ({KERNEL}) replaces it with a path for ipc",
        {"8.10.0": "30b9ba6279f96ff4"},
    ),
    Pinned(
        "jupyter_client.connect:ConnectionFileMixin.cleanup_ipc_files",
        f"IpcKernelManager ({KERNEL}) removes the folder of the ipc files after it",
        {"8.10.0": "f13293a493ff263c"},
    ),
    Pinned(
        "papermill.engines:NotebookExecutionManager.save",
        f"FinalSaveManager.save ({KERNEL}) writes only after an engine failure",
        {"2.7.0": "acc17b900d0ba675"},
    ),
    Pinned(
        "papermill.engines:NotebookExecutionManager.notebook_start",
        f"FinalSaveManager ({KERNEL}): every write between cells goes through save()",
        {"2.7.0": "a05a035d80aa7996"},
    ),
    Pinned(
        "papermill.engines:NotebookExecutionManager.cell_start",
        f"FinalSaveManager ({KERNEL}): every write between cells goes through save()",
        {"2.7.0": "7051af96b0156b92"},
    ),
    Pinned(
        "papermill.engines:NotebookExecutionManager.cell_complete",
        f"FinalSaveManager ({KERNEL}): every write between cells goes through save()",
        {"2.7.0": "8f8ff4531c5c42b5"},
    ),
    Pinned(
        "papermill.engines:NotebookExecutionManager.autosave_cell",
        f"FinalSaveManager ({KERNEL}): every write between cells goes through save()",
        {"2.7.0": "2691b252c99f15fd"},
    ),
    Pinned(
        "papermill.engines:NotebookExecutionManager.notebook_complete",
        f"FinalSaveManager ({KERNEL}): its save() is the one that writes after a failure",
        {"2.7.0": "5e50b899f64a31bd"},
    ),
    Pinned(
        "papermill.execute:execute_notebook",
        f"FinalSaveManager ({KERNEL}): papermill must still write the executed notebook "
        "once the engine returns (the only write of a successful run)",
        {"2.7.0": "f6a1315baebb6bd2"},
    ),
    Pinned(
        "papermill.clientwrap:PapermillNotebookClient.execute",
        f"WarmEngine ({KERNEL}) runs it with the warm kernel's km and kc",
        {"2.7.0": "547e011ebbd0b2ed"},
    ),
    Pinned(
        "nbclient.client:NotebookClient.setup_kernel",
        f"WarmEngine ({KERNEL}): a client given km and kc must start no kernel or client "
        "and shut down neither at the end (owns_km)",
        {"0.11.0": "d3ec2680ff179d56"},
    ),
    Pinned(
        "nbclient.client:NotebookClient.async_setup_kernel",
        f"WarmEngine ({KERNEL}): as setup_kernel",
        {"0.11.0": "1e15d1b444ae0203"},
    ),
    Pinned(
        "nbconvert.exporters.html:HTMLExporter._init_resources",
        f"PackExporter.from_notebook_node ({KERNEL}) calls it",
        {"7.17.2": "57011497f8056a61"},
    ),
    Pinned(
        "jupyter_client.provisioning.local_provisioner:LocalProvisioner.pre_launch",
        f"QuietProvisioner.pre_launch ({PROVISIONER}) passes transport_encryption to it",
        {"8.10.0": "f57f5f0ab66bc659"},
    ),
    Pinned(
        "jupyter_client.provisioning.local_provisioner:LocalProvisioner.send_signal",
        f"QuietProvisioner.send_signal ({PROVISIONER}) holds back the shutdown's SIGINT",
        {"8.10.0": "e0a2985b249ad82c"},
    ),
    Pinned(
        "jupyter_client.provisioning.local_provisioner:LocalProvisioner.poll",
        f"QuietProvisioner.poll ({PROVISIONER}) sends the held-back SIGINT from it",
        {"8.10.0": "147a0238d61942af"},
    ),
    Pinned(
        "jupyter_client.manager:KernelManager._async_shutdown_kernel",
        f"QuietProvisioner ({PROVISIONER}): shutting_down is set before the interrupt",
        {"8.10.0": "2a28a81da1e72328"},
    ),
    Pinned(
        "jupyter_client.manager:KernelManager._async_interrupt_kernel",
        f"QuietProvisioner ({PROVISIONER}): an interrupt is provisioner.send_signal(SIGINT)",
        {"8.10.0": "27eb2024914adf20"},
    ),
    Pinned(
        "jupyter_client.manager:KernelManager._async_finish_shutdown",
        f"QuietProvisioner ({PROVISIONER}): the wait for the kernel to stop polls the "
        "provisioner for at least INTERRUPT_GRACE before SIGTERM",
        {"8.10.0": "665d41e82c8138fb"},
    ),
    Pinned(
        "jupyter_client.manager:KernelManager._async_is_alive",
        f"QuietProvisioner ({PROVISIONER}): is_alive asks provisioner.poll()",
        {"8.10.0": "2be43bbf4e1b11c8"},
    ),
)


def resolve(target: str) -> object:
    """The object named ``module:Qualified.name``."""
    module, _, qualified = target.partition(":")
    found: object = importlib.import_module(module)
    for name in qualified.split("."):
        found = inspect.getattr_static(found, name)
    return found


def code_hash(target: str) -> str:
    """sha256 of the code's syntax tree, docstrings left out (first 16 hex digits)."""
    found = resolve(target)
    if isinstance(found, classmethod | staticmethod):
        found = found.__func__
    tree = ast.parse(textwrap.dedent(inspect.getsource(found)))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(canonical(tree).encode("utf-8")).hexdigest()[:16]


def canonical(node: object) -> str:
    """The tree as text, empty fields left out: the same on every Python from 3.11
    (``ast.dump`` shows the ``type_params`` 3.12 added; ``ast.unparse`` writes some
    f-strings with other quotes from 3.12)."""
    if isinstance(node, ast.AST):
        fields = ((name, canonical(getattr(node, name, None))) for name in node._fields)
        shown = ",".join(f"{name}={text}" for name, text in fields if text not in ("[]", "None"))
        return f"{type(node).__name__}({shown})"
    if isinstance(node, list):
        return "[" + ",".join(canonical(item) for item in node) + "]"
    return repr(node)


@pytest.mark.parametrize("pinned", PINNED, ids=[p.target for p in PINNED])
def test_upstream_code_is_as_checked(pinned: Pinned) -> None:
    installed = metadata.version(pinned.distribution)
    checked = ", ".join(sorted(pinned.checked))
    assert code_hash(pinned.target) in pinned.checked.values(), (
        f"{pinned.target} is not the code checked ({pinned.distribution} {checked}; "
        f"installed: {installed}). Re-check: {pinned.recheck}. Then add the installed "
        "version and its hash to its entry in tests/run/test_upstream_drift.py."
    )


def test_a_change_in_the_code_changes_the_hash() -> None:
    """The hash sees code, not comments or layout (else the test above is blind)."""
    first = canonical(ast.parse("def f(x):\n    return x + 1\n"))
    again = canonical(ast.parse("def f(x):  # note\n\n    return (x\n            + 1)\n"))
    changed = canonical(ast.parse("def f(x):\n    return x + 2\n"))
    assert first == again != changed
    assert code_hash("kpitools.run.provisioner:QuietProvisioner.poll") != code_hash(
        "kpitools.run.provisioner:QuietProvisioner.send_signal"
    )


if __name__ == "__main__":  # the installed version and hash of each, for its entry
    for pinned in PINNED:
        version = metadata.version(pinned.distribution)
        print(f'{pinned.target}  {{"{version}": "{code_hash(pinned.target)}"}}')
