"""DfE's own 2025-26 sample ILR, and regression tests for the six ways the reader used
to mishandle real files (issue 12). Expected figures are from the sample, read by hand
(tests/fixtures/ilr/dfe/README.md): SBLearner continues; SBLearnerEV, an HGV completer,
started 2024-08-01, ended 2025-03-30 (programme and component), achieved 2025-04-03,
carries EVI codes 4, 5, 6 dated 2025-02-22/24/26; both have one employment status,
dated 2024-08-31, after the start.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from ilr_xml import ilr_tables

from kpitools.cli import main
from kpitools.ilr.mapping import IlrTables
from kpitools.load import load_provider
from kpitools.rules import Rules

DFE = Path(__file__).parent.parent / "fixtures" / "ilr" / "dfe"
SAMPLE = DFE / "ILR-99999999-2526-20250108-094401.xml"


def _map(path: Path) -> IlrTables:
    return ilr_tables([path], rules=Rules())


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _variant(tmp_path: Path, name: str, *changes: tuple[str, str]) -> Path:
    """The sample with text replaced (each change must apply; line ends read as \\n)."""
    text = SAMPLE.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_dfe_files_are_unedited() -> None:
    readme = (DFE / "README.md").read_text(encoding="utf-8")
    for name, digest in re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", readme, re.M):
        assert hashlib.sha256((DFE / name).read_bytes()).hexdigest() == digest, name
    assert "Open Government Licence v3.0" in readme


def test_cli_out_on_dfe_sample(tmp_path: Path) -> None:
    # The "done when": exactly the two bootcamp learners, SBLearnerEV completed
    # 2025-03-30 with its achievement as an outcome on 2025-04-03, and ILR-R_152.
    out = tmp_path / "D"
    result = CliRunner().invoke(main, ["ilr", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    learners = _csv(out / "learners.csv")
    assert [r["learner_ref"] for r in learners] == ["SBLearner", "SBLearnerEV"]
    by_ref = {r["learner_ref"]: r for r in learners}
    assert by_ref["SBLearnerEV"]["completion_date"] == "2025-03-30"
    assert by_ref["SBLearner"]["completion_date"] == ""
    assert [(r["learner_ref"], r["outcome_date"]) for r in _csv(out / "outcomes.csv")] == [
        ("SBLearnerEV", "2025-04-03")
    ]
    findings = _csv(out / "ilr_findings.csv")
    assert list(findings[0]) == ["rule", "severity", "learner_ref", "aim_seq", "source", "message"]
    r152 = [f for f in findings if f["rule"] == "ILR-R_152"]
    assert [(f["learner_ref"], f["aim_seq"], f["severity"]) for f in r152] == [
        ("SBLearnerEV", "1", "Error")
    ]
    assert r152[0]["source"] == f"{SAMPLE.name}:1504 (aim 1)"  # the Learner element's line
    # working output: no ULN, names or date of birth (the sample's are DfE's placeholders)
    text = "".join(p.read_text(encoding="utf-8") for p in out.glob("*.csv"))
    assert "9999999999" not in text and "Parker" not in text and "2001-01-28" not in text
    assert "DfE rule findings: 14" in result.output  # 13 before issue 23, + AchDate_07


def test_cli_out_with_include_pii_writes_uln_names_and_date_of_birth(tmp_path: Path) -> None:
    # the date of birth is a learners column since issue 28 (identity, for the person
    # matching): personal data, written like the names only with --include-pii
    out = tmp_path / "D"
    result = CliRunner().invoke(main, ["ilr", str(SAMPLE), "--out", str(out), "--include-pii"])
    assert result.exit_code == 0
    row = _csv(out / "learners.csv")[0]
    assert (row["uln"], row["given_name"], row["family_name"]) == ("9999999999", "Parker", "Steve")
    assert row["date_of_birth"] == "2001-01-28"


def test_dfe_sample_findings_are_those_dfe_s_rules_give() -> None:
    # Hand-counted from the sample: no FFI on any of the 4 bootcamp aims
    # (LearnDelFAMType_111); employment status dated after the start for 4 FundModel 37
    # aims (EmpStat_08); R_152 once; each of the 3 EVIs dated before 1 August 2025
    # (LearnDelFAMDateFrom_06); Z0009541, an HGV event aim in DfE's rules, spans the
    # learning (LearnAimRef_154); and, since the rules of issue 23, SBLearnerEV's AchDate
    # 2025-04-03 is after the file's preparation date 2025-01-08 (AchDate_07, on the
    # programme aim). Nothing else, and nothing on the 17 other learners: both ULNs are
    # DfE's placeholder, but the file was prepared before 1 January 2026 (ULN_06/07);
    # each programme has its component (R_135/R_136).
    t = _map(SAMPLE)
    counts = pd.Series([f.rule for f in t.findings]).value_counts().to_dict()
    assert counts == {
        "ILR-LearnDelFAMType_111": 4,
        "ILR-EmpStat_08": 4,
        "ILR-R_152": 1,
        "ILR-LearnDelFAMDateFrom_06": 3,
        "ILR-LearnAimRef_154": 1,
        "ILR-AchDate_07": 1,
    }
    [late] = [f for f in t.findings if f.rule == "ILR-AchDate_07"]
    assert (late.learner_ref, late.aim_seq) == ("SBLearnerEV", 1)
    assert {f.learner_ref for f in t.findings} == {"SBLearner", "SBLearnerEV"}
    assert (t.learners_read, t.bootcamp_learners) == (19, 2)


# --- the six mishandlings -----------------------------------------------------------


def test_1_evi_before_august_2025_is_read_and_reported() -> None:
    t = _map(SAMPLE)
    ev = t.learners.set_index("learner_ref").loc["SBLearnerEV"]
    assert ev.completion_date == pd.Timestamp("2025-03-30")
    assert list(t.outcomes["outcome_date"]) == [pd.Timestamp("2025-04-03")]
    assert any(f.rule == "ILR-R_152" and f.learner_ref == "SBLearnerEV" for f in t.findings)


def test_2_evi_codes_4_5_6_after_august_2025_are_known_and_complete(tmp_path: Path) -> None:
    # The same learners moved a year on: start 2025-08-04, EVIs in September 2025,
    # end 2025-10-30, achievement 2025-11-03, employment status 2025-08-31.
    path = _variant(
        tmp_path,
        "ILR-99999999-2526-20251130-094401.xml",
        ("2024-08-01", "2025-08-04"),
        ("2025-02-22", "2025-09-22"),
        ("2025-02-24", "2025-09-24"),
        ("2025-02-26", "2025-09-26"),
        ("2025-03-30", "2025-10-30"),
        ("2025-04-03", "2025-11-03"),
        ("2024-08-31", "2025-08-31"),
        ("<FilePreparationDate>2025-01-08", "<FilePreparationDate>2025-11-30"),
    )
    t = _map(path)
    ev = t.learners.set_index("learner_ref").loc["SBLearnerEV"]
    assert ev.completion_date == pd.Timestamp("2025-10-30")
    assert list(t.outcomes["outcome_date"]) == [pd.Timestamp("2025-11-03")]
    rules = {f.rule for f in t.findings}
    assert not rules & {"ILR-EVI-CODE-UNKNOWN", "ILR-R_152", "ILR-LearnDelFAMDateFrom_06"}
    assert any("3 event(s) of unpublished meaning" in n for n in t.notes)


_RESTART = (
    # SBLearnerEV's programme becomes: a first programme aim ended by a break in learning
    # (CompStatus 6) on 2024-10-31, then the restart (RES) from 2024-11-15, completed.
    (
        "<AimSeqNumber>1</AimSeqNumber>\n\t\t\t<LearnStartDate>2024-08-01</LearnStartDate>"
        "\n\t\t\t<LearnPlanEndDate>2025-03-30</LearnPlanEndDate>\n\t\t\t<FundModel>37</FundModel>"
        "\n\t\t\t<ProgType>32</ProgType>\n\t\t\t<DelLocPostCode>CV1 2WT</DelLocPostCode>"
        "\n\t\t\t<ConRefNumber>A000001</ConRefNumber>\n\t\t\t<CompStatus>2</CompStatus>",
        "<AimSeqNumber>3</AimSeqNumber>\n\t\t\t<LearnStartDate>2024-11-15</LearnStartDate>"
        "\n\t\t\t<LearnPlanEndDate>2025-03-30</LearnPlanEndDate>\n\t\t\t<FundModel>37</FundModel>"
        "\n\t\t\t<ProgType>32</ProgType>\n\t\t\t<DelLocPostCode>CV1 2WT</DelLocPostCode>"
        "\n\t\t\t<ConRefNumber>A000001</ConRefNumber>\n\t\t\t<CompStatus>2</CompStatus>",
    ),
    (
        "\t\t<!-- Skills bootcamp Programme aim -->",
        "\t\t<LearningDelivery><LearnAimRef>ZPROG001</LearnAimRef><AimType>1</AimType>"
        "<AimSeqNumber>1</AimSeqNumber><LearnStartDate>2024-08-01</LearnStartDate>"
        "<LearnPlanEndDate>2025-01-31</LearnPlanEndDate><FundModel>37</FundModel>"
        "<ProgType>32</ProgType><DelLocPostCode>CV1 2WT</DelLocPostCode>"
        "<ConRefNumber>A000001</ConRefNumber><CompStatus>6</CompStatus>"
        "<LearnActEndDate>2024-10-31</LearnActEndDate><Outcome>3</Outcome>"
        "<LearningDeliveryFAM><LearnDelFAMType>SOF</LearnDelFAMType>"
        "<LearnDelFAMCode>105</LearnDelFAMCode></LearningDeliveryFAM></LearningDelivery>",
    ),
    (  # the restart indicator on the restarted programme aim
        "<LearnDelFAMCode>105</LearnDelFAMCode>\n\t\t\t</LearningDeliveryFAM>\n\t\t\t"
        "<LearningDeliveryFAM>\n\t\t\t\t<LearnDelFAMType>EVI</LearnDelFAMType>",
        "<LearnDelFAMCode>105</LearnDelFAMCode>\n\t\t\t</LearningDeliveryFAM>"
        "<LearningDeliveryFAM><LearnDelFAMType>RES</LearnDelFAMType><LearnDelFAMCode>1"
        "</LearnDelFAMCode></LearningDeliveryFAM>\n\t\t\t"
        "<LearningDeliveryFAM>\n\t\t\t\t<LearnDelFAMType>EVI</LearnDelFAMType>",
    ),
)


def test_3_break_and_restart_uses_the_latest_programme_aim(tmp_path: Path) -> None:
    t = _map(_variant(tmp_path, SAMPLE.name, *_RESTART))
    ev = t.learners.set_index("learner_ref").loc["SBLearnerEV"]
    facts = t.learner_facts.set_index("learner_ref").loc["SBLearnerEV"]
    # start = the first programme aim's; status, completion and outcome = the restart's
    assert ev.start_date == pd.Timestamp("2024-08-01")
    assert (facts.comp_status, ev.completion_date) == (2, pd.Timestamp("2025-03-30"))
    assert pd.isna(ev.withdrawal_date)
    assert list(t.outcomes["outcome_date"]) == [pd.Timestamp("2025-04-03")]
    # a restart after a break is no re-enrolment
    assert not [f for f in t.findings if f.rule == "ILR-REENROLLED"]
    # without the restart indicator it is one: the break is reported, nothing is lost
    t = _map(_variant(tmp_path, SAMPLE.name, *_RESTART[:2]))
    [found] = [f for f in t.findings if f.rule == "ILR-REENROLLED"]
    assert (found.learner_ref, found.aim_seq, found.bootcamp_id) == ("SBLearnerEV", 3, "A000001")
    assert "break in learning on 2024-10-31, not restarted with RES" in found.message
    ev = t.learners.set_index("learner_ref").loc["SBLearnerEV"]
    assert ev.completion_date == pd.Timestamp("2025-03-30") and pd.isna(ev.withdrawal_date)


def test_4_open_component_under_a_closed_programme_is_a_finding(tmp_path: Path) -> None:
    # A second component (seq 3) from 2024-08-01, still open; the first ended 2025-03-30.
    second = (
        "\t</Learner>\n</Message>",
        "\t<LearningDelivery><LearnAimRef>Z0009735</LearnAimRef><AimType>3</AimType>"
        "<AimSeqNumber>3</AimSeqNumber><LearnStartDate>2024-08-01</LearnStartDate>"
        "<LearnPlanEndDate>2025-03-30</LearnPlanEndDate><FundModel>37</FundModel>"
        "<ProgType>32</ProgType><DelLocPostCode>CV1 2WT</DelLocPostCode>"
        "<ConRefNumber>A000001</ConRefNumber><CompStatus>1</CompStatus>"
        "<LearningDeliveryFAM><LearnDelFAMType>SOF</LearnDelFAMType>"
        "<LearnDelFAMCode>105</LearnDelFAMCode></LearningDeliveryFAM>"
        "</LearningDelivery>\n\t</Learner>\n</Message>",
    )
    # The programme ends 2025-04-01, two days after the first component.
    programme_end = (
        "<LearnActEndDate>2025-03-30</LearnActEndDate>\n\t\t\t<Outcome>1</Outcome>"
        "\n\t\t\t<AchDate>",
        "<LearnActEndDate>2025-04-01</LearnActEndDate>"
        "\n\t\t\t<Outcome>1</Outcome>\n\t\t\t<AchDate>",
    )
    t = _map(_variant(tmp_path, SAMPLE.name, second, programme_end))
    ev = t.learners.set_index("learner_ref").loc["SBLearnerEV"]
    assert ev.completion_date == pd.Timestamp("2025-04-01")  # the programme's, not 03-30
    assert [(f.learner_ref, f.aim_seq) for f in t.findings if f.rule == "ILR-R_140"] == [
        ("SBLearnerEV", 3)
    ]


_COFUNDED = (
    # SBLearnerEV co-funded (FFI 2) by an SME (OET 2) with EmpId 154549452, its employment
    # status dated 2024-08-31, after the 2024-08-01 start, as in DfE's sample.
    (
        "<DateEmpStatApp>2024-08-31</DateEmpStatApp>\n\t\t\t<EmploymentStatusMonitoring>"
        "\n\t\t\t\t<ESMType>EII</ESMType>\n\t\t\t\t<ESMCode>6</ESMCode>"
        "\n\t\t\t</EmploymentStatusMonitoring>\n\t\t</LearnerEmploymentStatus>"
        "\n\t\t<!-- Skills bootcamp Programme aim -->",
        "<DateEmpStatApp>2024-08-31</DateEmpStatApp><EmpId>154549452</EmpId>"
        "<EmploymentStatusMonitoring><ESMType>OET</ESMType><ESMCode>2</ESMCode>"
        "</EmploymentStatusMonitoring></LearnerEmploymentStatus>"
        "\n\t\t<!-- Skills bootcamp Programme aim -->",
    ),
    (
        "<LearnDelFAMCode>105</LearnDelFAMCode>\n\t\t\t</LearningDeliveryFAM>\n\t\t\t"
        "<LearningDeliveryFAM>\n\t\t\t\t<LearnDelFAMType>EVI</LearnDelFAMType>",
        "<LearnDelFAMCode>105</LearnDelFAMCode>\n\t\t\t</LearningDeliveryFAM>"
        "<LearningDeliveryFAM><LearnDelFAMType>FFI</LearnDelFAMType><LearnDelFAMCode>2"
        "</LearnDelFAMCode></LearningDeliveryFAM>\n\t\t\t"
        "<LearningDeliveryFAM>\n\t\t\t\t<LearnDelFAMType>EVI</LearnDelFAMType>",
    ),
)


def test_5_employer_from_a_status_dated_after_the_start(tmp_path: Path) -> None:
    path = _variant(tmp_path, SAMPLE.name, *_COFUNDED)
    t = _map(path)
    ev = t.learners.set_index("learner_ref").loc["SBLearnerEV"]
    facts = t.learner_facts.set_index("learner_ref").loc["SBLearnerEV"]
    assert (ev.learner_type, ev.employer_id, facts.sme) == ("co-funded", "154549452", True)
    assert any(f"{SAMPLE.name}:1504:" in n and "dated 2024-08-31 is used" in n for n in t.notes)
    # In a provider folder whose return is the ILR: accepted, not "employer_id required".
    folder = tmp_path / "P001"
    (folder / "ilr").mkdir(parents=True)
    (folder / "provider.csv").write_text("provider_id,name,ukprn\nP001,Sample,99999999\n")
    (folder / "bootcamps.csv").write_text(
        "bootcamp_id,start_date,end_date,price_per_learner\nA000001,2024-08-01,2025-03-30,3000\n"
    )
    (folder / "employers.csv").write_text("employer_id,name,employee_count\n154549452,Acme,40\n")
    shutil.copy(path, folder / "ilr" / path.name)
    provider = load_provider(folder)
    accepted = provider.tables["learners"].set_index("learner_ref")
    assert accepted.loc["SBLearnerEV", "employer_id"] == "154549452"
    assert not (provider.rejected["column"] == "employer_id").any()
    # The audit of that folder: DfE's findings reach the register, nothing to reconcile.
    from datetime import date

    from kpitools.audit import audit_provider

    rules = {f.rule for f in audit_provider(folder, as_of=date(2025, 1, 8)).irregularities}
    assert "ILR-R_152" in rules and not any(r.startswith("ILR-MISMATCH") for r in rules)


def test_withdrawal_reason_is_kept_with_each_drop_out(tmp_path: Path) -> None:
    # SBLearner withdrawn on 2024-10-15 for reason 44 (other personal reasons).
    path = _variant(
        tmp_path,
        SAMPLE.name,
        (
            "<ConRefNumber>A000001</ConRefNumber>\n\t\t\t<CompStatus>1</CompStatus>\n\t\t\t"
            "<SWSupAimId>66e6c4c3",
            "<ConRefNumber>A000001</ConRefNumber>\n\t\t\t<CompStatus>3</CompStatus>"
            "<LearnActEndDate>2024-10-15</LearnActEndDate><WithdrawReason>44</WithdrawReason>"
            "<Outcome>3</Outcome>\n\t\t\t<SWSupAimId>66e6c4c3",
        ),
    )
    out = tmp_path / "D"
    assert CliRunner().invoke(main, ["ilr", str(path), "--out", str(out)]).exit_code == 0
    facts = {r["learner_ref"]: r for r in _csv(out / "ilr_learner_facts.csv")}
    assert (facts["SBLearner"]["comp_status"], facts["SBLearner"]["withdraw_reason"]) == ("3", "44")
    assert facts["SBLearnerEV"]["withdraw_reason"] == ""
    learners = {r["learner_ref"]: r for r in _csv(out / "learners.csv")}
    assert learners["SBLearner"]["withdrawal_date"] == "2024-10-15"


def test_cli_profile_names_the_rules_and_refuses_an_unknown_one() -> None:
    # the profile changes no mapping (its rules are KPI targets), so the output is the
    # default's; an unknown profile is refused before any file is read
    default = CliRunner().invoke(main, ["ilr", str(SAMPLE)])
    extension = CliRunner().invoke(main, ["ilr", str(SAMPLE), "--profile", "dfe-2025-extension"])
    assert (extension.exit_code, extension.output) == (default.exit_code, default.output)
    refused = CliRunner().invoke(main, ["ilr", str(SAMPLE), "--profile", "dfe-2099"])
    assert refused.exit_code == 2 and "dfe-2099" in refused.output
