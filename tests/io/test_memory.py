"""A provider too large for the machine is refused before loading, with one line."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpitools.audit import audit_period, audit_provider
from kpitools.cli import main
from kpitools.errors import KpiToolsError, TooLargeError
from kpitools.io import memory
from kpitools.io.memory import LIMIT_ENV, check_provider_memory, estimated_mb, memory_limit_mb
from kpitools.returns.validate import MAX_REJECTED_REASONS

FIXTURE = Path(__file__).parent.parent / "fixtures" / "loaders" / "P001"
MIB = 1024 * 1024
AS_OF = date(2023, 3, 31)


def _sized(folder: Path, **sizes: int) -> Path:
    """A folder of files of the given sizes (name: bytes); ``ilr__x_xml`` -> ilr/x.xml."""
    for name, size in sizes.items():
        path = folder / name.replace("__", "/").replace("_", ".")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    return folder


def test_estimate_weighs_each_kind_of_input(tmp_path: Path) -> None:
    current = _sized(
        tmp_path / "now",
        learners_csv=MIB,
        ilr__a_xml=2 * MIB,
        datasheet_xlsx=MIB,
        notes_txt=5 * MIB,
    )
    previous = _sized(tmp_path / "before", learners_csv=MIB // 2)
    # 1 MiB of CSV, 2 MiB of ILR, 1 MiB of workbook, nothing for other files; then half a MiB
    expected = memory.TABLE_FACTOR + 2 * memory.ILR_FACTOR + memory.WORKBOOK_FACTOR
    assert estimated_mb([current], reasons_per_table=0) == pytest.approx(expected)
    assert estimated_mb([current, previous], reasons_per_table=0) == pytest.approx(
        expected + memory.TABLE_FACTOR / 2
    )


def test_estimate_counts_cells_and_the_reasons_that_may_be_kept(tmp_path: Path) -> None:
    # 100,000 rows of 14 one-letter fields: 2.8 MB, 1.4 million cells, each a Python
    # string once read: weighed by its cells, not its bytes (issue 29)
    rows = b"a,b,c,d,e,f,g,h,i,j,k,l,m,n\n" * 100_000
    (tmp_path / "P001").mkdir()
    (tmp_path / "P001" / "learners.csv").write_bytes(rows)
    cells = rows.count(b",") + rows.count(b"\n") + 1
    assert cells == 1_400_001 and memory.CELL_FACTOR * cells > memory.TABLE_FACTOR * len(rows)
    assert estimated_mb([tmp_path / "P001"], reasons_per_table=0) == pytest.approx(
        memory.CELL_FACTOR * cells / MIB
    )
    # each reason validation may keep, at most reasons_per_table a table (a sheet)
    kept = estimated_mb([tmp_path / "P001"], reasons_per_table=5000)
    assert kept == pytest.approx((memory.CELL_FACTOR * cells + memory.REASON_FACTOR * 5000) / MIB)
    small = _sized(tmp_path / "P002", learners_csv=10, datasheet_xlsx=10)
    assert estimated_mb([small], reasons_per_table=5000) == pytest.approx(
        (
            memory.TABLE_FACTOR * 10
            + memory.REASON_FACTOR  # one cell: at most one reason
            + memory.WORKBOOK_FACTOR * 10
            + memory.REASON_FACTOR * 5000 * memory.WORKBOOK_TABLES
        )
        / MIB
    )


def test_refused_just_above_the_limit_not_at_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _sized(tmp_path / "P001", learners_csv=MIB)
    monkeypatch.setenv(LIMIT_ENV, f"{memory.TABLE_FACTOR}")  # estimate == limit: allowed
    check_provider_memory(folder, reasons_per_table=0)
    monkeypatch.setenv(LIMIT_ENV, f"{memory.TABLE_FACTOR - 0.01}")
    with pytest.raises(TooLargeError) as refused:
        check_provider_memory(folder, reasons_per_table=0)
    line = refused.value.one_line()
    assert line.startswith(f"{folder}: too large for this machine")
    assert (
        f"about {memory.TABLE_FACTOR:,.0f} MB" in line
        and f"limit of {memory.TABLE_FACTOR - 0.01:,.0f} MB" in line
    )
    assert f"{LIMIT_ENV}=" in line and "\n" not in line


def test_previous_month_counts_toward_the_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _sized(tmp_path / "now" / "P001", learners_csv=MIB)
    previous = _sized(tmp_path / "before" / "P001", learners_csv=MIB)
    monkeypatch.setenv(LIMIT_ENV, f"{1.5 * memory.TABLE_FACTOR}")
    check_provider_memory(folder, reasons_per_table=0)
    with pytest.raises(TooLargeError):
        check_provider_memory(folder, previous, reasons_per_table=0)
    check_provider_memory(
        folder, tmp_path / "missing", reasons_per_table=0
    )  # no previous folder: not counted


def test_limit_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LIMIT_ENV, "0")
    assert memory_limit_mb() is None  # 0: no limit
    monkeypatch.setenv(LIMIT_ENV, "512")
    assert memory_limit_mb() == 512
    for bad in ("lots", "-1", "nan"):
        monkeypatch.setenv(LIMIT_ENV, bad)
        with pytest.raises(KpiToolsError, match=LIMIT_ENV):
            memory_limit_mb()
    monkeypatch.delenv(LIMIT_ENV)
    monkeypatch.setattr(memory, "available_mb", lambda: 1000.0)
    assert memory_limit_mb() == pytest.approx(memory.AVAILABLE_SHARE * 1000)
    monkeypatch.setattr(memory, "available_mb", lambda: None)
    assert memory_limit_mb() is None  # unknown: no check


def test_audit_refuses_before_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "2023-03" / "P001"
    shutil.copytree(FIXTURE, folder)
    monkeypatch.setenv(LIMIT_ENV, "0.0001")
    import kpitools.load as load

    monkeypatch.setattr(load, "load_provider", lambda *a, **k: pytest.fail("loaded"))
    with pytest.raises(TooLargeError, match="too large for this machine"):
        audit_provider(folder, as_of=AS_OF)


def test_in_a_period_the_large_provider_fails_and_the_others_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    period = tmp_path / "2023-03"
    shutil.copytree(FIXTURE, period / "P001")
    large = shutil.copytree(FIXTURE, period / "P002")
    (large / "provider.csv").write_text("provider_id,name,ukprn\nP002,Large Skills Ltd,10001235\n")
    learners = (large / "learners.csv").read_text().splitlines()
    extra = [learners[1].replace("000123", f"9{n:05d}", 1) for n in range(200)]
    (large / "learners.csv").write_text("\n".join([*learners, *extra]) + "\n")
    small_mb = estimated_mb([period / "P001"], reasons_per_table=MAX_REJECTED_REASONS)
    large_mb = estimated_mb([large], reasons_per_table=MAX_REJECTED_REASONS)
    monkeypatch.setenv(LIMIT_ENV, f"{(small_mb + large_mb) / 2}")
    results = audit_period(period, as_of=AS_OF)
    assert results["P001"].provider_id == "P001"
    assert isinstance(results["P002"], TooLargeError)
    assert "P002: too large for this machine" in results["P002"].one_line()


def test_cli_option_sets_the_limit_and_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LIMIT_ENV, "0")  # restored after the test: the option sets it in-process
    folder = shutil.copytree(FIXTURE, tmp_path / "2023-03" / "P001")
    result = CliRunner().invoke(
        main,
        [
            "--memory-limit",
            "0.0001",
            "kpis",
            str(folder),
            "--as-of",
            "2023-03-31",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 2
    need = estimated_mb([folder], reasons_per_table=MAX_REJECTED_REASONS)
    assert result.output.strip().splitlines() == [
        f"error: {folder}: too large for this machine: its audit would need about {need:,.0f} "
        "MB of memory, "
        f"over the limit of 0 MB ({LIMIT_ENV}=0.0001); not loaded. Run it on a larger machine, "
        f"or raise the limit with `kpitools --memory-limit MB` ({LIMIT_ENV})"
    ]


def test_fewer_collections_raises_the_young_threshold_and_restores_it() -> None:
    import gc

    from kpitools.io.memory import YOUNG_THRESHOLD, fewer_collections

    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == (max(before[0], YOUNG_THRESHOLD), *before[1:])
    assert gc.get_threshold() == before
    with pytest.raises(ValueError), fewer_collections():
        raise ValueError("restored on the way out too")
    assert gc.get_threshold() == before
