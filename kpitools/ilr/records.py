"""Typed records of an ILR ``Learner`` element: its aims, FAMs and employment statuses.

Built by :func:`learner_from_element` from an element the streaming reader
(:mod:`kpitools.ilr.reader`) has just parsed; a bad date or number is recorded on the
learner as a problem, never raised, so the mapping can reject that learner alone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, NamedTuple, TypeVar

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
        fams, codes = _grouped(self.fams)
        object.__setattr__(self, "_fams_by_type", fams)
        object.__setattr__(self, "_codes_by_type", codes)

    def fam_codes(self, fam_type: str) -> tuple[str, ...]:
        """Codes of every FAM of ``fam_type`` on this aim."""
        return self._codes_by_type.get(fam_type, ())

    def fams_of(self, fam_type: str) -> tuple[IlrFam, ...]:
        """Every FAM of ``fam_type`` on this aim, in the file's order."""
        return self._fams_by_type.get(fam_type, ())


def _grouped(
    fams: tuple[IlrFam, ...],
) -> tuple[dict[str, tuple[IlrFam, ...]], dict[str, tuple[str, ...]]]:
    """An aim's FAMs and their codes by FAM type, each in the file's order."""
    by_type: dict[str, tuple[IlrFam, ...]] = {}
    codes: dict[str, tuple[str, ...]] = {}
    for fam in fams:
        kind = fam.fam_type
        by_type[kind] = by_type.get(kind, ()) + (fam,)
        codes[kind] = codes.get(kind, ()) + (fam.code,)
    return by_type, codes


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


_Record = TypeVar("_Record", IlrLearner, IlrDelivery, IlrEmployment, IlrFam)


def text_of(elem: etree._Element | None) -> str | None:
    """An element's stripped text, or None when absent or blank."""
    return None if elem is None else _stripped(elem.text)


def _stripped(text: str | None) -> str | None:
    return None if text is None else (text.strip() or None)


# What each child element is, by its full tag ("{namespace}Name"): the index of its text
# among its parent's values, or one of these kinds of nested element. A child whose tag
# is not here (another ILR field, a comment or processing instruction, whose tag is not
# a string) is skipped unread.
_AIM = -1
_EMPLOYMENT = -2
_MONITORING = -3
_FAM = -4

_LEARNER_FIELDS = (
    "LearnRefNumber",
    "ULN",
    "FamilyName",
    "GivenNames",
    "DateOfBirth",
    "PlanLearnHours",
    "Postcode",
    "NINumber",
)
_DELIVERY_FIELDS = (
    "LearnAimRef",
    "AimType",
    "AimSeqNumber",
    "LearnStartDate",
    "LearnPlanEndDate",
    "FundModel",
    "ProgType",
    "ConRefNumber",
    "CompStatus",
    "LearnActEndDate",
    "WithdrawReason",
    "Outcome",
    "AchDate",
    "AddHours",
)
_EMPLOYMENT_FIELDS = ("EmpStat", "DateEmpStatApp", "EmpId")
_MONITORING_FIELDS = ("ESMType", "ESMCode")
_FAM_FIELDS = ("LearnDelFAMType", "LearnDelFAMCode", "LearnDelFAMDateFrom", "LearnDelFAMDateTo")


class _Tags(NamedTuple):
    """Full tag → index or kind (above), for the children of each element read."""

    learner: dict[str, int]
    delivery: dict[str, int]
    employment: dict[str, int]
    monitoring: dict[str, int]
    fam: dict[str, int]


@functools.lru_cache(maxsize=8)
def _tags(ns: str) -> _Tags:
    """The tags of namespace ``ns`` (a pure function memoised: one table per ILR year)."""

    def table(names: tuple[str, ...], **nested: int) -> dict[str, int]:
        found = {f"{{{ns}}}{name}": index for index, name in enumerate(names)}
        return found | {f"{{{ns}}}{name}": kind for name, kind in nested.items()}

    return _Tags(
        learner=table(_LEARNER_FIELDS, LearningDelivery=_AIM, LearnerEmploymentStatus=_EMPLOYMENT),
        delivery=table(_DELIVERY_FIELDS, LearningDeliveryFAM=_FAM),
        employment=table(_EMPLOYMENT_FIELDS, EmploymentStatusMonitoring=_MONITORING),
        monitoring=table(_MONITORING_FIELDS),
        fam=table(_FAM_FIELDS),
    )


_Problems = list[tuple[str, str, str, str]]


def _frozen(cls: type[_Record], values: dict[str, object]) -> _Record:
    """A record of the frozen dataclass ``cls`` with ``values`` (every field, private
    ones included) as its attributes, set at once: the generated ``__init__`` of a
    frozen dataclass sets each field through ``object.__setattr__``, which made building
    the records most of an ILR file's reading (a national period builds over 200,000)."""
    record = object.__new__(cls)
    object.__setattr__(record, "__dict__", values)
    return record


def learner_from_element(elem: etree._Element, ns: str, position: int) -> IlrLearner:
    """Build an :class:`IlrLearner` from a parsed ``Learner`` element of namespace ``ns``.

    Each element's children are walked once, their texts kept raw by index (the last
    one of a name wins) and only then stripped and typed; a bad value is recorded in
    ``problems`` in the order the fields are read: the nested elements' in document
    order, then the learner's own."""
    tags = _tags(ns)
    slots = tags.learner
    problems: _Problems = []
    texts: list[str | None] = [None] * len(_LEARNER_FIELDS)
    employments: list[IlrEmployment] = []
    deliveries: list[IlrDelivery] = []
    for child in elem:
        slot = slots.get(child.tag)  # type: ignore[arg-type]  # a comment's tag is not a str
        if slot is None:
            continue
        if slot >= 0:
            texts[slot] = child.text
        elif slot == _AIM:
            deliveries.append(_delivery(child, tags, problems))
        else:
            employments.append(_employment(child, tags, problems))
    ref, uln, family, given, born, hours, postcode, ni_number = texts
    date_of_birth = _date("DateOfBirth", born, problems)
    plan_learn_hours = _int("PlanLearnHours", hours, problems)
    return _frozen(
        IlrLearner,
        {
            "position": position,
            "line": elem.sourceline or 0,
            "learn_ref_number": _stripped(ref),
            "uln": _stripped(uln),
            "family_name": _stripped(family),
            "given_names": _stripped(given),
            "employments": tuple(employments),
            "deliveries": tuple(deliveries),
            "problems": tuple(problems),
            "date_of_birth": date_of_birth,
            "plan_learn_hours": plan_learn_hours,
            "postcode": _stripped(postcode),
            "ni_number": _stripped(ni_number),
        },
    )


def _date(field: str, raw: str | None, problems: _Problems) -> date | None:
    """The date of an element's raw text (None when absent or blank); a bad one is
    recorded in ``problems``."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append((field, text, "not a date (YYYY-MM-DD)", "BAD-DATE"))
        return None


def _int(field: str, raw: str | None, problems: _Problems) -> int | None:
    """The whole number of an element's raw text (None when absent or blank); a bad one
    is recorded in ``problems``."""
    if raw is None:
        return None
    number = _SMALL_INTS.get(raw)  # a clean code: its text needs no stripping
    if number is not None:
        return number
    text = raw.strip()
    if not text:
        return None
    number = _SMALL_INTS.get(text)
    if number is None:
        if not (text.isascii() and text.isdigit() and len(text) <= 9):
            problems.append((field, text, "not a whole number", "BAD-INT"))
            return None
        number = int(text)
    return number


# The codes (FundModel, ProgType, CompStatus ...) and most sequence numbers, looked up:
# a national period reads half a million of them.
_SMALL_INTS = {str(number): number for number in range(100)}


def _employment(elem: etree._Element, tags: _Tags, problems: _Problems) -> IlrEmployment:
    slots = tags.employment
    texts: list[str | None] = [None] * len(_EMPLOYMENT_FIELDS)
    monitoring: list[tuple[str, str]] = []
    for child in elem:
        slot = slots.get(child.tag)  # type: ignore[arg-type]  # a comment's tag is not a str
        if slot is None:
            continue
        if slot >= 0:
            texts[slot] = child.text
        else:
            esm_type, esm_code = _leaf_texts(child, tags.monitoring, len(_MONITORING_FIELDS))
            monitoring.append((_stripped(esm_type) or "", _stripped(esm_code) or ""))
    emp_stat, applies, emp_id = texts
    return _frozen(
        IlrEmployment,
        {
            "emp_stat": _int("EmpStat", emp_stat, problems),
            "date_applies": _date("DateEmpStatApp", applies, problems),
            "emp_id": _stripped(emp_id),
            "monitoring": tuple(monitoring),
        },
    )


def _delivery(elem: etree._Element, tags: _Tags, problems: _Problems) -> IlrDelivery:
    slots = tags.delivery
    texts: list[str | None] = [None] * len(_DELIVERY_FIELDS)
    fam_texts: list[tuple[str | None, ...]] = []
    for child in elem:
        slot = slots.get(child.tag)  # type: ignore[arg-type]  # a comment's tag is not a str
        if slot is None:
            continue
        if slot >= 0:
            texts[slot] = child.text
        else:
            fam_texts.append(_leaf_texts(child, tags.fam, len(_FAM_FIELDS)))
    (ref, aim_type, seq, start, plan_end, fund, prog, contract, comp, act_end, withdraw,
     outcome, ach, add_hours) = texts  # fmt: skip
    fams = _fams(tuple(fam_texts))
    problems += fams.problems
    # read in this order, the order of the problems
    return _frozen(
        IlrDelivery,
        {
            "learn_aim_ref": _stripped(ref) or "",
            "aim_type": _int("AimType", aim_type, problems),
            "aim_seq_number": _int("AimSeqNumber", seq, problems),
            "learn_start_date": _date("LearnStartDate", start, problems),
            "learn_plan_end_date": _date("LearnPlanEndDate", plan_end, problems),
            "fund_model": _int("FundModel", fund, problems),
            "prog_type": _int("ProgType", prog, problems),
            "con_ref_number": _stripped(contract),
            "comp_status": _int("CompStatus", comp, problems),
            "learn_act_end_date": _date("LearnActEndDate", act_end, problems),
            "withdraw_reason": _int("WithdrawReason", withdraw, problems),
            "outcome": _int("Outcome", outcome, problems),
            "ach_date": _date("AchDate", ach, problems),
            "fams": fams.fams,
            "add_hours": _int("AddHours", add_hours, problems),
            "_fams_by_type": fams.by_type,
            "_codes_by_type": fams.codes,
        },
    )


def _leaf_texts(elem: etree._Element, slots: dict[str, int], size: int) -> tuple[str | None, ...]:
    """The raw texts of an element's leaves, by their index in ``slots`` (the last one of
    a name wins)."""
    texts: list[str | None] = [None] * size
    for child in elem:
        slot = slots.get(child.tag)  # type: ignore[arg-type]  # a comment's tag is not a str
        if slot is not None:
            texts[slot] = child.text
    return tuple(texts)


class _AimFams(NamedTuple):
    """An aim's FAMs as read, grouped by type, and the problems of their dates."""

    fams: tuple[IlrFam, ...]
    by_type: dict[str, tuple[IlrFam, ...]]
    codes: dict[str, tuple[str, ...]]
    problems: tuple[tuple[str, str, str, str], ...]


@functools.lru_cache(maxsize=1024)
def _fams(texts: tuple[tuple[str | None, ...], ...]) -> _AimFams:
    """An aim's FAMs from the raw texts of each one's leaves (:data:`_FAM_FIELDS`).

    A pure function memoised: most aims of a file carry the same few FAMs (the source of
    funding, full or co-funded), so they are built once and shared, as immutable as the
    aims (the grouping is private and only read)."""
    problems: _Problems = []
    fams = tuple(
        _frozen(
            IlrFam,
            {
                "fam_type": _stripped(kind) or "",
                "code": _stripped(code) or "",
                "date_from": _date("LearnDelFAMDateFrom", date_from, problems),
                "date_to": _date("LearnDelFAMDateTo", date_to, problems),
            },
        )
        for kind, code, date_from, date_to in texts
    )
    by_type, codes = _grouped(fams)
    return _AimFams(fams, by_type, codes, tuple(problems))
