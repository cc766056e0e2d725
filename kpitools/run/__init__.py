"""Audit packs: papermill runs the notebooks, nbconvert renders self-contained HTML.

Public entry points:

- :func:`build_packs` — ``kpitools packs``: every provider of a period, then the index
  (or step by step: :func:`prepare_period`, :func:`run_jobs`, :func:`publish`,
  :func:`write_index`);
- :func:`build_pack` — ``kpitools pack PARAMS.yaml``: one provider from its params file;
- :func:`write_period_params` — ``kpitools params``: one params YAML per provider.

The names below are imported on first use (PEP 562): a pack's kernel imports only the
presentation modules (``context``, ``blocks``, ``breach``, ``findings``, ``plots``,
``report``) and must not pay for the batch machinery (openpyxl, tqdm, papermill) it
never calls.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOMES = {
    "BatchResult": "batch",
    "build_packs": "batch",
    "prepare_period": "batch",
    "publish": "batch",
    "run_jobs": "batch",
    "write_index": "batch",
    "PackContext": "context",
    "context_from_audit": "context",
    "load_audit": "context",
    "load_context": "context",
    "save_audit": "context",
    "PackJob": "runner",
    "PackOutcome": "runner",
    "render_html": "runner",
    "run_pack_job": "runner",
    "batch_base": "single",
    "build_pack": "single",
    "write_period_params": "single",
}

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
    "publish",
    "render_html",
    "run_jobs",
    "run_pack_job",
    "save_audit",
    "write_index",
    "write_period_params",
]

if TYPE_CHECKING:
    from kpitools.packs.batch import (
        BatchResult,
        build_packs,
        prepare_period,
        publish,
        run_jobs,
        write_index,
    )
    from kpitools.packs.context import (
        PackContext,
        context_from_audit,
        load_audit,
        load_context,
        save_audit,
    )
    from kpitools.packs.runner import PackJob, PackOutcome, render_html, run_pack_job
    from kpitools.packs.single import batch_base, build_pack, write_period_params


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
