"""The typed records of an ILR learner: every value read as the ILR gives it (stripped,
the last of a repeated leaf winning, blanks absent), bad values recorded in the order
they are read, and every record as its dataclass would build it."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

from kpitools.ilr.reader import read_ilr
from kpitools.ilr.records import IlrDelivery, IlrEmployment, IlrFam, IlrLearner

_ODD = """<?xml version="1.0"?>
<Message xmlns="ESFA/ILR/2022-23">
<Header><CollectionDetails><Year>2223</Year><FilePreparationDate>2023-03-31</FilePreparationDate>
</CollectionDetails><Source><UKPRN>10012345</UKPRN></Source></Header>
<Learner>
  <LearnRefNumber>  A1 </LearnRefNumber><ULN>   </ULN><FamilyName/><GivenNames>Jo</GivenNames>
  <DateOfBirth> 1990-02-30 </DateOfBirth><PlanLearnHours>+5</PlanLearnHours>
  <Postcode> zz99 9zz</Postcode><NINumber>AB123456C</NINumber><NINumber>ZZ</NINumber>
  <Unknown>x</Unknown><!-- a comment --><?pi x?>
  <LearnerEmploymentStatus><EmpStat> 10</EmpStat><DateEmpStatApp>20230101</DateEmpStatApp>
    <EmpId>1</EmpId><Other>q</Other>
    <EmploymentStatusMonitoring><ESMType>SEI</ESMType></EmploymentStatusMonitoring>
    <EmploymentStatusMonitoring><ESMCode> 2 </ESMCode><ESMType>  </ESMType></EmploymentStatusMonitoring>
  </LearnerEmploymentStatus>
  <LearnerEmploymentStatus><EmpStat>１２</EmpStat><DateEmpStatApp>bad</DateEmpStatApp></LearnerEmploymentStatus>
  <LearningDelivery><LearnAimRef> </LearnAimRef><AimType>0</AimType>
   <AimSeqNumber>1234567890</AimSeqNumber><AimSeqNumber>123456789</AimSeqNumber>
   <LearnStartDate>2023-W01-1</LearnStartDate><LearnPlanEndDate>2023-13-01</LearnPlanEndDate>
   <FundModel>-1</FundModel><ProgType>1_0</ProgType><ConRefNumber>  </ConRefNumber>
   <CompStatus>3 </CompStatus><LearnActEndDate></LearnActEndDate><WithdrawReason>x</WithdrawReason>
   <Outcome>01</Outcome><AchDate>2023-01-01T00:00</AchDate><AddHours>99</AddHours><AddHours>100</AddHours>
   <LearningDeliveryFAM><LearnDelFAMType>SOF</LearnDelFAMType><LearnDelFAMCode>105</LearnDelFAMCode>
     <LearnDelFAMDateFrom> 2023-01-01</LearnDelFAMDateFrom><LearnDelFAMDateTo>nope</LearnDelFAMDateTo>
   </LearningDeliveryFAM>
   <LearningDeliveryFAM><LearnDelFAMCode>1</LearnDelFAMCode><LearnDelFAMDateFrom>  </LearnDelFAMDateFrom>
     <LearnDelFAMType>FFI</LearnDelFAMType><LearnDelFAMType>LDM</LearnDelFAMType></LearningDeliveryFAM>
   <LearningDeliveryFAM/>
   <LearningDeliveryFAM><LearnDelFAMType>SOF</LearnDelFAMType><LearnDelFAMCode>107</LearnDelFAMCode>
   </LearningDeliveryFAM>
   <Nested><AimType>9</AimType></Nested>
  </LearningDelivery>
  <LearningDelivery/>
  <LearningDelivery><FundModel>37</FundModel><LearnStartDate>2023-01-05</LearnStartDate>
    <AimType><x/>4</AimType></LearningDelivery>
</Learner>
<Learner/>
<Learner><LearnRefNumber>B<b>x</b>tail</LearnRefNumber>
  <LearningDelivery><AimType>99</AimType><AimType>100</AimType>
   <LearningDeliveryFAM><LearnDelFAMType>SOF</LearnDelFAMType><LearnDelFAMCode>105</LearnDelFAMCode>
     <LearnDelFAMDateFrom> 2023-01-01</LearnDelFAMDateFrom><LearnDelFAMDateTo>nope</LearnDelFAMDateTo>
   </LearningDeliveryFAM></LearningDelivery>
</Learner>
</Message>
"""


def _read(tmp_path: Path) -> tuple[IlrLearner, ...]:
    path = tmp_path / "ILR-10012345-2223-20230331-180000-01.xml"
    path.write_text(_ODD, encoding="utf-8")
    return read_ilr(path).learners


def test_values_are_stripped_typed_and_the_last_of_a_name_wins(tmp_path: Path) -> None:
    odd, empty, nested = _read(tmp_path)
    assert (odd.position, odd.line, empty.line, nested.line) == (1, 5, 36, 37)
    assert (odd.learn_ref_number, odd.uln, odd.family_name, odd.given_names) == (
        "A1",
        None,
        None,
        "Jo",
    )
    assert (odd.postcode, odd.ni_number, odd.date_of_birth, odd.plan_learn_hours) == (
        "zz99 9zz",
        "ZZ",
        None,
        None,
    )
    first, second = odd.employments
    assert first == IlrEmployment(10, date(2023, 1, 1), "1", (("SEI", ""), ("", "2")))
    assert second == IlrEmployment(None, None, None, ())
    aim, blank, partial = odd.deliveries
    assert aim == IlrDelivery(
        learn_aim_ref="",
        aim_type=0,
        aim_seq_number=123456789,
        learn_start_date=date(2023, 1, 2),  # an ISO week date reads as a date
        learn_plan_end_date=None,
        fund_model=None,
        prog_type=None,
        con_ref_number=None,
        comp_status=3,
        outcome=1,
        fams=(
            IlrFam("SOF", "105", date(2023, 1, 1)),
            IlrFam("LDM", "1"),
            IlrFam("", ""),
            IlrFam("SOF", "107"),
        ),
        add_hours=100,
    )
    assert aim.fam_codes("SOF") == ("105", "107")
    assert aim.fams_of("LDM") == (IlrFam("LDM", "1"),)
    assert aim.fam_codes("FFI") == ()
    assert blank == IlrDelivery("", None, None, None, None, None)
    assert (partial.aim_type, partial.fund_model) == (None, 37)  # text before a child only
    assert (empty.deliveries, empty.employments, empty.problems) == ((), (), ())
    assert nested.learn_ref_number == "B"
    assert nested.deliveries[0].aim_type == 100


def test_bad_values_are_problems_in_the_order_read(tmp_path: Path) -> None:
    odd, _, nested = _read(tmp_path)
    assert odd.problems == (
        ("EmpStat", "１２", "not a whole number", "BAD-INT"),
        ("DateEmpStatApp", "bad", "not a date (YYYY-MM-DD)", "BAD-DATE"),
        ("LearnDelFAMDateTo", "nope", "not a date (YYYY-MM-DD)", "BAD-DATE"),
        ("LearnPlanEndDate", "2023-13-01", "not a date (YYYY-MM-DD)", "BAD-DATE"),
        ("FundModel", "-1", "not a whole number", "BAD-INT"),
        ("ProgType", "1_0", "not a whole number", "BAD-INT"),
        ("WithdrawReason", "x", "not a whole number", "BAD-INT"),
        ("AchDate", "2023-01-01T00:00", "not a date (YYYY-MM-DD)", "BAD-DATE"),
        ("DateOfBirth", "1990-02-30", "not a date (YYYY-MM-DD)", "BAD-DATE"),
        ("PlanLearnHours", "+5", "not a whole number", "BAD-INT"),
    )
    # the first AimSeqNumber (not a whole number) is not read: the last one wins
    assert odd.deliveries[0].aim_seq_number == 123456789
    # the same FAM in another learner: its problem is that learner's too
    assert nested.problems == (
        ("LearnDelFAMDateTo", "nope", "not a date (YYYY-MM-DD)", "BAD-DATE"),
    )


def _rebuilt(record: object) -> object:
    """``record`` built again through its dataclass's ``__init__``, nested records too."""
    if isinstance(record, tuple):
        return tuple(_rebuilt(item) for item in record)
    if not dataclasses.is_dataclass(record) or isinstance(record, type):
        return record
    fields = dataclasses.fields(record)
    assert set(vars(record)) == {f.name for f in fields}, type(record)
    return type(record)(**{f.name: _rebuilt(getattr(record, f.name)) for f in fields if f.init})


def test_records_are_their_dataclasses_as_init_builds_them(tmp_path: Path) -> None:
    for learner in _read(tmp_path):
        again = _rebuilt(learner)
        assert again == learner
        assert repr(again) == repr(learner)
        for built, aim in zip(again.deliveries, learner.deliveries, strict=True):  # type: ignore[attr-defined]
            for kind in ("SOF", "FFI", "LDM", ""):
                assert built.fams_of(kind) == aim.fams_of(kind)
                assert built.fam_codes(kind) == aim.fam_codes(kind)
