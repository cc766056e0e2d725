"""The kernel provisioner of the project's Jupyter kernel: quiet notebook runs anywhere.

``make setup`` installs the ``python3`` kernelspec into the environment and declares
:class:`QuietProvisioner` in it (``python -m kpitools.run.provisioner``). Every program
that starts that kernel then goes through it: JupyterLab, ``jupyter nbconvert --execute``,
plain ``papermill`` and the packs alike, whatever configuration each reads (papermill
reads none). It is jupyter_client's local provisioner with two changes:

- **CurveZMQ on TCP.** ipykernel (7.3+) warns "Kernel is running over TCP without
  encryption" at every start over TCP unless the manager provisions CurveZMQ keys, which
  jupyter_client (8.9+) does only when its ``transport_encryption`` policy says so, and
  that policy is off by default. Over TCP the provisioner asks for ``auto`` (keys when
  the kernelspec declares ``supported_encryption: curve``, as ipykernel's does) unless
  the manager's own policy already asks for encryption. IPC (the packs' kernels) talks
  over sockets in a private folder: left as it is.
- **The SIGINT of a shutdown only to a kernel that does not stop.** jupyter_client
  interrupts a kernel before every shutdown, busy or idle, then sends the shutdown
  request. An idle ipykernel ignores SIGINT, except in the moment after it has sent a
  reply and before it restores its handler: papermill asks for ``kernel_info`` right
  before it shuts the kernel down, so now and then the SIGINT landed there and the
  kernel logged "KeyboardInterrupt caught in kernel." after a successful run. Here the
  interrupt waits: an idle kernel stops on the shutdown request alone, well within
  :data:`INTERRUPT_GRACE`; a kernel still running a cell gets the SIGINT once that time
  has passed (jupyter_client polls the provisioner while it waits for the kernel to
  stop), then stops as before. An interrupt asked for by the user is sent at once.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner
from jupyter_core.paths import ENV_JUPYTER_PATH

PROVISIONER_NAME = "kpitools-provisioner"  # the entry point in pyproject.toml
KERNEL_NAME = "python3"
ENCRYPTING = ("auto", "required")
# Seconds a kernel being shut down has to stop on the shutdown request before it is
# interrupted: an idle one stops in ~0.1 s; one running a cell needs the interrupt
INTERRUPT_GRACE = 1.0


class QuietProvisioner(LocalProvisioner):
    """jupyter_client's ``LocalProvisioner``, with CurveZMQ over TCP and the SIGINT of a
    shutdown held back :data:`INTERRUPT_GRACE` seconds (see the module)."""

    interrupt_at: float | None = None  # when the held-back SIGINT is due (monotonic)

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Launch as the local provisioner does, asking for CurveZMQ over TCP."""
        self.interrupt_at = None
        manager = self.parent
        policy = getattr(manager, "transport_encryption", None)  # jupyter_client 8.9+
        if manager is not None and manager.transport == "tcp" and policy is not None:
            if policy not in ENCRYPTING:
                kwargs.setdefault("transport_encryption", "auto")
        return dict(await super().pre_launch(**kwargs))

    async def send_signal(self, signum: int) -> None:
        """Send ``signum`` to the kernel; the SIGINT of a shutdown is held back."""
        manager = self.parent
        if signum == signal.SIGINT and manager is not None and manager.shutting_down:
            self.interrupt_at = time.monotonic() + INTERRUPT_GRACE
            return
        await super().send_signal(signum)

    async def poll(self) -> int | None:
        """The kernel's exit status (None while it runs); sends the held-back SIGINT to
        a kernel still running once it is due."""
        status = await super().poll()
        due = self.interrupt_at
        if status is None and due is not None and time.monotonic() >= due:
            self.interrupt_at = None
            await super().send_signal(signal.SIGINT)
        return status


def kernel_json(prefix: str | None = None, kernel_name: str = KERNEL_NAME) -> Path:
    """The ``kernel.json`` of the environment's kernelspec (``ipykernel install
    --sys-prefix``), not a user's or the system's kernel of the same name."""
    share = Path(prefix, "share", "jupyter") if prefix else Path(ENV_JUPYTER_PATH[0])
    return share / "kernels" / kernel_name / "kernel.json"


def declare(path: Path) -> dict[str, Any]:
    """Name :class:`QuietProvisioner` in the kernelspec at ``path`` (rewritten in place).

    Returns:
        The kernelspec as written.

    Raises:
        FileNotFoundError: no kernelspec there (install it first:
            ``python -m ipykernel install --sys-prefix --name python3``).
    """
    from kpitools.io.files import write_atomic

    spec = json.loads(path.read_text(encoding="utf-8"))
    spec.setdefault("metadata", {})["kernel_provisioner"] = {
        "provisioner_name": PROVISIONER_NAME,
        "config": {},
    }
    write_atomic(path, (json.dumps(spec, indent=1) + "\n").encode("utf-8"))
    return dict(spec)


if __name__ == "__main__":  # make setup, after `ipykernel install --sys-prefix`
    declare(kernel_json(sys.prefix))
