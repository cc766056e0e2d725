"""KPI 1: employer engagement at the design, delivery and post-bootcamp stages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from kpitools.kpis.employer_lists import employer_bootcamp, employer_links, list_quality
from kpitools.kpis.measured import bootcamp_timing, measured_tables
from kpitools.kpis.summary import Measure, all_of, summarise
from kpitools.model import Finding, KpiResult, employer_entity, finding, join_sources
from kpitools.returns.contract import DELIVERY_ROLES, STAGES
from kpitools.returns.period import provider_of, providers_of
from kpitools.rules import Rules

KPI = "employer_engagement"
_FAIL_RULE = {"design": "EE-DESIGN-FAIL", "delivery": "EE-DELIVERY-FAIL", "post": "EE-POST-FAIL"}
_START = {"design": "first_m1", "delivery": "first_m1", "post": "first_m2"}


def employer_engagement(
    tables: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules
) -> list[KpiResult]:
    """Employer engagement: reached employers confirming each stage's points.

    Population:
        Per stage (design, delivery, post), the active employers linked to the bootcamp
        (employers.bootcamp_ids, blank = every bootcamp) that the monitoring team reached
        in that stage (a contact with reached = Y on or before as_of; a contact naming a
        bootcamp counts for that bootcamp only). For ALL, every employer once.
    Formula:
        Reached employers that pass, divided by reached employers; the latest reached
        contact of the stage is the one that counts. Design: design_vouched = Y and
        info_correct = Y. Delivery: support_provided = Y if it has a delivery role
        (mentoring, insight_days, content, interview_prep); satisfied = Y if it has a
        delivery role or own_staff_training; will_interview = Y if it has interviewing
        or own_staff_training (the new role is confirmed; also for an employer whose
        only role is own_staff_training).
        Post: candidates_interviewed and candidates_offered given if interviewing;
        satisfied = Y if interviewing or own_staff_training; satisfaction_score of at
        least satisfaction_pass_score for every reached employer.
    Exclusions:
        Employers not reached; those with unreachable_attempts or more unreached attempts
        in a stage are listed (EE-UNREACHABLE-3, escalated to DfE) and left out of that
        stage's denominator. Dropped employers. Contacts dated after as_of (FUTURE-DATED).
    Statuses:
        not_due before the stage starts (design and delivery at the first M1, post at
        the first M2); at_risk while a reached employer fails (a later contact can put it
        right); met / not_met when the stage is over (design and delivery when the
        bootcamp is over, post outcome_window_months later). Failing employers:
        EE-DESIGN-FAIL, EE-DELIVERY-FAIL, EE-POST-FAIL; unreached employers:
        EE-UNREACHABLE-3 (see Exclusions). List quality, beside the design
        stage: EE-DETAILS-INCOMPLETE (no role, or no contact name with email or phone:
        scores 0) and EE-BID-DROPPED-UNEXPLAINED (named in the bid, dropped without a
        reason and a replacement); they do not change the figures.
    Rules:
        satisfaction_pass_score, unreachable_attempts, outcome_window_months
    Guidance:
        "Every Skills Bootcamp should be able to evidence Employer Engagement at the
        Design Stage, during the Delivery Stage and Post Skills Bootcamp Stage." Design:
        "Evidence that 100% employers listed if contacted can vouch for at least one of
        the following" and "can confirm the information provided by the supplier
        regarding their role and involvement ... is correct and up to date." Delivery:
        "confirm they are providing / have provided / will be providing the agreed
        support", "overall satisfied ... or content that the provider is addressing any
        concerns raised", "still plan to interview candidates". Post: "confirm how many
        candidates they have interviewed ... and how many candidates have been offered a
        role", "would score 3 or above." "If after 3 attempts an employer cannot be
        reached, DfE will contact the provider to understand why the employer is not
        responding."

    Args:
        tables: validated tables, by table name.
        as_of: the measurement date.
        rules: the rules in force.

    Returns:
        Per stage (design, delivery, post): one KpiResult per bootcamp, then ALL.
    """
    measured = measured_tables(tables, as_of)
    employers = measured["employers"]
    active = employers.loc[employers["status"].ne("dropped")]
    links = employer_links(active, measured["bootcamps"])
    flags = _role_flags(active)
    log = measured["employer_contacts"]
    contacts = log.loc[log["employer_id"].isin(list(flags))]  # active employers' contacts
    reached = contacts["reached"].fillna(False).astype(bool)
    # Reached contacts judged against their own stage, oldest first, so that the last of
    # a group is its latest (ties: the later row of the log).
    judged = (
        contacts.loc[
            reached,
            ["stage", "employer_id", "bootcamp_id", "attempt_date", "source", "satisfaction_score"],
        ]
        .assign(passed=_passes(contacts.loc[reached], flags, rules))
        .sort_values("attempt_date", kind="stable")
    )
    latest = judged.drop_duplicates(["stage", "employer_id"], keep="last")
    per_bootcamp = _per_bootcamp(judged, links)
    tried = _attempts(contacts.loc[~reached])
    timing = bootcamp_timing(measured, as_of)
    home = employer_bootcamp(links)
    results: list[KpiResult] = []
    for stage in STAGES:
        pooled = latest.loc[latest["stage"].eq(stage)]
        reached_employers = set(pooled["employer_id"].tolist())
        unreached = [
            (employer, sources)
            for employer, sources in tried.get(stage, {}).items()
            if employer not in reached_employers and len(sources) >= rules.unreachable_attempts
        ]
        findings = _stage_findings(stage, pooled, unreached, home)
        if stage == "design":
            findings += list_quality(employers, home)
        notes = _score_notes(pooled) if stage == "post" else None
        measure = Measure(
            KPI,
            stage=stage,
            start_column=_START[stage],
            lag_months=rules.outcome_window_months if stage == "post" else 0,
            counted=f"reached; its latest reached contact confirms the {stage}-stage points",
            not_counted=f"reached; its latest reached contact does not confirm the {stage}-stage points",
        )
        results += summarise(
            measure,
            _cases(per_bootcamp.get(stage, _NO_CASES)),
            timing,
            as_of=as_of,
            findings=findings,
            all_cases=_cases(pooled.assign(bootcamp_id=_provider_all(pooled))),
            notes=notes,
            excluded=_unreachable(unreached, home, rules),
        )
    return results


def _role_flags(employers: pd.DataFrame) -> dict[object, tuple[bool, bool, bool]]:
    """employer_id -> (has a delivery role, own_staff_training, interviewing).

    From the first row of each employer; a few dozen rows, parsed in plain Python.
    """
    flags: dict[object, tuple[bool, bool, bool]] = {}
    for employer, roles in zip(
        employers["employer_id"].tolist(), employers["roles"].tolist(), strict=True
    ):
        if employer in flags:
            continue
        names = {x.strip() for x in ("" if roles is None or pd.isna(roles) else roles).split(";")}
        flags[employer] = (
            bool(names & set(DELIVERY_ROLES)),
            "own_staff_training" in names,
            "interviewing" in names,
        )
    return flags


def _per_bootcamp(judged: pd.DataFrame, links: pd.DataFrame) -> dict[str, dict[str, list[object]]]:
    """Per stage: the cases of each bootcamp, one per (bootcamp, employer) reached.

    A case is the verdict of the latest reached contact counting for the bootcamp:
    ``judged`` is oldest first, and a contact naming a bootcamp counts for that one only.
    A few hundred contacts: plain Python is far cheaper than a merge here.
    """
    serves: dict[object, list[object]] = {}
    for employer, bootcamp in zip(
        links["employer_id"].tolist(), links["bootcamp_id"].tolist(), strict=True
    ):
        serves.setdefault(employer, []).append(bootcamp)
    latest: dict[tuple[str, object, object], tuple[bool, str]] = {}
    for stage, employer, named, unnamed, passed, source in zip(
        judged["stage"].tolist(),
        judged["employer_id"].tolist(),
        judged["bootcamp_id"].tolist(),
        judged["bootcamp_id"].isna().tolist(),
        judged["passed"].tolist(),
        judged["source"].tolist(),
        strict=True,
    ):
        for bootcamp in serves.get(employer, ()):
            if unnamed or named == bootcamp:
                latest[(stage, bootcamp, employer)] = (passed, source)
    cases: dict[str, dict[str, list[object]]] = {}
    for (stage, bootcamp, employer), (passed, source) in latest.items():
        stage_cases = cases.setdefault(stage, {name: [] for name in _NO_CASES})
        stage_cases["bootcamp_id"].append(bootcamp)
        stage_cases["employer_id"].append(employer)
        stage_cases["source"].append(source)
        stage_cases["passed"].append(passed)
    return cases


def _attempts(unreached: pd.DataFrame) -> dict[str, dict[str, list[str]]]:
    """Per stage and employer: the sources of its unreached attempts, in the log's order.

    A few hundred rows: plain Python is far cheaper than a two-key groupby here.
    """
    attempts: dict[str, dict[str, list[str]]] = {}
    for stage, employer, source in zip(
        unreached["stage"].tolist(),
        unreached["employer_id"].tolist(),
        unreached["source"].tolist(),
        strict=True,
    ):
        if not (pd.isna(stage) or pd.isna(employer)):
            attempts.setdefault(stage, {}).setdefault(employer, []).append(str(source))
    return attempts


def _passes(
    contacts: pd.DataFrame, flags: Mapping[object, tuple[bool, bool, bool]], rules: Rules
) -> pd.Series:
    """Whether each reached contact confirms the points of its own stage.

    ``flags`` are the employers' roles (:func:`_role_flags`).
    """

    def yes(column: str) -> np.ndarray:
        return contacts[column].astype("boolean").to_numpy(dtype=bool, na_value=False)

    roles = np.array([flags[e] for e in contacts["employer_id"].tolist()], dtype=bool).reshape(
        -1, 3
    )
    delivery, own, interviewing = roles[:, 0], roles[:, 1], roles[:, 2]
    satisfied = yes("satisfied")
    numbers = (
        contacts["candidates_interviewed"].notna() & contacts["candidates_offered"].notna()
    ).to_numpy()
    score = (
        contacts["satisfaction_score"]
        .astype("Float64")
        .ge(rules.satisfaction_pass_score)
        .to_numpy(dtype=bool, na_value=False)
    )
    stage = contacts["stage"].to_numpy(dtype=object)
    passed = np.select(
        [stage == "design", stage == "delivery", stage == "post"],
        [
            yes("design_vouched") & yes("info_correct"),
            (~delivery | yes("support_provided"))
            & (~(delivery | own) | satisfied)
            & (~(interviewing | own) | yes("will_interview")),
            (~interviewing | numbers) & (~(interviewing | own) | satisfied) & score,
        ],
        default=False,
    )
    return pd.Series(passed, index=contacts.index, dtype=bool)


_NO_CASES: dict[str, list[object]] = {
    "bootcamp_id": [],
    "employer_id": [],
    "source": [],
    "passed": [],
}


def _cases(latest: Mapping[str, Any]) -> dict[str, object]:
    # Each case falls due when the stage does: until then a later contact can put it right.
    return {
        "bootcamp_id": latest["bootcamp_id"],
        "member": [employer_entity(e) for e in latest["employer_id"]],
        "source": latest["source"],
        "due": pd.NaT,
        "passed": latest["passed"],
        "in_value": True,
    }


def _unreachable(
    unreached: list[tuple[str, list[str]]], home: pd.Series, rules: Rules
) -> dict[str, list[str]]:
    """The employers a stage leaves out of its denominator as unreachable, as members."""
    reason = (
        f"not reached after {rules.unreachable_attempts} or more attempts: left out of the "
        "stage's denominator (EE-UNREACHABLE-3)"
    )
    return {
        "bootcamp_id": [str(home.get(e, all_of(provider_of(e)))) for e, _ in unreached],
        "member": [employer_entity(e) for e, _ in unreached],
        "source": [join_sources(sources) for _, sources in unreached],
        "reason": [reason] * len(unreached),
    }


def _stage_findings(
    stage: str, pooled: pd.DataFrame, unreached: list[tuple[str, list[str]]], home: pd.Series
) -> list[Finding]:
    failing = pooled.loc[~pooled["passed"]]
    findings = [
        finding(
            _FAIL_RULE[stage],
            employer_entity(e),
            [src],
            f"{stage} stage: latest reached contact does not confirm the "
            f"{stage}-stage points"
            + (f" (score {score})" if stage == "post" and pd.notna(score) else ""),
            str(home.get(e, all_of(provider_of(e)))),
        )
        for e, src, score in zip(
            failing["employer_id"], failing["source"], failing["satisfaction_score"], strict=True
        )
    ]
    findings += [
        finding(
            "EE-UNREACHABLE-3",
            employer_entity(e),
            sources,
            f"{stage} stage: not reached after {len(sources)} attempts; escalate to DfE",
            str(home.get(e, all_of(provider_of(e)))),
        )
        for e, sources in unreached
    ]
    return findings


def _provider_all(pooled: pd.DataFrame) -> list[str]:
    """Each employer's provider's ``ALL``: an employer counts once, for its provider."""
    return [all_of(provider) for provider in providers_of(pooled["employer_id"]).tolist()]


def _score_notes(pooled: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """The spread of post-stage scores, for each provider's ``ALL``."""
    scored = pooled.loc[pooled["satisfaction_score"].notna()]
    # counted in plain Python: one pass, where a value_counts per provider cost 200
    counts: dict[str, dict[int, int]] = {}  # providers in order of first appearance
    for provider, score in zip(
        providers_of(scored["employer_id"]).tolist(),
        scored["satisfaction_score"].astype(int).tolist(),
        strict=True,
    ):
        provider_counts = counts.setdefault(provider, {})
        provider_counts[score] = provider_counts.get(score, 0) + 1
    notes: dict[str, tuple[str, ...]] = {}
    for provider, provider_counts in counts.items():
        spread = ", ".join(f"{s}: {provider_counts.get(s, 0)}" for s in range(5, -1, -1))
        notes[all_of(provider)] = (
            f"post-stage satisfaction scores (5 Excellent .. 0 Unacceptable): {spread}",
        )
    return notes
