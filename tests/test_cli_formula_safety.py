"""Every command that writes CSV, run on a hostile return: no output cell is a formula.

The return is a demo provider whose every text cell (identifiers, names, free text, id
lists) starts with one of ``= + - @``, tab, CR or LF, and in every fourth row every other
cell too (codes, flags, dates, amounts: those rows are rejected, so rejected_rows.csv
echoes the hostile values). Its ILR files get the same prefixes on the learner and
bootcamp references and the names. Each command runs through the command line; then
every cell of every CSV it wrote (and every cell of the register workbook) is read back
as a spreadsheet would: a text cell starting with one of those characters would run as
a formula (OWASP "CSV injection"), a number like ``-3.5`` is a number.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from lxml import etree

from kpitools.cli import main
from kpitools.returns.contract import TABLES

PERIOD = "2023-03"
# the OWASP list, written out here rather than imported: the test checks the writer
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
ALWAYS_HOSTILE = {"id", "text", "idlist"}  # text kept as written: accepted when hostile
EVERY_CELL_ROW = 4  # every fourth row has every cell hostile (and is rejected)
PLAIN_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")
ILR_TEXT = {"LearnRefNumber", "ConRefNumber", "FamilyName", "GivenNames"}


def hostile(text: str) -> str:
    """``text`` behind a formula start, the same one for the same text wherever it
    appears, so that a hostile id still names its row in the other tables."""
    return FORMULA_STARTS[zlib.crc32(text.encode("utf-8")) % len(FORMULA_STARTS)] + text


def _hostile_cell(text: str, kind: str, every_cell: bool) -> str:
    if not text:
        return text
    if kind == "idlist":
        return ";".join(hostile(part) for part in text.split(";"))
    return hostile(text) if kind in ALWAYS_HOSTILE or every_cell else text


def _rewrite_csv(path: Path) -> None:
    kinds = {column.name: column.kind for column in TABLES[path.stem].columns}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *body = list(csv.reader(handle))
    rows = [
        [
            _hostile_cell(cell, kinds.get(name, "text"), n % EVERY_CELL_ROW == EVERY_CELL_ROW - 1)
            for name, cell in zip(header, row, strict=True)
        ]
        for n, row in enumerate(body)
    ]
    buffer = io.StringIO()
    # every cell quoted: a bare CR in a cell would otherwise end the record
    csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL).writerows([header, *rows])
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def _rewrite_ilr(path: Path) -> None:
    tree = etree.parse(str(path))
    for element in tree.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname in ILR_TEXT:
            if element.text and element.text.strip():
                element.text = hostile(element.text)
    tree.write(str(path), xml_declaration=True, encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_provider(small_demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DATA/2023-03/<hostile id>: the first demo provider with ILR files, made hostile
    (the folder is named after its provider.csv, hostile too)."""
    source = next(p for p in sorted((small_demo_dir / PERIOD).iterdir()) if any(p.glob("ilr/*")))
    target = tmp_path_factory.mktemp("hostile") / "data" / PERIOD / hostile(source.name)
    shutil.copytree(source, target)
    for path in target.glob("*.csv"):
        _rewrite_csv(path)
    for path in target.glob("ilr/*.xml"):
        _rewrite_ilr(path)
    return target


def _kpis(provider: Path, out: Path) -> list[str]:
    return ["kpis", str(provider), "--as-of", "2023-03-31", "--out", str(out)]


def _sample(provider: Path, out: Path) -> list[str]:
    return ["sample", str(provider), "--out", str(out), "--seed", "7", "--fraction", "1"]


def _sample_pii(provider: Path, out: Path) -> list[str]:
    return [*_sample(provider, out), "--include-pii"]


def _ilr(provider: Path, out: Path) -> list[str]:
    return ["ilr", *map(str, sorted(provider.glob("ilr/*.xml"))), "--out", str(out)]


def _ilr_pii(provider: Path, out: Path) -> list[str]:
    return [*_ilr(provider, out), "--include-pii"]


def _packs(provider: Path, out: Path) -> list[str]:
    return ["packs", str(provider.parent), "--out", str(out), "--workers", "1", "--no-progress"]


Command = Callable[[Path, Path], list[str]]


@pytest.mark.parametrize(
    ("command", "exit_codes", "files"),
    [
        pytest.param(_kpis, {1}, 4, id="kpis"),
        pytest.param(_sample, {1}, 5, id="sample"),
        pytest.param(_sample_pii, {1}, 5, id="sample --include-pii"),
        pytest.param(_ilr, {0, 1}, 5, id="ilr --out"),
        pytest.param(_ilr_pii, {0, 1}, 5, id="ilr --out --include-pii"),
        pytest.param(_packs, {0}, 5, id="packs", marks=pytest.mark.slow),
    ],
)
def test_no_cell_a_spreadsheet_would_run_is_written(
    command: Command, exit_codes: set[int], files: int, hostile_provider: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, command(hostile_provider, out))
    assert result.exit_code in exit_codes, result.output

    written = sorted(out.rglob("*.csv"))
    assert len(written) == files, written
    cells = [cell for path in written for cell in _csv_cells(path)]
    cells += [cell for path in sorted(out.rglob("*.xlsx")) for cell in _workbook_cells(path)]
    live = [cell for cell in cells if _runs_as_formula(cell)]
    assert live == []
    # not a vacuous pass: the hostile text did reach the outputs, made inert
    assert any(cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) for cell in cells)


def test_the_hostile_return_is_read_partly_rejected(hostile_provider: Path) -> None:
    """The return the test above uses: rows are accepted with hostile ids and text, and
    rows are rejected with hostile values (both paths to the outputs are exercised)."""
    from kpitools.load import load_provider

    provider = load_provider(hostile_provider)
    accepted = provider.counts["learners"].accepted
    assert accepted > 0 and provider.counts["learners"].rejected > 0
    assert provider.tables["learners"]["learner_ref"].str.startswith(FORMULA_STARTS).any()
    assert provider.rejected["value"].astype(str).str.startswith(FORMULA_STARTS).any()


def _csv_cells(path: Path) -> list[str]:
    """Every cell of a CSV output, each record as long as the header (a record split at
    a bare line break would put the rest of a cell at the start of a row)."""
    with path.open(encoding="utf-8", newline="") as handle:
        header, *records = list(csv.reader(handle, strict=True))
    assert all(len(record) == len(header) for record in records), path
    return [cell for record in [header, *records] for cell in record]


def _workbook_cells(path: Path) -> list[str]:
    """Every text cell of a workbook as it shows; a formula cell fails at once, and a
    text cell with a formula start must carry the quote prefix (so editing it in Excel
    keeps it text), shown here as a leading quote."""
    shown = []
    for sheet in openpyxl.load_workbook(path).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{path.name} {sheet.title}!{cell.coordinate}"
                if isinstance(cell.value, str):
                    shown.append(("'" if cell.quotePrefix else "") + cell.value)
    return shown


def _runs_as_formula(cell: str) -> bool:
    """A cell starting with a formula start, unless it is a plain number (-3.5, +2e3)."""
    return cell.startswith(FORMULA_STARTS) and PLAIN_NUMBER.fullmatch(cell) is None
