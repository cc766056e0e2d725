"""The versions of Python and of the packages that shape the results: the manifest
records them (:mod:`kpitools.outputs.results`) and the pack prints them
(:func:`kpitools.present.report.provenance`), from this one list."""

from __future__ import annotations

import platform
from importlib import metadata

VERSIONED_PACKAGES = (
    "kpitools",
    "pandas",
    "numpy",
    "papermill",
    "nbconvert",
    "nbformat",
    "matplotlib",
    "openpyxl",
    "lxml",
    "pyyaml",
    "click",
    "duckdb",
)


def package_versions() -> dict[str, str]:
    """Python and the versions of the packages that shape the results."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
