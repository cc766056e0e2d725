"""kpitools: audit notebooks for the KPIs of Skills Bootcamps."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
