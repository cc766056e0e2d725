"""The demo's ILR writer: element order and required elements, and a round trip
through the reader and the mapping that gives back the tables it was written from."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from ilr_xml import ilr_tables
from lxml import etree

from kpitools.demo.ilr_writer import (
    collection_year,
    employer_number,
    ilr_file_name,
    namespace_for,
    write_ilr,
)
from kpitools.ilr.reader import FILE_NAME
from kpitools.rules import Rules

# Element order and mandation (True = required) of the ILR specification's entity pages
# ("All fields must be returned in the above order in the XML file"), as published for
# 2022-23 and unchanged from the 2020-21 schema; only the elements kpitools may write.
ORDER: dict[str, list[tuple[str, bool]]] = {
    "Message": [
        ("Header", True),
        ("SourceFiles", False),
        ("LearningProvider", True),
        ("Learner", False),
        ("LearnerDestinationandProgression", False),
    ],
    "Header": [("CollectionDetails", True), ("Source", True)],
    "CollectionDetails": [("Collection", True), ("Year", True), ("FilePreparationDate", True)],
    "Source": [
        ("ProtectiveMarking", True),
        ("UKPRN", True),
        ("SoftwareSupplier", False),
        ("SoftwarePackage", False),
        ("Release", False),
        ("SerialNo", True),
        ("DateTime", True),
        ("ReferenceData", False),
        ("ComponentSetVersion", False),
    ],
    "LearningProvider": [("UKPRN", True)],
    "Learner": [
        ("LearnRefNumber", True),
        ("PrevLearnRefNumber", False),
        ("PrevUKPRN", False),
        ("PMUKPRN", False),
        ("CampId", False),
        ("ULN", True),
        ("FamilyName", False),
        ("GivenNames", False),
        ("DateOfBirth", False),
        ("Ethnicity", True),
        ("Sex", True),
        ("LLDDHealthProb", True),
        ("NINumber", False),
        ("PriorAttain", False),
        ("Accom", False),
        ("ALSCost", False),
        ("PlanLearnHours", False),
        ("PlanEEPHours", False),
        ("MathGrade", False),
        ("EngGrade", False),
        ("PostcodePrior", True),
        ("Postcode", True),
        ("AddLine1", False),
        ("AddLine2", False),
        ("AddLine3", False),
        ("AddLine4", False),
        ("TelNo", False),
        ("Email", False),
        ("ContactPreference", False),
        ("LLDDandHealthProblem", False),
        ("LearnerFAM", False),
        ("ProviderSpecLearnerMonitoring", False),
        ("LearnerEmploymentStatus", False),
        ("LearnerHE", False),
        ("LearningDelivery", True),
    ],
    "LearnerEmploymentStatus": [
        ("EmpStat", True),
        ("DateEmpStatApp", True),
        ("EmpId", False),
        ("EmploymentStatusMonitoring", False),
    ],
    "EmploymentStatusMonitoring": [("ESMType", True), ("ESMCode", True)],
    "LearningDelivery": [
        ("LearnAimRef", True),
        ("AimType", True),
        ("AimSeqNumber", True),
        ("LearnStartDate", True),
        ("OrigLearnStartDate", False),
        ("LearnPlanEndDate", True),
        ("FundModel", True),
        ("PHours", False),
        ("OTJActHours", False),
        ("ProgType", False),
        ("FworkCode", False),
        ("PwayCode", False),
        ("StdCode", False),
        ("PartnerUKPRN", False),
        ("DelLocPostCode", True),
        ("LSDPostcode", False),
        ("AddHours", False),
        ("PriorLearnFundAdj", False),
        ("OtherFundAdj", False),
        ("ConRefNumber", False),
        ("EPAOrgID", False),
        ("EmpOutcome", False),
        ("CompStatus", True),
        ("LearnActEndDate", False),
        ("WithdrawReason", False),
        ("Outcome", False),
        ("AchDate", False),
        ("OutGrade", False),
        ("SWSupAimId", False),
        ("LearningDeliveryFAM", False),
    ],
    "LearningDeliveryFAM": [
        ("LearnDelFAMType", True),
        ("LearnDelFAMCode", True),
        ("LearnDelFAMDateFrom", False),
        ("LearnDelFAMDateTo", False),
    ],
}
REPEATING = {
    "Learner",
    "LearnerEmploymentStatus",
    "EmploymentStatusMonitoring",
    "LearningDelivery",
    "LearningDeliveryFAM",
}


def _check_order(elem: etree._Element, problems: list[str]) -> None:
    name = etree.QName(elem).localname
    spec = ORDER.get(name)
    if spec is None:
        return
    names = [etree.QName(c).localname for c in elem if isinstance(c.tag, str)]
    position = {n: i for i, (n, _) in enumerate(spec)}
    unknown = [n for n in names if n not in position]
    if unknown:
        problems.append(f"{name} line {elem.sourceline}: unexpected {unknown}")
        return
    ranks = [position[n] for n in names]
    if ranks != sorted(ranks):
        problems.append(f"{name} line {elem.sourceline}: order {names}")
    for child, required in spec:
        if required and child not in names:
            problems.append(f"{name} line {elem.sourceline}: lacks {child}")
    repeats = {n for n in names if names.count(n) > 1} - REPEATING
    if repeats:
        problems.append(f"{name} line {elem.sourceline}: repeats {sorted(repeats)}")
    for child in elem:
        if isinstance(child.tag, str):
            _check_order(child, problems)


def _tables(start: date = date(2023, 1, 9)) -> dict[str, list[dict[str, object]]]:
    """Four learners of bootcamp P001-BC01 (ends 2023-04-28)."""

    def learner(ref: str, **fields: object) -> dict[str, object]:
        base = {
            "learner_ref": ref,
            "uln": "9999999999",
            "bootcamp_id": "P001-BC01",
            "learner_type": "independent",
            "employer_id": None,
            "start_date": start,
            "withdrawal_date": None,
            "completion_date": None,
            "new_role_evidence_date": None,
            "given_name": "Ada",
            "family_name": "Test",
        }
        return {**base, **fields}

    return {
        "bootcamps": [{"bootcamp_id": "P001-BC01", "end_date": date(2023, 4, 28)}],
        "employers": [
            {"employer_id": "P001-E05", "employee_count": 40, "size_band": "SME"},
            {"employer_id": "P001-E06", "employee_count": 900, "size_band": "large"},
        ],
        "learners": [
            learner("000101", completion_date=date(2023, 4, 20)),
            learner(
                "000102",
                learner_type="co-funded",
                employer_id="P001-E05",
                completion_date=date(2023, 4, 21),
                new_role_evidence_date=date(2023, 4, 14),
            ),
            learner(
                "000103",
                learner_type="co-funded",
                employer_id="P001-E06",
                withdrawal_date=date(2023, 2, 20),
            ),
            learner("000104", learner_type="self-employed", completion_date=date(2023, 4, 26)),
        ],
        "interviews": [
            {"learner_ref": "000101", "bootcamp_id": "P001-BC01", "offer_date": date(2023, 4, 12)}
        ],
        "outcomes": [
            {
                "learner_ref": "000104",
                "bootcamp_id": "P001-BC01",
                "outcome_type": "self_employment_plan",
                "outcome_date": date(2023, 4, 24),
            }
        ],
    }


def test_names_years_and_employer_numbers() -> None:
    assert collection_year(date(2023, 7, 31)) == "2223"
    assert collection_year(date(2023, 8, 1)) == "2324"
    assert namespace_for("2526") == "ESFA/ILR/2025-26"
    name = ilr_file_name("10012345", "2223", datetime(2023, 3, 31, 18, 0, 5), 1)
    assert name == "ILR-10012345-2223-20230331-180005-01.xml"
    assert FILE_NAME.match(name)
    number = employer_number("P001-E05")
    assert len(number) == 9 and number.isdigit() and number == employer_number("P001-E05")


@pytest.mark.parametrize("prepared", [datetime(2023, 4, 30, 18), datetime(2025, 10, 31, 18)])
def test_written_file_follows_the_specification_order(tmp_path: Path, prepared: datetime) -> None:
    start = date(2023, 1, 9) if prepared.year == 2023 else date(2025, 8, 4)
    tables = _tables(start)
    if prepared.year == 2025:  # dates of the 2025-26 variant move with the start
        shift = start - date(2023, 1, 9)
        for rows in tables.values():
            for row in rows:
                for key, value in row.items():
                    if isinstance(value, date):
                        row[key] = value + shift
    path = write_ilr(tmp_path, tables, ukprn="10012345", prepared=prepared)
    root = etree.parse(str(path)).getroot()
    problems: list[str] = []
    _check_order(root, problems)
    assert problems == []
    assert len(root.findall(f"{{{etree.QName(root).namespace}}}Learner")) == 4


def test_round_trip_gives_back_the_tables(tmp_path: Path) -> None:
    path = write_ilr(tmp_path, _tables(), ukprn="10012345", prepared=datetime(2023, 4, 30, 18))
    t = ilr_tables([path], rules=Rules())
    learners = t.learners.set_index("learner_ref")
    assert list(learners["learner_type"]) == [
        "independent",
        "co-funded",
        "co-funded",
        "self-employed",
    ]
    # completion: component ends on the return's completion, events on or before it
    assert learners.loc["000101", "completion_date"] == pd.Timestamp("2023-04-20")
    assert learners.loc["000102", "completion_date"] == pd.Timestamp("2023-04-21")
    assert learners.loc["000102", "new_role_evidence_date"] == pd.Timestamp("2023-04-14")
    assert learners.loc["000104", "completion_date"] == pd.Timestamp("2023-04-26")
    assert learners.loc["000103", "withdrawal_date"] == pd.Timestamp("2023-02-20")
    facts = t.learner_facts.set_index("learner_ref")
    assert bool(facts.loc["000102", "sme"]) and not bool(facts.loc["000103", "sme"])
    assert learners.loc["000102", "employer_id"] == employer_number("P001-E05")
    assert list(t.interviews["offer_date"]) == [pd.Timestamp("2023-04-12")]


def test_2025_26_events_become_event_indicators(tmp_path: Path) -> None:
    tables = _tables(date(2025, 8, 4))
    tables["learners"] = tables["learners"][:1]
    tables["learners"][0]["completion_date"] = date(2025, 11, 14)
    tables["interviews"][0]["offer_date"] = date(2025, 11, 10)
    path = write_ilr(tmp_path, tables, ukprn="10012345", prepared=datetime(2025, 11, 30, 18))
    text = path.read_text(encoding="utf-8")
    assert 'xmlns="ESFA/ILR/2025-26"' in text and "<Year>2526</Year>" in text
    assert "<LearnDelFAMType>EVI</LearnDelFAMType>" in text and "Z0059747" not in text
    t = ilr_tables([path], rules=Rules())
    assert t.learners.iloc[0]["completion_date"] == pd.Timestamp("2025-11-14")


def test_monthly_files_date_the_withdrawal_report(tmp_path: Path) -> None:
    # Learner 000103 withdrew on 2023-02-20; the January file cannot show it, the
    # February file (prepared 2023-02-28) is the first that does.
    full = _tables()
    january = {
        **full,
        "learners": [dict(r, withdrawal_date=None, completion_date=None) for r in full["learners"]],
        "interviews": [],
        "outcomes": [],
    }
    paths = [
        write_ilr(tmp_path, january, ukprn="10012345", prepared=datetime(2023, 1, 31, 18)),
        write_ilr(tmp_path, full, ukprn="10012345", prepared=datetime(2023, 2, 28, 18)),
        write_ilr(tmp_path, full, ukprn="10012345", prepared=datetime(2023, 3, 31, 18)),
    ]
    t = ilr_tables(paths, rules=Rules())
    row = t.learners.set_index("learner_ref").loc["000103"]
    assert row["withdrawal_reported_date"] == pd.Timestamp("2023-02-28")


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in (Path(__file__).parent.parent / "fixtures" / "ilr").glob("ILR-*.xml")),
)
def test_hand_written_fixtures_follow_the_specification_order(name: str) -> None:
    path = Path(__file__).parent.parent / "fixtures" / "ilr" / name
    problems: list[str] = []
    _check_order(etree.parse(str(path)).getroot(), problems)
    assert problems == []
