"""Fuzzing the CSV and xlsx readers (issue 14): whatever bytes or cells arrive, the result
is one FileLevelError or tables whose rows read = accepted + rejected, never a traceback.

Time is bounded by keeping the inputs small (a handful of rows, short cells) and the
example counts modest; there is no timed assertion (see benchmarks/ for speed)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpitools.errors import FileLevelError
from kpitools.returns.tables import RawTable, read_csv_table
from kpitools.returns.validate import validate_tables
from kpitools.returns.workbook import read_workbook

HEADER = ["learner_ref", "bootcamp_id", "referral_date", "referred_to"]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# cells that reach the readers' edges: separators, quotes, line breaks, control
# characters, non-ASCII, formula starts, dates good and bad
cell_text = st.one_of(
    st.sampled_from(
        [
            "",
            "L1",
            "B1",
            "2023-02-10",
            "31/02/2023",
            "=1+1",
            '"',
            ",",
            "\n",
            "\x1b[2J",
            "Zoë",
            "9.66422E+09",
            "  ",
            "NA",
        ]
    ),
    st.text(max_size=12),
)


def rows_of(width: int) -> st.SearchStrategy[list[list[str]]]:
    return st.lists(st.lists(cell_text, min_size=0, max_size=width + 2), max_size=6)


def balance(raw: RawTable, table: str) -> None:
    _, rejected, counts = validate_tables({table: raw})
    count = counts[table]
    assert count.read == len(raw) == count.accepted + count.rejected
    assert set(rejected.loc[rejected["table"] == table, "source"]) <= set(raw.source())


def csv_text(rows: list[list[str]]) -> str:
    def quoted(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell

    return "\n".join(",".join(quoted(c) for c in row) for row in rows) + "\n"


@FUZZ
@given(rows=rows_of(len(HEADER)), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_csv_reader_on_well_quoted_rows(rows, encoding):
    data = csv_text([HEADER, *rows]).encode(encoding, errors="replace")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "referrals.csv"
        path.write_bytes(data)
        try:
            raw, _ = read_csv_table(path, "referrals")
        except FileLevelError as error:
            assert "\n" not in error.one_line().strip()
            return
    balance(raw, "referrals")


@FUZZ
@given(tail=st.binary(max_size=200))
def test_csv_reader_on_arbitrary_bytes_after_a_header(tail):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "referrals.csv"
        path.write_bytes(",".join(HEADER).encode() + b"\n" + tail)
        try:
            raw, _ = read_csv_table(path, "referrals")
        except FileLevelError:
            return
    balance(raw, "referrals")


workbook_cell = st.one_of(
    cell_text,
    st.none(),
    st.integers(min_value=-(10**17), max_value=10**17),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(workbook_cell, max_size=len(HEADER) + 2), max_size=5))
def test_xlsx_reader_on_random_cells(rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "referrals"
    sheet.append(HEADER)
    for row in rows:
        # openpyxl refuses control characters in text cells: that is the writer's rule
        sheet.append(
            [c if not isinstance(c, str) else "".join(ch for ch in c if ch >= " ") for c in row]
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "datasheet.xlsx"
        workbook.save(path)
        try:
            tables, _ = read_workbook(path)
        except FileLevelError:
            return
    balance(tables["referrals"], "referrals")
