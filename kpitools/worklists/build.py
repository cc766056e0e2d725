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
from kpitools.worklists.ageing import ageing_worklists
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
) -> dict[str, pd.DataFrame]:
    """Samples, ageing and breach risk of one return.

    Args:
        provider: the validated return.
        as_of: the measurement date.
        rules: the rules in force.
        portfolio: the portfolio's drop-out hazard, when known (else the provider's own).
        seed: the sample seed (default :func:`pack_seed`).

    Returns:
        ``sample_employers`` (every stage), ``sample_completers``, ``sample_outcomes``,
        the three ``ageing_*`` lists and ``breach_risk``. Samples carry no personal data.
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
    worklists[BREACH_RISK] = breach_risk(provider, as_of=as_of, rules=rules, portfolio=portfolio)
    return worklists


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
