"""Fixtures for every test: a pseudonym key, the default rules, and the demo data generated
once per session.

The demo fixtures are shared read-only by every test of the session (generating the
default demo takes seconds): a test that changes files copies the folders it needs first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kpitools.demo.generator import generate
from kpitools.demo.truth import GroundTruth
from kpitools.io.workers import skip_unused_imports
from kpitools.rules import Rules

# as the command line does (kpitools.io.workers.UNUSED_MODULES): ~1 s of CPU per test process
skip_unused_imports()

SUITE_KEY = "kpitools-test-suite-key-0123456789"
SMALL_PERIODS = ("2023-02", "2023-03")


@pytest.fixture(autouse=True)
def _suite_pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed key from the environment, so that no test creates or reads the user's key
    file (tests that are about the key set or remove the variable themselves)."""
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", SUITE_KEY)


@pytest.fixture
def rules() -> Rules:
    """The rules in force by default (KPI and check tests; the frame builders are in
    tests/kpis/kpi_frames.py and tests/checks/auditkit_frames.py)."""
    return Rules()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    """The default demo (seed 2023, 2023-01..2023-03, 6 providers, CSV, ILR files) on
    disk, with its ground truth. Read-only: copy what a test changes."""
    root = tmp_path_factory.mktemp("demo_default")
    return root, generate(root)


@pytest.fixture(scope="session")
def small_demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo (3 providers, 900 learners, 2023-02 and 2023-03, planted
    irregularities) for the tests that build a period end to end. Read-only."""
    root = tmp_path_factory.mktemp("demo_small")
    generate(root, providers=3, learners=900, periods=SMALL_PERIODS)
    return root



def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files holding slow end-to-end tests first, each file's tests together and in
    their order: with `make test` (pytest-xdist, one file per worker at a time) the long
    files start at once instead of leaving one worker alone with one of them at the end."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)
