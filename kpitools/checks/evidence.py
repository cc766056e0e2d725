"""M2-NO-EVIDENCE: a completion claimed without the evidence the guidance ties to M2."""

from __future__ import annotations

from datetime import date

import pandas as pd

from kpitools.calendar import iso
from kpitools.model import Finding, irregularity, learner_entity


def m2_without_evidence(
    learners: pd.DataFrame, interviews: pd.DataFrame, outcomes: pd.DataFrame, *, as_of: date
) -> list[Finding]:
    """M2-NO-EVIDENCE: a completer without the evidence dated on or before completion.

    Population: learners with a completion date on or before ``as_of`` (a later one is
    FUTURE-DATED, not yet an M2). The evidence required, by learner type:

    - independent, or self-employed wanting employment (``wants_interview`` Y): an
      interview offer (``interviews.offer_date``);
    - co-funded: an interview offer, or the employer's new-role evidence
      (``learners.new_role_evidence_date``);
    - any other self-employed learner: a ``self_employment_plan`` outcome.

    Any offer counts here, valid or not: whether it is valid is the guaranteed-interview
    KPI's question (INT-INVALID); this check asks whether M2 has evidence at all.

    Returns:
        One finding per completer without the evidence.
    """
    cutoff = pd.Timestamp(as_of)
    completers = learners[learners["completion_date"].notna() & (learners["completion_date"] <= cutoff)]
    first_offer = _first_date(interviews, "offer_date")
    first_plan = _first_date(
        outcomes[outcomes["outcome_type"] == "self_employment_plan"], "outcome_date"
    )
    findings: list[Finding] = []
    for row in completers.itertuples(index=False):
        key = (row.learner_ref, row.bootcamp_id)
        completion = row.completion_date
        offer_ok = _on_or_before(first_offer.get(key), completion)
        if row.learner_type == "co-funded":
            ok = offer_ok or _on_or_before(row.new_role_evidence_date, completion)
            needed = "an interview offer or the employer's new-role evidence"
        elif row.learner_type == "self-employed" and not _wants_interview(row):
            ok = _on_or_before(first_plan.get(key), completion)
            needed = "a self-employment plan outcome"
        else:
            ok = offer_ok
            needed = "an interview offer"
        if not ok:
            findings.append(irregularity(
                "M2-NO-EVIDENCE", learner_entity(row.learner_ref), [row.source],
                f"{row.learner_type} learner completed on {iso(completion, missing='blank')} "
                f"without {needed} dated on or before completion",
                str(row.bootcamp_id),
            ))
    return findings


def _wants_interview(row: object) -> bool:
    wants = row.wants_interview
    if pd.isna(wants):  # the contract default when validation left it unknown
        return row.learner_type == "independent"
    return bool(wants)


def _first_date(frame: pd.DataFrame, column: str) -> dict[tuple[str, str], pd.Timestamp]:
    """(learner_ref, bootcamp_id) → the earliest date of ``column``; rows with a blank
    key or date left out (as a groupby's min would)."""
    firsts: dict[tuple[str, str], pd.Timestamp] = {}
    blank = (frame["learner_ref"].isna() | frame["bootcamp_id"].isna()
             | frame[column].isna()).tolist()
    for ref, bootcamp, when, skip in zip(frame["learner_ref"], frame["bootcamp_id"],
                                         frame[column], blank, strict=True):
        if not skip and ((ref, bootcamp) not in firsts or when < firsts[(ref, bootcamp)]):
            firsts[(ref, bootcamp)] = when
    return firsts


def _on_or_before(evidence: object, completion: pd.Timestamp) -> bool:
    return evidence is not None and pd.notna(evidence) and evidence <= completion
