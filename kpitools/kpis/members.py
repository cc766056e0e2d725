"""The members of every KPI figure of an audit, as one table: who each figure counts.

Each :class:`~kpitools.model.KpiResult` carries its members
(:class:`~kpitools.model.KpiMembers`), made by :func:`kpitools.kpis.summary.summarise`
from the very flags that give its numerator and denominator; this module only lays them
out, one row per member of each figure, for ``kpi_members.csv``, the audit store, the
register, the pack and the case files. Members are named as findings name their entity
(``learner:<learner_ref>``, ``employer:<employer_id>``); each output names them by the
naming rule (:class:`kpitools.privacy.naming.LearnerNaming`) when it is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from kpitools.model import MEMBER_COLUMNS, KpiMembers, KpiResult, ProviderAudit

KPI_MEMBER_COLUMNS: tuple[str, ...] = (
    "provider_id",
    "kpi",
    "stage",
    "bootcamp_id",
    "member",
    "in_population",
    "in_numerator",
    "reason",
    "source",
)
"""The columns of :func:`kpi_members` (and ``kpi_members.csv``), in order."""


def kpi_members(audit: ProviderAudit) -> pd.DataFrame:
    """Every member of every KPI figure of ``audit``, in the order of its results.

    ``in_population`` and ``in_numerator`` are booleans: for each figure, the rows with
    ``in_population`` number its denominator and those with ``in_numerator`` its
    numerator (a ``no_data`` figure has none).
    """
    return members_of(audit.kpi_results, audit.provider_id)


def members_of(results: Iterable[KpiResult], provider_id: str) -> pd.DataFrame:
    """:func:`kpi_members` of some results of one provider."""
    chosen = [r for r in results if len(r.members)]
    if not chosen:
        return pd.DataFrame(
            {
                name: pd.Series(dtype=bool if name in ("in_population", "in_numerator") else object)
                for name in KPI_MEMBER_COLUMNS
            }
        )
    sizes = [len(r.members) for r in chosen]

    def repeated(values: list[str]) -> np.ndarray:
        return np.repeat(np.asarray(values, dtype=object), sizes)

    columns = {
        "provider_id": np.full(sum(sizes), provider_id, dtype=object),
        "kpi": repeated([r.kpi for r in chosen]),
        "stage": repeated([r.stage for r in chosen]),
        "bootcamp_id": repeated([r.bootcamp_id for r in chosen]),
    }
    columns |= {
        name: np.concatenate([getattr(r.members, name) for r in chosen]) for name in MEMBER_COLUMNS
    }
    return pd.DataFrame({name: columns[name] for name in KPI_MEMBER_COLUMNS})


def figures_of(audit: ProviderAudit, member: str) -> pd.DataFrame:
    """The KPI figures one learner or employer counts in, and how: its rows of
    :func:`kpi_members` (``member`` as a finding's entity names it, ``learner:<ref>`` or
    ``employer:<id>``; :func:`~kpitools.model.learner_entity`), in the order of the
    audit's results."""
    members = kpi_members(audit)
    return members.loc[members["member"].eq(member)].reset_index(drop=True)


def shown_members(members: pd.DataFrame, name: Callable[[object], object]) -> pd.DataFrame:
    """Members (:func:`kpi_members`) as an output shows them: each ``member`` named by
    ``name`` (the output's naming rule, e.g.
    :meth:`kpitools.privacy.naming.LearnerNaming.entity`), ``in_population`` and
    ``in_numerator`` as Y / N."""
    names = {entity: name(entity) for entity in members["member"].unique().tolist()}
    return members.assign(
        member=members["member"].map(names),
        in_population=_yes_no(members["in_population"]),
        in_numerator=_yes_no(members["in_numerator"]),
    )


def _yes_no(flags: pd.Series) -> np.ndarray:
    return np.where(flags.to_numpy(dtype=bool), "Y", "N")


def figure_members(
    results: Iterable[KpiResult], kpi: str, bootcamp_id: str, stage: str = ""
) -> KpiMembers:
    """The members of one figure (a KPI, a bootcamp or ``ALL``, a stage).

    Raises:
        KeyError: no such figure among ``results``.
    """
    for result in results:
        if (result.kpi, result.bootcamp_id, result.stage) == (kpi, bootcamp_id, stage):
            return result.members
    raise KeyError(f"no figure {kpi} {stage} {bootcamp_id}".replace("  ", " "))
