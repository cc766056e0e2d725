"""Fixtures for every test: commands that write outputs need a pseudonym key."""

from __future__ import annotations

import pytest

SUITE_KEY = "kpitools-test-suite-key-0123456789"


@pytest.fixture(autouse=True)
def _suite_pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed key from the environment, so that no test creates or reads the user's key
    file (tests that are about the key set or remove the variable themselves)."""
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", SUITE_KEY)
