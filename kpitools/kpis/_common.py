"""Shared machinery of the KPIs: typed empty tables, the as_of view, bootcamp timing
and the shape of a KPI's *cases* (:mod:`kpitools.kpis._summary` turns them into one
KpiResult per bootcamp plus ``ALL``).

A KPI builds its *cases*, one per case of its population: a frame, or (cheaper for a
provider's few hundred rows) a mapping of equally long columns, a scalar standing for
the same value in every row:

``bootcamp_id``  the bootcamp of the case
``due``          the date the case falls due (``NaT`` when not yet known)
``passed``       True when the case meets the KPI (for a maximum-type KPI such as
                 drop-out: True when the case counts in the numerator)
``in_value``     True when the case counts in numerator/denominator (it has fallen due)

Cases that are not ``in_value`` only drive the status: a short case not yet due makes a
running KPI ``at_risk``; a short case past its own due date makes it ``off_track``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import date
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from kpitools.model import Finding, finding, learner_entity
from kpitools.returns.contract import EVENT_DATE, SOURCE_COLUMN, TABLES

_T = TypeVar("_T")

_DTYPES = {
    "date": "datetime64[ns]", "flag": "boolean", "money": "float64",
    "int": "Int64", "score": "Int64",
}



def empty_table(name: str) -> pd.DataFrame:
    """An empty validated frame of contract table ``name`` with the model's dtypes."""
    columns = {
        c.name: pd.Series(dtype=_DTYPES.get(c.kind, object)) for c in TABLES[name].columns
    }
    columns[SOURCE_COLUMN] = pd.Series(dtype=object)
    return pd.DataFrame(columns)


def table(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """Table ``name`` from ``tables``; an absent table is empty (data contract)."""
    frame = tables.get(name)
    return empty_table(name) if frame is None else frame


class MeasuredTables(dict):
    """Tables as they stood at ``as_of`` (:func:`measured_tables`), with a cache.

    Several KPIs derive the same frames from the same tables (bootcamp timing, the
    outcome facts); the cache lets them be built once per provider and as_of. The frames
    are shared read-only (pandas copy-on-write keeps every caller's changes its own).
    """

    def __init__(self, tables: Mapping[str, pd.DataFrame], as_of: date) -> None:
        super().__init__(tables)
        self.as_of = as_of
        self.derived: dict[Hashable, Any] = {}


def derived(tables: Mapping[str, pd.DataFrame], key: Hashable, build: Callable[[], _T]) -> _T:
    """``build()``, computed once per :class:`MeasuredTables` and ``key``.

    Plain mappings carry no cache: ``build()`` is called every time.
    """
    cache = getattr(tables, "derived", None)
    if cache is None:
        return build()
    if key not in cache:
        cache[key] = build()
    return cache[key]


def measured_tables(
    tables: Mapping[str, pd.DataFrame], as_of: date
) -> MeasuredTables:
    """The tables as they stood at ``as_of``: what happened later is left out.

    Learners who start after ``as_of`` are dropped and their later milestone dates are
    blanked; rows of the event tables dated after ``as_of`` are dropped. These records
    are reported separately as FUTURE-DATED (:mod:`kpitools.checks.future_dated`).
    Inputs are never changed. Measuring tables already measured at the same ``as_of``
    changes nothing, so they are returned as they are (with their cache).
    """
    if isinstance(tables, MeasuredTables) and tables.as_of == as_of:
        return tables
    limit = pd.Timestamp(as_of)
    result = {name: table(tables, name) for name in TABLES}
    learners = _on_or_before(result["learners"], "start_date", limit)
    blanks = {
        column: learners[column].where(learners[column] <= limit)
        for column in ("m1_date", "withdrawal_date", "withdrawal_reported_date",
                       "completion_date", "new_role_evidence_date")
        if (learners[column] > limit).any()
    }
    result["learners"] = learners.assign(**blanks) if blanks else learners
    for name, column in EVENT_DATE.items():
        result[name] = _on_or_before(result[name], column, limit)
    interviews = result["interviews"]
    if (interviews["interview_date"] > limit).any():
        result["interviews"] = interviews.assign(
            interview_date=interviews["interview_date"].where(
                interviews["interview_date"] <= limit))
    return MeasuredTables(result, as_of)


def _on_or_before(frame: pd.DataFrame, column: str, limit: pd.Timestamp) -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` is on or before ``limit`` (blank: left out)."""
    keep = frame[column] <= limit
    return frame if keep.all() else frame.loc[keep]


def wants_interview(learners: pd.DataFrame) -> pd.Series:
    """The stated aim, with the contract default where blank (Y independent, N others)."""
    default = learners["learner_type"].eq("independent")
    return learners["wants_interview"].astype("boolean").fillna(default).astype(bool)


def bootcamp_timing(tables: Mapping[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    """Per bootcamp: when its milestones began and whether it is over at ``as_of``.

    Columns: ``end_date``, ``first_m1``, ``first_m2``, ``finished`` (every cohort learner
    has completed or withdrawn, or ``as_of`` is past ``end_date``) and ``finish_date``
    (the last completion or withdrawal when all are done, else ``end_date``).
    ``tables`` must already be :func:`measured_tables`; the frame is built once per
    measured tables and ``as_of``, and shared.
    """
    return derived(tables, ("bootcamp_timing", as_of), lambda: _bootcamp_timing(tables, as_of))


def _bootcamp_timing(tables: Mapping[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    bootcamps = table(tables, "bootcamps").drop_duplicates("bootcamp_id")
    timing = bootcamps.set_index("bootcamp_id")[["end_date"]].sort_index()
    learners = table(tables, "learners")
    # A provider has a handful of bootcamps: one numpy mask each beats a groupby.
    row = timing.index.get_indexer(learners["bootcamp_id"])
    m1 = learners["m1_date"].to_numpy()
    completion = learners["completion_date"].to_numpy()
    last = learners["completion_date"].fillna(learners["withdrawal_date"]).to_numpy()
    in_cohort = ~np.isnat(m1)
    still_open = in_cohort & np.isnat(last)
    first_m1, first_m2, last_finish, all_done = [], [], [], []
    for position in range(len(timing)):
        mine = row == position
        first_m1.append(_earliest(m1[mine & in_cohort]))
        first_m2.append(_earliest(completion[mine & ~np.isnat(completion)]))
        cohort = mine & in_cohort
        all_done.append(bool(cohort.any() and not still_open[mine].any()))
        last_finish.append(last[cohort].max() if all_done[-1] else np.datetime64("NaT"))
    all_done = np.array(all_done, dtype=bool)
    end = timing["end_date"]
    return timing.assign(
        first_m1=np.array(first_m1, dtype=m1.dtype),
        first_m2=np.array(first_m2, dtype=completion.dtype),
        finished=all_done | (end < pd.Timestamp(as_of)).to_numpy(),
        finish_date=pd.Series(np.array(last_finish, dtype=last.dtype),
                              index=timing.index).where(all_done, end),
    )


def _earliest(dates: np.ndarray) -> np.datetime64:
    """The earliest of ``dates`` (all known), or NaT when there are none."""
    return dates.min() if len(dates) else np.datetime64("NaT")




def learner_findings(
    frame: pd.DataFrame, rule_id: str, *, messages: Iterable[str],
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


def learner_key(frame: pd.DataFrame) -> pd.Series:
    """``learner_ref`` and ``bootcamp_id`` as one value per row, to group and look up by.

    Grouping by one column is much cheaper than by two; validated identifiers cannot hold
    ``;`` (BAD-ID), so the joined text is unambiguous. A blank part gives a blank key.
    """
    return frame["learner_ref"] + ";" + frame["bootcamp_id"]


def per_learner(key: pd.Series, values: pd.Series,
                how: str | list[str]) -> pd.Series | dict[str, pd.Series]:
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


def iso(value: object) -> str:
    """A Timestamp as ``YYYY-MM-DD`` (blank when missing), for messages."""
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


def join_sources(frame: pd.DataFrame, key: list[str]) -> pd.Series:
    """The ``source`` of every row of ``frame`` joined by ``"; "`` per ``key``."""
    return frame.groupby(key, sort=False)[SOURCE_COLUMN].agg(lambda s: "; ".join(map(str, s)))
