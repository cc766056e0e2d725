"""kpitools: audit notebooks for the KPIs of Skills Bootcamps.

The public API, for notebooks and scripts (``from kpitools import audit_provider, Rules``):

- :func:`load_provider` reads and validates one provider folder;
- :class:`Rules` the rules in force (defaults, or a params YAML's ``rules:``);
- :func:`audit_provider` / :func:`audit_period` every KPI, check and worklist of one
  provider / every provider of a period, as :class:`ProviderAudit`;
- :func:`load_context` what a pack notebook presents (the audit, naming, rules).

Names are imported on first use (PEP 562), so ``import kpitools`` stays light for the
pack's kernel; no import here, not even a type-only one, so every module may import
``kpitools.__version__`` without a cycle.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> the module that defines it
_HOMES = {
    "audit_period": "kpitools.audit",
    "audit_provider": "kpitools.audit",
    "load_context": "kpitools.present.context",
    "load_provider": "kpitools.load",
    "ProviderAudit": "kpitools.model",
    "ProviderReturn": "kpitools.model",
    "Rules": "kpitools.rules",
}

__all__ = [
    "ProviderAudit",
    "ProviderReturn",
    "Rules",
    "__version__",
    "audit_period",
    "audit_provider",
    "load_context",
    "load_provider",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'kpitools' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
