"""The tables as they stood at ``as_of``, and the frames derived from them, built once.

Every KPI, check and worklist looks at a return as it stood at ``as_of``
(:func:`measured_tables`) and several derive the same frames from it (bootcamp timing,
the outcome facts, the employers of each stage, the drop-out hazard counts).
:class:`MeasuredTables` holds those frames: the one cache of derived frames.
:class:`Measurements` keeps each return's measured tables for one run: the audit engine
owns one, so that its KPIs, charts and worklists measure a return once, and a worker
process ships each return's measured tables back with its audit.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from datetime import date
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from kpitools.model import ProviderReturn
from kpitools.returns.contract import EVENT_DATE, TABLES
from kpitools.returns.period import Stacks, stacked_tables
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
    them be built once per tables and as_of. The frames are shared read-only (pandas
    copy-on-write keeps every caller's changes its own).

    Attributes:
        as_of: the measurement date.
        derived: the derived values, by key.
    """

    def __init__(self, tables: Mapping[str, pd.DataFrame], as_of: date) -> None:
        super().__init__(tables)
        self.as_of = as_of
        self.derived: dict[Hashable, Any] = {}


class Measurements:
    """Each return's tables as they stood at ``as_of`` (:class:`MeasuredTables`), measured
    once: a cache the audit engine owns for one run (each worker process, one for its
    share), let go with it.

    Attributes:
        as_of: the measurement date.
    """

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of
        # by the return's id, the return kept beside its tables so that the id stays its own
        self._measured: dict[int, tuple[ProviderReturn, MeasuredTables]] = {}
        # by the providers and the ids of their tables, kept beside the stack likewise
        self._stacked: dict[
            tuple[tuple[str, ...], tuple[int, ...]],
            tuple[list[Mapping[str, pd.DataFrame]], MeasuredTables],
        ] = {}

    def of(self, provider: ProviderReturn) -> MeasuredTables:
        """The return's tables as they stood at ``as_of``, measured on first use."""
        kept = self._measured.get(id(provider))
        if kept is None:
            kept = self._measured[id(provider)] = (
                provider,
                measured_tables(provider.tables, self.as_of),
            )
        return kept[1]

    def tables(self, returns: Mapping[str, ProviderReturn]) -> dict[str, MeasuredTables]:
        """:meth:`of` each return, by the same keys."""
        return {key: self.of(provider) for key, provider in returns.items()}

    def stacked(
        self,
        tables: Mapping[str, Mapping[str, pd.DataFrame]],
        as_of: date,
        *,
        stacks: Stacks | None = None,
    ) -> MeasuredTables:
        """:func:`measured_stack` of the providers' tables (as :meth:`tables` gives them),
        stacked once for the run: the KPIs, charts and worklists of the same providers
        then share one stack and the frames derived from it (bootcamp timing, outcome
        facts, contributions ...).

        Raises:
            ValueError: ``as_of`` is not the date these tables are measured at.
        """
        if as_of != self.as_of:
            raise ValueError(f"measured at {self.as_of}, not at {as_of}")
        key = (tuple(tables), tuple(map(id, tables.values())))
        kept = self._stacked.get(key)
        if kept is None:
            kept = self._stacked[key] = (
                list(tables.values()),
                measured_stack(tables, self.as_of, stacks=stacks),
            )
        return kept[1]

    def keep(self, provider: ProviderReturn, tables: MeasuredTables) -> None:
        """Take the return's tables as measured elsewhere (a worker process)."""
        if tables.as_of != self.as_of:
            raise ValueError(f"measured at {tables.as_of}, not at {self.as_of}")
        self._measured[id(provider)] = (provider, tables)


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
    return MeasuredTables(result, as_of)


def measured_stack(
    tables: Mapping[str, Mapping[str, pd.DataFrame]], as_of: date, *, stacks: Stacks | None = None
) -> MeasuredTables:
    """The providers' tables stacked (:func:`kpitools.returns.period.stacked_tables`) as
    they stood at ``as_of``: what a step measures every provider of a run on. A stack of
    one provider is its measured tables themselves, with the frames derived from them.

    Args:
        tables: per provider id, its tables (as returned, or already measured at ``as_of``).
        as_of: the measurement date.
        stacks: the run's stacked tables (:class:`~kpitools.returns.period.Stacks`).
    """
    if len(tables) == 1:
        return measured_tables(next(iter(tables.values())), as_of)
    return measured_tables(stacked_tables(tables, stacks=stacks), as_of)


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
