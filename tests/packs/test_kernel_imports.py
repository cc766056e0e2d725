"""What a pack's kernel imports: the notebook's first cell must stay light (issue 7:
kernel start-up and imports dominate a pack's time)."""

from __future__ import annotations

import json
import subprocess
import sys

import kpitools.packs

FIRST_CELL = ("from kpitools import load_context\n"
              "from kpitools.packs import blocks, breach, findings, plots, report\n")
# heavy modules the pack's kernel never needs: batch machinery, the audit, Excel, Dask,
# pyplot (charts are drawn on bare Figures and embedded by blocks.show), and the ILR
# reader's lxml (the catalogue of rule ids names DfE's ILR rules without parsing any XML)
NOT_IN_KERNEL = ("kpitools.audit", "kpitools.packs.batch", "kpitools.checks", "openpyxl",
                 "tqdm", "papermill", "nbconvert", "dask", "distributed", "matplotlib.pyplot",
                 "matplotlib_inline", "lxml")


def test_first_cell_imports_nothing_heavy() -> None:
    probe = FIRST_CELL + "import json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", probe], check=True,
                                           capture_output=True, text=True).stdout))
    assert [name for name in NOT_IN_KERNEL if name in loaded] == []
    assert "kpitools.packs.context" in loaded and "pandas" in loaded


def test_lazy_package_names_resolve() -> None:
    assert sorted(kpitools.packs.__all__) == sorted(kpitools.packs._HOMES)
    for name in kpitools.packs.__all__:
        assert getattr(kpitools.packs, name).__module__.startswith("kpitools.packs.")
