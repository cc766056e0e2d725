"""The audit runs the ILR reconciliation when a provider folder has ilr/*.xml."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from kpitools.audit import audit_provider
from kpitools.errors import FileLevelError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ilr"
F2223 = FIXTURES / "ILR-10012345-2223-20230331-120000-01.xml"

# The datasheet agrees with the ILR fixture except: L001's completion (2023-03-09 here,
# 2023-03-10 in the ILR) and L005, which is missing here.
LEARNERS = """learner_ref,uln,bootcamp_id,learner_type,employer_id,start_date,m1_date,withdrawal_date,withdrawal_reported_date,completion_date
L001,1000000043,SB-0001-01,independent,,2023-01-09,2023-01-16,,,2023-03-09
L002,,SB-0001-01,co-funded,E1,2023-02-06,,2023-02-10,2023-02-20,
L004,,SB-0001-02,self-employed,,2023-03-27,,,,
"""


def _provider(tmp_path: Path, ilr: Path | None = F2223, name: str | None = None) -> Path:
    folder = tmp_path / "2023-03" / "P001"
    folder.mkdir(parents=True)
    (folder / "provider.csv").write_text("provider_id,name,ukprn\nP001,Test Provider,10012345\n")
    (folder / "bootcamps.csv").write_text(
        "bootcamp_id,start_date,end_date,price_per_learner\n"
        "SB-0001-01,2023-01-09,2023-04-28,3000\nSB-0001-02,2023-03-24,2023-06-30,3000\n"
    )
    (folder / "employers.csv").write_text("employer_id,name,employee_count\nE1,Acme,40\n")
    (folder / "learners.csv").write_text(LEARNERS)
    if ilr is not None:
        (folder / "ilr").mkdir()
        shutil.copy(ilr, folder / "ilr" / (name or ilr.name))
    return folder


def _ilr_rules(audit: object) -> list[tuple[str, str]]:
    return sorted(
        (f.rule, f.entity)
        for f in audit.irregularities  # type: ignore[attr-defined]
        if f.rule.startswith("ILR-MISMATCH")
    )


def test_audit_reports_ilr_mismatches(tmp_path: Path) -> None:
    audit = audit_provider(_provider(tmp_path), as_of=date(2023, 3, 31))
    assert _ilr_rules(audit) == [
        ("ILR-MISMATCH-COMPLETION-DATE", "learner:L001"),
        ("ILR-MISMATCH-MISSING-IN-DATASHEET", "learner:L005"),
    ]


def test_upper_case_xml_is_reconciled_too(tmp_path: Path) -> None:
    # the loader always read ILR-*.XML; the reconciliation used to look for *.xml only
    audit = audit_provider(_provider(tmp_path, name=F2223.stem + ".XML"), as_of=date(2023, 3, 31))
    assert _ilr_rules(audit) == [
        ("ILR-MISMATCH-COMPLETION-DATE", "learner:L001"),
        ("ILR-MISMATCH-MISSING-IN-DATASHEET", "learner:L005"),
    ]


def test_no_ilr_folder_no_ilr_findings(tmp_path: Path) -> None:
    audit = audit_provider(_provider(tmp_path, ilr=None), as_of=date(2023, 3, 31))
    assert _ilr_rules(audit) == []


def test_hostile_ilr_stops_the_provider_with_a_file_level_error(tmp_path: Path) -> None:
    with pytest.raises(FileLevelError, match="DOCTYPE"):
        audit_provider(
            _provider(tmp_path, FIXTURES / "hostile" / "doctype_internal_entity.xml"),
            as_of=date(2023, 3, 31),
        )


def test_dfe_rule_findings_and_dropouts_reach_the_register_and_worklists(tmp_path: Path) -> None:
    # The 2223 fixture with L002's programme aim given an EVI (a 2022-23 start: R_152;
    # dated 2023-02-08, before 1 August 2025: LearnDelFAMDateFrom_06). L002 withdrew on
    # 2023-02-10 for reason 44 (other personal reasons).
    text = F2223.read_text(encoding="utf-8").replace(
        "<LearnDelFAMCode>2</LearnDelFAMCode></LearningDeliveryFAM>",
        "<LearnDelFAMCode>2</LearnDelFAMCode></LearningDeliveryFAM><LearningDeliveryFAM>"
        "<LearnDelFAMType>EVI</LearnDelFAMType><LearnDelFAMCode>1</LearnDelFAMCode>"
        "<LearnDelFAMDateFrom>2023-02-08</LearnDelFAMDateFrom></LearningDeliveryFAM>",
        1,
    )
    variant = tmp_path / F2223.name
    variant.write_text(text, encoding="utf-8")
    audit = audit_provider(_provider(tmp_path / "p", variant), as_of=date(2023, 3, 31))
    dfe = sorted(
        (f.rule, f.severity, f.entity, f.bootcamp_id)
        for f in audit.irregularities
        if f.rule.startswith("ILR-") and not f.rule.startswith("ILR-MISMATCH")
    )
    assert dfe == [
        ("ILR-LearnDelFAMDateFrom_06", "high", "learner:L002", "SB-0001-01"),
        ("ILR-R_152", "high", "learner:L002", "SB-0001-01"),
    ]
    r152 = next(f for f in audit.irregularities if f.rule == "ILR-R_152")
    assert r152.source == f"{F2223.name}:32 (aim 1)" and r152.message.startswith(
        "DfE Error, aim 1: The Event Indicator must not be used"
    )
    dropouts = audit.worklists["ilr_dropouts_with_withdrawal_reason"]
    assert dropouts[["learner_ref", "withdraw_reason", "withdrawal_reason"]].values.tolist() == [
        ["L002", 44, "other personal reasons"]
    ]
    # The pack: DfE findings and the drop-outs with their reason in the ILR section (the
    # learner by pseudonym), not repeated among the other worklists.
    from kpitools.params import PackParams
    from kpitools.present import report
    from kpitools.present.context import context_from_audit

    ctx = context_from_audit(
        audit,
        PackParams(
            provider_dir=str(audit.provider.path), out_dir=str(tmp_path / "out"), period="2023-03"
        ),
    )
    section = str(report.ilr_reconciliation(ctx))
    assert "ILR-R_152" in section and "other personal reasons" in section
    assert ctx.pseudonymiser.learner("L002") in section and ">L002<" not in section
    assert "other personal reasons" not in str(report.worklists(ctx))


def test_a_learner_twice_in_the_ilr_beside_a_datasheet_is_one_dup_row(tmp_path: Path) -> None:
    # L004's Learner record twice in the fixture (lines 54 and 71 once copied after it):
    # with a datasheet beside it, the ILR review reports DUP-ROW with both ILR lines, and
    # the ILR's provider-level findings name the provider, never a learner "learner:"
    text = F2223.read_text(encoding="utf-8")
    start = text.index("  <Learner>\n    <LearnRefNumber>L004</LearnRefNumber>")
    end = text.index("</Learner>\n", start) + len("</Learner>\n")
    variant = tmp_path / F2223.name
    variant.write_text(text[:end] + text[start:end] + text[end:], encoding="utf-8")
    first = text[:start].count("\n") + 1  # the <Learner> line, 1-based
    second = first + text[start:end].count("\n")
    audit = audit_provider(_provider(tmp_path / "p", variant), as_of=date(2023, 3, 31))
    [dup] = [f for f in audit.irregularities if f.rule == "DUP-ROW"]
    assert dup.entity == "learner:L004"
    assert dup.source == f"{F2223.name}:{first}; {F2223.name}:{second}"
    assert audit.ilr_scope is not None and audit.ilr_scope.rejected == 1
    assert audit.ilr_scope.reconciled and audit.ilr_scope.matched == 3  # L001, L002, L004


def test_provider_csv_of_another_ukprn_is_a_high_finding(tmp_path: Path) -> None:
    folder = _provider(tmp_path)
    (folder / "provider.csv").write_text("provider_id,name,ukprn\nP001,Test Provider,10054321\n")
    audit = audit_provider(folder, as_of=date(2023, 3, 31))
    [found] = [f for f in audit.irregularities if f.rule == "ILR-UKPRN-MISMATCH"]
    assert (found.severity, found.entity) == ("high", "provider:P001")
    assert "10012345 in the header" in found.message and "10054321 in provider.csv" in found.message
