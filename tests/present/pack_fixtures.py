"""Fixtures of the pack tests (tests/present, tests/outputs, tests/run, each conftest.py
imports them): a tiny provider on disk, its hand-made audit, a key."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import hand_audit, make_context, write_provider

from kpitools.model import ProviderAudit
from kpitools.present.context import PackContext

TEST_KEY = "pack-tests-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test uses a fixed key from the environment, never the user's key file."""
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", TEST_KEY)
    return TEST_KEY


@pytest.fixture
def provider_dir(tmp_path: Path) -> Path:
    return write_provider(tmp_path / "data" / "2023-03" / "P001")


@pytest.fixture
def audit(provider_dir: Path) -> ProviderAudit:
    return hand_audit(provider_dir)


@pytest.fixture
def ctx(audit: ProviderAudit, tmp_path: Path) -> PackContext:
    return make_context(audit, tmp_path / "out")


@pytest.fixture
def ctx_pii(audit: ProviderAudit, tmp_path: Path) -> PackContext:
    return make_context(audit, tmp_path / "out", include_pii=True)
