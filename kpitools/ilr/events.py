"""One ILR learner's Skills Bootcamp aims → rows of ``learners``, ``interviews``,
``outcomes`` (and the reconciliation facts), used by :mod:`kpitools.ilr.mapping`.

The event codes live here, in one place each: event aims (the mechanism for starts up
to 31 July 2025) and event indicators (``EVI``, from 1 August 2025; the code table is
data, ``kpitools/ilr/evi_codes.csv``, with each code's source). Both are read whatever
the start date: a file that uses the wrong one is reported by DfE's rules
(:mod:`kpitools.ilr.dfe_rules`, R_152 / R_154), never silently dropped.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources

from kpitools.ilr.records import IlrDelivery, IlrEmployment, IlrLearner
from kpitools.returns.contract import UNKNOWN_FROM_ILR
from kpitools.rules import (
    EVENT_KINDS,
    INTERVIEW_OFFER,
    NEW_ROLE_OFFER,
    SELF_EMPLOYMENT_PLAN,
    UNSPECIFIED_EVENT,
)

BOOTCAMP_FUND_MODEL = 37
BOOTCAMP_PROG_TYPE = 32
BOOTCAMP_SOF = "105"
PROGRAMME_AIM_REF = "ZPROG001"
EVENT_INDICATOR_FAM = "EVI"

EVENT_AIMS: dict[str, str] = {
    # Provider support manual 2022-23 to 2024-25, "Skills Bootcamps in the ILR".
    "Z0059747": INTERVIEW_OFFER,  # offer of an interview for a role matching the skills
    "Z0059748": NEW_ROLE_OFFER,  # new role / added responsibilities, existing employer
    "Z0059749": SELF_EMPLOYMENT_PLAN,  # plan for new self-employment opportunities
}
HGV_EVENT_AIMS = frozenset({"Z0060439", "Z0009541", "Z0060440", "Z0060441", "Z0060442", "Z0060443"})
"""The HGV event aims DfE's rules R_150, R_154 and LearnAimRef_154 name; what each
records is not in those rules, so they are read as events of unspecified kind. (DfE's
own 2025-26 sample records Z0009541 as an HGV programme's component aim.)"""

BOOTCAMPS_IN_ILR_FROM = date(2022, 8, 1)
"""Skills Bootcamps are in the ILR for starts from this date (DfE's LearnStartDate_21:
FundModel 37 is not valid before it); earlier starts cannot be in a provider's ILR."""

EVENT_INDICATORS_FROM = date(2025, 8, 1)
"""Programmes whose earliest start on the contract is on or after this date record
events as EVI indicators, earlier ones as event aims (DfE rules R_152, R_154)."""


@dataclass(frozen=True)
class EventIndicator:
    """One row of ``kpitools/ilr/evi_codes.csv``: an EVI code, the event kpitools reads
    it as, how sure that is (``assumed`` / ``seen`` / ``params``) and the source."""

    code: str
    event: str
    status: str
    source: str


def _load_event_indicators() -> dict[str, EventIndicator]:
    text = resources.files("kpitools.ilr").joinpath("evi_codes.csv").read_text("utf-8")
    table = {
        row["code"]: EventIndicator(row["code"], row["event"], row["status"], row["source"])
        for row in csv.DictReader(text.splitlines())
    }
    unknown = {e.event for e in table.values()} - set(EVENT_KINDS)
    if unknown:  # a broken package file is a programming error
        raise ValueError(f"evi_codes.csv: unknown event kinds {sorted(unknown)}")
    return table


EVENT_INDICATORS: dict[str, EventIndicator] = _load_event_indicators()
"""EVI code → :class:`EventIndicator`, as shipped (see docs/ilr.md for provenance)."""


def event_indicator_table(extra: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """EVI code → event kind: the shipped table, extended (or overridden) by ``extra``
    pairs from the params (the rule ``ilr_event_indicators``)."""
    table = {code: row.event for code, row in EVENT_INDICATORS.items()}
    table.update({_evi_code(code): event for code, event in extra})
    return table


def _evi_code(code: str) -> str:
    """EVI codes compared without leading zeros (``"04"`` is code 4)."""
    return code.strip().lstrip("0") or "0"


def evi_event(fam_code: str, table: Mapping[str, str]) -> str | None:
    """The event kind of an EVI code, or None when the code is not in ``table``."""
    return table.get(_evi_code(fam_code))


WITHDRAW_REASONS: dict[int, str] = {
    # ILR specification, WithdrawReason: the codes named in docs/ilr.md; any other code
    # is shown as its number. No reason excludes a drop-out (the guidance counts all).
    2: "transferred to another provider",
    3: "injury or illness",
    29: "made redundant",
    43: "financial reasons",
    44: "other personal reasons",
    98: "reason not known",
}

ILR_METHOD: tuple[tuple[str, str], ...] = (
    (
        "Bootcamps",
        "a Skills Bootcamp aim has FundModel 37, ProgType 32 and SOF 105; each contract"
        " (ConRefNumber) of a learner is one learner row. A contract without a dated"
        " programme aim (ZPROG001, AimType 1), e.g. a stray component (DfE R_135), rejects"
        " that bootcamp alone: the learner's other bootcamps are mapped.",
    ),
    (
        "Restarts",
        "an earlier programme aim on a contract is history only when it ended in a break"
        " (CompStatus 6) and the next restarts it (RES); any other later programme aim is"
        " ILR-REENROLLED and the earlier withdrawal or completion still counts (a drop-out"
        " after M1 never disappears). The start is the first programme aim's.",
    ),
    (
        "M1",
        "not in the ILR: the start + m1_qualifying_days (rule), unless the learner withdrew"
        " before it or the files were prepared before it.",
    ),
    (
        "Withdrawal reported",
        "the preparation date of the first file of the last unbroken run of files showing"
        " the learner withdrawn (a withdrawal keyed in error and undone leaves nothing);"
        " blank with one file; late (DROP-LATE-REPORT) more than withdrawal_report_months"
        " after the withdrawal.",
    ),
    (
        "Evidence",
        "interview offers (EVI codes, event aims), new-role and self-employment events and"
        " AchDate are kept with role type unknown and no skills match: the KPIs needing"
        " them count such learners as unverified, beside the figure and in the"
        " verification sample; never INT-NONE, M2-NO-EVIDENCE or 'not a job'.",
    ),
    (
        "Provider",
        "each file's Header/Source/UKPRN, LearningProvider/UKPRN and file name, and"
        " provider.csv's ukprn, must name one provider: else ILR-UKPRN-MISMATCH (high).",
    ),
    (
        "Duplicates",
        "a LearnRefNumber twice in one file: the first record is mapped, the second"
        " rejected, DUP-ROW lists both.",
    ),
    (
        "Files",
        "each collection year's latest file gives the current state; earlier months' files"
        " are read for when withdrawals were reported; every file, used or superseded, is"
        " an input with its SHA-256.",
    ),
)
"""How kpitools reads a provider's ILR, in words: ``kpitools rules`` prints it with the
method statement (docs/ilr.md says the same at length)."""

OUTCOME_TYPE_BY_LEARNER_TYPE = {
    "independent": "new_job",
    "co-funded": "new_role",
    "self-employed": "self_employment_plan",
}


@dataclass
class MappedLearner:
    """The rows one ``Learner`` element gives, keyed by (learner_ref, bootcamp_id).

    Attributes:
        keys: the bootcamps mapped.
        tables: their rows, per contract table (and ``learner_facts``).
        rejected: rejected-row entries (table, source, column, value, reason, rule): a
            learner-level problem rejects the learner (column ``LearnRefNumber`` or the
            field that cannot be read), a contract-level one only that bootcamp (column
            ``ConRefNumber``, value the contract).
        rejected_bootcamps: how many bootcamps (or learners, for a learner-level
            problem) the entries reject: read = mapped + rejected.
        notes: plain-language remarks.
        reenrolled: (bootcamp_id, earlier programme aim, later one, why) for each later
            programme aim on a contract that does not restart a break (ILR-REENROLLED).
    """

    keys: list[tuple[str, str]] = field(default_factory=list)
    tables: dict[str, list[dict[str, object]]] = field(default_factory=lambda: defaultdict(list))
    rejected: list[dict[str, object]] = field(default_factory=list)
    rejected_bootcamps: int = 0
    notes: list[str] = field(default_factory=list)
    reenrolled: list[tuple[str, IlrDelivery, IlrDelivery, str]] = field(default_factory=list)


RESTART_FAM = "RES"
"""The restart indicator: a programme aim that restarts one ended by a break."""


@dataclass(frozen=True)
class ContractState:
    """What a learner's programme aims on one contract say, read as the addendum of
    2026-12-07 reads them.

    An earlier programme aim is history only when it ended in a break in learning
    (``CompStatus`` 6) and the next one restarts it (``RES``); any other later programme
    aim is a re-enrolment, and the earlier one's withdrawal or completion still counts.

    Attributes:
        programmes: the programme aims, oldest first.
        start: the first programme aim's start (when the learner started and earned M1).
        withdrawn: the first programme aim that ended withdrawn (``CompStatus`` 3) once
            restarts are followed, or None: a drop-out never disappears because the
            learner enrolled again.
        completed: likewise the first completed one (``CompStatus`` 2).
        counted: the aim whose status describes the learner: the withdrawn one, else the
            completed one, else the latest.
        reenrolments: (earlier, later, why) for each later aim that is not a restart.
    """

    programmes: tuple[IlrDelivery, ...]
    start: date
    withdrawn: IlrDelivery | None
    completed: IlrDelivery | None
    counted: IlrDelivery
    reenrolments: tuple[tuple[IlrDelivery, IlrDelivery, str], ...]


def contract_state(programmes: list[IlrDelivery]) -> ContractState:
    """The :class:`ContractState` of one contract's programme aims (oldest first, each
    with a start date; at least one)."""
    ends: list[IlrDelivery] = []  # each enrolment's latest aim, after its restarts
    reenrolments: list[tuple[IlrDelivery, IlrDelivery, str]] = []
    for earlier, later in zip(programmes, programmes[1:], strict=False):
        if earlier.comp_status == 6 and later.fams_of(RESTART_FAM):
            continue  # a restart after a break: the earlier aim is history
        ends.append(earlier)
        reenrolments.append((earlier, later, _why_reenrolled(earlier)))
    ends.append(programmes[-1])
    withdrawn = next((a for a in ends if a.comp_status == 3), None)
    completed = next((a for a in ends if a.comp_status == 2), None)
    starts = [a.learn_start_date for a in programmes if a.learn_start_date is not None]
    return ContractState(
        programmes=tuple(programmes),
        start=min(starts),
        withdrawn=withdrawn,
        completed=completed,
        counted=withdrawn or completed or programmes[-1],
        reenrolments=tuple(reenrolments),
    )


def _why_reenrolled(earlier: IlrDelivery) -> str:
    ended = earlier.learn_act_end_date.isoformat() if earlier.learn_act_end_date else "no date"
    if earlier.comp_status == 3:
        return f"withdrawn on {ended}; the withdrawal still counts"
    if earlier.comp_status == 2:
        return f"completed on {ended}; the completion still counts"
    if earlier.comp_status == 6:
        return f"ended by a break in learning on {ended}, not restarted with RES"
    return f"still open (CompStatus {earlier.comp_status if earlier.comp_status else 'none'})"


def is_bootcamp_aim(aim: IlrDelivery) -> bool:
    """FundModel 37, ProgType 32 and a SOF 105 FAM (ILR specification)."""
    return (
        aim.fund_model == BOOTCAMP_FUND_MODEL
        and aim.prog_type == BOOTCAMP_PROG_TYPE
        and BOOTCAMP_SOF in aim.fam_codes("SOF")
    )


def is_bootcamp_learner(learner: IlrLearner) -> bool:
    """A learner with at least one Skills Bootcamp aim."""
    return any(is_bootcamp_aim(d) for d in learner.deliveries)


def is_bootcamp_related(learner: IlrLearner) -> bool:
    """A learner DfE's bootcamp rules may concern: an aim with FundModel 37 or ProgType 32
    or an event indicator, even when it is not coded as a whole bootcamp aim."""
    return any(
        d.fund_model == BOOTCAMP_FUND_MODEL
        or d.prog_type == BOOTCAMP_PROG_TYPE
        or bool(d.fams_of(EVENT_INDICATOR_FAM))
        for d in learner.deliveries
    )


def is_event_aim(aim: IlrDelivery) -> bool:
    """An event aim (Z0059747/8/9 or an HGV event aim) of ``AimType`` 3."""
    ref = aim.learn_aim_ref.upper()
    return aim.aim_type == 3 and (ref in EVENT_AIMS or ref in HGV_EVENT_AIMS)


def programme_aims(aims: Iterable[IlrDelivery]) -> list[IlrDelivery]:
    """The programme aims (``AimType`` 1) among ``aims``, oldest first (start date, then
    ``AimSeqNumber``): after a break and restart the last one is the live programme."""
    found = [a for a in aims if a.aim_type == 1]
    return sorted(found, key=lambda a: (a.learn_start_date or date.min, a.aim_seq_number or 0))


def m1_from_start(
    start: date, withdrawal: date | None, *, days: int, as_known: date
) -> date | None:
    """M1 for an ILR-only learner **(rule)**: start + ``days``, unless the learner
    withdrew before that day or the files were prepared before it.

    >>> m1_from_start(date(2023, 3, 1), None, days=7, as_known=date(2023, 3, 31))
    datetime.date(2023, 3, 8)
    """
    m1 = start + timedelta(days=days)
    if m1 > as_known or (withdrawal is not None and withdrawal < m1):
        return None
    return m1


def bootcamp_programmes(aims: Iterable[IlrDelivery]) -> list[IlrDelivery]:
    """The bootcamp programme aims (``ZPROG001``, ``AimType`` 1) among ``aims``, oldest
    first."""
    return [a for a in programme_aims(aims) if a.learn_aim_ref.upper() == PROGRAMME_AIM_REF]


def learner_rows(
    learner: IlrLearner,
    source: str,
    *,
    m1_days: int,
    as_known: date,
    event_indicators: Mapping[str, str],
) -> MappedLearner:
    """Rows for each bootcamp (``ConRefNumber``) of one learner, or rejections.

    A value that cannot be read or a blank ``LearnRefNumber`` rejects the learner; a
    contract without a dated programme aim (DfE's R_135 when it holds a component) or
    bootcamp aims without a contract reject that bootcamp only, and the learner's other
    bootcamps are mapped.

    Args:
        learner: the learner as read.
        source: ``file:line`` of the ``Learner`` element.
        m1_days: days from start to M1 (rule).
        as_known: the latest file preparation date.
        event_indicators: EVI code → event kind (:func:`event_indicator_table`).
    """
    mapped = MappedLearner()
    by_bootcamp: dict[str | None, list[IlrDelivery]] = defaultdict(list)
    for aim in learner.deliveries:
        if is_bootcamp_aim(aim):
            by_bootcamp[aim.con_ref_number].append(aim)
    problems = list(learner.problems)
    if not learner.learn_ref_number:
        problems.append(("LearnRefNumber", "", "required value is blank", "REQUIRED"))
    if problems:
        mapped.rejected = [_rejection(source, *problem) for problem in problems]
        mapped.rejected_bootcamps = max(1, len(by_bootcamp))
        return mapped
    for con_ref, aims in by_bootcamp.items():
        programmes = bootcamp_programmes(aims)
        if con_ref is None:
            mapped.rejected.append(
                _rejection(
                    source,
                    "ConRefNumber",
                    "",
                    "bootcamp aim(s) without a contract reference",
                    "REQUIRED",
                )
            )
        elif not programmes or any(a.learn_start_date is None for a in programmes):
            stray = any(a.aim_type == 3 for a in aims) and not programmes
            mapped.rejected.append(
                _rejection(
                    source,
                    "ConRefNumber",
                    con_ref,
                    "bootcamp without a programme aim (ZPROG001, AimType 1) with a"
                    " LearnStartDate"
                    + (" on this contract: a stray component (DfE R_135)" if stray else ""),
                    "REQUIRED",
                )
            )
        else:
            _add_bootcamp(
                mapped,
                learner,
                con_ref,
                aims,
                programmes,
                source,
                m1_days,
                as_known,
                event_indicators,
            )
            continue
        mapped.rejected_bootcamps += 1
    return mapped


def _rejection(source: str, column: str, value: str, reason: str, rule: str) -> dict[str, object]:
    return {
        "table": "learners",
        "source": source,
        "column": column,
        "value": value,
        "reason": reason,
        "rule": rule,
    }


def status_at_start(
    employments: tuple[IlrEmployment, ...], start: date
) -> tuple[IlrEmployment | None, bool]:
    """The employment status that applies at ``start``: the latest dated on or before
    it; else (real files, DfE's sample included, date it later) the earliest dated after
    it. Returns the status and whether it is one dated after the start."""
    dated = sorted(
        ((applies, e) for e in employments if (applies := e.date_applies) is not None),
        key=lambda pair: pair[0],
    )
    before = [e for applies, e in dated if applies <= start]
    if before:
        return before[-1], False
    return (dated[0][1], True) if dated else (None, False)


def _events(aims: list[IlrDelivery], table: Mapping[str, str]) -> list[tuple[str, date]]:
    """(kind, date) of every event on the contract, from event aims (dated by their
    start) and event indicators (dated from), whichever the file uses. EVI codes not
    in ``table`` are left out here and reported by the rules (ILR-EVI-CODE-UNKNOWN)."""
    events: list[tuple[str, date]] = []
    for aim in aims:
        ref = aim.learn_aim_ref.upper()
        # An HGV aim spanning the learning is the programme's component, as DfE's own
        # sample records Z0009541; an event aim starts and ends on the event's day.
        if (
            is_event_aim(aim)
            and aim.learn_start_date is not None
            and (ref in EVENT_AIMS or aim.learn_start_date == aim.learn_plan_end_date)
        ):
            events.append((EVENT_AIMS.get(ref, UNSPECIFIED_EVENT), aim.learn_start_date))
        for fam in aim.fams:
            kind = evi_event(fam.code, table) if fam.fam_type == EVENT_INDICATOR_FAM else None
            if kind is not None and fam.date_from is not None:
                events.append((kind, fam.date_from))
    return sorted(events, key=lambda e: e[1])


def _add_bootcamp(
    mapped: MappedLearner,
    learner: IlrLearner,
    con_ref: str,
    aims: list[IlrDelivery],
    programmes: list[IlrDelivery],
    source: str,
    m1_days: int,
    as_known: date,
    table: Mapping[str, str],
) -> None:
    state = contract_state(programmes)
    start = state.start
    ref = str(learner.learn_ref_number)
    status, after_start = status_at_start(learner.employments, start)
    if after_start and status is not None:
        mapped.notes.append(
            f"{source}: no employment status dated on or before the start"
            f" {start.isoformat()}; the one dated {status.date_applies} is used"
        )
    mapped.reenrolled += [(con_ref, *pair) for pair in state.reenrolments]
    cofunded = any("2" in a.fam_codes("FFI") for a in aims)  # the programmes among them
    self_employed = bool(status and status.has("SEI", "1"))
    learner_type = "co-funded" if cofunded else "self-employed" if self_employed else "independent"
    employer_id = status.emp_id if (cofunded and status) else None
    withdrawal = state.withdrawn.learn_act_end_date if state.withdrawn else None
    completion = state.completed.learn_act_end_date if state.completed else None
    events = _events(aims, table)
    unspecified = sum(kind == UNSPECIFIED_EVENT for kind, _ in events)
    if unspecified:
        mapped.notes.append(
            f"{source}: {unspecified} event(s) of unpublished meaning (HGV event"
            " aims or EVI codes seen only in DfE's sample) read, not turned into interviews"
            " or outcomes"
        )
    new_role = [d for kind, d in events if kind == NEW_ROLE_OFFER]
    base: dict[str, object] = {"learner_ref": ref, "bootcamp_id": con_ref, "source": source}
    mapped.keys.append((ref, con_ref))
    mapped.tables["learners"].append(
        {
            **base,
            "uln": learner.uln,
            "learner_type": learner_type,
            "employer_id": employer_id,
            "wants_interview": learner_type == "independent",
            "start_date": start,
            "m1_date": m1_from_start(start, withdrawal, days=m1_days, as_known=as_known),
            "withdrawal_date": withdrawal,
            "withdrawal_reported_date": None,
            "completion_date": completion,
            "new_role_evidence_date": new_role[0] if new_role else None,
            "given_name": learner.given_names,
            "family_name": learner.family_name,
            "date_of_birth": learner.date_of_birth,
            "postcode": known_postcode(learner.postcode),
            "ni_number": learner.ni_number,
        }
    )
    mapped.tables["learner_facts"].append(
        {
            **base,
            "cofunded": cofunded,
            "sme": (bool(status and status.has("OET", "2")) if cofunded else None),
            "self_employed": self_employed,
            "comp_status": state.counted.comp_status,
            "withdraw_reason": state.withdrawn.withdraw_reason if state.withdrawn else None,
            "aim_seq": state.counted.aim_seq_number,
        }
    )
    achieved = [a for a in programmes if a.ach_date is not None]
    _add_event_rows(mapped, base, events, achieved, learner_type, employer_id)


UNKNOWN_POSTCODE = "ZZ99 9ZZ"
"""The ILR's postcode for one not known (ILR specification, Postcode): no postcode."""


def known_postcode(postcode: str | None) -> str | None:
    """The learner's ``Postcode``, None when the ILR says it is not known."""
    if postcode is None or "".join(postcode.split()).upper() == _UNKNOWN_POSTCODE_KEY:
        return None
    return postcode


_UNKNOWN_POSTCODE_KEY = UNKNOWN_POSTCODE.replace(" ", "")


def _add_event_rows(
    mapped: MappedLearner,
    base: Mapping[str, object],
    events: list[tuple[str, date]],
    achieved: list[IlrDelivery],
    learner_type: str,
    employer_id: str | None,
) -> None:
    """Interview offers → interviews; new-role offers and self-employment plans, and each
    programme aim's achievement (its ``AchDate``: only an AchDate makes an outcome, as
    the addendum of 2026-12-07 says; DfE's Outcome_04 reports one whose Outcome is not
    1) → outcomes. Role type and skills match are not in the ILR: they are
    :data:`~kpitools.returns.contract.UNKNOWN_FROM_ILR` (role type) and unknown (skills
    match), never invented, never "not a job"."""
    unknown = {"role_type": UNKNOWN_FROM_ILR, "matches_skills": None}
    outcomes: dict[tuple[str, date], dict[str, object]] = {}
    for kind, day in events:
        if kind == INTERVIEW_OFFER:
            mapped.tables["interviews"].append(
                {
                    **base,
                    **unknown,
                    "employer_id": None,
                    "offer_date": day,
                    "interview_date": None,
                    "role_title": None,
                }
            )
        elif kind in (NEW_ROLE_OFFER, SELF_EMPLOYMENT_PLAN):
            outcome_type = "new_role" if kind == NEW_ROLE_OFFER else "self_employment_plan"
            outcomes[(outcome_type, day)] = {
                **base,
                **unknown,
                "outcome_type": outcome_type,
                "outcome_date": day,
                "employer_id": employer_id if outcome_type == "new_role" else None,
            }
    outcome_type = OUTCOME_TYPE_BY_LEARNER_TYPE[learner_type]
    for programme in achieved:
        outcomes.setdefault(
            (outcome_type, programme.ach_date),  # type: ignore[arg-type]
            {
                **base,
                **unknown,
                "outcome_type": outcome_type,
                "outcome_date": programme.ach_date,
                "employer_id": employer_id if outcome_type == "new_role" else None,
            },
        )
    mapped.tables["outcomes"].extend(outcomes.values())
