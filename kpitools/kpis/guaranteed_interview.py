"""KPI 5: a guaranteed interview for every completer who wants one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd

from kpitools.calendar import iso
from kpitools.kpis._offers import UNVERIFIED, offer_problems, same_employer, tally
from kpitools.kpis.common import (
    learner_findings,
    learner_members,
    wants_interview,
)
from kpitools.kpis.measured import bootcamp_timing, derived, measured_tables
from kpitools.kpis.summary import Measure, summarise
from kpitools.model import Finding, KpiResult
from kpitools.rules import Rules

KPI = "guaranteed_interview"
_KEY = ["learner_ref", "bootcamp_id"]


def guaranteed_interview(
    tables: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules
) -> list[KpiResult]:
    """Guaranteed interview: completers who want an interview and were offered a valid one.

    Population:
        Completers (completion_date on or before as_of) whose stated aim includes an
        interview (wants_interview = Y; default Y for independent learners, N otherwise).
    Formula:
        Completers with at least one valid interview offer dated on or before the
        completion date, divided by the population. An offer is valid when role_type is
        job, apprenticeship or accelerated_apprenticeship, matches_skills = Y, it is with
        a new employer for an independent or self-employed learner (not the learner's own
        employer_id when known), and it is not a full apprenticeship on a bootcamp with
        accelerated_apprenticeship = Y. A co-funded completer also passes with the
        employer's new-role evidence (new_role_evidence_date on or before completion).
    Exclusions:
        Offers dated after as_of are ignored (FUTURE-DATED); offers dated after the
        completion date do not count. Unverified: a completer without a valid offer (nor
        new-role evidence) whose offers on or before completion include one read from the
        ILR, which does not say the role type or the skills match ("role type unknown
        (ILR)"), is left out of numerator and denominator and counted as unverified
        beside the figure (column unverified; listed in the verification sample): never
        failed, never met, until someone verifies the offer. It has an offer, so it is
        neither INT-NONE nor M2-NO-EVIDENCE.
    Statuses:
        not_due before the first M2; each case falls due at its M2, so a failing
        completer makes a running bootcamp off_track; met / not_met once the bootcamp is
        over, judged on the verified cases (no_data when every case is unverified). INT-INVALID (offers, none valid: another interview should be identified),
        INT-NONE (no offer and no new-role evidence).
    Rules:
        (none: target 100 %)
    Guidance:
        "Learners who have a stated aim to have an interview on completion of a Skills
        Bootcamp, should be offered at least one guaranteed interview." "For independent
        learners or self-employed learner who wishes to have an interview ... completion
        Milestone 2 must include offer of an interview with a new employer. For co-funded
        learners, if an interview has not / will not take place, completion Milestone 2
        must include evidence from the employer describing the new role /
        responsibilities." "Interview must: be for an actual job (which can be an
        Apprenticeship); in the case of any learner participating in a Skills Bootcamp
        leading to an Accelerated Apprenticeship, be for an Accelerated Apprenticeship or
        another job, but not for a full-length Apprenticeship; for a role which matches
        the skills acquired." "Where it is found the job interview does not meet the KPI
        requirement, another interview should be identified."

    Args:
        tables: validated tables, by table name.
        as_of: the measurement date.
        rules: the rules in force.

    Returns:
        One KpiResult per bootcamp, then one for ALL.
    """
    measured = measured_tables(tables, as_of)
    facts = interview_cases(measured)
    cases = {
        "bootcamp_id": facts["bootcamp_id"],
        "member": learner_members(facts),
        "source": facts["source"],
        "due": facts["completion_date"],
        "passed": facts["passed"],
        "in_value": True,
        "unverified": facts["unverified_case"],
        "reason": _short_reasons(facts),
    }
    failing = facts.loc[~facts["passed"] & ~facts["unverified_case"]]
    measure = Measure(
        KPI,
        start_column="first_m2",
        counted="a valid interview offer (or, co-funded, new-role evidence) by completion",
        not_counted="no valid interview offer by completion",
    )
    return summarise(
        measure,
        cases,
        bootcamp_timing(measured, as_of),
        as_of=as_of,
        findings=_findings(failing),
    )


def interview_cases(measured: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The KPI's cases, one per completer who wants an interview: offers,
    valid_offers, unverified (offers read from the ILR, role type unknown, dated on or
    before completion), the first reason an offer is not valid, ``passed`` (a valid
    offer, or a co-funded learner's new-role evidence by completion) and
    ``unverified_case`` (not passed, an unverified offer). ``measured`` are the tables
    as at as_of (:func:`~kpitools.kpis.measured.measured_tables`); shared with the
    verification sample (:mod:`kpitools.kpis.unverified`), built once per measured
    tables."""
    return derived(measured, "interview_cases", lambda: _interview_cases(measured))


def _interview_cases(measured: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    learners = measured["learners"]
    wanted = learners.loc[learners["completion_date"].notna() & wants_interview(learners)]
    facts = _offer_facts(wanted, measured["interviews"], measured["bootcamps"])
    evidence = facts["learner_type"].eq("co-funded") & facts["new_role_evidence_date"].le(
        facts["completion_date"]
    )
    passed = facts["valid_offers"].gt(0) | evidence
    return facts.assign(passed=passed, unverified_case=~passed & facts["unverified"].gt(0))


def _offer_facts(
    learners: pd.DataFrame, interviews: pd.DataFrame, bootcamps: pd.DataFrame
) -> pd.DataFrame:
    """Per learner: offers, valid_offers, unverified and the first reason an offer is
    not valid."""
    columns = [
        *_KEY,
        "learner_type",
        "employer_id",
        "completion_date",
        "new_role_evidence_date",
        "source",
    ]
    people = learners[columns].rename(columns={"employer_id": "own_employer"})
    offers = interviews[[*_KEY, "employer_id", "offer_date", "role_type", "matches_skills"]]
    offers = offers.merge(people, on=_KEY).merge(
        bootcamps[["bootcamp_id", "accelerated_apprenticeship"]], on="bootcamp_id", how="left"
    )
    must_move = offers["learner_type"].ne("co-funded")
    problems = offer_problems(
        offers["role_type"],
        offers["matches_skills"],
        offers["accelerated_apprenticeship"].fillna(False),
        must_move & same_employer(offers["employer_id"], offers["own_employer"]),
    )
    late = offers["offer_date"].gt(offers["completion_date"])
    problems = problems.mask(late & problems.isin(["", UNVERIFIED]), "offered after completion")
    return tally(
        people, offers, problems, date_column="offer_date", counted="offers", valid="valid_offers"
    )


def _short_reasons(facts: pd.DataFrame) -> pd.Series:
    """Why each case is short, as the findings say: no offer, or none valid and the
    problem of the earliest invalid one."""
    invalid = "no valid interview offer: " + facts["problem"].astype(object).fillna("").astype(str)
    return invalid.where(facts["offers"].gt(0), "no interview offer")


def _findings(failing: pd.DataFrame) -> list[Finding]:
    none = failing.loc[failing["offers"].eq(0)]
    invalid = failing.loc[failing["offers"].gt(0)]
    messages_none = [
        f"completed on {iso(c)} with no interview offer"
        + (" and no new-role evidence" if t == "co-funded" else "")
        for c, t in zip(none["completion_date"], none["learner_type"], strict=True)
    ]
    messages_invalid = [
        f"{n} interview offer(s), none valid ({p}); another interview should be identified"
        for n, p in zip(invalid["offers"], invalid["problem"], strict=True)
    ]
    return learner_findings(none, "INT-NONE", messages=messages_none) + learner_findings(
        invalid, "INT-INVALID", messages=messages_invalid
    )
