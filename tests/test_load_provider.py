"""A provider folder with ilr/*.xml and no learners.csv: the learners come from the ILR."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from kpitools.audit import audit_provider
from kpitools.errors import FileLevelError
from kpitools.layout import ilr_files
from kpitools.load import load_provider
from kpitools.model import ProviderReturn
from kpitools.rules import Rules

FIXTURES = Path(__file__).parent / "fixtures" / "ilr"
F2223 = FIXTURES / "ILR-10012345-2223-20230331-120000-01.xml"
F2324 = FIXTURES / "ILR-10012345-2324-20240131-093000-01.xml"
F2425 = FIXTURES / "ILR-10012345-2425-20250228-170000-02.xml"


def _folder(tmp_path: Path, *ilr_files: Path) -> Path:
    folder = tmp_path / "P001"
    (folder / "ilr").mkdir(parents=True)
    (folder / "provider.csv").write_text("provider_id,name,ukprn\nP001,Test Provider,10012345\n")
    (folder / "bootcamps.csv").write_text(
        "bootcamp_id,start_date,end_date,price_per_learner\n"
        "SB-0001-01,2023-01-09,2023-04-28,3000\nSB-0001-02,2023-03-24,2023-06-30,3000\n"
        "SB-0003-01,2024-11-04,2025-02-21,3000\n"
    )
    # the co-funded learner's employer is listed under its ILR EmpId
    (folder / "employers.csv").write_text("employer_id,name,employee_count\n123456789,Acme,40\n")
    for path in ilr_files:
        shutil.copy(path, folder / "ilr" / path.name)
    return folder


def test_learners_and_interviews_come_from_the_ilr(tmp_path: Path) -> None:
    provider = load_provider(_folder(tmp_path, F2223))
    learners = provider.tables["learners"]
    # 4 bootcamp learners of the fixture; L003 (adult skills) is not a bootcamp learner
    assert sorted(learners["learner_ref"]) == ["L001", "L002", "L004", "L005"]
    assert provider.counts["learners"].read == 4 and provider.counts["learners"].balances
    l001 = learners[learners["learner_ref"] == "L001"].iloc[0]
    # source: the ILR file and the line of L001's <Learner> element (line 10)
    assert l001.source == f"ilr/{F2223.name}:11"
    assert str(l001.completion_date.date()) == "2023-03-10"
    assert any(i.path == f"ilr/{F2223.name}" and len(i.sha256) == 64 for i in provider.inputs)
    # the interview offer has no role type or skills match in the ILR: kept, both
    # unknown (issue 23), neither rejected nor invented
    assert provider.rejected[provider.rejected["table"] == "interviews"].empty
    assert provider.counts["interviews"].read == provider.counts["interviews"].accepted == 1
    offer = provider.tables["interviews"].iloc[0]
    assert offer.role_type == "unknown" and pd.isna(offer.matches_skills)
    assert offer.source == f"ilr/{F2223.name}:11"


def test_rejected_ilr_learner_keeps_counts_balanced(tmp_path: Path) -> None:
    provider = load_provider(_folder(tmp_path, F2425))
    count = provider.counts["learners"]
    # L201 accepted; L202 (programme start "2024-13-01") rejected with the ILR field
    assert (count.read, count.accepted, count.rejected) == (2, 1, 1)
    bad = provider.rejected[provider.rejected["column"] == "LearnStartDate"]
    assert list(bad["value"]) == ["2024-13-01"] and list(bad["rule"]) == ["BAD-DATE"]


def test_files_of_two_collection_years_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileLevelError, match="several collection years"):
        load_provider(_folder(tmp_path, F2223, F2324))


F2526 = FIXTURES / "ILR-10012345-2526-20251031-080000-01.xml"
# L302's EVI code 99 is not in the shipped table: unknown (ILR-EVI-CODE-UNKNOWN) by
# default, an interview offer dated 2025-10-01 under these rules.
EVI_99 = Rules.from_mapping({"ilr_event_indicators": {99: "interview_offer"}})


def _folder_2526(tmp_path: Path, name: str = F2526.name) -> Path:
    folder = tmp_path / "2025-10" / "P001"
    (folder / "ilr").mkdir(parents=True)
    (folder / "provider.csv").write_text("provider_id,name,ukprn\nP001,Test Provider,10012345\n")
    (folder / "bootcamps.csv").write_text(
        "bootcamp_id,start_date,end_date,price_per_learner\n"
        "SB-0004-01,2025-08-04,2025-12-19,3000\nSB-0004-02,2025-07-28,2025-11-14,3000\n"
    )
    shutil.copy(F2526, folder / "ilr" / name)
    return folder


def _l302_offers(provider: ProviderReturn) -> int:
    """L302's interview offers read from the ILR (its ``Learner`` element is on line 25;
    kept with the role type the ILR does not hold as ``unknown``)."""
    interviews = provider.tables["interviews"]
    return int(
        (
            (interviews["source"] == f"ilr/{F2526.name}:25")
            & (interviews["role_type"] == "unknown")
        ).sum()
    )


def test_the_loader_maps_the_ilr_with_the_rules_it_is_given(tmp_path: Path) -> None:
    folder = _folder_2526(tmp_path)
    default, custom = load_provider(folder), load_provider(folder, rules=EVI_99)
    assert custom.counts["interviews"].read == default.counts["interviews"].read + 1
    assert (_l302_offers(default), _l302_offers(custom)) == (0, 1)


def test_the_audit_loads_and_reviews_the_ilr_with_the_runs_rules(tmp_path: Path) -> None:
    folder = _folder_2526(tmp_path)

    def run(rules: Rules) -> tuple[int, list[str]]:
        audit = audit_provider(folder, as_of=date(2025, 10, 31), rules=rules)
        unknown = [f.entity for f in audit.irregularities if f.rule == "ILR-EVI-CODE-UNKNOWN"]
        return _l302_offers(audit.provider), unknown

    # loader (L302's offer) and review (DfE rule findings) both follow the run's rules
    assert run(Rules()) == (0, ["learner:L302"])
    assert run(EVI_99) == (1, [])


def test_upper_case_xml_is_loaded(tmp_path: Path) -> None:
    folder = _folder_2526(tmp_path, name=F2526.stem + ".XML")
    assert ilr_files(folder) == [folder / "ilr" / (F2526.stem + ".XML")]
    provider = load_provider(folder)
    assert sorted(provider.tables["learners"]["learner_ref"]) == ["L301", "L302", "L303"]


def test_each_ilr_file_is_parsed_once_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader (learners from the ILR) and the audit's ILR review read the same file:
    it is parsed once in a run (the run's IlrReads); the next run parses it again."""
    from datetime import date

    from kpitools.audit import audit_provider
    from kpitools.ilr import mapping

    parsed: list[str] = []
    real = mapping.read_ilr

    def counting(path: Path, **kwargs: object) -> object:
        parsed.append(Path(path).name)
        return real(path, **kwargs)

    monkeypatch.setattr(mapping, "read_ilr", counting)
    folder = _folder(tmp_path, F2223)
    audit_provider(folder, as_of=date(2023, 3, 31))
    assert parsed == [F2223.name]
    audit_provider(folder, as_of=date(2023, 3, 31))
    assert parsed == [F2223.name, F2223.name]


def test_ilr_reads_parse_a_file_again_once_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within a run, a file is taken from IlrReads while unchanged (same path, time, size,
    inode), parsed again once changed, and the last KEPT files only are kept."""
    from kpitools.ilr import mapping

    parsed: list[str] = []
    real = mapping.read_ilr

    def counting(path: Path, **kwargs: object) -> object:
        parsed.append(Path(path).name)
        return real(path, **kwargs)

    monkeypatch.setattr(mapping, "read_ilr", counting)
    reads = mapping.IlrReads(kept=1)
    copy = tmp_path / F2223.name
    shutil.copy(F2223, copy)
    first = reads.read(copy, withdrawn_only=False)
    assert reads.read(copy, withdrawn_only=False) is first
    assert parsed == [F2223.name]
    reads.read(copy, withdrawn_only=True)  # another read of the file: parsed
    reads.read(copy, withdrawn_only=False)  # kept=1: the whole read was let go
    assert parsed == [F2223.name] * 3
    copy.write_bytes(copy.read_bytes() + b"\n")  # changed: size and time differ
    assert reads.read(copy, withdrawn_only=False) is not first
    assert parsed == [F2223.name] * 4
