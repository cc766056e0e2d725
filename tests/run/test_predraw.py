"""The pack's charts drawn by the runner while the kernel starts: the same bytes as the
notebook would draw, saved beside the saved audit, used by the notebook when present."""

from __future__ import annotations

import logging
import stat
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
from markupsafe import Markup

from kpitools.layout import charts_path
from kpitools.model import ProviderAudit
from kpitools.present.context import (
    PackContext,
    load_charts,
    load_context,
    save_audit,
    save_charts,
)
from kpitools.present.plots import PACK_CHARTS, chart, draw_charts
from kpitools.run.kernel import WarmKernel
from kpitools.run.runner import PackJob, predraw_charts, run_pack_job


def _job(tmp_path: Path, audit_path: str) -> PackJob:
    parameters = {"audit_path": audit_path} if audit_path else {"summary_path": "x"}
    return PackJob(
        "P001",
        "unused.ipynb",
        parameters,
        str(tmp_path / "run.ipynb"),
        str(tmp_path / "run.html"),
        "P001",
    )


def test_chart_without_predrawn_blocks_draws_the_same_bytes(ctx: PackContext) -> None:
    drawn = draw_charts(ctx.audit)
    assert sorted(drawn) == sorted(PACK_CHARTS)
    assert any(drawn.values()) and ctx.charts == {}
    for name, block in drawn.items():
        shown = chart(ctx, name)
        assert (shown if shown is not None else "") == block
        if block:
            assert block.startswith('<div class="chart"><img alt=') and block.endswith('"></div>')


def test_chart_embeds_the_predrawn_block(ctx: PackContext) -> None:
    predrawn = replace(ctx, charts={"kpi_trends": "<p>drawn before</p>", "dropout_trend": ""})
    assert chart(predrawn, "kpi_trends") == Markup("<p>drawn before</p>")
    assert chart(predrawn, "dropout_trend") is None  # nothing to draw, and not drawn again
    assert chart(predrawn, "dropout_by_bootcamp") == chart(
        ctx, "dropout_by_bootcamp"
    )  # absent: drawn
    with pytest.raises(KeyError):
        chart(ctx, "no_such_chart")


def test_saved_charts_are_private_and_loaded_with_the_audit(
    audit: ProviderAudit, ctx: PackContext, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    audit_path = tmp_path / "work" / "P001.audit.pkl"
    save_audit(audit, audit_path)
    assert load_charts(audit_path) == {}  # none drawn: the notebook draws them
    save_charts({"kpi_trends": "<p>x</p>"}, audit_path)
    assert charts_path(audit_path) == tmp_path / "work" / "P001.audit.charts.json"
    assert stat.S_IMODE(charts_path(audit_path).stat().st_mode) == 0o600
    parameters = ctx.params.notebook_parameters() | {"audit_path": str(audit_path)}
    assert load_context(**parameters).charts == {"kpi_trends": "<p>x</p>"}
    for garbage in ("{not json", '["a list"]', '{"kpi_trends": 1}'):
        charts_path(audit_path).write_text(garbage, encoding="utf-8")
        with caplog.at_level(logging.WARNING):
            assert load_charts(audit_path) == {}
        assert "ignoring the saved charts" in caplog.text
        caplog.clear()


def test_predraw_writes_removes_or_leaves_the_notebook_to_draw(
    audit: ProviderAudit, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    audit_path = str(tmp_path / "P001.audit.pkl")
    save_audit(audit, audit_path)
    assert predraw_charts(_job(tmp_path, audit_path)) is True
    assert load_charts(audit_path) == draw_charts(audit)
    # a kernel already running (or none to wait for): no charts drawn here, none left over
    assert predraw_charts(_job(tmp_path, audit_path), draw=False) is False
    assert not charts_path(audit_path).exists()
    assert predraw_charts(_job(tmp_path, "")) is False  # the index: no saved audit
    Path(audit_path).write_bytes(b"not a pickle")
    with caplog.at_level(logging.WARNING):
        assert predraw_charts(_job(tmp_path, audit_path)) is False
    assert not charts_path(audit_path).exists()
    assert "charts not drawn before the notebook" in caplog.text


@pytest.mark.slow
def test_launched_kernel_runs_the_preload_before_the_notebook(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import gc, sys\nprint('kpitools_probe' in sys.modules, 'leak' in dir(), gc.get_freeze_count() > 0)"
        ),
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "probe.ipynb"
    nbformat.write(notebook, str(path))
    job = PackJob(
        "P001",
        str(path),
        {"x": 2},
        str(tmp_path / "out" / "run.ipynb"),
        str(tmp_path / "out" / "run.html"),
        "P001",
    )
    with WarmKernel() as kernel:
        preload = "import sys\nleak = 1\nsys.modules['kpitools_probe'] = sys"
        assert kernel.launch(preload=preload) is True and not kernel.ready
        assert kernel.launch(preload=preload) is False  # one kernel
        outcome = run_pack_job(job, kernel)
        assert outcome.ok, outcome.error
        assert kernel.ready and kernel.starts == 1
    executed = nbformat.read(outcome.executed_path, as_version=4)
    # the preload ran first (its module stays loaded), its names were reset away, and
    # what survived the reset is frozen out of the garbage collector's scans
    assert executed.cells[-1].outputs[0]["text"] == "True False True\n"


@pytest.mark.slow
def test_pool_worker_leaves_the_charts_to_its_kernel(audit: ProviderAudit, tmp_path: Path) -> None:
    """``predraw=False`` (a pool worker): nothing drawn here, a stale charts file removed,
    and the kernel imports matplotlib with the notebook's modules as it starts."""
    audit_path = tmp_path / "P001.audit.pkl"
    save_audit(audit, audit_path)
    save_charts({"kpi_trends": "<p>stale</p>"}, audit_path)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("audit_path = ''", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import sys\nprint('matplotlib.figure' in sys.modules)"),
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, str(tmp_path / "probe.ipynb"))
    job = PackJob(
        "P001",
        str(tmp_path / "probe.ipynb"),
        {"audit_path": str(audit_path)},
        str(tmp_path / "out" / "run.ipynb"),
        str(tmp_path / "out" / "run.html"),
        "P001",
    )
    with WarmKernel() as kernel:
        outcome = run_pack_job(job, kernel, predraw=False)
    assert outcome.ok, outcome.error
    assert not charts_path(audit_path).exists()
    assert (
        nbformat.read(outcome.executed_path, as_version=4).cells[-1].outputs[0]["text"] == "True\n"
    )
