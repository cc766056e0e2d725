"""The demo's ILR files against DfE's published XSD of their year, and against DfE's
bootcamp rules: `kpitools demo --periods 2025-09,2025-10` writes 2025-26 files, with EVI
for starts from August 2025 and event aims before; a 2024-25 demo writes 2024-25 files;
periods from August 2026 get no ILR file (no 2026-27 schema here), never a namespace
the reader refuses."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from ilr_xml import ilr_tables
from lxml import etree

from kpitools.cli import main
from kpitools.demo.ilr_writer import namespace_for, write_ilr
from kpitools.demo.truth import GroundTruth
from kpitools.errors import ParameterError
from kpitools.ilr.events import EVENT_INDICATORS_FROM
from kpitools.ilr.mapping import read_ilr_files
from kpitools.ilr.reader import KNOWN_NAMESPACES
from kpitools.rules import Rules

DFE = Path(__file__).parent.parent / "fixtures" / "ilr" / "dfe"
SCHEMAS = {
    "ESFA/ILR/2024-25": DFE / "schemafile24.xsd",
    "ESFA/ILR/2025-26": DFE / "schemafile25.xsd",
}


@pytest.fixture(scope="module")
def schemas() -> dict[str, etree.XMLSchema]:
    return {ns: etree.XMLSchema(etree.parse(str(path))) for ns, path in SCHEMAS.items()}


def _demo(root: Path, periods: str, *options: str) -> list[Path]:
    result = CliRunner().invoke(main, ["demo", "--out", str(root), "--periods", periods, *options])
    assert result.exit_code == 0, result.output
    return sorted(root.glob("*/*/ilr/*.xml"))


@pytest.fixture(scope="module")
def demo_2526(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _demo(tmp_path_factory.mktemp("demo2526"), "2025-09,2025-10")


@pytest.fixture(scope="module")
def demo_2425(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _demo(tmp_path_factory.mktemp("demo2425"), "2025-01,2025-02")


def _assert_valid(files: list[Path], namespace: str, schemas: dict) -> None:
    assert files
    for path in files:
        doc = etree.parse(str(path))
        assert etree.QName(doc.getroot()).namespace == namespace, path.name
        assert schemas[namespace].validate(doc), f"{path.name}: {schemas[namespace].error_log}"


def test_2025_26_demo_is_valid_against_dfe_2025_26_xsd(demo_2526, schemas) -> None:
    _assert_valid(demo_2526, "ESFA/ILR/2025-26", schemas)


def test_2024_25_demo_is_valid_against_dfe_2024_25_xsd(demo_2425, schemas) -> None:
    _assert_valid(demo_2425, "ESFA/ILR/2024-25", schemas)


def test_demo_uses_evi_from_august_2025_and_event_aims_before(demo_2526) -> None:
    # By 2025-10-31 no learner who started from August 2025 has an event yet in this
    # demo (test_ilr_writer.py checks that such events are written as EVI), so here:
    # event aims for earlier starts, and never an EVI on an earlier start.
    starts: dict[str, set] = {"evi": set(), "aims": set()}
    for path in demo_2526:
        for learner in read_ilr_files([path])[0].learners:
            programme = next(a for a in learner.deliveries if a.aim_type == 1)
            if any(f.fam_type == "EVI" for f in programme.fams):
                starts["evi"].add(programme.learn_start_date)
            if any(a.learn_aim_ref.startswith("Z005974") for a in learner.deliveries):
                starts["aims"].add(programme.learn_start_date)
    assert starts["aims"] and max(starts["aims"]) < EVENT_INDICATORS_FROM
    assert all(day >= EVENT_INDICATORS_FROM for day in starts["evi"])


# the ILR-only provider's planted ILR findings (kpitools.demo.ilr_only); nothing else
ILR_ONLY_PLANTS = {"DUP-ROW", "ILR-R_135", "ILR-REENROLLED", "ILR-UKPRN-MISMATCH"}


@pytest.mark.parametrize("which", ["demo_2526", "demo_2425"])
def test_demo_ilr_breaks_no_dfe_rule(which: str, request: pytest.FixtureRequest) -> None:
    files = request.getfixturevalue(which)
    truth = GroundTruth.read(files[0].parents[3] / "ground_truth.json")
    for folder in sorted({p.parent for p in files}):
        tables = ilr_tables(sorted(folder.glob("*.xml")), rules=Rules())
        if folder.parent.name in truth.ilr_only_providers:
            assert {f.rule for f in tables.findings} == ILR_ONLY_PLANTS, folder
        else:
            assert tables.findings == (), (folder, tables.findings[:3])


def test_writer_never_emits_a_namespace_the_reader_refuses(tmp_path: Path) -> None:
    for year in ("2223", "2324", "2425", "2526"):
        assert namespace_for(year) in KNOWN_NAMESPACES
    with pytest.raises(ParameterError, match="2627"):
        write_ilr(tmp_path, {"learners": []}, ukprn="10012345", prepared=datetime(2026, 8, 31, 18))
    assert list(tmp_path.iterdir()) == []


def test_periods_from_august_2026_get_no_ilr_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):  # which periods get files: a smaller demo says it
        files = _demo(tmp_path, "2026-07,2026-08", "--providers", "4", "--learners", "800")
    assert files and {p.parts[-4] for p in files} == {"2026-07"}
    assert all("-2526-" in p.name for p in files)
    assert any("no ILR files for 2026-08" in r.getMessage() for r in caplog.records)


def test_periods_before_august_2022_get_no_ilr_file_and_the_demo_still_builds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # 2022-07 is collection year 2021-22 (no DfE schema): no file for it, neither in its
    # own folder nor among the earlier months of 2022-08's; its bootcamps all started
    # before the ILR held bootcamps, so nothing is planted on them (was an IndexError)
    with caplog.at_level(logging.WARNING):
        files = _demo(tmp_path, "2022-07,2022-08", "--providers", "4", "--learners", "800")
    assert files and {p.parts[-4] for p in files} == {"2022-08"}
    assert all("-2223-" in p.name for p in files)
    assert any("no ILR files for 2022-07" in r.getMessage() for r in caplog.records)
