"""kpitools.io.files: spreadsheet-safe cells and atomic writes."""

from __future__ import annotations

import ast
import csv
import io
import os
import stat
from pathlib import Path

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
    assert csv_bytes(frame, ("amount", "note")) == b"amount,note\r\n-3.5,'-3.5\r\n"


def test_private_writes_are_owner_only_others_follow_the_umask(tmp_path):
    private = files.write_atomic(tmp_path / "P001.audit.pkl", b"raw", private=True)
    shared = files.write_atomic(tmp_path / "kpi_results.csv", b"figures")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    umask = os.umask(0o077)  # reading the umask means setting it: put it back at once
    os.umask(umask)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o666 & ~umask


def test_a_cell_holding_a_line_break_stays_one_cell() -> None:
    # a bare CR left unquoted ends the record in a spreadsheet: "=1+1" would start a row
    frame = pd.DataFrame({"note": ["x\r=1+1", "y\n@A1", "plain"], "n": [1, 2, 3]})
    data = csv_bytes(frame, ("note", "n"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows == [["note", "n"], ["x\r=1+1", "1"], ["y\n@A1", "2"], ["plain", "3"]]


# The one place that turns frames into CSV text; the demo writes the providers' *returns*
# (the input), hostile cells planted on purpose, so it is the one other CSV writer.
CSV_WRITERS = {"kpitools/io/files.py": {"to_csv"}, "kpitools/demo/writers.py": {"writer"}}
WRITER_CALLS = {"to_csv", "writer", "DictWriter"}  # a csv writer is made before it writes


def test_every_csv_output_goes_through_csv_bytes() -> None:
    package = Path(files.__file__).parents[1]
    found = {}
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package.parent).as_posix()
        calls = {
            node.func.attr
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITER_CALLS
        } - CSV_WRITERS.get(name, set())
        if calls:
            found[name] = sorted(calls)
    assert found == {}


def test_control_characters_in_csv_cells_are_escaped() -> None:
    frame = pd.DataFrame({"name": ["Acme\x07 Ltd", "\x1b[2J=1+1", "tab\tkept"], "n": [1, 2, 3]})
    rows = list(csv.reader(io.StringIO(csv_bytes(frame, ("name", "n")).decode("utf-8"))))
    assert [r[0] for r in rows[1:]] == ["Acme\\x07 Ltd", "\\x1b[2J=1+1", "tab\tkept"]
