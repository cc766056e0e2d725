"""One ILR learner's Skills Bootcamp aims → rows of ``learners``, ``interviews``,
``outcomes`` (and the reconciliation facts), used by :mod:`kpitools.ilr_mapping`.

The event codes live here, in one place each: event aims (starts up to 31 July 2025)
and event indicators (``EVI``, starts from 1 August 2025).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from kpitools.io.ilr_records import IlrDelivery, IlrEmployment, IlrLearner

BOOTCAMP_FUND_MODEL = 37
BOOTCAMP_PROG_TYPE = 32
BOOTCAMP_SOF = "105"
PROGRAMME_AIM_REF = "ZPROG001"

INTERVIEW_OFFER = "interview_offer"
NEW_ROLE_OFFER = "new_role_offer"
SELF_EMPLOYMENT_PLAN = "self_employment_plan"

EVENT_AIMS: dict[str, str] = {
    # Provider support manual 2022-23 to 2024-25, "Skills Bootcamps in the ILR".
    "Z0059747": INTERVIEW_OFFER,  # offer of an interview for a role matching the skills
    "Z0059748": NEW_ROLE_OFFER,  # new role / added responsibilities, existing employer
    "Z0059749": SELF_EMPLOYMENT_PLAN,  # plan for new self-employment opportunities
}

EVENT_INDICATORS_FROM = date(2025, 8, 1)
"""Starts on or after this date record events as EVI indicators, not event aims
(ILR 2025-26 validation rule R_154: event aims must not be used for such starts)."""

EVENT_INDICATORS: dict[str, str] = {
    # LearningDeliveryFAM type EVI, ILR specification 2025 to 2026 (introduced with the
    # DfE "Skills Bootcamps technical funding guide from August 2025", paragraph 10).
    # PROVISIONAL: the 2025-26 EVI code list could not be consulted where this was
    # written (no access to the live specification); these three codes follow the order
    # of the event aims they replace and MUST be checked against the specification.
    # An EVI code not in this table is reported in IlrTables.notes, never used silently.
    "1": INTERVIEW_OFFER,
    "2": NEW_ROLE_OFFER,
    "3": SELF_EMPLOYMENT_PLAN,
}

OUTCOME_TYPE_BY_LEARNER_TYPE = {
    "independent": "new_job", "co-funded": "new_role", "self-employed": "self_employment_plan",
}


@dataclass
class MappedLearner:
    """The rows one ``Learner`` element gives, keyed by (learner_ref, bootcamp_id)."""

    keys: list[tuple[str, str]] = field(default_factory=list)
    tables: dict[str, list[dict[str, object]]] = field(
        default_factory=lambda: defaultdict(list))
    rejected: list[dict[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def is_bootcamp_aim(aim: IlrDelivery) -> bool:
    """FundModel 37, ProgType 32 and a SOF 105 FAM (ILR specification)."""
    return (aim.fund_model == BOOTCAMP_FUND_MODEL and aim.prog_type == BOOTCAMP_PROG_TYPE
            and BOOTCAMP_SOF in aim.fam_codes("SOF"))


def is_bootcamp_learner(learner: IlrLearner) -> bool:
    """A learner with at least one Skills Bootcamp aim."""
    return any(is_bootcamp_aim(d) for d in learner.deliveries)


def m1_from_start(start: date, withdrawal: date | None, *, days: int,
                  as_known: date) -> date | None:
    """M1 for an ILR-only learner **(rule)**: start + ``days``, unless the learner
    withdrew before that day or the files were prepared before it.

    >>> m1_from_start(date(2023, 3, 1), None, days=7, as_known=date(2023, 3, 31))
    datetime.date(2023, 3, 8)
    """
    m1 = start + timedelta(days=days)
    if m1 > as_known or (withdrawal is not None and withdrawal < m1):
        return None
    return m1


def learner_rows(learner: IlrLearner, source: str, *, m1_days: int,
                 as_known: date) -> MappedLearner:
    """Rows for each bootcamp (``ConRefNumber``) of one learner, or rejections."""
    mapped = MappedLearner()
    by_bootcamp: dict[str | None, list[IlrDelivery]] = defaultdict(list)
    for aim in learner.deliveries:
        if is_bootcamp_aim(aim):
            by_bootcamp[aim.con_ref_number].append(aim)
    problems = list(learner.problems)
    if not learner.learn_ref_number:
        problems.append(("LearnRefNumber", "", "required value is blank", "REQUIRED"))
    if None in by_bootcamp:
        problems.append(("ConRefNumber", "", "bootcamp aim without a contract reference",
                         "REQUIRED"))
    for con_ref, aims in by_bootcamp.items():
        programme = _programme_aim(aims)
        start_unreadable = any(p[0] == "LearnStartDate" for p in learner.problems)
        if con_ref is not None and not start_unreadable and (
                programme is None or programme.learn_start_date is None):
            problems.append(("LearnAimRef", con_ref, "bootcamp without a programme aim"
                             " (ZPROG001, AimType 1) with a LearnStartDate", "REQUIRED"))
    if problems:
        mapped.rejected = [
            {"table": "learners", "source": source, "column": column, "value": value,
             "reason": reason, "rule": rule} for column, value, reason, rule in problems]
        return mapped
    for con_ref, aims in by_bootcamp.items():
        _add_bootcamp(mapped, learner, str(con_ref), aims, source, m1_days, as_known)
    return mapped


def _programme_aim(aims: list[IlrDelivery]) -> IlrDelivery | None:
    for aim in aims:
        if aim.aim_type == 1 and aim.learn_aim_ref.upper() == PROGRAMME_AIM_REF:
            return aim
    return None


def _status_at(employments: tuple[IlrEmployment, ...], day: date) -> IlrEmployment | None:
    """The employment status in force on ``day``: the latest applying on or before it."""
    applying = [e for e in employments if e.date_applies is not None and e.date_applies <= day]
    return max(applying, key=lambda e: e.date_applies) if applying else None  # type: ignore[arg-type,return-value]


def _events(aims: list[IlrDelivery], programme: IlrDelivery,
            notes: list[str]) -> list[tuple[str, date]]:
    """(kind, date) of every event, by the mechanism the start date calls for."""
    start = programme.learn_start_date
    assert start is not None
    events: list[tuple[str, date]] = []
    if start < EVENT_INDICATORS_FROM:
        for aim in aims:
            kind = EVENT_AIMS.get(aim.learn_aim_ref.upper())
            if kind and aim.aim_type == 3 and aim.learn_start_date is not None:
                events.append((kind, aim.learn_start_date))
        return sorted(events, key=lambda e: e[1])
    for fam in programme.fams:
        if fam.fam_type != "EVI":
            continue
        kind = EVENT_INDICATORS.get(fam.code.lstrip("0") or "0")
        if kind is None:
            notes.append(f"EVI code {fam.code!r} is not in kpitools' event indicator table;"
                         " that event was not used")
        elif fam.date_from is not None:
            events.append((kind, fam.date_from))
    return sorted(events, key=lambda e: e[1])


def _completion(aims: list[IlrDelivery], events: list[tuple[str, date]]) -> date | None:
    """Later of the achieved component aim's end and the first event (ILR mapping)."""
    ends = [a.learn_act_end_date for a in aims
            if a.aim_type == 3 and a.learn_aim_ref.upper() not in EVENT_AIMS
            and a.comp_status == 2 and a.outcome == 1 and a.learn_act_end_date is not None]
    if not ends or not events:
        return None
    return max(min(ends), events[0][1])  # type: ignore[type-var]


def _add_bootcamp(mapped: MappedLearner, learner: IlrLearner, con_ref: str,
                  aims: list[IlrDelivery], source: str, m1_days: int, as_known: date) -> None:
    programme = _programme_aim(aims)
    assert programme is not None and programme.learn_start_date is not None
    start = programme.learn_start_date
    ref = str(learner.learn_ref_number)
    status = _status_at(learner.employments, start)
    cofunded = any("2" in a.fam_codes("FFI") for a in [programme, *aims])
    self_employed = bool(status and status.has("SEI", "1"))
    learner_type = ("co-funded" if cofunded else
                    "self-employed" if self_employed else "independent")
    employer_id = status.emp_id if (cofunded and status) else None
    withdrawn = programme.comp_status == 3
    withdrawal = programme.learn_act_end_date if withdrawn else None
    events = _events(aims, programme, mapped.notes)
    completion = None if withdrawn else _completion(aims, events)
    new_role = [d for kind, d in events if kind == NEW_ROLE_OFFER]
    base = {"learner_ref": ref, "bootcamp_id": con_ref, "source": source}
    mapped.keys.append((ref, con_ref))
    mapped.tables["learners"].append({
        **base, "uln": learner.uln, "learner_type": learner_type, "employer_id": employer_id,
        "wants_interview": learner_type == "independent", "start_date": start,
        "m1_date": m1_from_start(start, withdrawal, days=m1_days, as_known=as_known),
        "withdrawal_date": withdrawal, "withdrawal_reported_date": None,
        "completion_date": completion, "new_role_evidence_date": new_role[0] if new_role else None,
        "given_name": learner.given_names, "family_name": learner.family_name,
    })
    mapped.tables["learner_facts"].append({
        **base, "cofunded": cofunded,
        "sme": (bool(status and status.has("OET", "2")) if cofunded else None),
        "self_employed": self_employed, "comp_status": programme.comp_status,
        "withdraw_reason": programme.withdraw_reason,
    })
    _add_event_rows(mapped, base, events, programme, learner_type, employer_id)


def _add_event_rows(mapped: MappedLearner, base: dict[str, object],
                    events: list[tuple[str, date]], programme: IlrDelivery,
                    learner_type: str, employer_id: str | None) -> None:
    """Interview offers → interviews; new-role offers and self-employment plans, and the
    programme aim's achievement (Outcome 1, AchDate) → outcomes. Role type and skills
    match are not in the ILR: they stay unknown."""
    unknown = {"role_type": None, "matches_skills": None}
    outcomes: dict[tuple[str, date], dict[str, object]] = {}
    for kind, day in events:
        if kind == INTERVIEW_OFFER:
            mapped.tables["interviews"].append({
                **base, **unknown, "employer_id": None, "offer_date": day,
                "interview_date": None, "role_title": None})
        else:
            outcome_type = "new_role" if kind == NEW_ROLE_OFFER else "self_employment_plan"
            outcomes[(outcome_type, day)] = {
                **base, **unknown, "outcome_type": outcome_type, "outcome_date": day,
                "employer_id": employer_id if outcome_type == "new_role" else None}
    if programme.outcome == 1 and programme.ach_date is not None:
        outcome_type = OUTCOME_TYPE_BY_LEARNER_TYPE[learner_type]
        outcomes.setdefault((outcome_type, programme.ach_date), {
            **base, **unknown, "outcome_type": outcome_type,
            "outcome_date": programme.ach_date,
            "employer_id": employer_id if outcome_type == "new_role" else None})
    mapped.tables["outcomes"].extend(outcomes.values())
