"""The auditor's worklists for one provider: verification samples, ageing of open items
and drop-out breach risk, named as ``ProviderAudit.worklists`` holds them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date

import pandas as pd

from kpitools.model import ProviderReturn
from kpitools.rules import Rules
from kpitools.worklists import BREACH_RISK
from kpitools.worklists.ageing import AGEING_WORKLISTS, ageing_worklists
from kpitools.worklists.risk import Hazard, breach_risk, hazard_counts, pool, portfolio_hazard
from kpitools.worklists.sampling import draw_samples


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
    """Samples, ageing and breach risk of one return.

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
        the three ``ageing_*`` lists and ``breach_risk`` (when ``breach``). Samples carry
        no personal data.
    """
    chosen = pack_seed(provider.provider_id, as_of) if seed is None else seed
    samples = {s.name: s.worklist for s in draw_samples(provider, as_of=as_of, seed=chosen).samples}
    employer_lists = [samples.pop(f"employers_{stage}") for stage in ("design", "delivery", "post")]
    worklists = {
        "sample_employers": pd.concat(employer_lists, ignore_index=True),
        "sample_completers": samples["completers"].assign(sample_seed=chosen),
        "sample_outcomes": samples["outcomes"].assign(sample_seed=chosen),
    }
    worklists["sample_employers"] = worklists["sample_employers"].assign(sample_seed=chosen)
    worklists.update(ageing_worklists(provider, as_of=as_of, rules=rules))
    if breach:
        worklists[BREACH_RISK] = breach_risk(provider, as_of=as_of, rules=rules, portfolio=portfolio)
    return worklists


def with_breach_risk(worklists: Mapping[str, pd.DataFrame], risk: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``worklists`` with ``risk`` as their breach risk, in the place :func:`provider_worklists`
    gives it: where it already is, else right after the ageing lists (before any list
    added after provider_worklists', e.g. the ILR's)."""
    if BREACH_RISK in worklists:
        return {**worklists, BREACH_RISK: risk}
    names = list(worklists)
    at = max((i + 1 for i, name in enumerate(names) if name in AGEING_WORKLISTS), default=len(names))
    return {**{name: worklists[name] for name in names[:at]}, BREACH_RISK: risk,
            **{name: worklists[name] for name in names[at:]}}


def portfolio_breach_risk(
    returns: Mapping[str, ProviderReturn], *, as_of: date, rules: Rules
) -> dict[str, pd.DataFrame]:
    """Breach risk of every provider with its hazard shrunk toward the portfolio's
    (every provider's finished bootcamps pooled)."""
    prior = portfolio_hazard(pool(hazard_counts(r, as_of=as_of) for r in returns.values()))
    return {
        provider_id: breach_risk(provider, as_of=as_of, rules=rules, portfolio=prior)
        for provider_id, provider in returns.items()
    }
