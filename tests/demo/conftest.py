"""Demo data generated once per test session (the generator takes a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpitools.demo import GroundTruth, generate


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    """The default demo (seed 2023, 2023-01..2023-03, 6 providers, CSV) on disk."""
    root = tmp_path_factory.mktemp("demo_default")
    return root, generate(root)
