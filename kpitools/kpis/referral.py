"""KPI 7: referral of unsuccessful learners to alternative opportunities."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd

from kpitools.calendar import iso
from kpitools.kpis.career_progression import outcome_facts
from kpitools.kpis.common import (
    learner_findings,
    learner_key,
    learner_members,
    lookup,
    per_learner,
)
from kpitools.kpis.measured import bootcamp_timing, derived, measured_tables
from kpitools.kpis.summary import Measure, summarise
from kpitools.model import Finding, KpiResult
from kpitools.rules import Rules

KPI = "referral"
_KEY = ["learner_ref", "bootcamp_id"]


def referral(tables: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules) -> list[KpiResult]:
    """Referral: unsuccessful learners referred within the allowed months.

    Population:
        Unsuccessful learners whose referral has fallen due: completers whose outcome
        window closed without a valid outcome (unsuccessful at the window's close), and,
        when referral_includes_withdrawn is true, cohort learners who withdrew on or after
        M1 (unsuccessful at withdrawal). A case falls due referral_months calendar months
        after the learner became unsuccessful.
    Formula:
        Due cases with a referral dated on or before the due date, divided by due cases.
    Exclusions:
        Referrals dated after as_of are ignored (FUTURE-DATED). Learners who withdrew
        before M1 are not in the population. Unverified: a completer whose window closed
        without a valid outcome but with one read from the ILR, role type unknown, may
        not be unsuccessful at all: unless referred, it is counted as unverified beside
        the figure (column unverified), not as REF-MISSING.
        A learner is one case at most: one who withdrew after M1 and also carries a
        completion date (DATE-ORDER) is unsuccessful at withdrawal.
    Statuses:
        not_due before the first M1 (first M2 when withdrawn learners are excluded);
        at_risk while an unsuccessful learner not yet due has no referral; off_track once
        a due case has none; met / not_met once the bootcamp is over, no learner of it
        can still become a case (every completer has a valid outcome or a closed
        window) and every case has fallen due. REF-MISSING lists each due case without
        a referral.
    Rules:
        referral_includes_withdrawn, referral_months, outcome_window_months
    Guidance:
        "100% of those that are unsuccessful." "Learners who do not successfully achieve
        a positive outcome from their Skills Bootcamp should be signposted to other job
        and training opportunities."

    Args:
        tables: validated tables, by table name.
        as_of: the measurement date.
        rules: the rules in force.

    Returns:
        One KpiResult per bootcamp, then one for ALL.
    """
    measured = measured_tables(tables, as_of)
    unsuccessful = referral_cases(measured, as_of=as_of, rules=rules)
    due, referred = unsuccessful["due"], unsuccessful["referred"]
    unverified = unsuccessful["unverified_case"]
    cases = {
        "bootcamp_id": unsuccessful["bootcamp_id"],
        "member": learner_members(unsuccessful),
        "source": unsuccessful["source"],
        "due": due,
        "passed": referred,
        "in_value": unsuccessful["in_value"],
        "unverified": unverified,
        "reason": "not referred by the due date (" + unsuccessful["why"].astype(str) + ")",
    }
    start = "first_m1" if rules.referral_includes_withdrawn else "first_m2"
    measure = Measure(
        KPI,
        start_column=start,
        lag_months=rules.outcome_window_months + rules.referral_months,
        counted="unsuccessful, and referred on or before the due date",
        not_counted="unsuccessful, not referred by the due date",
    )
    missing = unsuccessful.loc[unsuccessful["in_value"] & ~referred & ~unverified]
    return summarise(
        measure,
        cases,
        bootcamp_timing(measured, as_of),
        as_of=as_of,
        findings=_findings(missing, due[missing.index]),
        last_due=_last_due(measured, due, unsuccessful, as_of=as_of, rules=rules),
    )


def referral_cases(
    measured: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules
) -> pd.DataFrame:
    """The KPI's cases (:func:`unsuccessful_learners`) with ``due``, ``referred`` (a
    referral on or before it), ``in_value`` (fallen due by as_of) and
    ``unverified_case`` (perhaps not unsuccessful, and not referred); shared with the
    verification sample (:mod:`kpitools.kpis.unverified`), built once per measured
    tables, as_of and rules."""
    return derived(
        measured,
        ("referral_cases", as_of, rules),
        lambda: _referral_cases(measured, as_of=as_of, rules=rules),
    )


def _referral_cases(
    measured: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules
) -> pd.DataFrame:
    unsuccessful = unsuccessful_learners(measured, as_of=as_of, rules=rules)
    due = unsuccessful["since"] + pd.DateOffset(months=rules.referral_months)
    referred = _referred_by(unsuccessful, measured["referrals"], due)
    return unsuccessful.assign(
        due=due,
        referred=referred,
        in_value=due.le(pd.Timestamp(as_of)),
        unverified_case=unsuccessful["unverified"].astype(bool) & ~referred,
    )


def unsuccessful_learners(
    measured: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules
) -> pd.DataFrame:
    """Learners unsuccessful at as_of, with ``since`` (the date they became so), ``why``
    and ``unverified`` (a completer whose only candidate outcomes are read from the ILR,
    role type unknown: perhaps not unsuccessful at all)."""
    facts = outcome_facts(measured, rules)
    closed = facts["window_close"].le(pd.Timestamp(as_of)) & facts["valid_outcomes"].eq(0)
    completers = (
        facts.loc[closed, [*_KEY, "source", "window_close"]]
        .rename(columns={"window_close": "since"})
        .assign(
            why="no valid outcome when the window closed",
            unverified=facts.loc[closed, "unverified"].gt(0),
        )
    )
    frames = [completers]
    if rules.referral_includes_withdrawn:
        learners = measured["learners"]
        withdrew = learners.loc[learners["withdrawal_date"].ge(learners["m1_date"])]
        # one case per learner: withdrawn after M1 and also completed -> at withdrawal
        frames[0] = completers.loc[~learner_key(completers).isin(learner_key(withdrew))]
        frames.append(
            withdrew[[*_KEY, "source", "withdrawal_date"]]
            .rename(columns={"withdrawal_date": "since"})
            .assign(why="withdrew after M1", unverified=False)
        )
    frames = [f for f in frames if len(f)]
    if not frames:
        return completers
    return pd.concat(frames, ignore_index=True)


def _last_due(
    measured: Mapping[str, pd.DataFrame],
    due: pd.Series,
    unsuccessful: pd.DataFrame,
    *,
    as_of: date,
    rules: Rules,
) -> pd.Series:
    """Per bootcamp, the last date a case of it falls due, counting the completers who
    can still become cases (window open, no valid outcome yet: due at window close +
    referral_months). Bootcamps with no such date are absent."""
    facts = outcome_facts(measured, rules)
    may_become = facts.loc[
        facts["window_close"].gt(pd.Timestamp(as_of)) & facts["valid_outcomes"].eq(0)
    ]
    dates = pd.concat(
        [
            pd.Series(due.to_numpy(), index=unsuccessful["bootcamp_id"].to_numpy()),
            pd.Series(
                (
                    may_become["window_close"] + pd.DateOffset(months=rules.referral_months)
                ).to_numpy(),
                index=may_become["bootcamp_id"].to_numpy(),
            ),
        ]
    )
    return dates.groupby(level=0).max() if len(dates) else dates


def _referred_by(unsuccessful: pd.DataFrame, referrals: pd.DataFrame, due: pd.Series) -> pd.Series:
    first = per_learner(learner_key(referrals), referrals["referral_date"], "min")
    return lookup(learner_key(unsuccessful), first).le(due).astype(bool)


def _findings(missing: pd.DataFrame, due: pd.Series) -> list[Finding]:
    messages = [
        f"{why} on {iso(since)}; no referral by {iso(d)}"
        for why, since, d in zip(missing["why"], missing["since"], due, strict=True)
    ]
    return learner_findings(missing, "REF-MISSING", messages=messages)
