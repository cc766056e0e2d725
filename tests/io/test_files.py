"""kpitools.io.files: spreadsheet-safe cells and atomic writes."""

from __future__ import annotations

import stat

import pandas as pd
import pytest

from kpitools.io import files
from kpitools.io.files import csv_bytes, neutralise_cell


@pytest.mark.parametrize("text", ["=1+1", "+44 100", "-2+3", "@SUM(A1)", "\tx", "\rx", "\nx"])
def test_formula_starts_are_neutralised(text):
    assert neutralise_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Example Ltd", "a=b", "", -3.5, -2, 0, None, 12.25])
def test_other_cells_and_numbers_are_unchanged(value):
    assert neutralise_cell(value) is value


def test_negative_numbers_stay_numbers_in_csv():
    frame = pd.DataFrame({"amount": [-3.5], "note": ["-3.5"]})
    assert csv_bytes(frame, ("amount", "note")) == b"amount,note\n-3.5,'-3.5\n"


def test_private_writes_are_owner_only_others_follow_the_umask(tmp_path):
    private = files.write_atomic(tmp_path / "P001.audit.pkl", b"raw", private=True)
    shared = files.write_atomic(tmp_path / "kpi_results.csv", b"figures")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(shared.stat().st_mode) == 0o666 & ~files._UMASK
