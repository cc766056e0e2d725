"""DfE's bootcamp validation rules (kpitools/ilr/dfe_rules.py, kpitools/dfe_rules.csv): for
each rule, a minimal valid 2025-26 file changed so that it breaks exactly that rule, and
one changed just enough to pass it (the other side of the rule's boundary).

The base file (valid against DfE's 2025-26 XSD, tested below) has one learner, born
1990-01-01, employment status dated 2025-07-01, on contract SB-0001-01: programme aim
ZPROG001 (seq 1) and component 60000005 (seq 2), both from 2025-08-04 (event
indicators era; ``_pre`` moves both to 2025-07-28, the event aims era), planned end
2025-11-21, continuing, SOF 105 and FFI 1 on each. Prepared 2025-10-31.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from ilr_xml import ilr_tables
from lxml import etree

from kpitools.ilr.dfe_rules import CHECKS, GROUPS, PreparedLearner
from kpitools.ilr.events import event_indicator_table
from kpitools.ilr.reader import read_ilr
from kpitools.rules import ILR_RULES, Rules

DFE = Path(__file__).parent.parent / "fixtures" / "ilr" / "dfe"
NAME = "ILR-10012345-2526-20251031-080000-01.xml"
_ORDER = (
    "LearnAimRef",
    "AimType",
    "AimSeqNumber",
    "LearnStartDate",
    "LearnPlanEndDate",
    "FundModel",
    "ProgType",
    "DelLocPostCode",
    "AddHours",
    "ConRefNumber",
    "CompStatus",
    "LearnActEndDate",
    "WithdrawReason",
    "Outcome",
    "AchDate",
)
Learner = dict


def _aim(ref: str, aim_type: int, seq: int, start: str = "2025-08-04", **fields: object) -> dict:
    aim = {
        "LearnAimRef": ref,
        "AimType": aim_type,
        "AimSeqNumber": seq,
        "LearnStartDate": start,
        "LearnPlanEndDate": "2025-11-21",
        "FundModel": 37,
        "ProgType": 32,
        "DelLocPostCode": "ZZ99 9ZZ",
        "ConRefNumber": "SB-0001-01",
        "CompStatus": 1,
        "fams": [("SOF", "105", None), ("FFI", "1", None)],
    }
    aim.update(fields)
    return aim


BASE: Learner = {
    "dob": "1990-01-01",
    "uln": "9999999999",
    "prepared": "2025-10-31",
    "plan_hours": None,
    "employed_from": "2025-07-01",
    "emp_stat": 10,
    "esm": [],
    "aims": [_aim("ZPROG001", 1, 1), _aim("60000005", 3, 2)],
}


def _xml(learner: Learner) -> bytes:
    ns = "ESFA/ILR/2025-26"
    parts = [
        f'<Message xmlns="{ns}"><Header><CollectionDetails><Collection>ILR</Collection>'
        f"<Year>2526</Year><FilePreparationDate>{learner['prepared']}</FilePreparationDate>"
        "</CollectionDetails><Source><ProtectiveMarking>OFFICIAL-SENSITIVE-Personal"
        "</ProtectiveMarking><UKPRN>10012345</UKPRN><SerialNo>01</SerialNo>"
        f"<DateTime>{learner['prepared']}T08:00:00</DateTime></Source></Header>"
        "<LearningProvider><UKPRN>10012345</UKPRN></LearningProvider>"
        f"<Learner><LearnRefNumber>LRN1</LearnRefNumber><ULN>{learner['uln']}</ULN>"
    ]
    if learner["dob"]:
        parts.append(f"<DateOfBirth>{learner['dob']}</DateOfBirth>")
    parts.append("<Ethnicity>98</Ethnicity><Sex>F</Sex><LLDDHealthProb>9</LLDDHealthProb>")
    if learner["plan_hours"] is not None:
        parts.append(f"<PlanLearnHours>{learner['plan_hours']}</PlanLearnHours>")
    monitoring = "".join(
        f"<EmploymentStatusMonitoring><ESMType>{kind}</ESMType><ESMCode>{code}</ESMCode>"
        "</EmploymentStatusMonitoring>"
        for kind, code in learner["esm"]
    )
    parts.append(
        "<PostcodePrior>ZZ99 9ZZ</PostcodePrior><Postcode>ZZ99 9ZZ</Postcode>"
        f"<LearnerEmploymentStatus><EmpStat>{learner['emp_stat']}</EmpStat><DateEmpStatApp>"
        f"{learner['employed_from']}</DateEmpStatApp>{monitoring}</LearnerEmploymentStatus>"
    )
    for aim in learner["aims"]:
        parts.append("<LearningDelivery>")
        parts += [f"<{k}>{aim[k]}</{k}>" for k in _ORDER if aim.get(k) is not None]
        for fam_type, code, day in aim["fams"]:
            date_from = f"<LearnDelFAMDateFrom>{day}</LearnDelFAMDateFrom>" if day else ""
            parts.append(
                f"<LearningDeliveryFAM><LearnDelFAMType>{fam_type}</LearnDelFAMType>"
                f"<LearnDelFAMCode>{code}</LearnDelFAMCode>{date_from}"
                "</LearningDeliveryFAM>"
            )
        parts.append("</LearningDelivery>")
    parts.append("</Learner></Message>")
    return "".join(parts).encode()


def _findings(learner: Learner, tmp_path: Path) -> list:
    path = tmp_path / NAME
    path.write_bytes(_xml(learner))
    return list(ilr_tables([path], rules=Rules()).findings)


def _rules(learner: Learner, tmp_path: Path) -> set[str]:
    return {f.rule for f in _findings(learner, tmp_path)}


Change = Callable[[Learner], None]


def _changed(*changes: Change) -> Learner:
    learner = copy.deepcopy(BASE)
    for change in changes:
        change(learner)
    return learner


def _set(seq: int, **fields: object) -> Change:
    def change(learner: Learner) -> None:
        aim = next(a for a in learner["aims"] if a["AimSeqNumber"] == seq)
        aim.update(fields)

    return change


def _add(aim: dict) -> Change:
    return lambda learner: learner["aims"].append(aim)


def _learner(**fields: object) -> Change:
    return lambda learner: learner.update(fields)


def _evi(seq: int, code: str, day: str | None) -> Change:
    return lambda learner: next(a for a in learner["aims"] if a["AimSeqNumber"] == seq)[
        "fams"
    ].append(("EVI", code, day))


def _drop(seq: int) -> Change:
    return lambda learner: learner.update(
        aims=[a for a in learner["aims"] if a["AimSeqNumber"] != seq]
    )


_pre = (_set(1, LearnStartDate="2025-07-28"), _set(2, LearnStartDate="2025-07-28"))
_closed = (
    _set(1, CompStatus=2, LearnActEndDate="2025-10-03", Outcome=8),
    _set(2, CompStatus=2, LearnActEndDate="2025-10-03", Outcome=1),
)


def _other(**fields: object) -> Change:
    """A non-bootcamp aim (adult skills, FundModel 35) of the same learner."""
    shape: dict[str, object] = {
        "FundModel": 35,
        "ProgType": None,
        "ConRefNumber": None,
        "fams": [("SOF", "105", None)],
    }
    return _add(_aim("60000009", 4, 9, "2025-09-01", **{**shape, **fields}))


def _standard(**fields: object) -> Change:
    """An apprenticeship standard aim (FundModel 36, ProgType 25) of the same learner:
    DfE's AchDate_09, CompStatus_05 and Outcome_04 leave these out, so the rules the
    excluded-for-bootcamps family shares with them can be broken one at a time."""
    shape: dict[str, object] = {
        "FundModel": 36,
        "ProgType": 25,
        "ConRefNumber": None,
        "fams": [("SOF", "105", None)],
    }
    return _add(_aim("60000010", 4, 10, "2025-09-01", **{**shape, **fields}))


_withdrawn = (
    _set(1, CompStatus=3, LearnActEndDate="2025-09-01", WithdrawReason=98, Outcome=3),
    _set(2, CompStatus=3, LearnActEndDate="2025-09-01", WithdrawReason=98, Outcome=3),
)
_ended_july_2026 = (
    _set(1, CompStatus=2, LearnActEndDate="2026-07-20", Outcome=1),
    _set(2, CompStatus=2, LearnActEndDate="2026-07-20", Outcome=1),
)


def _event(ref: str, day: str, **fields: object) -> Change:
    shape = {"LearnPlanEndDate": day, "LearnActEndDate": day, "CompStatus": 2, "Outcome": 1}
    return _add(_aim(ref, 3, 3, day, **{**shape, **fields}))


# rule: (changes that break it, changes that pass it, other rules the break must raise)
CASES: dict[str, tuple[tuple[Change, ...], tuple[Change, ...], set[str]]] = {
    # completed, started before August 2025, no AchDate and no event aim
    "ILR-R_138": ((*_pre, *_closed), (*_pre, *_closed, _event("Z0059747", "2025-10-03")), set()),
    # completed programme and no component aim at all (so no AimType 3 aim: R_136)
    "ILR-R_139": ((*_closed, _drop(2)), _closed, {"ILR-R_136"}),
    # closed programme, one closed component and one still open
    "ILR-R_140": (
        (*_closed, _add(_aim("60000006", 3, 3))),
        (*_closed, _add(_aim("60000006", 3, 3, CompStatus=2, LearnActEndDate="2025-10-03"))),
        set(),
    ),
    "ILR-R_141": ((_drop(2),), (), {"ILR-R_136"}),
    # programme ends 2025-10-03, component 2025-10-10 (pass: same day)
    "ILR-R_143": ((*_closed, _set(2, LearnActEndDate="2025-10-10")), _closed, set()),
    # as DfE words it, event aims too: a programme (started before August 2025) closed
    # 2025-10-03 before its interview-offer event aim of 2025-10-06 (pass: on the day)
    "ILR-R_143 (event aim)": (
        (*_pre, *_closed, _event("Z0059747", "2025-10-06")),
        (*_pre, *_closed, _event("Z0059747", "2025-10-03")),
        set(),
    ),
    # an SME (OET 2) status with no ProgType 32 aim: the learner's aims are FundModel 37
    # without a ProgType (FundModel_16 too); pass: the bootcamp's ProgType 32 aims
    "ILR-R_134": (
        (
            _learner(esm=[("OET", "2")]),
            _set(1, ProgType=None),
            _set(2, ProgType=None),
        ),
        (_learner(esm=[("OET", "2")]),),
        {"ILR-FundModel_16"},
    ),
    # a component on a second contract with no programme aim (pass: with its programme)
    "ILR-R_135": (
        (_add(_aim("60000006", 3, 3, ConRefNumber="SB-0002-01")),),
        (
            _add(_aim("ZPROG001", 1, 4, ConRefNumber="SB-0002-01")),
            _add(_aim("60000006", 3, 3, ConRefNumber="SB-0002-01")),
        ),
        set(),
    ),
    # a withdrawn programme with no AimType 3 aim (open: R_141 too; completed: R_139 too);
    # pass: its component withdrawn with it
    "ILR-R_136": ((*_withdrawn[:1], _drop(2)), _withdrawn, set()),
    # AchDate 2025-08-03, the day before the start (pass: on the start day)
    "ILR-R_144": (
        (*_closed, _set(1, Outcome=1, AchDate="2025-08-03")),
        (*_closed, _set(1, Outcome=1, AchDate="2025-08-04")),
        set(),
    ),
    # component starts 2025-08-03, the day before the programme (pass: same day)
    "ILR-R_149": ((_set(2, LearnStartDate="2025-08-03"),), (), set()),
    # event aim the day before the programme's start 2025-07-28 (pass: on it)
    "ILR-R_150": (
        (*_pre, _event("Z0059747", "2025-07-27")),
        (*_pre, _event("Z0059747", "2025-07-28")),
        set(),
    ),
    # EVI (dated after 1 August 2025) on a programme started 2025-07-28
    "ILR-R_152": ((*_pre, _evi(1, "1", "2025-08-05")), (_evi(1, "1", "2025-08-05"),), set()),
    # started 2025-08-04, EVI dated 2025-07-31: also before 1 August (06) and the start (07)
    "ILR-R_153": (
        (_evi(1, "1", "2025-07-31"),),
        (_evi(1, "1", "2025-08-04"),),
        {"ILR-LearnDelFAMDateFrom_06", "ILR-LearnDelFAMDateFrom_07"},
    ),
    "ILR-R_154": (
        (_event("Z0059747", "2025-09-15"),),
        (*_pre, _event("Z0059747", "2025-09-15")),
        set(),
    ),
    # DfE's AchDate_03/04/05, CompStatus_06, Outcome_05/09/11 exclude bootcamp aims: they
    # are broken by the learner's adult-skills aim (and the same on a bootcamp aim passes)
    # (on an apprenticeship standard's aim, which AchDate_09 and Outcome_04 leave out)
    "ILR-AchDate_03": (
        (_standard(LearnActEndDate="2025-08-20", AchDate="2025-08-25"),),
        (_standard(LearnActEndDate="2025-08-20", AchDate="2025-09-01"),),
        set(),
    ),
    "ILR-AchDate_04": (
        (_standard(AchDate="2025-09-15"),),
        (_set(2, AchDate="2025-09-15", Outcome=1),),
        set(),
    ),
    "ILR-AchDate_05": (
        (_standard(LearnActEndDate="2025-10-01", AchDate="2025-09-30"),),
        (_standard(LearnActEndDate="2025-10-01", AchDate="2025-10-01"),),
        set(),
    ),
    # an achievement date on an adult-skills aim (pass: on the bootcamp's component)
    "ILR-AchDate_09": (
        (_other(CompStatus=2, LearnActEndDate="2025-10-01", Outcome=1, AchDate="2025-10-01"),),
        (*_closed, _set(2, AchDate="2025-10-03")),
        set(),
    ),
    # AchDate 2025-11-01, after the file's preparation 2025-10-31 (pass: on that day)
    "ILR-AchDate_07": (
        (*_closed, _set(1, Outcome=1, AchDate="2025-11-01")),
        (*_closed, _set(1, Outcome=1, AchDate="2025-10-31")),
        set(),
    ),
    # AchDate 2026-08-01, after the 2025-26 teaching year (file prepared 2026-08-15, a
    # real ULN so that ULN_07 stays quiet); pass: 2026-07-31
    "ILR-AchDate_02": (
        (
            _learner(prepared="2026-08-15", uln="1000000042"),
            *_ended_july_2026,
            _set(1, AchDate="2026-08-01"),
        ),
        (
            _learner(prepared="2026-08-15", uln="1000000042"),
            *_ended_july_2026,
            _set(1, AchDate="2026-07-31"),
        ),
        set(),
    ),
    # AchDate 6 months and a day after the end 2025-10-03 (pass: 6 months exactly), in a
    # file prepared after it (AchDate_07) with a real ULN (ULN_07)
    "ILR-AchDate_13": (
        (
            _learner(prepared="2026-04-30", uln="1000000042"),
            *_closed,
            _set(1, Outcome=1, AchDate="2026-04-04"),
        ),
        (
            _learner(prepared="2026-04-30", uln="1000000042"),
            *_closed,
            _set(1, Outcome=1, AchDate="2026-04-03"),
        ),
        set(),
    ),
    "ILR-CompStatus_06": (
        (_other(CompStatus=3, LearnActEndDate="2025-10-01", WithdrawReason=98, Outcome=1),),
        (_other(CompStatus=3, LearnActEndDate="2025-10-01", WithdrawReason=98, Outcome=3),),
        set(),
    ),
    # continuing with an outcome (pass: the same on the bootcamp's component)
    "ILR-CompStatus_05": (
        (_other(Outcome=3, LearnActEndDate="2025-10-01"),),
        (_set(2, Outcome=3, LearnActEndDate="2025-10-01"),),
        set(),
    ),
    # an open programme with an AchDate (and no Outcome: Outcome_04 too)
    "ILR-CompStatus_08": (
        (_set(1, AchDate="2025-10-10"),),
        (*_closed, _set(1, Outcome=1, AchDate="2025-10-10")),
        {"ILR-Outcome_04"},
    ),
    "ILR-CompStatus_09": (
        (*_pre, _event("Z0059747", "2025-09-15", CompStatus=1)),
        (*_pre, _event("Z0059747", "2025-09-15")),
        set(),
    ),
    # Outcome 1 without an end breaks Outcome_11 as well (it is a case of it)
    "ILR-Outcome_05": (
        (_other(Outcome=1, CompStatus=2),),
        (_other(Outcome=1, CompStatus=2, LearnActEndDate="2025-10-01"),),
        {"ILR-Outcome_11"},
    ),
    # Outcome 8 while continuing is also CompStatus_05 (any CompStatus but 2 breaks one)
    "ILR-Outcome_09": (
        (_other(Outcome=8, LearnActEndDate="2025-10-01"),),
        (_other(Outcome=8, CompStatus=2, LearnActEndDate="2025-10-01"),),
        {"ILR-CompStatus_05"},
    ),
    "ILR-Outcome_11": (
        (_other(Outcome=3, CompStatus=2),),
        (_other(Outcome=3, CompStatus=2, LearnActEndDate="2025-10-01"),),
        set(),
    ),
    # the programme's AchDate with Outcome 8 (pass: Outcome 1)
    "ILR-Outcome_04": (
        (*_closed, _set(1, AchDate="2025-10-10")),
        (*_closed, _set(1, Outcome=1, AchDate="2025-10-10")),
        set(),
    ),
    "ILR-WithdrawReason_03": (
        (_withdrawn[0], _set(2, CompStatus=3, LearnActEndDate="2025-09-01", Outcome=3)),
        _withdrawn,
        set(),
    ),
    "ILR-LearnAimRef_126": (
        (*_pre, _event("Z0059748", "2025-09-15", LearnPlanEndDate="2025-09-16")),
        (*_pre, _event("Z0059748", "2025-09-15")),
        set(),
    ),
    "ILR-LearnAimRef_154": (
        (*_pre, _event("Z0060439", "2025-09-15", LearnPlanEndDate="2025-09-20")),
        (*_pre, _event("Z0060439", "2025-09-15")),
        set(),
    ),
    "ILR-LearnDelFAMType_111": ((_set(2, fams=[("SOF", "105", None)]),), (), set()),
    # an adult-skills aim without a SOF (pass: with one)
    "ILR-LearnDelFAMType_01": ((_other(fams=[("FFI", "1", None)]),), (_other(),), set()),
    # FFI on a non-funded aim, FundModel 99 (pass: on an adult-skills aim)
    "ILR-LearnDelFAMType_22": (
        (_other(FundModel=99, fams=[("SOF", "105", None), ("FFI", "1", None)]),),
        (_other(fams=[("SOF", "105", None), ("FFI", "1", None)]),),
        set(),
    ),
    # LDM 396 (Project S) on the bootcamp's component (pass: on a FundModel 81 aim)
    "ILR-LearnDelFAMType_128": (
        (_set(2, fams=[("SOF", "105", None), ("FFI", "1", None), ("LDM", "396", None)]),),
        (_other(FundModel=81, fams=[("SOF", "105", None), ("LDM", "396", None)]),),
        set(),
    ),
    # a date from on SOF (pass: on LSF, which takes one)
    "ILR-LearnDelFAMDateFrom_03": (
        (_set(2, fams=[("SOF", "105", "2025-08-04"), ("FFI", "1", None)]),),
        (_set(2, fams=[("SOF", "105", None), ("FFI", "1", None), ("LSF", "1", "2025-08-04")]),),
        set(),
    ),
    "ILR-AddHours_02": ((_set(2, AddHours=10),), (_other(AddHours=10),), set()),
    # an adult-skills aim starting 2026-08-01, after the 2025-26 teaching year (pass: 07-31)
    "ILR-LearnStartDate_03": (
        (_other(LearnStartDate="2026-08-01", LearnPlanEndDate="2026-09-01"),),
        (_other(LearnStartDate="2026-07-31", LearnPlanEndDate="2026-09-01"),),
        set(),
    ),
    "ILR-LearnDelFAMType_112": (
        (_set(2, fams=[("SOF", "107", None), ("FFI", "1", None)]),),
        (),
        set(),
    ),
    # EVI on a programme aim of another programme type (pass: on the bootcamp's)
    "ILR-LearnDelFAMType_132": (
        (
            _add(
                _aim(
                    "ZPROG001",
                    1,
                    5,
                    FundModel=99,
                    ProgType=None,
                    ConRefNumber=None,
                    fams=[("EVI", "1", "2025-09-01")],
                )
            ),
        ),
        (_evi(1, "1", "2025-09-01"),),
        set(),
    ),
    "ILR-LearnDelFAMType_133": (
        (_evi(2, "1", "2025-09-01"),),
        (_evi(1, "1", "2025-09-01"),),
        set(),
    ),
    "ILR-LearnDelFAMDateFrom_05": ((_evi(1, "1", None),), (_evi(1, "1", "2025-09-01"),), set()),
    # an EVI dated 2025-07-31 on a programme started 2025-07-28 also breaks R_152 (pass:
    # dated 2025-08-01 on a programme started that day)
    "ILR-LearnDelFAMDateFrom_06": (
        (*_pre, _evi(1, "1", "2025-07-31")),
        (
            _set(1, LearnStartDate="2025-08-01"),
            _set(2, LearnStartDate="2025-08-01"),
            _evi(1, "1", "2025-08-01"),
        ),
        {"ILR-R_152"},
    ),
    # EVI a day after the programme's end 2025-10-03 (pass: on it)
    "ILR-LearnDelFAMDateFrom_07": (
        (*_closed, _evi(1, "1", "2025-10-04")),
        (*_closed, _evi(1, "1", "2025-10-03")),
        set(),
    ),
    "ILR-ProgType_21": (
        (_add(_aim("60000009", 4, 9, FundModel=35, ConRefNumber=None)),),
        (_add(_aim("60000009", 4, 9, FundModel=35, ProgType=None, ConRefNumber=None)),),
        set(),
    ),
    # a component on the bootcamp's contract without ProgType 32 (FundModel 99)
    "ILR-ProgType_24": (
        (_add(_aim("60000006", 3, 3, FundModel=99, ProgType=None, fams=[("SOF", "105", None)])),),
        (_add(_aim("60000006", 3, 3)),),
        set(),
    ),
    "ILR-FundModel_16": (
        (_add(_aim("60000009", 4, 9, ProgType=None, ConRefNumber=None)),),
        (_add(_aim("60000009", 4, 9, FundModel=35, ProgType=None, ConRefNumber=None)),),
        set(),
    ),
    "ILR-LearnStartDate_21": (
        (
            _set(1, LearnStartDate="2022-07-31"),
            _set(2, LearnStartDate="2022-07-31"),
            _learner(employed_from="2022-07-01"),
        ),
        (
            _set(1, LearnStartDate="2022-08-01"),
            _set(2, LearnStartDate="2022-08-01"),
            _learner(employed_from="2022-07-01"),
        ),
        set(),
    ),
    "ILR-DateOfBirth_01": ((_learner(dob=None),), (), set()),
    # DfE's placeholder ULN, file prepared 2026-01-05 (from 1 January of 2025-26): the
    # aims started 2025-08-04, 154 days before (ULN_07); started 2025-11-10, 56 days
    # before (ULN_06); passes: the same files prepared on 2025-12-31
    "ILR-ULN_07": (
        (_learner(prepared="2026-01-05"),),
        (_learner(prepared="2025-12-31"),),
        set(),
    ),
    "ILR-ULN_06": (
        (
            _learner(prepared="2026-01-05", employed_from="2025-11-01"),
            _set(1, LearnStartDate="2025-11-10"),
            _set(2, LearnStartDate="2025-11-10"),
        ),
        (
            _learner(prepared="2025-12-31", employed_from="2025-11-01"),
            _set(1, LearnStartDate="2025-11-10"),
            _set(2, LearnStartDate="2025-11-10"),
        ),
        set(),
    ),
    # an SME indicator on a status "not in paid employment" (pass: in paid employment)
    "ILR-ESMType_19": (
        (_learner(esm=[("OET", "2")], emp_stat=11),),
        (_learner(esm=[("OET", "2")], emp_stat=10),),
        set(),
    ),
    "ILR-PlanLearnHours_02": ((_learner(plan_hours=0),), (_learner(plan_hours=1),), set()),
    # 18 on 31 August 2025 (pass: 19 that day)
    "ILR-DateOfBirth_25": ((_learner(dob="2006-09-01"),), (_learner(dob="2006-08-31"),), set()),
    # employment status dated on the start day (pass: the day before)
    "ILR-EmpStat_08": (
        (_learner(employed_from="2025-08-04"),),
        (_learner(employed_from="2025-08-03"),),
        set(),
    ),
    "ILR-EVI-CODE-UNKNOWN": ((_evi(1, "99", "2025-09-01"),), (_evi(1, "4", "2025-09-01"),), set()),
}


def _rule_of(case: str) -> str:
    """A case's rule id: ``"ILR-R_143 (event aim)"`` is a second case of ILR-R_143."""
    return case.split(" ")[0]


def test_every_rule_of_the_data_file_has_a_check_and_a_case() -> None:
    assert set(CHECKS) == set(ILR_RULES) == {_rule_of(case) for case in CASES}
    for rule in ILR_RULES.values():
        assert rule.severity in ("Error", "Warning") and rule.message and rule.source


def test_required_dfe_rules_are_all_checked() -> None:
    required = (
        "R_134 R_135 R_136 AddHours_02 LearnDelFAMType_128 LearnDelFAMDateFrom_03 ULN_06"
        " ULN_07 ESMType_19 Outcome_04 AchDate_07 WithdrawReason_03 AchDate_09 CompStatus_05"
        " R_138 R_139 R_140 R_141 R_143 R_144 R_149 R_150 R_152 R_153 R_154 AchDate_03"
        " AchDate_04 AchDate_05 AchDate_13 CompStatus_06 CompStatus_08 CompStatus_09"
        " Outcome_05 Outcome_09 Outcome_11 LearnAimRef_126 LearnAimRef_154"
        " LearnDelFAMType_111 LearnDelFAMType_112 LearnDelFAMType_132"
        " LearnDelFAMType_133 LearnDelFAMDateFrom_05 LearnDelFAMDateFrom_06"
        " LearnDelFAMDateFrom_07 ProgType_21 ProgType_24 FundModel_16 DateOfBirth_01"
        " DateOfBirth_25 LearnStartDate_21"
    ).split()
    assert {f"ILR-{r}" for r in required} <= set(ILR_RULES)


def test_severities_and_messages_are_dfe_s(tmp_path: Path) -> None:
    import csv

    dfe = {}
    for name in ("validation-rules-2526-bootcamps.csv", "validation-rules-2526-general-extra.csv"):
        with (DFE / name).open(encoding="utf-8-sig") as handle:
            dfe |= {r["Name"]: r for r in csv.DictReader(handle)}
    for rule_id, rule in ILR_RULES.items():
        name = rule_id.removeprefix("ILR-")
        if rule.source.startswith("DfE"):
            assert (rule.severity, rule.message) == (
                dfe[name]["Severity"],
                dfe[name]["ErrorMessage"].strip(),
            )
            assert f"{name} version {dfe[name]['Version']}" in rule.source
        else:
            assert name not in dfe and rule.source.startswith("kpitools")
    assert ILR_RULES["ILR-CompStatus_09"].severity == "Warning"


def test_base_file_is_valid_against_dfe_xsd_and_breaks_no_rule(tmp_path: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(DFE / "schemafile25.xsd")))
    for learner in (BASE, _changed(*_pre), _changed(*_closed)):
        assert schema.validate(etree.fromstring(_xml(learner))), schema.error_log
        assert _findings(learner, tmp_path) == []


@pytest.mark.parametrize("case", list(CASES))
def test_rule_breaks_and_passes(case: str, tmp_path: Path) -> None:
    breaks, passes, also = CASES[case]
    assert _rules(_changed(*breaks), tmp_path) == {_rule_of(case)} | also
    assert _rules(_changed(*passes), tmp_path) == set()


def test_a_rule_never_fires_for_a_learner_without_aims_of_its_group(tmp_path: Path) -> None:
    # check_learner skips a rule for a learner with no aim in the rule's group: on every
    # learner of the cases (both sides of every rule), asked all the same, such a rule
    # finds nothing.
    learners = [
        _changed(*changes) for breaks, passes, _ in CASES.values() for changes in (breaks, passes)
    ]
    grouped = {
        rule_id: GROUPS[CHECKS[rule_id]]
        for rule_id in map(_rule_of, CASES)
        if CHECKS[rule_id] in GROUPS
    }
    assert len(grouped) >= 20
    fired = set()
    for learner in learners:
        path = tmp_path / NAME
        path.write_bytes(_xml(learner))
        ilr = read_ilr(path)
        [read] = ilr.learners
        ctx = PreparedLearner(
            read, ilr.header.year, ilr.header.file_preparation_date, event_indicator_table()
        )
        for rule_id, among in grouped.items():
            hits = list(CHECKS[rule_id](ctx))
            assert hits == [] or getattr(ctx, among), (rule_id, among)
            fired |= {rule_id} if hits else set()
    assert fired == set(grouped)  # each grouped rule broken at least once above


def test_finding_names_rule_severity_learner_aim_and_position(tmp_path: Path) -> None:
    [finding] = _findings(_changed(*_pre, _evi(1, "1", "2025-08-05")), tmp_path)
    assert (
        finding.rule,
        finding.severity,
        finding.learner_ref,
        finding.aim_seq,
        finding.source,
        finding.bootcamp_id,
    ) == ("ILR-R_152", "Error", "LRN1", 1, f"{NAME}:1 (aim 1)", "SB-0001-01")
    assert finding.message.startswith(ILR_RULES["ILR-R_152"].message)
    [learner_rule] = _findings(_changed(_learner(dob=None)), tmp_path)
    assert learner_rule.aim_seq is None and learner_rule.bootcamp_id == "ALL"


def test_r138_not_raised_once_six_months_have_passed(tmp_path: Path) -> None:
    # Prepared 2025-10-31. Programme ended 2025-04-30: 2025-10-30 is six months on, and
    # the file was prepared after it → excluded. Ended 2025-05-01 → six months on is
    # 2025-11-01, after the file → raised.
    def ended(day: str) -> Learner:
        return _changed(
            _set(1, LearnStartDate="2025-01-06", CompStatus=2, LearnActEndDate=day, Outcome=8),
            _set(2, LearnStartDate="2025-01-06", CompStatus=2, LearnActEndDate=day, Outcome=1),
            _learner(employed_from="2025-01-01"),
        )

    assert _rules(ended("2025-04-30"), tmp_path) == set()
    assert _rules(ended("2025-05-01"), tmp_path) == {"ILR-R_138"}


def test_event_indicator_table_extends_from_params(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(_xml(_changed(_evi(1, "7", "2025-09-01"))))
    assert {f.rule for f in ilr_tables([path], rules=Rules()).findings} == {"ILR-EVI-CODE-UNKNOWN"}
    rules = Rules.from_mapping({"ilr_event_indicators": {7: "interview_offer"}})
    tables = ilr_tables([path], rules=rules)
    assert tables.findings == () and list(tables.interviews["offer_date"].astype(str)) == [
        "2025-09-01"
    ]


def test_docs_list_every_rule_checked() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "ilr.md").read_text(encoding="utf-8")
    assert [r for r in ILR_RULES if f"`{r}`" not in docs] == []
