"""Shared machinery of the KPIs: learner keys, per-learner lookups, findings and the
shape of a KPI's *cases* (:mod:`kpitools.kpis.summary` turns them into one
KpiResult per bootcamp plus ``ALL``).

A KPI builds its *cases*, one per case of its population: a frame, or (cheaper for a
provider's few hundred rows) a mapping of equally long columns, a scalar standing for
the same value in every row:

``bootcamp_id``  the bootcamp of the case
``member``       the case as a finding's entity names it (:func:`learner_members`,
                 ``employer:<employer_id>``)
``source``       the ``file:row`` of the rows the case rests on
``due``          the date the case falls due (``NaT`` when not yet known)
``passed``       True when the case meets the KPI (for a maximum-type KPI such as
                 drop-out: True when the case counts in the numerator)
``in_value``     True when the case counts in numerator/denominator (it has fallen due)
``unverified``   (optional) True when the evidence that would decide the case comes from
                 the ILR, which does not say the role type or the skills match: the case
                 is left out of numerator, denominator and the short counts, and counted
                 in ``KpiResult.unverified`` (when in the value)
``reason``       (optional) why a case not in the numerator is not, in the rule's words
                 (blank: the Measure's ``not_counted``)

The same flags give each figure its members (``KpiResult.members``): every case, with
whether it is in the population and the numerator, and why.

Cases that are not ``in_value`` only drive the status: a short case not yet due makes a
running KPI ``at_risk``; a short case past its own due date makes it ``off_track``.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from kpitools.model import Finding, finding, learner_entity
from kpitools.returns.contract import SOURCE_COLUMN


def wants_interview(learners: pd.DataFrame) -> pd.Series:
    """The stated aim, with the contract default where blank (Y independent, N others)."""
    default = learners["learner_type"].eq("independent")
    return learners["wants_interview"].astype("boolean").fillna(default).astype(bool)


def learner_findings(
    frame: pd.DataFrame,
    rule_id: str,
    *,
    messages: Iterable[str],
    sources: Iterable[str] | None = None,
) -> list[Finding]:
    """One :func:`~kpitools.model.finding` of ``rule_id`` per row of ``frame``
    (learner_ref, bootcamp_id, source columns).

    Messages must never hold names, ULNs or contact details.
    """
    sources = frame[SOURCE_COLUMN] if sources is None else sources
    return [
        finding(rule_id, learner_entity(ref), [source], message, str(bootcamp))
        for ref, bootcamp, source, message in zip(
            frame["learner_ref"], frame["bootcamp_id"], sources, messages, strict=True
        )
    ]


def learner_members(frame: pd.DataFrame) -> pd.Series:
    """``learner:<learner_ref>`` for each row of ``frame``: the ``member`` of a learner's
    case, named as a finding names the learner (:func:`~kpitools.model.learner_entity`)."""
    return "learner:" + frame["learner_ref"].astype(object)


def learner_key(frame: pd.DataFrame) -> pd.Series:
    """``learner_ref`` and ``bootcamp_id`` as one value per row, to group and look up by.

    Grouping by one column is much cheaper than by two; validated identifiers cannot hold
    ``;`` (BAD-ID), so the joined text is unambiguous. A blank part gives a blank key.
    """
    return frame["learner_ref"] + ";" + frame["bootcamp_id"]


def per_learner(
    key: pd.Series, values: pd.Series, how: str | list[str]
) -> pd.Series | dict[str, pd.Series]:
    """``values`` aggregated per learner ``key`` (:func:`learner_key`); blank keys left out.

    ``how`` names a groupby method (``"sum"``, ``"max"``, ``"first"`` ...); for a list of
    names, one Series per name, by name, from a single grouping.
    """
    grouped = values.groupby(key, sort=False)
    if isinstance(how, str):
        return getattr(grouped, how)()
    return {name: getattr(grouped, name)() for name in how}


def lookup(keys: pd.Series, per: pd.Series) -> pd.Series:
    """``per`` (indexed by learner key) for each of ``keys``, as a left join would give.

    Unlike ``Series.map`` it keeps the dtype of an empty ``per`` (dates stay dates).
    """
    return per.reindex(keys.to_numpy()).set_axis(keys.index)
