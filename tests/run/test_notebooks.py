"""The committed notebooks: no outputs, no `def`, a tagged parameters cell, and their
jupytext percent twins say the same thing."""

from __future__ import annotations

import re

import jupytext
import nbformat
import pytest

from kpitools.run.runner import NOTEBOOKS_DIR

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def test_the_notebooks_exist() -> None:
    assert [p.name for p in NOTEBOOKS] == ["case.ipynb", "portfolio.ipynb", "provider_pack.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_and_without_def(path) -> None:
    notebook = nbformat.read(str(path), as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert not [
        c.source for c in code if re.search(r"^\s*(def|class|lambda)\b|\blambda\b", c.source, re.M)
    ]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and code.index(tagged[0]) == 0


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_percent_twin_matches(path) -> None:
    notebook = jupytext.read(str(path))
    twin = jupytext.read(str(path.with_suffix(".py")))
    assert [(c.cell_type, c.source) for c in notebook.cells] == [
        (c.cell_type, c.source) for c in twin.cells
    ]
