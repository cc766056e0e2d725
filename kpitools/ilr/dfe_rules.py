"""DfE's ILR validation rules for Skills Bootcamps that can be checked from the file alone.

The rules are data: ``kpitools/dfe_rules.csv`` (read by :data:`kpitools.rules.ILR_RULES`,
which also puts them in the rule-id catalogue) holds each rule's id (``ILR-`` + DfE's
rule name), DfE's severity and error message, its source (DfE's "ILR validation rules
2025 to 2026", version 3, with the rule's own version) and how kpitools checks it where
DfE's condition needs what the file does not hold (LARS categories) or excludes bootcamp
aims. This module holds one check per rule; a test keeps the two in step.

What cannot be checked from the file alone (the Skills Bootcamps contracts database,
FCT allocations, LARS validity: UKPRN_26, LearnAimRef_114-117/132/153,
LearnStartDate_20 ...) is listed in docs/ilr.md and not pretended here.

Every finding names the learner (``LearnRefNumber``), the aim (``AimSeqNumber``; blank
for learner-level rules) and where it is: ``file:line`` of the ``Learner`` element, with
``(aim n)`` for an aim; messages hold no name, ULN or date of birth.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import cast

from kpitools.calendar import add_months
from kpitools.ilr.events import (
    BOOTCAMP_FUND_MODEL,
    BOOTCAMP_PROG_TYPE,
    BOOTCAMP_SOF,
    BOOTCAMPS_IN_ILR_FROM,
    EVENT_AIMS,
    EVENT_INDICATOR_FAM,
    EVENT_INDICATORS_FROM,
    HGV_EVENT_AIMS,
    evi_event,
    is_event_aim,
    programme_aims,
)
from kpitools.ilr.records import IlrDelivery, IlrFam, IlrLearner
from kpitools.rules import ILR_RULES


@dataclass(frozen=True)
class IlrRuleFinding:
    """One breach of an ILR rule: a row of ``ilr_findings.csv``.

    Attributes:
        rule: ``ILR-<DfE rule name>`` (e.g. ``ILR-R_152``) or a kpitools ILR rule.
        severity: DfE's severity (``Error`` / ``Warning``).
        learner_ref: the ``LearnRefNumber``.
        aim_seq: the ``AimSeqNumber`` of the aim concerned, None for a learner rule.
        source: ``<file>:<line of the Learner element>``, with `` (aim <n>)`` when an
            aim is concerned.
        message: DfE's message and the values that break it.
        bootcamp_id: the aim's ``ConRefNumber`` (``ALL`` when none).
    """

    rule: str
    severity: str
    learner_ref: str
    aim_seq: int | None
    source: str
    message: str
    bootcamp_id: str = "ALL"

    def as_row(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "learner_ref": self.learner_ref,
            "aim_seq": self.aim_seq,
            "source": self.source,
            "message": self.message,
        }


FINDING_COLUMNS = ("rule", "severity", "learner_ref", "aim_seq", "source", "message")

_LEARNER_FUND_MODELS = {25, 82, 35, 36, 37, 38, 81}  # DateOfBirth_01
_ADULT_AGE_FUND_MODELS = {37, 38}  # DateOfBirth_25 (FundModel 35 needs DfE's DD07)
_SOF_FUND_MODELS = {25, 82, 35, 36, 37, 81, 10, 11, 38}  # LearnDelFAMType_01
_FFI_FUND_MODELS = {35, 37, 38, 81, 11, 10}  # LearnDelFAMType_22
_DATED_FAMS = {"LSF", "ACT", "ALB", EVENT_INDICATOR_FAM}  # LearnDelFAMDateFrom_03
_ULN_06_FUND_MODELS = {25, 82, 35, 37, 38, 36, 81}
_ULN_07_FUND_MODELS = _ULN_06_FUND_MODELS | {70}
_PLAN_HOURS_FUND_MODELS = {25, 35, 38, 37, 81, 10, 99}  # PlanLearnHours_02
ULN_UNKNOWN = "9999999999"  # DfE's placeholder ULN (ULN_06, ULN_07)


@dataclass
class PreparedLearner:
    """A learner prepared for the checks: its aims grouped by contract."""

    learner: IlrLearner
    year: str  # collection year of the file, e.g. "2526"
    prepared: date
    event_indicators: Mapping[str, str]

    def __post_init__(self) -> None:
        first = 2000 + int(self.year[:2])
        self.year_end = date(first + 1, 7, 31)  # the file's teaching year ends
        self.january = date(first + 1, 1, 1)  # 1 January of it (ULN_06, ULN_07)
        self.aims = self.learner.deliveries
        # The aims each group of rules can concern, found once per learner: most rules
        # test a few aims of a learner (e.g. not coded as a bootcamp), most learners none.
        self.outside_bootcamp: list[IlrDelivery] = []
        self.bootcamp_prog_type: list[IlrDelivery] = []
        self.bootcamp_fund_model: list[IlrDelivery] = []
        self.with_evis: list[IlrDelivery] = []
        self.event_refs: list[IlrDelivery] = []  # LearnAimRef of an event or HGV event aim
        self.contracts: dict[str, list[IlrDelivery]] = defaultdict(list)
        for aim in self.aims:
            prog_32 = aim.prog_type == BOOTCAMP_PROG_TYPE
            fund_37 = aim.fund_model == BOOTCAMP_FUND_MODEL
            if prog_32:
                self.bootcamp_prog_type.append(aim)
                if aim.con_ref_number:
                    self.contracts[aim.con_ref_number].append(aim)
            if fund_37:
                self.bootcamp_fund_model.append(aim)
            if not (fund_37 and prog_32):  # not _bootcamp_coded
                self.outside_bootcamp.append(aim)
            if _evis(aim):
                self.with_evis.append(aim)
            ref = aim.learn_aim_ref.upper()
            if ref in EVENT_AIMS or ref in HGV_EVENT_AIMS:
                self.event_refs.append(aim)
        self._programmes = []
        for aims in self.contracts.values():
            programmes = [a for a in programme_aims(aims) if a.learn_start_date is not None]
            if programmes:
                earliest = min(_start(a) for a in programmes)
                self._programmes.append((aims, programmes, earliest))

    def programmes(self) -> list[tuple[list[IlrDelivery], list[IlrDelivery], date]]:
        """(contract aims, its programme aims oldest first, earliest programme start)
        for each contract with a dated programme aim."""
        return self._programmes


def _start(programme: IlrDelivery) -> date:
    """The start of a programme aim of :meth:`PreparedLearner.programmes`, which keeps only the
    dated ones."""
    return cast(date, programme.learn_start_date)


Hit = tuple[IlrDelivery | None, str]  # the aim (None: the learner) and what breaks the rule
Check = Callable[[PreparedLearner], Iterable[Hit]]
CHECKS: dict[str, Check] = {}


GROUPS: dict[Check, str] = {}
"""A check → the group of a learner's aims (an attribute of :class:`PreparedLearner`) outside
which it cannot fire: a learner with none of those aims is not even asked."""


def _check(rule_id: str, among: str | None = None) -> Callable[[Check], Check]:
    def register(func: Check) -> Check:
        CHECKS[rule_id] = func
        if among is not None:
            GROUPS[func] = among
        return func

    return register


def _iso(day: date | None) -> str:
    return day.isoformat() if day else "none"


def _evis(aim: IlrDelivery) -> tuple[IlrFam, ...]:
    return aim.fams_of(EVENT_INDICATOR_FAM)


def _generic_event(aim: IlrDelivery) -> bool:
    return aim.aim_type == 3 and aim.learn_aim_ref.upper() in EVENT_AIMS


def _subject(aim: IlrDelivery) -> bool:
    """Stands for a subject learning aim (LARS category 62, not in the file)."""
    return aim.aim_type == 3 and not _generic_event(aim)


def _bootcamp_coded(aim: IlrDelivery) -> bool:
    """The aims DfE's rules with a Skills Bootcamp exclusion leave out."""
    return aim.fund_model == BOOTCAMP_FUND_MODEL and aim.prog_type == BOOTCAMP_PROG_TYPE


def _same_day(aim: IlrDelivery) -> bool:
    return aim.learn_start_date == aim.learn_plan_end_date == aim.learn_act_end_date


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _august_31(teaching_year_start: int) -> date:
    return date(teaching_year_start, 8, 31)


# --- cross-record rules: programme, components and events on one contract ----------


def _combination(aim: IlrDelivery) -> tuple[int | None, int | None, str | None]:
    return (aim.fund_model, aim.prog_type, aim.con_ref_number)


@_check("ILR-R_134")
def _r134(ctx: PreparedLearner) -> Iterator[Hit]:
    if ctx.bootcamp_prog_type or any("023" in a.fam_codes("DAM") for a in ctx.aims):
        return
    for status in ctx.learner.employments:
        if status.has("OET", "2"):
            yield None, f"OET 2 (SME) in the employment status dated {_iso(status.date_applies)}"
            return


@_check("ILR-R_135", among="bootcamp_prog_type")
def _r135(ctx: PreparedLearner) -> Iterator[Hit]:
    programmes = {_combination(a) for a in ctx.aims if a.aim_type == 1}
    for aim in ctx.bootcamp_prog_type:
        if aim.aim_type == 3 and _combination(aim) not in programmes:
            yield (
                aim,
                (
                    f"AimType 3 aim {aim.learn_aim_ref} on contract"
                    f" {aim.con_ref_number or 'none'} with no programme aim (AimType 1) of"
                    f" FundModel {aim.fund_model}, ProgType {aim.prog_type} on it"
                ),
            )


@_check("ILR-R_136", among="bootcamp_prog_type")
def _r136(ctx: PreparedLearner) -> Iterator[Hit]:
    components = {_combination(a) for a in ctx.aims if a.aim_type == 3}
    for aim in ctx.bootcamp_prog_type:
        if aim.aim_type == 1 and _combination(aim) not in components:
            yield (
                aim,
                (
                    f"programme aim on contract {aim.con_ref_number or 'none'} with no"
                    " AimType 3 aim of the same FundModel, ProgType and contract"
                ),
            )


@_check("ILR-R_138")
def _r138(ctx: PreparedLearner) -> Iterator[Hit]:
    for aims, programmes, _ in ctx.programmes():
        latest = programmes[-1]
        has_event = any(_generic_event(a) for a in aims)
        for aim in programmes:
            ended = aim.learn_act_end_date
            if (
                _start(aim) <= date(2025, 7, 31)
                and aim.comp_status == 2
                and latest.ach_date is None
                and not has_event
                and not (ended and ctx.prepared > add_months(ended, 6))
            ):
                yield aim, "completed programme with no AchDate and no event aim"


@_check("ILR-R_139")
def _r139(ctx: PreparedLearner) -> Iterator[Hit]:
    for aims, programmes, _ in ctx.programmes():
        closed = any(_subject(a) and a.learn_act_end_date for a in aims)
        for aim in programmes:
            if aim.comp_status == 2 and not closed:
                yield aim, "programme completed (CompStatus 2), no component aim has ended"


@_check("ILR-R_140")
def _r140(ctx: PreparedLearner) -> Iterator[Hit]:
    for aims, programmes, _ in ctx.programmes():
        for aim in aims:
            if aim.aim_type != 3 or aim.learn_act_end_date is not None:
                continue
            same = [p for p in programmes if p.fund_model == aim.fund_model]
            if same and same[-1].learn_act_end_date is not None:
                yield (
                    aim,
                    (
                        f"component aim {aim.learn_aim_ref} still open; programme aim"
                        f" {same[-1].aim_seq_number} ended {_iso(same[-1].learn_act_end_date)}"
                    ),
                )


@_check("ILR-R_141")
def _r141(ctx: PreparedLearner) -> Iterator[Hit]:
    for aims, programmes, _ in ctx.programmes():
        if any(_subject(a) for a in aims):
            continue
        for aim in programmes:
            if aim.learn_act_end_date is None:
                yield aim, "open programme with no component aim on the contract"


@_check("ILR-R_143")
def _r143(ctx: PreparedLearner) -> Iterator[Hit]:
    # DfE: every AimType 3 aim of the programme's FundModel, ProgType and contract,
    # event aims included (an event after the programme's end is as wrong as an EVI
    # dated after it, LearnDelFAMDateFrom_07)
    for aims, programmes, _ in ctx.programmes():
        latest = programmes[-1]
        ended = [
            (end, a)
            for a in aims
            if a.aim_type == 3
            and (end := a.learn_act_end_date) is not None
            and a.fund_model == latest.fund_model
            and a.prog_type == latest.prog_type
        ]
        if not ended:
            continue
        last_end, last = max(ended, key=lambda pair: pair[0])
        if latest.learn_act_end_date and latest.learn_act_end_date < last_end:
            kind = "event aim" if is_event_aim(last) else "component aim"
            yield (
                latest,
                (
                    f"programme ended {_iso(latest.learn_act_end_date)}, {kind}"
                    f" {last.learn_aim_ref} (aim {last.aim_seq_number}) ended"
                    f" {_iso(last_end)}"
                ),
            )


@_check("ILR-R_144")
def _r144(ctx: PreparedLearner) -> Iterator[Hit]:
    for _, programmes, earliest in ctx.programmes():
        for aim in programmes:
            if _start(aim) >= date(2023, 8, 1) and aim.ach_date and aim.ach_date < earliest:
                yield aim, f"AchDate {_iso(aim.ach_date)} before the start {_iso(earliest)}"


def _aims_before_programme(
    ctx: PreparedLearner,
    programme_from: date,
    programme_to: date | None,
    kind: Callable[[IlrDelivery], bool],
) -> Iterator[tuple[IlrDelivery, date]]:
    """Aims of ``kind`` that start before their programme's earliest start, in programmes
    with an aim starting from ``programme_from`` (to ``programme_to`` when given)."""
    for aims, programmes, earliest in ctx.programmes():
        if not any(
            programme_from <= _start(p) and (programme_to is None or _start(p) <= programme_to)
            for p in programmes
        ):
            continue
        for aim in aims:
            if kind(aim) and aim.learn_start_date and aim.learn_start_date < earliest:
                yield aim, earliest


@_check("ILR-R_149")
def _r149(ctx: PreparedLearner) -> Iterator[Hit]:
    for aim, earliest in _aims_before_programme(ctx, date(2024, 8, 1), None, _subject):
        yield (
            aim,
            (
                f"component aim starts {_iso(aim.learn_start_date)}, before the"
                f" programme's start {_iso(earliest)}"
            ),
        )


@_check("ILR-R_150", among="event_refs")
def _r150(ctx: PreparedLearner) -> Iterator[Hit]:
    for aim, earliest in _aims_before_programme(
        ctx, date(2024, 8, 1), date(2025, 7, 31), is_event_aim
    ):
        yield (
            aim,
            (
                f"event aim {aim.learn_aim_ref} starts {_iso(aim.learn_start_date)},"
                f" before the programme's start {_iso(earliest)}"
            ),
        )


@_check("ILR-R_152", among="with_evis")
def _r152(ctx: PreparedLearner) -> Iterator[Hit]:
    for aims, programmes, earliest in ctx.programmes():
        codes = [f.code for a in aims for f in _evis(a)]
        if earliest < EVENT_INDICATORS_FROM and codes:
            for aim in programmes:
                yield (
                    aim,
                    (
                        f"programme started {_iso(earliest)} carries EVI code(s)"
                        f" {', '.join(codes)} (read all the same)"
                    ),
                )


@_check("ILR-R_153", among="with_evis")
def _r153(ctx: PreparedLearner) -> Iterator[Hit]:
    for aims, programmes, earliest in ctx.programmes():
        early = [
            f for a in aims for f in _evis(a) if f.date_from and f.date_from < EVENT_INDICATORS_FROM
        ]
        if earliest >= EVENT_INDICATORS_FROM and early:
            for aim in programmes:
                yield aim, f"EVI {early[0].code} dated {_iso(early[0].date_from)}"


@_check("ILR-R_154", among="event_refs")
def _r154(ctx: PreparedLearner) -> Iterator[Hit]:
    for aims, programmes, earliest in ctx.programmes():
        refs = [a.learn_aim_ref for a in aims if is_event_aim(a)]
        if earliest >= EVENT_INDICATORS_FROM and refs:
            for aim in programmes:
                yield (
                    aim,
                    (
                        f"programme started {_iso(earliest)} has event aim(s)"
                        f" {', '.join(refs)} (read all the same)"
                    ),
                )


# --- one learning delivery at a time ---------------------------------------------------


class _AimCheck:
    """A rule tested aim by aim on one group of a learner's aims (``among``: ``aims`` or
    an attribute of :class:`PreparedLearner`). Called with one learner like any check;
    :func:`check_learners` asks it once for every aim of a file instead (:meth:`over`),
    which saves the cost of asking each learner in turn (most learners pass)."""

    __slots__ = ("among", "in_file", "test")

    def __init__(
        self,
        test: Callable[[IlrDelivery], str | None]
        | Callable[[PreparedLearner, IlrDelivery], str | None],
        among: str,
        *,
        in_file: bool,
    ) -> None:
        self.test = test
        self.among = among
        self.in_file = in_file  # the test also needs the file (its year, its preparation)

    def __call__(self, ctx: PreparedLearner) -> list[Hit]:
        aims = [(0, aim) for aim in getattr(ctx, self.among)]
        return [(aim, detail) for _, aim, detail in self.over([ctx], aims)]

    def over(
        self, ctxs: Sequence[PreparedLearner], aims: Sequence[tuple[int, IlrDelivery]]
    ) -> list[tuple[int, IlrDelivery, str]]:
        """(learner's position in ``ctxs``, aim, what breaks the rule) for each of ``aims``
        (position, aim) that breaks it, in their order."""
        if self.in_file:
            test = cast(Callable[[PreparedLearner, IlrDelivery], str | None], self.test)
            return [(i, a, detail) for i, a in aims if (detail := test(ctxs[i], a)) is not None]
        plain = cast(Callable[[IlrDelivery], str | None], self.test)
        return [(i, a, detail) for i, a in aims if (detail := plain(a)) is not None]


def _aims_of(ctxs: Sequence[PreparedLearner], among: str) -> Iterator[tuple[int, IlrDelivery]]:
    """(position in ``ctxs``, aim) of every aim of the group ``among`` of each learner."""
    for i, ctx in enumerate(ctxs):
        for aim in getattr(ctx, among):
            yield i, aim


def _each(test: Callable[[IlrDelivery], str | None], among: str = "aims") -> Check:
    """A rule tested on each aim of ``among``: the learner's aims (``aims``) or the
    group of them (an attribute of :class:`PreparedLearner`) outside which it cannot fire."""
    check = _AimCheck(test, among, in_file=False)
    GROUPS[check] = among
    return check


def _outside_bootcamp(test: Callable[[IlrDelivery], str | None]) -> Check:
    """DfE's rules that exclude aims with FundModel 37 and ProgType 32."""
    return _each(test, "outside_bootcamp")


def _each_in_file(
    test: Callable[[PreparedLearner, IlrDelivery], str | None], among: str = "aims"
) -> Check:
    """:func:`_each` for a rule that also needs the file (its year, its preparation)."""
    check = _AimCheck(test, among, in_file=True)
    GROUPS[check] = among
    return check


CHECKS["ILR-AchDate_03"] = _outside_bootcamp(
    lambda a: (
        f"AchDate {_iso(a.ach_date)} before start {_iso(a.learn_start_date)}"
        if a.ach_date and a.learn_start_date and a.ach_date < a.learn_start_date
        else None
    )
)
CHECKS["ILR-AchDate_04"] = _outside_bootcamp(
    lambda a: (
        f"AchDate {_iso(a.ach_date)} without LearnActEndDate"
        if a.ach_date and a.learn_act_end_date is None
        else None
    )
)
CHECKS["ILR-AchDate_05"] = _outside_bootcamp(
    lambda a: (
        f"AchDate {_iso(a.ach_date)} before LearnActEndDate {_iso(a.learn_act_end_date)}"
        if a.ach_date and a.learn_act_end_date and a.ach_date < a.learn_act_end_date
        else None
    )
)
CHECKS["ILR-AchDate_13"] = _each(
    lambda a: (
        f"AchDate {_iso(a.ach_date)} more than 6 months after {_iso(a.learn_act_end_date)}"
        if a.aim_type == 1
        and a.prog_type == BOOTCAMP_PROG_TYPE
        and a.ach_date
        and a.learn_act_end_date
        and a.ach_date > add_months(a.learn_act_end_date, 6)
        else None
    ),
    "bootcamp_prog_type",
)
CHECKS["ILR-CompStatus_06"] = _outside_bootcamp(
    lambda a: (
        f"CompStatus {a.comp_status} with Outcome {a.outcome}"
        if a.comp_status in (3, 6) and a.outcome in (1, 8)
        else None
    )
)
CHECKS["ILR-CompStatus_08"] = _each(
    lambda a: (
        f"AchDate {_iso(a.ach_date)} with CompStatus {a.comp_status}"
        if a.aim_type == 1 and _bootcamp_coded(a) and a.ach_date and a.comp_status != 2
        else None
    ),
    "bootcamp_prog_type",
)
CHECKS["ILR-CompStatus_09"] = _each(
    lambda a: (
        f"event aim {a.learn_aim_ref} with CompStatus {a.comp_status}"
        if a.learn_aim_ref.upper() in EVENT_AIMS and a.comp_status != 2
        else None
    ),
    "event_refs",
)
CHECKS["ILR-Outcome_05"] = _outside_bootcamp(
    lambda a: (
        "Outcome 1 without LearnActEndDate"
        if a.outcome == 1 and a.learn_act_end_date is None
        else None
    )
)
CHECKS["ILR-Outcome_09"] = _outside_bootcamp(
    lambda a: (
        f"Outcome 8 with CompStatus {a.comp_status}"
        if a.outcome == 8
        and a.comp_status != 2
        and not (a.aim_type == 1 and a.fund_model in (36, 99) and a.prog_type == 25)
        else None
    )
)
CHECKS["ILR-Outcome_11"] = _outside_bootcamp(
    lambda a: (
        f"Outcome {a.outcome} without LearnActEndDate"
        if a.outcome is not None and a.learn_act_end_date is None
        else None
    )
)
CHECKS["ILR-AchDate_02"] = _each_in_file(
    lambda ctx, a: (
        f"AchDate {_iso(a.ach_date)} after the teaching year's end {_iso(ctx.year_end)}"
        if a.ach_date and a.ach_date > ctx.year_end
        else None
    )
)
CHECKS["ILR-AchDate_07"] = _each_in_file(
    lambda ctx, a: (
        f"AchDate {_iso(a.ach_date)} after the file's preparation date {_iso(ctx.prepared)}"
        if a.ach_date and a.ach_date > ctx.prepared
        else None
    )
)
CHECKS["ILR-AchDate_09"] = _outside_bootcamp(
    lambda a: (
        f"AchDate {_iso(a.ach_date)} on aim {a.learn_aim_ref} of FundModel {a.fund_model}"
        if a.ach_date
        and a.learn_start_date
        and a.learn_start_date > date(2015, 7, 31)
        and not (a.fund_model in (81, 36) and a.prog_type == 25)
        else None
    )
)
CHECKS["ILR-CompStatus_05"] = _outside_bootcamp(
    lambda a: (
        f"CompStatus 1 with Outcome {a.outcome}"
        if a.comp_status == 1
        and a.outcome is not None
        and not (a.fund_model in (36, 99) and a.prog_type == 25)
        else None
    )
)
CHECKS["ILR-Outcome_04"] = _each(
    lambda a: (
        f"AchDate {_iso(a.ach_date)} with Outcome {a.outcome if a.outcome is not None else 'none'}"
        if a.ach_date and a.outcome != 1 and not (a.fund_model == 36 and a.prog_type == 25)
        else None
    )
)
CHECKS["ILR-WithdrawReason_03"] = _each(
    lambda a: (
        f"aim {a.learn_aim_ref} withdrawn (CompStatus 3) without a WithdrawReason"
        if a.comp_status == 3 and a.withdraw_reason is None
        else None
    )
)
CHECKS["ILR-LearnDelFAMType_01"] = _each(
    lambda a: (
        f"aim {a.learn_aim_ref} of FundModel {a.fund_model} without a SOF"
        if a.fund_model in _SOF_FUND_MODELS and not a.fam_codes("SOF")
        else None
    )
)
CHECKS["ILR-LearnDelFAMType_22"] = _outside_bootcamp(
    lambda a: (
        f"FFI on aim {a.learn_aim_ref} of FundModel {a.fund_model}"
        if a.fund_model not in _FFI_FUND_MODELS and a.fam_codes("FFI")
        else None
    )
)
CHECKS["ILR-LearnDelFAMType_128"] = _each(
    lambda a: (
        f"LDM 396 on aim {a.learn_aim_ref} of FundModel {a.fund_model}"
        if "396" in a.fam_codes("LDM") and a.fund_model != 81
        else None
    )
)
CHECKS["ILR-AddHours_02"] = _each(
    lambda a: (
        f"AddHours {a.add_hours} on aim {a.learn_aim_ref} of FundModel {a.fund_model}"
        if a.add_hours is not None and a.fund_model in (25, 82, 10, 37, 99)
        else None
    )
)
CHECKS["ILR-LearnAimRef_126"] = _each(
    lambda a: (
        f"event aim {a.learn_aim_ref}: start {_iso(a.learn_start_date)}, planned end"
        f" {_iso(a.learn_plan_end_date)}, actual end {_iso(a.learn_act_end_date)}"
        if a.learn_aim_ref.upper() in EVENT_AIMS and not _same_day(a)
        else None
    ),
    "event_refs",
)
CHECKS["ILR-LearnAimRef_154"] = _each(
    lambda a: (
        f"HGV event aim {a.learn_aim_ref}: start {_iso(a.learn_start_date)}, planned end"
        f" {_iso(a.learn_plan_end_date)}, actual end {_iso(a.learn_act_end_date)}"
        if a.learn_aim_ref.upper() in HGV_EVENT_AIMS
        and a.prog_type == BOOTCAMP_PROG_TYPE
        and a.learn_start_date
        and a.learn_start_date >= date(2024, 8, 1)
        and not _same_day(a)
        else None
    ),
    "event_refs",
)
CHECKS["ILR-LearnDelFAMType_111"] = _each(
    lambda a: (
        f"ProgType 32 aim {a.learn_aim_ref} without FFI"
        if a.prog_type == BOOTCAMP_PROG_TYPE and not a.fam_codes("FFI")
        else None
    ),
    "bootcamp_prog_type",
)
CHECKS["ILR-LearnDelFAMType_112"] = _each(
    lambda a: (
        f"ProgType 32 aim {a.learn_aim_ref} with SOF {', '.join(a.fam_codes('SOF')) or 'none'}"
        if a.prog_type == BOOTCAMP_PROG_TYPE and BOOTCAMP_SOF not in a.fam_codes("SOF")
        else None
    ),
    "bootcamp_prog_type",
)
CHECKS["ILR-LearnDelFAMType_132"] = _each(
    lambda a: (
        f"EVI on aim {a.learn_aim_ref} with ProgType {a.prog_type or 'none'}"
        if _evis(a) and a.prog_type != BOOTCAMP_PROG_TYPE
        else None
    ),
    "with_evis",
)
CHECKS["ILR-LearnDelFAMType_133"] = _each(
    lambda a: (
        f"EVI on aim {a.learn_aim_ref} of AimType {a.aim_type}"
        if _evis(a) and a.aim_type != 1
        else None
    ),
    "with_evis",
)
CHECKS["ILR-ProgType_21"] = _each(
    lambda a: (
        f"ProgType 32 with FundModel {a.fund_model}"
        if a.prog_type == BOOTCAMP_PROG_TYPE and a.fund_model != BOOTCAMP_FUND_MODEL
        else None
    ),
    "bootcamp_prog_type",
)
CHECKS["ILR-FundModel_16"] = _each(
    lambda a: (
        f"FundModel 37 with ProgType {a.prog_type or 'none'}"
        if a.fund_model == BOOTCAMP_FUND_MODEL and a.prog_type != BOOTCAMP_PROG_TYPE
        else None
    ),
    "bootcamp_fund_model",
)
CHECKS["ILR-LearnStartDate_21"] = _each(
    lambda a: (
        f"FundModel 37 aim starting {_iso(a.learn_start_date)}"
        if a.fund_model == BOOTCAMP_FUND_MODEL
        and a.learn_start_date
        and a.learn_start_date < BOOTCAMPS_IN_ILR_FROM
        else None
    ),
    "bootcamp_fund_model",
)


CHECKS["ILR-LearnStartDate_03"] = _each_in_file(
    lambda ctx, a: (
        f"aim {a.learn_aim_ref} starts {_iso(a.learn_start_date)}, after the teaching"
        f" year's end {_iso(ctx.year_end)}"
        if a.learn_start_date
        and a.learn_start_date > ctx.year_end
        and a.fund_model not in (36, 37)
        and a.prog_type != 31
        else None
    ),
    "outside_bootcamp",
)
CHECKS["ILR-LearnDelFAMDateFrom_03"] = _each(
    lambda a: (
        f"{', '.join(sorted({f.fam_type for f in _dated_fams(a)}))} with a date from on aim"
        f" {a.learn_aim_ref}"
        if _dated_fams(a)
        else None
    )
)


def _dated_fams(aim: IlrDelivery) -> list[IlrFam]:
    """The FAMs of ``aim`` with a date from although their type takes none
    (LearnDelFAMDateFrom_03, version 2: LSF, ACT, ALB and EVI take one)."""
    return [f for f in aim.fams if f.date_from is not None and f.fam_type not in _DATED_FAMS]


@_check("ILR-ProgType_24", among="outside_bootcamp")  # ProgType not 32
def _progtype24(ctx: PreparedLearner) -> Iterator[Hit]:
    contracts = {c for c, aims in ctx.contracts.items() if any(a.aim_type == 1 for a in aims)}
    for aim in ctx.aims:
        if (
            _subject(aim)
            and not is_event_aim(aim)
            and aim.con_ref_number in contracts
            and aim.prog_type != BOOTCAMP_PROG_TYPE
        ):
            yield (
                aim,
                (
                    f"component aim {aim.learn_aim_ref} on bootcamp contract"
                    f" {aim.con_ref_number} with ProgType {aim.prog_type or 'none'}"
                ),
            )


# --- event indicators ------------------------------------------------------------------


def _each_evi(test: Callable[[PreparedLearner, IlrDelivery, IlrFam], str | None]) -> Check:
    def check(ctx: PreparedLearner) -> Iterator[Hit]:
        for aim in ctx.with_evis:
            for fam in _evis(aim):
                detail = test(ctx, aim, fam)
                if detail is not None:
                    yield aim, detail

    GROUPS[check] = "with_evis"
    return check


def _evi_bounds(ctx: PreparedLearner, aim: IlrDelivery, fam: IlrFam) -> str | None:
    programme = (
        aim
        if aim.aim_type == 1
        else next((ps[-1] for aims, ps, _ in ctx.programmes() if aim in aims), None)
    )
    if programme is None or fam.date_from is None or programme.learn_start_date is None:
        return None
    end = programme.learn_act_end_date
    if fam.date_from < programme.learn_start_date or (end and fam.date_from > end):
        return (
            f"EVI {fam.code} dated {_iso(fam.date_from)}, programme from"
            f" {_iso(programme.learn_start_date)} to {_iso(end)}"
        )
    return None


CHECKS["ILR-LearnDelFAMDateFrom_05"] = _each_evi(
    lambda ctx, a, f: f"EVI {f.code} without a date from" if f.date_from is None else None
)
CHECKS["ILR-LearnDelFAMDateFrom_06"] = _each_evi(
    lambda ctx, a, f: (
        f"EVI {f.code} dated {_iso(f.date_from)}"
        if f.date_from and f.date_from < EVENT_INDICATORS_FROM
        else None
    )
)
CHECKS["ILR-LearnDelFAMDateFrom_07"] = _each_evi(_evi_bounds)
CHECKS["ILR-EVI-CODE-UNKNOWN"] = _each_evi(
    lambda ctx, a, f: (
        f"EVI code {f.code!r} is not in the table (known:"
        f" {', '.join(sorted(ctx.event_indicators))})"
        if evi_event(f.code, ctx.event_indicators) is None
        else None
    )
)


# --- learner ---------------------------------------------------------------------------


def _uln_unknown(ctx: PreparedLearner, *, early: bool) -> Iterator[Hit]:
    """ULN_06 (``early``: an aim started at most 60 days before the file was prepared)
    and ULN_07 (more than 60 days): DfE's placeholder ULN on a funded aim of 5 days or
    more, in a file prepared from 1 January of its teaching year."""
    if ctx.learner.uln != ULN_UNKNOWN or ctx.prepared < ctx.january:
        return
    funded = _ULN_06_FUND_MODELS if early else _ULN_07_FUND_MODELS
    for aim in ctx.aims:
        start = aim.learn_start_date
        if start is None or "034" in aim.fam_codes("LDM") or "1" in aim.fam_codes("ACT"):
            continue
        if not (aim.fund_model in funded or (aim.fund_model == 99 and "1" in aim.fam_codes("ADL"))):
            continue
        ends = [d for d in (aim.learn_plan_end_date, aim.learn_act_end_date) if d is not None]
        if not any((end - start).days >= 5 for end in ends):
            continue
        if ((ctx.prepared - start).days <= 60) == early:
            yield (
                aim,
                (
                    f"ULN {ULN_UNKNOWN} on aim {aim.learn_aim_ref} started {_iso(start)}, file"
                    f" prepared {_iso(ctx.prepared)}"
                ),
            )
            return  # once per learner


CHECKS["ILR-ULN_06"] = lambda ctx: _uln_unknown(ctx, early=True)
CHECKS["ILR-ULN_07"] = lambda ctx: _uln_unknown(ctx, early=False)


@_check("ILR-ESMType_19")
def _esmtype19(ctx: PreparedLearner) -> Iterator[Hit]:
    for status in ctx.learner.employments:
        if status.has("OET", "2") and status.emp_stat != 10:
            shown = "not returned" if status.emp_stat is None else str(status.emp_stat)
            yield (
                None,
                f"OET 2 with EmpStat {shown} in the status dated {_iso(status.date_applies)}",
            )


@_check("ILR-PlanLearnHours_02")
def _planlearnhours02(ctx: PreparedLearner) -> Iterator[Hit]:
    if ctx.learner.plan_learn_hours == 0 and any(
        a.fund_model in _PLAN_HOURS_FUND_MODELS and not (a.fund_model == 25 and a.prog_type == 31)
        for a in ctx.aims
    ):
        yield None, "PlanLearnHours 0"


@_check("ILR-DateOfBirth_01")
def _dob01(ctx: PreparedLearner) -> Iterator[Hit]:
    learner = ctx.learner
    if learner.date_of_birth is not None:  # asked first: nearly every learner has one
        return
    olass = _olass(ctx)
    unreadable = any(p[0] == "DateOfBirth" for p in learner.problems)
    if not olass and not unreadable and any(a.fund_model in _LEARNER_FUND_MODELS for a in ctx.aims):
        yield None, "no DateOfBirth"


def _olass(ctx: PreparedLearner) -> bool:
    """An aim with LDM 034 (OLASS), which DateOfBirth_01 and _25 leave out."""
    return any("034" in a.fam_codes("LDM") for a in ctx.aims)


@_check("ILR-DateOfBirth_25")
def _dob25(ctx: PreparedLearner) -> Iterator[Hit]:
    born = ctx.learner.date_of_birth
    day = _august_31(2000 + int(ctx.year[:2]))
    if (
        born is not None
        and _age_on(born, day) < 19  # asked before the aims: most learners are adults
        and not _olass(ctx)
        and any(a.fund_model in _ADULT_AGE_FUND_MODELS for a in ctx.aims)
    ):
        yield None, f"under 19 on {day.isoformat()}"


@_check("ILR-EmpStat_08", among="bootcamp_fund_model")
def _empstat08(ctx: PreparedLearner) -> Iterator[Hit]:
    born = ctx.learner.date_of_birth
    if born is None:
        return
    dated = [e.date_applies for e in ctx.learner.employments if e.date_applies]
    first = min(dated) if dated else None  # a status dated before the start passes
    for aim in ctx.bootcamp_fund_model:
        start = aim.learn_start_date
        if aim.fund_model != BOOTCAMP_FUND_MODEL or start is None:
            continue
        if start < date(2014, 8, 1) or (first is not None and first < start):
            continue
        teaching_year = start.year if start.month >= 8 else start.year - 1
        if _age_on(born, _august_31(teaching_year)) >= 19:
            shown = first.isoformat() if first is not None else "none"
            yield aim, f"start {start.isoformat()}, first employment status {shown}"


def check_learners(
    learners: Sequence[tuple[IlrLearner, str]],
    *,
    year: str,
    prepared: date,
    event_indicators: Mapping[str, str],
) -> list[list[IlrRuleFinding]]:
    """Every rule of :data:`ILR_RULES` each learner of one file breaks, learner by
    learner: each list is what that learner alone would give, in the table's order of
    rules (a rule's findings in the order of its aims). A rule tested aim by aim is
    asked once for every aim of the file (:class:`_AimCheck`), the others learner by
    learner.

    Args:
        learners: each learner as read (any learner; rules decide what concerns them)
            and its source, ``file:line`` of the ``Learner`` element.
        year: the file's collection year (``"2526"``), for DateOfBirth_25.
        prepared: the file's ``FilePreparationDate`` (R_138's exclusion).
        event_indicators: EVI code → event kind, for ILR-EVI-CODE-UNKNOWN.
    """
    ctxs = [PreparedLearner(learner, year, prepared, event_indicators) for learner, _ in learners]
    groups: dict[str, list[tuple[int, IlrDelivery]]] = {}
    found: list[list[IlrRuleFinding]] = [[] for _ in ctxs]
    for rule_id, rule, check, among in _RULE_CHECKS:
        if isinstance(check, _AimCheck):
            if check.among not in groups:
                groups[check.among] = list(_aims_of(ctxs, check.among))
            hits: Iterable[tuple[int, IlrDelivery | None, str]] = check.over(
                ctxs, groups[check.among]
            )
        else:
            hits = (
                (i, aim, detail)
                for i, ctx in enumerate(ctxs)
                if among is None or getattr(ctx, among)  # else none of the aims it concerns
                for aim, detail in check(ctx)
            )
        for i, aim, detail in hits:
            learner, source = learners[i]
            seq = aim.aim_seq_number if aim is not None else None
            found[i].append(
                IlrRuleFinding(
                    rule=rule_id,
                    severity=rule.severity,
                    learner_ref=learner.learn_ref_number or "",
                    aim_seq=seq,
                    source=source if aim is None else aim_source(source, seq),
                    message=f"{rule.message} ({detail})",
                    bootcamp_id=(aim.con_ref_number if aim is not None else None) or "ALL",
                )
            )
    return found


def aim_source(source: str, aim_seq: int | None) -> str:
    """The source of a finding about one aim: the learner's ``file:line`` and the aim's
    ``AimSeqNumber``, e.g. ``ILR-10012345-2526-20251031-080000-01.xml:57 (aim 2)``."""
    return f"{source} (aim {aim_seq if aim_seq is not None else 'without AimSeqNumber'})"


# Each rule of the table with its check and group, in the table's order (a finding's order).
_RULE_CHECKS = tuple(
    (rule_id, rule, CHECKS[rule_id], GROUPS.get(CHECKS[rule_id]))
    for rule_id, rule in ILR_RULES.items()
)
