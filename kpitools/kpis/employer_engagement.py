"""KPI 1: employer engagement at the design, delivery and post-bootcamp stages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd

from kpitools.contract import DELIVERY_ROLES, STAGES
from kpitools.kpis._common import ALL, Measure, bootcamp_timing, measured_tables, summarise
from kpitools.kpis.employer_lists import employer_bootcamp, employer_links, list_quality
from kpitools.model import Finding, KpiResult
from kpitools.rule_ids import rule
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
        delivery role or own_staff_training; will_interview = Y if it has interviewing.
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
    contacts = measured["employer_contacts"].merge(
        _role_flags(active), on="employer_id")
    scoped = contacts.merge(links, on="employer_id", suffixes=("_contact", ""))
    scoped = scoped.loc[scoped["bootcamp_id_contact"].isna()
                        | scoped["bootcamp_id_contact"].eq(scoped["bootcamp_id"])]
    timing = bootcamp_timing(measured, as_of)
    home = employer_bootcamp(links)
    results: list[KpiResult] = []
    for stage in STAGES:
        per_bootcamp = _latest(scoped.loc[scoped["stage"].eq(stage)],
                               ["bootcamp_id", "employer_id"], rules)
        pooled = _latest(contacts.loc[contacts["stage"].eq(stage)], ["employer_id"], rules)
        findings = _stage_findings(stage, pooled, home, rules)
        if stage == "design":
            findings += list_quality(employers, home)
        notes = {ALL: _score_notes(pooled)} if stage == "post" else None
        measure = Measure(KPI, stage=stage, start_column=_START[stage],
                          lag_months=rules.outcome_window_months if stage == "post" else 0)
        results += summarise(measure, _cases(stage, per_bootcamp, rules), timing,
                             as_of=as_of, findings=findings,
                             all_cases=_cases(stage, pooled, rules), notes=notes)
    return results


def _role_flags(employers: pd.DataFrame) -> pd.DataFrame:
    roles = employers["roles"].fillna("").map(lambda r: {x.strip() for x in r.split(";")})
    return pd.DataFrame({
        "employer_id": employers["employer_id"],
        "delivery_role": roles.map(lambda r: bool(r & set(DELIVERY_ROLES))),
        "own_staff": roles.map(lambda r: "own_staff_training" in r),
        "interviewing": roles.map(lambda r: "interviewing" in r),
    }).drop_duplicates("employer_id")


def _latest(contacts: pd.DataFrame, key: list[str], rules: Rules) -> pd.DataFrame:
    """Per key: the latest reached contact, or the count of unreached attempts."""
    reached = contacts["reached"].fillna(False).astype(bool)
    ordered = contacts.loc[reached].sort_values("attempt_date", kind="stable")
    latest = ordered.groupby(key, sort=True).tail(1).set_index(key)
    attempts = contacts.loc[~reached].groupby(key).agg(
        attempts=("attempt_date", "size"),
        attempt_sources=("source", lambda s: "; ".join(map(str, s))))
    frame = attempts.join(latest, how="outer")
    frame["reached_any"] = frame.index.isin(latest.index)
    frame["attempts"] = frame["attempts"].fillna(0).astype(int)
    return frame.reset_index()


def _judge(stage: str, latest: pd.DataFrame, rules: Rules) -> pd.Series:
    def yes(column: str) -> pd.Series:
        return latest[column].astype("boolean").fillna(False).astype(bool)

    if stage == "design":
        return yes("design_vouched") & yes("info_correct")
    delivery, own, interviewing = yes("delivery_role"), yes("own_staff"), yes("interviewing")
    if stage == "delivery":
        return ((~delivery | yes("support_provided")) & (~(delivery | own) | yes("satisfied"))
                & (~interviewing | yes("will_interview")))
    numbers = latest["candidates_interviewed"].notna() & latest["candidates_offered"].notna()
    score = latest["satisfaction_score"].astype("Float64").ge(rules.satisfaction_pass_score)
    return ((~interviewing | numbers) & (~(interviewing | own) | yes("satisfied"))
            & score.fillna(False).astype(bool))


def _cases(stage: str, latest: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    reached = latest.loc[latest["reached_any"]]
    bootcamp = reached["bootcamp_id"] if "bootcamp_id" in reached else ALL
    # Each case falls due when the stage does: until then a later contact can put it right.
    return pd.DataFrame({"bootcamp_id": bootcamp, "due": pd.NaT,
                         "passed": _judge(stage, reached, rules), "in_value": True},
                        index=reached.index)


def _stage_findings(stage: str, pooled: pd.DataFrame, home: pd.Series,
                    rules: Rules) -> list[Finding]:
    reached = pooled.loc[pooled["reached_any"]]
    failing = reached.loc[~_judge(stage, reached, rules)]
    fail, lost = rule(_FAIL_RULE[stage]), rule("EE-UNREACHABLE-3")
    unreached = pooled.loc[~pooled["reached_any"]
                           & pooled["attempts"].ge(rules.unreachable_attempts)]
    findings = [
        Finding(kpi=KPI, rule=fail.id, severity=fail.severity, entity=f"employer:{e}",
                source=str(src), bootcamp_id=str(home.get(e, ALL)),
                message=f"{stage} stage: latest reached contact does not confirm the "
                        f"{stage}-stage points" + (f" (score {score})" if stage == "post"
                                                   and pd.notna(score) else ""))
        for e, src, score in zip(failing["employer_id"], failing["source"],
                                 failing["satisfaction_score"], strict=True)
    ]
    findings += [
        Finding(kpi=KPI, rule=lost.id, severity=lost.severity, entity=f"employer:{e}",
                source=str(src), bootcamp_id=str(home.get(e, ALL)),
                message=f"{stage} stage: not reached after {n} attempts; escalate to DfE")
        for e, src, n in zip(unreached["employer_id"], unreached["attempt_sources"],
                             unreached["attempts"], strict=True)
    ]
    return findings


def _score_notes(pooled: pd.DataFrame) -> tuple[str, ...]:
    scores = pooled.loc[pooled["reached_any"], "satisfaction_score"].dropna().astype(int)
    if scores.empty:
        return ()
    counts = scores.value_counts()
    spread = ", ".join(f"{s}: {int(counts.get(s, 0))}" for s in range(5, -1, -1))
    return (f"post-stage satisfaction scores (5 Excellent .. 0 Unacceptable): {spread}",)
