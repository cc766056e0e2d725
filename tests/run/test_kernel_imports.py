"""What a pack's kernel imports: the notebook's first cell must stay light (issue 7:
kernel start-up and imports dominate a pack's time)."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat

from kpitools.run.kernel import PRELOAD_TABLES
from kpitools.run.runner import PROVIDER_NOTEBOOK

FIRST_CELL = (
    "from kpitools import load_context\n"
    "from kpitools.present import blocks, breach, findings, plots, report\n"
)
# heavy modules the pack's kernel never needs: batch machinery, the audit, Excel, Dask,
# pyplot (charts are drawn on bare Figures and embedded by blocks.show), and the ILR
# reader's lxml (the catalogue of rule ids names DfE's ILR rules without parsing any XML);
# matplotlib itself only once a chart is drawn (a runner may have drawn them all)
NOT_IN_KERNEL = (
    "kpitools.audit",
    "kpitools.run.batch",
    "kpitools.checks",
    "openpyxl",
    "tqdm",
    "papermill",
    "nbconvert",
    "dask",
    "distributed",
    "matplotlib",
    "matplotlib_inline",
    "lxml",
)


def test_first_cell_imports_nothing_heavy() -> None:
    probe = FIRST_CELL + "import json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    loaded = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", probe], check=True, capture_output=True, text=True
            ).stdout
        )
    )
    assert [name for name in NOT_IN_KERNEL if name in loaded] == []
    assert "kpitools.present.context" in loaded and "pandas" in loaded


def test_preload_imports_what_the_notebook_imports() -> None:
    """A launched kernel runs PRELOAD_TABLES while the runner draws the charts: the
    notebook's own import lines then load nothing more."""
    notebook = nbformat.read(str(PROVIDER_NOTEBOOK), as_version=4)
    first = next(
        c.source
        for c in notebook.cells
        if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])
    )
    imports = "\n".join(
        line for line in first.splitlines() if line.startswith(("import ", "from "))
    )
    assert "from kpitools.present import" in imports
    probe = (
        f"import sys, json\n{PRELOAD_TABLES}\nbefore = set(sys.modules)\n{imports}\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    added = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], check=True, capture_output=True, text=True
        ).stdout
    )
    assert added == []


def test_pack_worker_imports_no_pandas() -> None:
    """A pack worker of ``kpitools packs`` (the runner's side: papermill, nbconvert, the
    kernel manager) needs no pandas: its kernel does the work. Importing it through
    kpitools.layout cost each worker ~0.4 s of CPU before its first pack (issue 24)."""
    probe = (
        "import json, sys\n"
        "from kpitools.io.workers import skip_unused_imports\n"
        "skip_unused_imports()\n"
        "import kpitools.layout, kpitools.run.kernel, kpitools.run.runner, papermill\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", probe], check=True, capture_output=True, text=True
            ).stdout
        )
    )
    assert "papermill.iorw" in loaded
    assert "pandas" not in loaded
