"""The auditor's worklists for one provider or a whole period: verification samples,
ageing of open items and drop-out breach risk, named as ``ProviderAudit.worklists`` holds
them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from kpitools.model import ProviderReturn
from kpitools.returns.contract import STAGES
from kpitools.rules import Rules
from kpitools.worklists import BREACH_RISK
from kpitools.worklists.ageing import AGEING_WORKLISTS, period_ageing
from kpitools.worklists.period import PeriodTables
from kpitools.worklists.risk import (
    Hazard,
    period_breach_risk,
    period_hazard_counts,
    pool,
    portfolio_hazard,
)
from kpitools.worklists.sampling import period_samples


def pack_seed(provider_id: str, as_of: date) -> int:
    """The sample seed of a pack: fixed by provider and ``as_of`` so that a rebuilt pack
    shows the same picks. (``kpitools sample`` draws an unpredictable seed instead.)"""
    digest = hashlib.sha256(f"{provider_id}|{as_of.isoformat()}".encode()).hexdigest()
    return int(digest[:8], 16) % 2**31


def provider_worklists(
    provider: ProviderReturn,
    *,
    as_of: date,
    rules: Rules,
    portfolio: Hazard | None = None,
    seed: int | None = None,
    breach: bool = True,
) -> dict[str, pd.DataFrame]:
    """Samples, ageing and breach risk of one return: :func:`period_worklists` on it.

    Args:
        provider: the validated return.
        as_of: the measurement date.
        rules: the rules in force.
        portfolio: the portfolio's drop-out hazard, when known (else the provider's own).
        seed: the sample seed (default :func:`pack_seed`).
        breach: False leaves the breach risk out, for a caller that adds it with the
            portfolio's hazard (:func:`portfolio_breach_risk`, :func:`with_breach_risk`).

    Returns:
        ``sample_employers`` (every stage), ``sample_completers``, ``sample_outcomes``,
        ``sample_unverified`` (every unverified case: evidence from the ILR, role type
        unknown; only when there is one), the three ``ageing_*`` lists and ``breach_risk`` (when ``breach``). Samples carry
        no personal data.
    """
    key = provider.provider_id
    return period_worklists(
        {key: provider},
        as_of=as_of,
        rules=rules,
        portfolio=portfolio,
        seeds=None if seed is None else {key: seed},
        breach=breach,
    )[key]


def period_worklists(
    returns: Mapping[str, ProviderReturn],
    *,
    as_of: date,
    rules: Rules,
    portfolio: Hazard | None = None,
    seeds: Mapping[str, int] | None = None,
    breach: bool = True,
) -> dict[str, dict[str, pd.DataFrame]]:
    """Every return's worklists at once: each population, ageing list and breach risk
    built once for all the returns, stacked (:class:`~kpitools.worklists.period.PeriodTables`),
    then cut into each provider's. A provider gets exactly what it gets alone: its
    sample is drawn from its own cases with its own seed.

    Args:
        returns: per provider id, its validated return.
        as_of, rules, portfolio, breach: as for :func:`provider_worklists`.
        seeds: per provider id, its sample seed (default :func:`pack_seed` of the return's
            provider id).

    Returns:
        Per provider id (in the order given), its worklists as :func:`provider_worklists`
        names and orders them.
    """
    chosen = {
        key: pack_seed(provider.provider_id, as_of) if seeds is None else seeds[key]
        for key, provider in returns.items()
    }
    measured = PeriodTables.of(returns, as_of)
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
    ageing = period_ageing(measured, PeriodTables.of(returns, as_of, as_returned=True), rules=rules)
    risk = period_breach_risk(measured, rules=rules, portfolio=portfolio) if breach else {}
    worklists = {}
    for key in returns:
        worklists[key] = {
            **{
                name: split[key]
                for name, split in samples.items()
                # only a provider with unverified cases (evidence from its ILR) has them
                if name != "sample_unverified" or len(split[key])
            },
            **ageing[key],
            **({BREACH_RISK: risk[key]} if breach else {}),
        }
    return worklists


def with_breach_risk(
    worklists: Mapping[str, pd.DataFrame], risk: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """``worklists`` with ``risk`` as their breach risk, in the place :func:`provider_worklists`
    gives it: where it already is, else right after the ageing lists (before any list
    added after provider_worklists', e.g. the ILR's)."""
    if BREACH_RISK in worklists:
        return {**worklists, BREACH_RISK: risk}
    names = list(worklists)
    at = max(
        (i + 1 for i, name in enumerate(names) if name in AGEING_WORKLISTS), default=len(names)
    )
    return {
        **{name: worklists[name] for name in names[:at]},
        BREACH_RISK: risk,
        **{name: worklists[name] for name in names[at:]},
    }


def portfolio_breach_risk(
    returns: Mapping[str, ProviderReturn], *, as_of: date, rules: Rules
) -> dict[str, pd.DataFrame]:
    """Breach risk of every provider with its hazard shrunk toward the portfolio's
    (every provider's finished bootcamps pooled), computed for all of them at once."""
    period = PeriodTables.of(returns, as_of)
    prior = portfolio_hazard(pool(period_hazard_counts(period).values()))
    return period_breach_risk(period, rules=rules, portfolio=prior)
