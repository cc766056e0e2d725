"""How a pack's kernel is started and its notebook rendered, tuned for many packs in a row.

- :class:`IpcKernelManager`: the kernel talks to papermill over Unix sockets in a private
  temporary folder instead of TCP on localhost. Nothing listens on a port, and ipykernel
  no longer prints "Kernel is running over TCP without encryption" on stderr for every
  pack. (Windows has no IPC transport: TCP is kept there.)
- :func:`kernel_options`: and the kernel is stopped at once when its notebook is done.
- :class:`PackExporter`: nbconvert's HTML exporter without its BeautifulSoup pass, which
  re-parses the whole page only to add missing ``alt`` texts and ``tabindex`` attributes
  (our charts carry their own ``alt``); it was about half of the rendering time.
  :func:`pack_exporter` keeps one per thread, so a worker compiles the templates once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import TagRemovePreprocessor
from traitlets import CaselessStrEnum, default

HIDDEN_CELL_TAGS = frozenset({"parameters", "injected-parameters"})
_local = threading.local()


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager using the ``ipc`` transport in its own temporary folder."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _ip_default(self) -> str:
        # an absolute path: the kernel runs in the pack's folder, papermill elsewhere
        self._socket_dir = tempfile.mkdtemp(prefix="kpitools-kernel-")
        return os.path.join(self._socket_dir, "kernel")

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        """Remove the socket folder too once the kernel is gone."""
        await super()._async_cleanup_resources(restart=restart)
        folder = getattr(self, "_socket_dir", None)
        if folder and not restart:
            shutil.rmtree(folder, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources


def kernel_options() -> dict[str, Any]:
    """Extra papermill (nbclient) options for a pack's kernel: IPC where it exists, and
    the kernel stopped at once when the notebook is done (every output has arrived by
    then; a graceful shutdown only waits about 0.1 s longer for nothing)."""
    options: dict[str, Any] = {"shutdown_kernel": "immediate"}
    if os.name != "nt":
        options["kernel_manager_class"] = IpcKernelManager
    return options


class PackExporter(HTMLExporter):
    """``HTMLExporter`` rendering the template only (no BeautifulSoup round trip)."""

    def from_notebook_node(self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any) -> tuple[str, dict[str, Any]]:
        """Render ``nb`` as :class:`HTMLExporter` does, minus the accessibility re-parse."""
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        resources = self._init_resources(resources)
        data_types = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
        self.register_filter("highlight_code", highlight)
        self.register_filter("filter_data_type", data_types)
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


def pack_exporter(template_name: str, template_dir: str) -> PackExporter:
    """This thread's exporter for the template (created on first use, then reused)."""
    cache: dict[tuple[str, str], PackExporter] = _local.__dict__.setdefault("exporters", {})
    exporter = cache.get((template_name, template_dir))
    if exporter is None:
        exporter = PackExporter(
            template_name=template_name,
            extra_template_basedirs=[template_dir],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
        )
        # the parameter cells carry random ids and no output: leave them out of the page
        exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=set(HIDDEN_CELL_TAGS)), enabled=True)
        cache[(template_name, template_dir)] = exporter
    return exporter
