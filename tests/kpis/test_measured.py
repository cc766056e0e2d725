"""The one cache of derived frames (MeasuredTables), and the run's measured tables
(Measurements): each return measured once per run, never another return's, and what a
worker process measured taken back with the frames derived from it."""

from __future__ import annotations

import pickle
from datetime import date

import pytest
from auditkit_frames import bootcamp, learner, provider_return

from kpitools.kpis.measured import Measurements, bootcamp_timing, derived

AS_OF = date(2023, 3, 31)


def _counting_build(calls: list[int]):
    def build() -> int:
        calls.append(1)
        return len(calls)

    return build


def test_value_built_once_per_return_within_a_run() -> None:
    provider = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    run = Measurements(AS_OF)
    calls: list[int] = []
    first = derived(run.of(provider), "x", _counting_build(calls))
    again = derived(run.of(provider), "x", _counting_build(calls))
    assert (first, again, len(calls)) == (1, 1, 1)
    assert run.of(provider) is run.of(provider)
    # another run (another as_of, or the same one again) measures anew: nothing is kept
    # on the return itself
    later = derived(Measurements(date(2023, 4, 30)).of(provider), "x", _counting_build(calls))
    assert (later, len(calls)) == (2, 2)
    assert derived(Measurements(AS_OF).of(provider), "x", _counting_build(calls)) == 3


def test_another_return_with_equal_tables_is_not_served_the_cache() -> None:
    one = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    two = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    run = Measurements(AS_OF)
    calls: list[int] = []
    derived(run.of(one), "x", _counting_build(calls))
    assert derived(run.of(two), "x", _counting_build(calls)) == 2
    assert list(run.tables({"P1": one, "P2": two})) == ["P1", "P2"]


def test_tables_measured_in_a_worker_are_kept_with_their_derived_frames() -> None:
    provider = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    built = bootcamp_timing(Measurements(AS_OF).of(provider), AS_OF)
    # a worker process sends the return back with its measured tables (one pickle, so
    # the tables' frames are the return's); the calling process's run takes them
    copy, tables = pickle.loads(pickle.dumps((provider, Measurements(AS_OF).of(provider))))
    bootcamp_timing(tables, AS_OF)
    run = Measurements(AS_OF)
    run.keep(copy, tables)
    calls: list[int] = []
    reused = derived(run.of(copy), ("bootcamp_timing", AS_OF), _counting_build(calls))
    assert calls == []
    assert reused.equals(built)
    with pytest.raises(ValueError, match="not at"):
        Measurements(date(2023, 4, 30)).keep(copy, tables)
