"""Drop-out breach risk: for bootcamps still running, the projected final drop-out rate
and the probability of ending above the limit.

Method (docs/checks.md has the analyst's version):

1. **Weekly drop-out hazard from finished bootcamps.** For every cohort learner (M1 on
   or before ``as_of``) of a bootcamp that is over at ``as_of``, count the weeks since
   M1. ``h(w)`` = learners who withdrew in week ``w`` / learners still learning at the
   start of week ``w`` (completers and those still enrolled at the end leave the count
   after their last week). Pooled over the portfolio's finished bootcamps, and
   separately over the provider's.
2. **Shrinkage.** The provider's hazard is pulled toward the portfolio's:
   ``h(w) = (withdrawals_p(w) + k x h_portfolio(w)) / (at_risk_p(w) + k)``, with
   ``k = 20`` learner-weeks: a provider with few finished learners gets the portfolio's
   pattern, one with many its own. A week beyond anything observed uses the portfolio's
   average weekly hazard.
3. **Projection.** Each learner still active at ``as_of`` (M1 passed, neither completed
   nor withdrawn) withdraws before the bootcamp's end date with probability
   ``1 - prod(1 - h(w))`` over the remaining weeks. The number of further withdrawals is
   the sum of these independent chances; its exact distribution (Poisson-binomial, by
   convolution, so no random numbers are needed) gives the projected final rate
   ``(withdrawn + expected further) / cohort`` and ``P(final rate > limit)``.
4. **Flag.** A bootcamp is *at risk* when that probability is at least 0.5.

Limits: the cohort is the one known at ``as_of`` (later M1s are not projected), a
learner is assumed to stay at risk until the bootcamp's end date, and the hazard's own
uncertainty is not carried into the probability.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from kpitools.kpis.measured import bootcamp_timing, derived
from kpitools.rules import Rules
from kpitools.worklists.period import PeriodTables

PRIOR_STRENGTH = 20.0  # learner-weeks: how strongly a provider is pulled to the portfolio
FLAG_PROBABILITY = 0.5
RISK_COLUMNS = (
    "bootcamp_id",
    "end_date",
    "cohort",
    "withdrawn",
    "active",
    "current_rate",
    "projected_withdrawals",
    "projected_rate",
    "limit",
    "p_above_limit",
    "at_risk",
    "basis",
)


@dataclass(frozen=True)
class HazardCounts:
    """Withdrawals and learners at risk per week since M1 (index = week)."""

    withdrawals: tuple[int, ...] = ()
    at_risk: tuple[int, ...] = ()
    bootcamps: int = 0

    @property
    def learners(self) -> int:
        return self.at_risk[0] if self.at_risk else 0

    def rate(self) -> float | None:
        """Average weekly hazard (all withdrawals / all learner-weeks), None if no data."""
        exposure = sum(self.at_risk)
        return sum(self.withdrawals) / exposure if exposure else None


@dataclass(frozen=True)
class Hazard:
    """A weekly drop-out hazard ``h(w)``; weeks past the end use ``tail``."""

    weekly: tuple[float, ...]
    tail: float
    basis: str

    def at(self, week: int) -> float:
        return self.weekly[week] if 0 <= week < len(self.weekly) else self.tail

    def withdraw_probability(self, from_week: int, to_week: int) -> float:
        """Chance of withdrawing during weeks ``from_week..to_week`` (both included)."""
        survive = 1.0
        for week in range(from_week, to_week + 1):
            survive *= 1.0 - self.at(week)
        return 1.0 - survive


def _cohort(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    learners = tables["learners"]
    return learners[learners["m1_date"].notna()]


def hazard_counts(period: PeriodTables) -> dict[str, HazardCounts]:
    """Per provider of ``period`` (a period of one for one provider), the weekly
    withdrawals and learners at risk in its bootcamps that are over at ``as_of`` (only
    what was known at ``as_of`` is used); counted once per stacked tables
    (:func:`kpitools.kpis.measured.derived`)."""
    return derived(period.tables, "hazard_counts", lambda: _hazard_counts(period))


def _hazard_counts(period: PeriodTables) -> dict[str, HazardCounts]:
    tables, as_of = period.tables, period.as_of
    timing = bootcamp_timing(tables, as_of)
    finished = timing.index[timing["finished"]]
    learners = tables["learners"]
    mine = (learners["m1_date"].notna() & learners["bootcamp_id"].isin(finished)).to_numpy(
        dtype=bool
    )
    cohort, owner = learners[mine], period.owners["learners"][mine]
    counts = {provider: HazardCounts() for provider in period.providers}
    if cohort.empty:
        return counts
    withdrew = cohort["withdrawal_date"].notna() & (cohort["withdrawal_date"] >= cohort["m1_date"])
    end = cohort["bootcamp_id"].map(timing["end_date"]).clip(upper=pd.Timestamp(as_of))
    exit_day = cohort["withdrawal_date"].fillna(cohort["completion_date"]).fillna(end)
    exit_week = ((exit_day - cohort["m1_date"]).dt.days.clip(lower=0) // 7).to_numpy(dtype=int)
    # learners leaving in each week, per provider; at risk in week w = leaving in w or later
    leaving = np.zeros((len(period.providers), int(exit_week.max()) + 1), dtype=np.int64)
    np.add.at(leaving, (owner, exit_week), 1)
    events = np.zeros_like(leaving)
    withdrawn = withdrew.to_numpy(dtype=bool)
    np.add.at(events, (owner[withdrawn], exit_week[withdrawn]), 1)
    at_risk = np.cumsum(leaving[:, ::-1], axis=1)[:, ::-1]
    weeks = pd.Series(exit_week).groupby(owner).max()
    bootcamps = cohort["bootcamp_id"].groupby(owner).nunique()
    for position, last in weeks.items():
        counts[period.providers[position]] = HazardCounts(
            tuple(int(e) for e in events[position, : last + 1]),
            tuple(int(n) for n in at_risk[position, : last + 1]),
            bootcamps=int(bootcamps[position]),
        )
    return counts


def pool(counts: Iterable[HazardCounts]) -> HazardCounts:
    """Several providers' counts added week by week."""
    counts = [c for c in counts if c.at_risk]
    if not counts:
        return HazardCounts()
    weeks = max(len(c.at_risk) for c in counts)
    events = [sum(c.withdrawals[w] for c in counts if w < len(c.withdrawals)) for w in range(weeks)]
    at_risk = [sum(c.at_risk[w] for c in counts if w < len(c.at_risk)) for w in range(weeks)]
    return HazardCounts(tuple(events), tuple(at_risk), sum(c.bootcamps for c in counts))


def portfolio_hazard(portfolio: HazardCounts) -> Hazard | None:
    """The plain pooled hazard ``d(w) / n(w)``; None when nothing has finished."""
    tail = portfolio.rate()
    if tail is None:
        return None
    weekly = tuple(
        d / n if n else tail for d, n in zip(portfolio.withdrawals, portfolio.at_risk, strict=True)
    )
    return Hazard(
        weekly,
        tail,
        f"portfolio: {portfolio.bootcamps} finished bootcamps, {portfolio.learners} learners",
    )


def shrunk_hazard(
    provider: HazardCounts, prior: Hazard | None, *, strength: float = PRIOR_STRENGTH
) -> Hazard | None:
    """The provider's hazard pulled toward ``prior`` (step 2 of the module docstring);
    the provider's own pooled hazard when there is no prior, None when neither exists."""
    if prior is None:
        return portfolio_hazard(provider)
    weeks = max(len(provider.at_risk), len(prior.weekly))
    weekly = []
    for week in range(weeks):
        events = provider.withdrawals[week] if week < len(provider.withdrawals) else 0
        exposed = provider.at_risk[week] if week < len(provider.at_risk) else 0
        weekly.append((events + strength * prior.at(week)) / (exposed + strength))
    basis = (
        f"provider: {provider.bootcamps} finished bootcamps, {provider.learners} learners; "
        f"shrunk toward {prior.basis}"
    )
    return Hazard(tuple(weekly), prior.tail, basis)


def final_count_distribution(probabilities: Iterable[float]) -> np.ndarray:
    """P(exactly k further withdrawals), k = 0..n, for independent chances (convolution)."""
    dist = np.array([1.0])
    for p in probabilities:
        dist = np.concatenate([dist * (1.0 - p), [0.0]]) + np.concatenate([[0.0], dist * p])
    return dist


def breach_risk(
    period: PeriodTables,
    *,
    rules: Rules,
    portfolio: Hazard | None = None,
    flag_probability: float = FLAG_PROBABILITY,
) -> dict[str, pd.DataFrame]:
    """Projected final drop-out rate and P(final rate > limit) per running bootcamp, for
    every provider of ``period`` at once (a period of one for one provider), each with
    its own hazard shrunk toward ``portfolio``.

    A bootcamp is running when it has a cohort (an M1 on or before ``as_of``) and is
    not over (:func:`kpitools.kpis.measured.bootcamp_timing`).

    Args:
        period: the validated returns' tables as they stood at ``as_of``; later records
            are ignored.
        rules: ``dropout_limit`` is the limit.
        portfolio: the portfolio's hazard (:func:`portfolio_hazard` of :func:`pool` of
            every provider's :func:`hazard_counts`); None uses each provider's own.
        flag_probability: the probability from which a bootcamp is flagged at risk.

    Returns:
        Per provider id (in the period's order), one row per running bootcamp, columns
        :data:`RISK_COLUMNS`; rates as fractions; ``p_above_limit`` is NaN when no
        finished bootcamp gives a hazard.
    """
    as_of = period.as_of
    counts = hazard_counts(period)
    hazards = [shrunk_hazard(counts[provider], portfolio) for provider in period.providers]
    timing = bootcamp_timing(period.tables, as_of)
    running = timing[~timing["finished"]]
    owners = period.bootcamp_owners(running.index)
    cohort = _CohortFacts.of(_cohort(period.tables), timing, as_of)
    rows: list[dict[str, object]] = []
    owner: list[int] = []
    for bootcamp_id, end_date, mine in zip(
        running.index.tolist(), running["end_date"].tolist(), owners.tolist(), strict=True
    ):
        learners = cohort.members.get(bootcamp_id)
        if learners is None:
            continue
        rows.append(
            _bootcamp_risk(
                str(bootcamp_id),
                end_date,
                cohort,
                learners,
                hazards[mine],
                limit=rules.dropout_limit,
                flag_probability=flag_probability,
            )
        )
        owner.append(mine)
    split = period.split(pd.DataFrame(rows, columns=list(RISK_COLUMNS)), np.array(owner, dtype=int))
    # a provider with no running bootcamp gets the list a provider alone gets
    return {
        provider: risk if len(risk) else pd.DataFrame([], columns=list(RISK_COLUMNS))
        for provider, risk in split.items()
    }


@dataclass(frozen=True)
class _CohortFacts:
    """What the projection needs of each cohort learner, as arrays, and each bootcamp's
    learners (their positions, in row order)."""

    members: dict[object, np.ndarray]
    withdrew: np.ndarray
    done: np.ndarray
    days_since_m1: list[float]
    days_m1_to_end: list[float]

    @classmethod
    def of(cls, cohort: pd.DataFrame, timing: pd.DataFrame, as_of: date) -> _CohortFacts:
        if cohort.empty:
            return cls({}, np.zeros(0, dtype=bool), np.zeros(0, dtype=bool), [], [])
        m1, withdrawal = cohort["m1_date"], cohort["withdrawal_date"]
        end = cohort["bootcamp_id"].map(timing["end_date"])
        return cls(
            members=cohort.groupby("bootcamp_id", sort=False).indices,
            withdrew=(withdrawal.notna() & (withdrawal >= m1)).to_numpy(dtype=bool),
            done=(withdrawal.notna() | cohort["completion_date"].notna()).to_numpy(dtype=bool),
            days_since_m1=(pd.Timestamp(as_of) - m1).dt.days.tolist(),
            days_m1_to_end=(end - m1).dt.days.tolist(),
        )


def _bootcamp_risk(
    bootcamp_id: str,
    end_date: pd.Timestamp,
    cohort: _CohortFacts,
    learners: np.ndarray,
    hazard: Hazard | None,
    *,
    limit: float,
    flag_probability: float,
) -> dict[str, object]:
    active = learners[~cohort.done[learners]].tolist()
    size, withdrawn = len(learners), int(cohort.withdrew[learners].sum())
    row: dict[str, object] = {
        "bootcamp_id": bootcamp_id,
        "end_date": end_date,
        "cohort": size,
        "withdrawn": withdrawn,
        "active": len(active),
        "current_rate": withdrawn / size,
        "limit": limit,
    }
    if hazard is None:
        return {
            **row,
            "projected_withdrawals": math.nan,
            "projected_rate": math.nan,
            "p_above_limit": math.nan,
            "at_risk": False,
            "basis": "no finished bootcamp to learn the drop-out pattern from",
        }
    # weeks since M1: from the week after as_of's to the one the bootcamp ends in
    chances = [
        hazard.withdraw_probability(
            int(cohort.days_since_m1[i]) // 7 + 1, int(cohort.days_m1_to_end[i]) // 7
        )
        for i in active
    ]
    dist = final_count_distribution(chances)
    # the final rate is above the limit from this many withdrawals in all
    breach_at = math.floor(limit * size + 1e-9) + 1
    p_above = float(dist[max(0, breach_at - withdrawn) :].sum())
    expected = float(sum(chances))
    return {
        **row,
        "projected_withdrawals": withdrawn + expected,
        "projected_rate": (withdrawn + expected) / size,
        "p_above_limit": p_above,
        "at_risk": p_above >= flag_probability,
        "basis": hazard.basis,
    }
