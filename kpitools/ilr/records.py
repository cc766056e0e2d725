"""Typed records of an ILR ``Learner`` element: its aims, FAMs and employment statuses.

Built by :func:`learner_from_element` from an element the streaming reader
(:mod:`kpitools.ilr.reader`) has just parsed; a bad date or number is recorded on the
learner as a problem, never raised, so the mapping can reject that learner alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the elements come from the reader; a pack's kernel never loads lxml
    from lxml import etree


@dataclass(frozen=True)
class IlrFam:
    """One ``LearningDeliveryFAM``: funding and monitoring type, code and dates."""

    fam_type: str
    code: str
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class IlrDelivery:
    """One ``LearningDelivery`` (learning aim), with the fields kpitools uses."""

    learn_aim_ref: str
    aim_type: int | None
    aim_seq_number: int | None
    learn_start_date: date | None
    learn_plan_end_date: date | None
    fund_model: int | None
    prog_type: int | None = None
    con_ref_number: str | None = None
    comp_status: int | None = None
    learn_act_end_date: date | None = None
    withdraw_reason: int | None = None
    outcome: int | None = None
    ach_date: date | None = None
    fams: tuple[IlrFam, ...] = ()
    add_hours: int | None = None
    # Asked for again and again by the mapping and DfE's rules (~20 times per aim):
    # grouped once per aim, when it is built.
    _fams_by_type: dict[str, tuple[IlrFam, ...]] = field(init=False, repr=False, compare=False)
    _codes_by_type: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fams: dict[str, tuple[IlrFam, ...]] = {}
        codes: dict[str, tuple[str, ...]] = {}
        for fam in self.fams:
            kind = fam.fam_type
            fams[kind] = fams.get(kind, ()) + (fam,)
            codes[kind] = codes.get(kind, ()) + (fam.code,)
        object.__setattr__(self, "_fams_by_type", fams)
        object.__setattr__(self, "_codes_by_type", codes)

    def fam_codes(self, fam_type: str) -> tuple[str, ...]:
        """Codes of every FAM of ``fam_type`` on this aim."""
        return self._codes_by_type.get(fam_type, ())

    def fams_of(self, fam_type: str) -> tuple[IlrFam, ...]:
        """Every FAM of ``fam_type`` on this aim, in the file's order."""
        return self._fams_by_type.get(fam_type, ())


@dataclass(frozen=True)
class IlrEmployment:
    """One ``LearnerEmploymentStatus`` with its ``EmploymentStatusMonitoring`` pairs."""

    emp_stat: int | None
    date_applies: date | None
    emp_id: str | None
    monitoring: tuple[tuple[str, str], ...] = ()

    def has(self, esm_type: str, code: str) -> bool:
        return (esm_type, code) in self.monitoring


@dataclass(frozen=True)
class IlrLearner:
    """One ``Learner`` element.

    Attributes:
        position: 1-based position among the file's ``Learner`` elements.
        line: the line of its opening tag.
        problems: (field, value, reason, rule id) for each value that could not be
            read (a bad date or number); the mapping rejects such a learner.
    """

    position: int
    line: int
    learn_ref_number: str | None
    uln: str | None
    family_name: str | None
    given_names: str | None
    employments: tuple[IlrEmployment, ...]
    deliveries: tuple[IlrDelivery, ...]
    problems: tuple[tuple[str, str, str, str], ...] = ()
    # personal data: read for DfE's age rules and for matching one person across
    # providers (kpitools.checks.people)
    date_of_birth: date | None = None
    plan_learn_hours: int | None = None
    postcode: str | None = None
    ni_number: str | None = None


def text_of(elem: etree._Element | None) -> str | None:
    """An element's stripped text, or None when absent or blank."""
    return None if elem is None else _stripped(elem.text)


def _stripped(text: str | None) -> str | None:
    return None if text is None else (text.strip() or None)


def _fields(elem: etree._Element, prefix: int) -> dict[str, str | None]:
    """Local name → stripped text of an element's leaf children (the last one wins;
    comments and processing instructions skipped); ``prefix`` is the length of
    ``{namespace}``."""
    return {
        child.tag[prefix:]: _stripped(child.text) for child in elem if isinstance(child.tag, str)
    }


_LEARNER_FIELDS = frozenset(
    (
        "LearnRefNumber",
        "ULN",
        "FamilyName",
        "GivenNames",
        "DateOfBirth",
        "PlanLearnHours",
        "Postcode",
        "NINumber",
    )
)


def learner_from_element(elem: etree._Element, ns: str, position: int) -> IlrLearner:
    """Build an :class:`IlrLearner` from a parsed ``Learner`` element of namespace ``ns``.

    The loops are written out, each leaf read inline: a national period builds tens of
    thousands of learners, over a million leaves."""
    values = _Values()
    prefix = len(ns) + 2
    fields: dict[str, str | None] = {}
    employments: list[IlrEmployment] = []
    deliveries: list[IlrDelivery] = []
    for child in elem:
        tag = child.tag
        if not isinstance(tag, str):  # a comment or processing instruction
            continue
        name = tag[prefix:]
        if name == "LearningDelivery":
            deliveries.append(_delivery(child, prefix, values))
        elif name == "LearnerEmploymentStatus":
            employments.append(_employment(child, prefix, values))
        elif name in _LEARNER_FIELDS:
            text = child.text
            fields[name] = None if text is None else (text.strip() or None)
    born = values.date("DateOfBirth", fields.get("DateOfBirth"))
    hours = values.int("PlanLearnHours", fields.get("PlanLearnHours"))
    return IlrLearner(
        position=position,
        line=elem.sourceline or 0,
        learn_ref_number=fields.get("LearnRefNumber"),
        uln=fields.get("ULN"),
        family_name=fields.get("FamilyName"),
        given_names=fields.get("GivenNames"),
        employments=tuple(employments),
        deliveries=tuple(deliveries),
        problems=tuple(values.problems),
        date_of_birth=born,
        plan_learn_hours=hours,
        postcode=fields.get("Postcode"),
        ni_number=fields.get("NINumber"),
    )


class _Values:
    """Typed reads of element text that record, rather than raise, a bad value."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str, str, str]] = []

    def date(self, field: str, text: str | None) -> date | None:
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.problems.append((field, text, "not a date (YYYY-MM-DD)", "BAD-DATE"))
            return None

    def int(self, field: str, text: str | None) -> int | None:
        if text is None:
            return None
        number = _SMALL_INTS.get(text)
        if number is None:
            if not (text.isascii() and text.isdigit() and len(text) <= 9):
                self.problems.append((field, text, "not a whole number", "BAD-INT"))
                return None
            number = int(text)
        return number


# The codes (FundModel, ProgType, CompStatus ...) and most sequence numbers, looked up:
# a national period reads half a million of them.
_SMALL_INTS = {str(number): number for number in range(100)}


def _employment(elem: etree._Element, prefix: int, values: _Values) -> IlrEmployment:
    fields: dict[str, str | None] = {}
    monitoring: list[tuple[str, str]] = []
    for child in elem:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = tag[prefix:]
        if name == "EmploymentStatusMonitoring":
            pair = _fields(child, prefix)
            monitoring.append((pair.get("ESMType") or "", pair.get("ESMCode") or ""))
        else:
            fields[name] = _stripped(child.text)
    return IlrEmployment(
        emp_stat=values.int("EmpStat", fields.get("EmpStat")),
        date_applies=values.date("DateEmpStatApp", fields.get("DateEmpStatApp")),
        emp_id=fields.get("EmpId"),
        monitoring=tuple(monitoring),
    )


def _delivery(elem: etree._Element, prefix: int, values: _Values) -> IlrDelivery:
    fields: dict[str, str | None] = {}
    fams: list[IlrFam] = []
    for child in elem:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = tag[prefix:]
        if name == "LearningDeliveryFAM":
            fams.append(_fam(child, prefix, values))
        else:
            text = child.text
            fields[name] = None if text is None else (text.strip() or None)
    d, i, get = values.date, values.int, fields.get
    return IlrDelivery(
        learn_aim_ref=get("LearnAimRef") or "",
        aim_type=i("AimType", get("AimType")),
        aim_seq_number=i("AimSeqNumber", get("AimSeqNumber")),
        learn_start_date=d("LearnStartDate", get("LearnStartDate")),
        learn_plan_end_date=d("LearnPlanEndDate", get("LearnPlanEndDate")),
        fund_model=i("FundModel", get("FundModel")),
        prog_type=i("ProgType", get("ProgType")),
        con_ref_number=get("ConRefNumber"),
        comp_status=i("CompStatus", get("CompStatus")),
        learn_act_end_date=d("LearnActEndDate", get("LearnActEndDate")),
        withdraw_reason=i("WithdrawReason", get("WithdrawReason")),
        outcome=i("Outcome", get("Outcome")),
        ach_date=d("AchDate", get("AchDate")),
        fams=tuple(fams),
        add_hours=i("AddHours", get("AddHours")),
    )


def _fam(elem: etree._Element, prefix: int, values: _Values) -> IlrFam:
    """One ``LearningDeliveryFAM`` (its leaves read inline, the last one wins)."""
    kind = code = date_from = date_to = None
    for child in elem:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = tag[prefix:]
        text = child.text
        text = None if text is None else (text.strip() or None)
        if name == "LearnDelFAMType":
            kind = text
        elif name == "LearnDelFAMCode":
            code = text
        elif name == "LearnDelFAMDateFrom":
            date_from = text
        elif name == "LearnDelFAMDateTo":
            date_to = text
    return IlrFam(
        kind or "",
        code or "",
        None if date_from is None else values.date("LearnDelFAMDateFrom", date_from),
        None if date_to is None else values.date("LearnDelFAMDateTo", date_to),
    )
