"""The tables as they stood at ``as_of``, and the frames derived from them, built once.

Every KPI, check and worklist looks at a return as it stood at ``as_of``
(:func:`measured_tables`) and several derive the same frames from it (bootcamp timing,
the outcome facts, the employers of each stage, the drop-out hazard counts).
:class:`MeasuredTables` holds those frames: the one cache of derived frames. A return
keeps its measured tables (``ProviderReturn.measured``, :func:`measured`), so the audit
builds them once for its KPIs, checks and worklists, and a worker process ships them
with the return it sends back.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from datetime import date
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from kpitools.model import ProviderReturn
from kpitools.returns.contract import EVENT_DATE, TABLES
from kpitools.returns.validate import empty_table

_T = TypeVar("_T")


def table(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """Table ``name`` from ``tables``; an absent table is empty (data contract)."""
    frame = tables.get(name)
    return empty_table(name) if frame is None else frame


class MeasuredTables(dict[str, pd.DataFrame]):
    """Tables as they stood at ``as_of`` (:func:`measured_tables`), with the frames
    derived from them (:func:`derived`): the one cache of derived frames.

    Several KPIs, checks and worklists derive the same frames from the same tables
    (bootcamp timing, the outcome facts, the employers of each stage); the cache lets
    them be built once per return and as_of. The frames are shared read-only (pandas
    copy-on-write keeps every caller's changes its own).

    Attributes:
        as_of: the measurement date.
        derived: the derived values, by key.
        origin: the frames the tables were measured from (name, frame), so that a
            return whose tables were replaced is measured again (:func:`measured`).
    """

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        as_of: date,
        origin: Mapping[str, pd.DataFrame] | None = None,
    ) -> None:
        super().__init__(tables)
        self.as_of = as_of
        self.derived: dict[Hashable, Any] = {}
        self.origin = tuple((origin or {}).items())

    def measured_from(self, tables: Mapping[str, pd.DataFrame]) -> bool:
        """True when these were measured from exactly the frames of ``tables``."""
        return len(self.origin) == len(tables) and all(
            tables.get(name) is frame for name, frame in self.origin
        )


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


def measured_tables(tables: Mapping[str, pd.DataFrame], as_of: date) -> MeasuredTables:
    """The tables as they stood at ``as_of``: what happened later is left out.

    Learners who start after ``as_of`` are dropped and their later milestone dates are
    blanked; rows of the event tables dated after ``as_of`` are dropped. These records
    are reported separately as FUTURE-DATED (:mod:`kpitools.checks.future_dated`).
    Inputs are never changed. Measuring tables already measured at the same ``as_of``
    changes nothing, so they are returned as they are (with their cache).
    """
    if isinstance(tables, MeasuredTables) and tables.as_of == as_of:
        return tables
    # Dates compared as numpy arrays (a blank, NaT, is never after as_of): this runs
    # once per provider of a period, and pandas' comparisons cost ten times as much.
    limit = pd.Timestamp(as_of)
    result = {name: table(tables, name) for name in TABLES}
    learners = _on_or_before(result["learners"], "start_date", limit)
    blanks = {
        column: learners[column].where(learners[column] <= limit)
        for column in (
            "m1_date",
            "withdrawal_date",
            "withdrawal_reported_date",
            "completion_date",
            "new_role_evidence_date",
        )
        if _any_after(learners[column], limit)
    }
    result["learners"] = learners.assign(**blanks) if blanks else learners
    for name, column in EVENT_DATE.items():
        result[name] = _on_or_before(result[name], column, limit)
    interviews = result["interviews"]
    if _any_after(interviews["interview_date"], limit):
        result["interviews"] = interviews.assign(
            interview_date=interviews["interview_date"].where(interviews["interview_date"] <= limit)
        )
    return MeasuredTables(result, as_of, origin=tables)


def measured(provider: ProviderReturn, as_of: date) -> MeasuredTables:
    """The return's tables as they stood at ``as_of``, kept on the return
    (``ProviderReturn.measured``) and shared read-only; measured again when its tables
    were replaced. One as_of is kept at a time."""
    found = provider.measured.get(as_of)
    # ProviderReturn (the foundation) cannot name MeasuredTables: every one it holds is one
    if not isinstance(found, MeasuredTables) or not found.measured_from(provider.tables):
        found = measured_tables(provider.tables, as_of)
        provider.measured = {as_of: found}
    return found


def _on_or_before(frame: pd.DataFrame, column: str, limit: pd.Timestamp) -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` is on or before ``limit`` (blank: left out)."""
    keep = frame[column].to_numpy(dtype="datetime64[ns]") <= limit.to_datetime64()
    return frame if keep.all() else frame.loc[keep]


def _any_after(dates: pd.Series, limit: pd.Timestamp) -> bool:
    """Whether any of ``dates`` is after ``limit`` (a blank is not)."""
    return bool((dates.to_numpy(dtype="datetime64[ns]") > limit.to_datetime64()).any())


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
    # Each learner's bootcamp by position in ``timing`` (-1: none of the return's); the
    # period's stacked tables hold a thousand bootcamps, so no loop over them.
    row = timing.index.get_indexer(learners["bootcamp_id"])
    m1 = learners["m1_date"].to_numpy()
    completion = learners["completion_date"].to_numpy()
    last = learners["completion_date"].fillna(learners["withdrawal_date"]).to_numpy()
    cohort = ~np.isnat(m1) & (row >= 0)
    completed = ~np.isnat(completion) & (row >= 0)
    count = len(timing)
    first_m1 = _per_bootcamp(np.minimum, row[cohort], m1[cohort], count)
    first_m2 = _per_bootcamp(np.minimum, row[completed], completion[completed], count)
    open_ones = np.bincount(row[cohort & np.isnat(last)], minlength=count)
    all_done = (np.bincount(row[cohort], minlength=count) > 0) & (open_ones == 0)
    done = cohort.copy()  # where all are done, every cohort learner has a finish date
    done[cohort] = all_done[row[cohort]]
    last_finish = _per_bootcamp(np.maximum, row[done], last[done], count)
    end = timing["end_date"]
    return timing.assign(
        first_m1=first_m1,
        first_m2=first_m2,
        finished=all_done | (end < pd.Timestamp(as_of)).to_numpy(),
        finish_date=pd.Series(last_finish, index=timing.index).where(all_done, end),
    )


def _per_bootcamp(extreme: np.ufunc, rows: np.ndarray, dates: np.ndarray, count: int) -> np.ndarray:
    """Per bootcamp position 0..count-1, the earliest (``np.minimum``) or latest
    (``np.maximum``) of its ``dates`` (all known; ``rows`` gives each one's bootcamp),
    NaT where it has none."""
    ticks = dates.view(np.int64)
    start = np.iinfo(np.int64).max if extreme is np.minimum else np.iinfo(np.int64).min
    found = np.full(count, start, dtype=np.int64)
    extreme.at(found, rows, ticks)
    found[np.bincount(rows, minlength=count) == 0] = np.datetime64("NaT").view(np.int64)
    return found.view(dates.dtype)
