"""The auditor's worklists for every provider of a run: verification samples, ageing
of open items and drop-out breach risk, named as ``ProviderAudit.worklists`` holds them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from kpitools.kpis.measured import Measurements
from kpitools.model import ProviderReturn
from kpitools.returns.contract import STAGES
from kpitools.returns.period import Stacks
from kpitools.rules import Rules
from kpitools.worklists.ageing import ageing_worklists
from kpitools.worklists.period import PeriodTables
from kpitools.worklists.risk import Hazard, breach_risk, hazard_counts, pool, portfolio_hazard
from kpitools.worklists.sampling import period_samples


def pack_seed(provider_id: str, as_of: date) -> int:
    """The sample seed of a pack: fixed by provider and ``as_of`` so that a rebuilt pack
    shows the same picks. (``kpitools sample`` draws an unpredictable seed instead.)"""
    digest = hashlib.sha256(f"{provider_id}|{as_of.isoformat()}".encode()).hexdigest()
    return int(digest[:8], 16) % 2**31


def build_worklists(
    returns: Mapping[str, ProviderReturn],
    *,
    as_of: date,
    rules: Rules,
    seeds: Mapping[str, int] | None = None,
    measurements: Measurements | None = None,
    stacks: Stacks | None = None,
) -> dict[str, dict[str, pd.DataFrame]]:
    """The samples and ageing lists of every return of a run (a mapping of one for one
    provider): each population and ageing list built once for all the returns, stacked
    (:class:`~kpitools.worklists.period.PeriodTables`), then cut into each provider's. A
    provider gets exactly what it gets alone: its sample is drawn from its own cases
    with its own seed. The breach risk, which may pool every provider of a period, is
    :func:`breach_risks`.

    Args:
        returns: per provider id, its validated return.
        as_of: the measurement date.
        rules: the rules in force for these providers.
        seeds: per provider id, its sample seed (default :func:`pack_seed` of the return's
            provider id).
        measurements: the run's measured tables (:class:`~kpitools.kpis.measured.Measurements`).
        stacks: the run's stacked tables (:class:`~kpitools.returns.period.Stacks`).

    Returns:
        Per provider id (in the order given): ``sample_employers`` (every stage),
        ``sample_completers``, ``sample_outcomes``, ``sample_unverified`` (every
        unverified case: evidence from the ILR, role type unknown; only when there is
        one) and the three ``ageing_*`` lists. Samples carry no personal data.
    """
    chosen = {
        key: pack_seed(provider.provider_id, as_of) if seeds is None else seeds[key]
        for key, provider in returns.items()
    }
    measured = PeriodTables.of(returns, as_of, measurements=measurements, stacks=stacks)
    seed_of = np.array([chosen[key] for key in measured.providers], dtype=np.int64)
    drawn = {sample.name: sample for sample in period_samples(measured, seeds=chosen, rules=rules)}
    employers = [drawn[f"employers_{stage}"] for stage in STAGES]
    owner = np.concatenate([sample.owner for sample in employers]).astype(int)
    samples = {
        # each provider's picks stage after stage (split keeps the order within a provider)
        "sample_employers": measured.split(
            pd.concat([sample.worklist for sample in employers], ignore_index=True).assign(
                sample_seed=seed_of[owner]
            ),
            owner,
        ),
        **{
            f"sample_{name}": measured.split(
                drawn[name].worklist.assign(sample_seed=seed_of[drawn[name].owner]),
                drawn[name].owner,
            )
            for name in ("completers", "outcomes", "unverified")
        },
    }
    returned = PeriodTables.of(returns, as_of, as_returned=True, stacks=stacks)
    ageing = ageing_worklists(measured, returned, rules=rules)
    return {
        key: {
            **{
                name: split[key]
                for name, split in samples.items()
                # only a provider with unverified cases (evidence from its ILR) has them
                if name != "sample_unverified" or len(split[key])
            },
            **ageing[key],
        }
        for key in returns
    }


def portfolio_hazard_of(
    returns: Mapping[str, ProviderReturn],
    *,
    as_of: date,
    measurements: Measurements | None = None,
    stacks: Stacks | None = None,
) -> Hazard | None:
    """The drop-out hazard of a portfolio: every provider's finished bootcamps pooled
    (:func:`kpitools.worklists.risk.portfolio_hazard`); None when none has finished."""
    period = PeriodTables.of(returns, as_of, measurements=measurements, stacks=stacks)
    return portfolio_hazard(pool(hazard_counts(period).values()))


def breach_risks(
    returns: Mapping[str, ProviderReturn],
    *,
    as_of: date,
    rules: Rules,
    portfolio: Hazard | None,
    measurements: Measurements | None = None,
    stacks: Stacks | None = None,
) -> dict[str, pd.DataFrame]:
    """The breach risk of every provider of a run at once, each provider's drop-out
    hazard shrunk toward ``portfolio`` (:func:`portfolio_hazard_of` of a period's
    providers), or its own hazard when None (:mod:`kpitools.worklists.risk`).

    Returns:
        Per provider id (in the order given), its breach risk.
    """
    period = PeriodTables.of(returns, as_of, measurements=measurements, stacks=stacks)
    return breach_risk(period, rules=rules, portfolio=portfolio)
