"""Fixtures of the KPI tests; the frame builders are in kpi_frames.py."""

from __future__ import annotations

import pytest

from kpitools.rules import Rules


@pytest.fixture
def rules() -> Rules:
    return Rules()
