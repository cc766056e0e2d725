"""The demo as workbooks: byte-stable, one sheet per table, text kept as text, and the
same tables as the CSV form once loaded."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kpitools.demo.generator import generate
from kpitools.demo.writers import FIXED_TIME
from kpitools.load import load_provider
from kpitools.returns.contract import TABLES

PERIOD = "2023-03"


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = Path(tmp_path_factory.mktemp("demo_both"))
    return root, generate(root, periods=[PERIOD], fmt="both")


@pytest.fixture(scope="module")
def xlsx_only(tmp_path_factory):
    root = Path(tmp_path_factory.mktemp("demo_xlsx"))
    return root, generate(root, periods=[PERIOD], fmt="xlsx")


def test_same_seed_gives_byte_identical_workbooks(both, xlsx_only):
    # two separate runs: the "both" tree's workbooks and the xlsx-only run
    root_both, truth = both
    root_x, _ = xlsx_only
    for provider in truth.providers:
        first = (root_both / "xlsx" / PERIOD / provider / "datasheet.xlsx").read_bytes()
        again = (root_x / PERIOD / provider / "datasheet.xlsx").read_bytes()
        assert first == again, provider
    assert sorted(p.name for p in (root_x / PERIOD / "P001").iterdir()) == ["datasheet.xlsx"]


def test_workbook_sheets_properties_and_cell_types(xlsx_only):
    root, truth = xlsx_only
    hyperlink = next(h for h in truth.hostile if h.value.startswith("=HYPERLINK"))
    book = load_workbook(root / PERIOD / hyperlink.provider_id / "datasheet.xlsx")
    assert book.sheetnames == list(TABLES)
    assert book.properties.created == book.properties.modified == FIXED_TIME
    cell = book["employers"].cell(row=hyperlink.row, column=2)
    assert cell.value == hyperlink.value and cell.data_type == "s"  # text, not a formula
    learners = book["learners"]
    assert isinstance(learners.cell(row=2, column=7).value, datetime)  # start_date: a date cell
    assert learners.cell(row=2, column=1).data_type == "s"  # learner_ref: text


def test_csv_and_workbook_load_to_the_same_tables(both):
    root, truth = both
    for provider in truth.providers:
        from_csv = load_provider(root / PERIOD / provider)
        from_xlsx = load_provider(root / "xlsx" / PERIOD / provider)
        for name in TABLES:
            left = from_csv.tables[name].drop(columns="source").reset_index(drop=True)
            right = from_xlsx.tables[name].drop(columns="source").reset_index(drop=True)
            assert left.equals(right), (provider, name)
        assert len(from_csv.rejected) == len(from_xlsx.rejected)


def test_ground_truth_names_workbook_rows(xlsx_only):
    root, truth = xlsx_only
    assert truth.fmt == "xlsx"
    for provider in truth.providers:
        rejected = load_provider(root / PERIOD / provider).rejected
        got = sorted(zip(rejected["rule"], rejected["source"], strict=True))
        want = sorted((e.rule, e.source) for e in truth.rejected(provider, PERIOD))
        assert got == want
    assert all(
        e.source.startswith("datasheet.xlsx[" if e.table != "ilr" else "ilr/")
        for e in truth.expectations
        if e.row
    )
