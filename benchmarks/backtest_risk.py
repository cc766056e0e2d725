"""Backtest of the drop-out breach risk (kpitools.worklists.risk) on the synthetic demo data.

For several demo seeds, generate the demo data and load every provider's latest
return. At every month end from the first bootcamp's start to the last period, compute
the breach risk of every running bootcamp *as of that date*: the risk functions only
use what had happened by then (later dates are blanked, later starters dropped), with
the portfolio hazard from every provider's bootcamps finished by then and the
provider's own shrunk toward it. Then compare with the rate each bootcamp really ended
with (bootcamps not over at the last period are left out), and print:

- how often a bootcamp flagged at risk (P(breach) >= 0.5) really ended above the limit;
- how often an unflagged one did;
- the same per bootcamp (flagged at least once vs never), and the Brier score.

The latest return stands in for the returns of earlier months: the demo's few planted
restatements aside, it holds the same history.

Usage: python benchmarks/backtest_risk.py [--seeds 10] [--learners 1500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

from kpitools.calendar import period_end
from kpitools.demo.generator import generate
from kpitools.kpis.measured import bootcamp_timing, measured_tables
from kpitools.load import load_provider
from kpitools.model import ProviderReturn
from kpitools.rules import Rules
from kpitools.worklists.build import breach_risks, portfolio_hazard_of


def month_ends(first: date, last: date) -> list[date]:
    """Every month end from ``first``'s month to ``last``'s."""
    ends, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        ends.append(period_end(f"{year:04d}-{month:02d}"))
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return ends


def predictions(
    returns: dict[str, ProviderReturn], as_of_dates: list[date], rules: Rules
) -> pd.DataFrame:
    """One row per (month end, provider, running bootcamp): P(breach), flag, projection."""
    rows = []
    for as_of in as_of_dates:
        prior = portfolio_hazard_of(returns, as_of=as_of)
        risks = breach_risks(returns, as_of=as_of, rules=rules, portfolio=prior)
        for provider_id, risk in risks.items():
            for row in risk.itertuples(index=False):
                rows.append(
                    {
                        "as_of": as_of,
                        "provider_id": provider_id,
                        "bootcamp_id": row.bootcamp_id,
                        "p_above_limit": row.p_above_limit,
                        "at_risk": row.at_risk,
                        "current_rate": row.current_rate,
                        "projected_rate": row.projected_rate,
                        "weeks_to_end": (row.end_date - pd.Timestamp(as_of)).days / 7,
                    }
                )
    return pd.DataFrame(rows)


def final_rates(by_provider: dict[str, ProviderReturn], as_of: date, limit: float) -> pd.DataFrame:
    """The drop-out rate each finished bootcamp ended with (KPI definition)."""
    rows = []
    for provider_id, provider in by_provider.items():
        tables = measured_tables(provider.tables, as_of)
        timing = bootcamp_timing(tables, as_of)
        learners = tables["learners"]
        cohort = learners[learners["m1_date"].notna()]
        for bootcamp_id in timing.index[timing["finished"]]:
            mine = cohort[cohort["bootcamp_id"] == bootcamp_id]
            if mine.empty:
                continue
            dropped = (
                mine["withdrawal_date"].notna() & (mine["withdrawal_date"] >= mine["m1_date"])
            ).sum()
            rate = dropped / len(mine)
            rows.append(
                {
                    "provider_id": provider_id,
                    "bootcamp_id": bootcamp_id,
                    "final_rate": rate,
                    "ended_above": rate > limit,
                }
            )
    return pd.DataFrame(rows)


def run_seed(seed: int, learners: int, rules: Rules) -> pd.DataFrame:
    with tempfile.TemporaryDirectory(prefix="kpitools-backtest-") as tmp:
        root = Path(tmp)
        # the providers the documented figures were measured on (not the ILR-only one)
        truth = generate(root, seed=seed, learners=learners, ilr_only=False)
        last = truth.periods[-1]
        returns = {p.name: load_provider(p) for p in sorted((root / last).iterdir()) if p.is_dir()}
    final_day = period_end(last)
    first_start = min(r.tables["bootcamps"]["start_date"].min() for r in returns.values())
    judged = predictions(returns, month_ends(first_start.date(), final_day), rules)
    finals = final_rates(returns, final_day, rules.dropout_limit)
    if judged.empty or finals.empty:
        return pd.DataFrame()
    merged = judged.merge(finals, on=["provider_id", "bootcamp_id"], how="inner")
    return merged.assign(seed=seed)


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} = {part / whole:.0%}" if whole else f"{part}/0 (none)"


def report(results: pd.DataFrame, limit: float) -> None:
    scored = results[results["p_above_limit"].notna()]
    flagged, unflagged = scored[scored["at_risk"]], scored[~scored["at_risk"]]
    print(
        f"month-end predictions for running bootcamps: {len(scored)} "
        f"({scored[['seed', 'provider_id', 'bootcamp_id']].drop_duplicates().shape[0]} bootcamps)"
    )
    print(
        f"  flagged at risk (P >= 0.5), ended above {limit:.0%}: "
        f"{share(int(flagged['ended_above'].sum()), len(flagged))}"
    )
    print(
        f"  not flagged, ended above {limit:.0%}:              "
        f"{share(int(unflagged['ended_above'].sum()), len(unflagged))}"
    )
    brier = ((scored["p_above_limit"] - scored["ended_above"].astype(float)) ** 2).mean()
    print(
        f"  Brier score of P(breach): {brier:.3f} (0 = perfect; always saying the base "
        f"rate {scored['ended_above'].mean():.1%} scores "
        f"{scored['ended_above'].mean() * (1 - scored['ended_above'].mean()):.3f})"
    )
    print("by time left before the bootcamp's end date:")
    horizons = pd.cut(
        scored["weeks_to_end"],
        [-1e9, 4, 8, 1e9],
        labels=["under 4 weeks", "4 to 8 weeks", "over 8 weeks"],
    )
    for label, group in scored.groupby(horizons, observed=True):
        hits, flags = group[group["at_risk"]], group[~group["at_risk"]]
        print(
            f"  {label:>13}: flagged ended above {share(int(hits['ended_above'].sum()), len(hits))}; "
            f"unflagged ended above {share(int(flags['ended_above'].sum()), len(flags))}"
        )
    per_bootcamp = scored.groupby(["seed", "provider_id", "bootcamp_id"]).agg(
        ever_flagged=("at_risk", "any"), ended_above=("ended_above", "first")
    )
    ever, never = (
        per_bootcamp[per_bootcamp["ever_flagged"]],
        per_bootcamp[~per_bootcamp["ever_flagged"]],
    )
    print("per bootcamp:")
    print(
        f"  flagged in some month, ended above: {share(int(ever['ended_above'].sum()), len(ever))}"
    )
    print(
        f"  never flagged, ended above:         {share(int(never['ended_above'].sum()), len(never))}"
    )
    above = per_bootcamp[per_bootcamp["ended_above"]]
    print(
        f"  bootcamps that ended above the limit and were flagged at some month end: "
        f"{share(int(above['ever_flagged'].sum()), len(above))}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--learners", type=int, default=1500)
    args = parser.parse_args(argv)
    rules = Rules()
    started = time.perf_counter()
    frames = [run_seed(seed, args.learners, rules) for seed in range(1, args.seeds + 1)]
    results = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    print(
        f"backtest: demo seeds 1..{args.seeds}, {args.learners} learners each, every month "
        f"end while a bootcamp runs; limit {rules.dropout_limit:.0%}"
    )
    report(results, rules.dropout_limit)
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
