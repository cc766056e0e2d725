"""The folder layout of a period: provider folders, the previous month, output folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kpitools import layout


def _folders(root: Path, *names: str) -> None:
    for name in names:
        (root / name).mkdir(parents=True)


def test_previous_provider_dir_is_the_same_provider_a_month_before(tmp_path: Path) -> None:
    _folders(tmp_path, "2023-02/P001", "2023-03/P001", "2023-03/P002", "2023-01/P001")
    assert (
        layout.previous_provider_dir(tmp_path / "2023-03" / "P001") == tmp_path / "2023-02" / "P001"
    )
    assert layout.previous_provider_dir(tmp_path / "2023-03" / "P002") is None
    # January's previous period is the December before
    assert layout.previous_provider_dir(tmp_path / "2023-01" / "P001") is None
    _folders(tmp_path, "2022-12/P001")
    assert (
        layout.previous_provider_dir(tmp_path / "2023-01" / "P001") == tmp_path / "2022-12" / "P001"
    )


def test_previous_provider_dir_needs_a_period(tmp_path: Path) -> None:
    _folders(tmp_path, "returns/P001", "2023-02/P001")
    assert layout.previous_provider_dir(tmp_path / "returns" / "P001") is None
    # a period given explicitly for a folder not named after it: DATA/<previous>/<id>
    assert (
        layout.previous_provider_dir(tmp_path / "returns" / "P001", "2023-03")
        == tmp_path / "2023-02" / "P001"
    )


def test_relative_provider_dir_finds_its_previous_month(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _folders(tmp_path, "2023-02/P001", "2023-03/P001")
    monkeypatch.chdir(tmp_path / "2023-03" / "P001")
    assert layout.previous_provider_dir(".") == tmp_path / "2023-02" / "P001"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2023-03", True),
        ("2023-12", True),
        ("2023-13", False),
        ("2023-00", False),
        ("2023-3", False),
        ("202303", False),
        ("2023-03-01", False),
        ("P001", False),
    ],
)
def test_period_names(name: str, expected: bool) -> None:
    assert layout.is_period_name(name) is expected


def test_provider_folders_and_previous_period_dir(tmp_path: Path) -> None:
    _folders(tmp_path, "2023-03/P002", "2023-03/P001", "2023-03/not a provider", "2023-02")
    (tmp_path / "2023-03" / "P003").write_text("a file, not a folder", encoding="utf-8")
    assert [p.name for p in layout.provider_folders(tmp_path / "2023-03")] == ["P001", "P002"]
    assert layout.previous_period_dir(tmp_path / "2023-03") == tmp_path / "2023-02"
    assert layout.previous_period_dir(tmp_path / "2023-02") is None  # no 2023-01 beside it
    assert layout.previous_period_dir(tmp_path / "returns") is None


def test_output_folders(tmp_path: Path) -> None:
    assert layout.provider_out_dir("out", "2023-03", "P001") == Path("out/2023-03/P001")
    assert layout.period_out_dir("out", "2023-03") == Path("out/2023-03")
    # the default output root sits beside the data root, never inside it
    provider = tmp_path / "data" / "demo" / "2023-03" / "P001"
    assert (
        layout.default_provider_out_dir(provider)
        == tmp_path / "data" / "out" / "demo" / "2023-03" / "P001"
    )
    with pytest.raises(ValueError, match="YYYY-MM"):
        layout.default_provider_out_dir(tmp_path / "returns" / "P001")


def test_earlier_provider_dirs_skip_missing_months_oldest_first(tmp_path: Path) -> None:
    # 2022-11 and 2023-01 exist for P001, 2022-12 does not; 2022-10 is beyond 4 months back
    # from 2023-03 (2023-02, 2023-01, 2022-12, 2022-11).
    for period in ("2022-10", "2022-11", "2023-01", "2023-03"):
        (tmp_path / period / "P001").mkdir(parents=True)
    (tmp_path / "2023-02" / "P002").mkdir(parents=True)
    found = layout.earlier_provider_dirs(tmp_path / "2023-03" / "P001", "2023-03", 4)
    assert found == [
        ("2022-11", tmp_path / "2022-11" / "P001"),
        ("2023-01", tmp_path / "2023-01" / "P001"),
    ]
    assert layout.earlier_provider_dirs(tmp_path / "2023-03" / "P001", "2023-03", 0) == []


def test_ilr_files_any_case_sorted_and_none_without_the_folder(tmp_path: Path) -> None:
    assert layout.ilr_files(tmp_path) == []
    (tmp_path / "ilr").mkdir()
    for name in ("b.XML", "a.xml", "notes.txt", "c.Xml"):
        (tmp_path / "ilr" / name).write_text("")
    (tmp_path / "ilr" / "d.xml").mkdir()  # a folder is not a file
    assert [p.name for p in layout.ilr_files(tmp_path)] == ["a.xml", "b.XML", "c.Xml"]


@pytest.mark.parametrize(
    ("name", "is_id"),
    [
        ("P001", True),
        ("a_b-C9", True),
        ("x" * 40, True),
        ("x" * 41, False),
        ("", False),
        ("P 001", False),
        ("P001\n", False),  # the whole name: no line end let through
        ("P.001", False),
        ("P001<b>", False),
    ],
)
def test_a_provider_id_is_the_whole_name(name: str, is_id: bool) -> None:
    assert layout.is_provider_name(name) is is_id


def test_one_provider_id_pattern_for_folders_returns_and_scoped_ids() -> None:
    """The folder layout, the provider table's check (BAD-ID) and the period's scoped
    identifiers all take a provider id from layout.PROVIDER_ID_PATTERN."""
    from kpitools.returns.contract import TABLES
    from kpitools.returns.period import scope, unscoped

    assert layout.PROVIDER_ID_PATTERN in TABLES["provider"].columns[0].description
    long_id = "p" * 40
    assert unscoped(f"bootcamp {scope(long_id, 'B1')} of {scope('P-1_x', 'L2')}") == (
        "bootcamp B1 of L2"
    )
    # a separator after a character a provider id cannot hold is left alone
    assert unscoped("a b.\x1fc") == "a b.\x1fc"


def test_the_register_of_a_folder_and_where_a_replaced_one_is_kept(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "2023-03" / "P001"
    assert layout.register_of(folder) is None
    kept = layout.history_register(folder, "20230405T101500Z")
    assert kept == folder / ".history" / "exceptions-20230405T101500Z.xlsx"
    for stamp in ("20230405T101500Z", "20230406T090000Z"):
        layout.history_register(folder, stamp).parent.mkdir(parents=True, exist_ok=True)
        layout.history_register(folder, stamp).write_bytes(b"x")
    # a failed provider's set holds no register: the newest one kept stands for it
    assert layout.register_of(folder) == layout.history_register(folder, "20230406T090000Z")
    (folder / "exceptions.xlsx").write_bytes(b"x")
    assert layout.register_of(folder) == folder / "exceptions.xlsx"


def test_a_register_saved_as_xlsm_or_csv_is_one_the_findings_csv_is_not(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "2023-03" / "P001"
    folder.mkdir(parents=True)
    (folder / "exceptions.xlsx").write_bytes(b"x")
    os.utime(folder / "exceptions.xlsx", (1_600_000_000, 1_600_000_000))
    # kpitools's own exceptions.csv (the findings, no exception_id), newer: not a register
    (folder / "exceptions.csv").write_text("provider_id,bootcamp_id,kpi,rule\n", encoding="utf-8")
    assert layout.register_files(folder) == [folder / "exceptions.xlsx"]
    # the Exceptions sheet saved over it as CSV by an auditor's Excel: the newest register
    (folder / "exceptions.csv").write_text("exception_id,severity,rule\n", encoding="utf-8")
    assert layout.register_of(folder) == folder / "exceptions.csv"
    (folder / "exceptions.xlsm").write_bytes(b"x")
    os.utime(folder / "exceptions.xlsm", (1_700_000_000, 1_700_000_000))
    assert layout.register_files(folder) == [
        folder / "exceptions.csv",
        folder / "exceptions.xlsm",
        folder / "exceptions.xlsx",
    ]
    assert layout.history_register(folder, "20230405T101500Z", ".xlsm").name == (
        "exceptions-20230405T101500Z.xlsm"
    )
