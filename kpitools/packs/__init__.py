"""Audit packs: papermill runs the notebooks, nbconvert renders self-contained HTML.

Public entry points:

- :func:`build_packs` — ``kpitools packs``: every provider of a period, then the index;
- :func:`build_pack` — ``kpitools pack PARAMS.yaml``: one provider from its params file;
- :func:`write_period_params` — ``kpitools params``: one params YAML per provider.
"""

from __future__ import annotations

from kpitools.packs.batch import BatchResult, build_packs, prepare_period, run_jobs, write_index
from kpitools.packs.context import (
    PackContext,
    context_from_audit,
    load_audit,
    load_context,
    save_audit,
)
from kpitools.packs.runner import PackJob, PackOutcome, render_html, run_pack_job
from kpitools.packs.single import batch_base, build_pack, write_period_params

__all__ = [
    "BatchResult",
    "PackContext",
    "PackJob",
    "PackOutcome",
    "batch_base",
    "build_pack",
    "build_packs",
    "context_from_audit",
    "load_audit",
    "load_context",
    "prepare_period",
    "render_html",
    "run_jobs",
    "run_pack_job",
    "save_audit",
    "write_index",
    "write_period_params",
]
