"""The one cache of derived frames: a return's measured tables, kept on the return, reused
only for the same frames and as_of, and shipped with the return to and from a worker."""

from __future__ import annotations

import pickle
from dataclasses import fields
from datetime import date

from auditkit_frames import bootcamp, frame, learner, provider_return

from kpitools.kpis.measured import bootcamp_timing, derived, measured
from kpitools.model import ProviderReturn

AS_OF = date(2023, 3, 31)


def _counting_build(calls: list[int]):
    def build() -> int:
        calls.append(1)
        return len(calls)

    return build


def test_value_built_once_per_return_and_as_of() -> None:
    provider = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    calls: list[int] = []
    first = derived(measured(provider, AS_OF), "x", _counting_build(calls))
    again = derived(measured(provider, AS_OF), "x", _counting_build(calls))
    assert (first, again, len(calls)) == (1, 1, 1)
    # another as_of is another value: rebuilt, and only the latest as_of is kept
    later = derived(measured(provider, date(2023, 4, 30)), "x", _counting_build(calls))
    assert (later, len(calls)) == (2, 2)
    assert list(provider.measured) == [date(2023, 4, 30)]


def test_another_return_with_equal_tables_is_not_served_the_cache() -> None:
    one = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    two = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    calls: list[int] = []
    derived(measured(one, AS_OF), "x", _counting_build(calls))
    assert derived(measured(two, AS_OF), "x", _counting_build(calls)) == 2


def test_a_replaced_table_rebuilds() -> None:
    provider = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    before = measured(provider, AS_OF)
    assert measured(provider, AS_OF) is before
    provider.tables["learners"] = frame("learners", [learner("L1"), learner("L2")])
    after = measured(provider, AS_OF)
    assert after is not before
    assert list(after["learners"]["learner_ref"]) == ["L1", "L2"]


def test_the_cache_is_kept_on_the_return_but_not_shown_or_compared() -> None:
    one = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    tables = measured(one, AS_OF)
    assert one.measured == {AS_OF: tables}
    assert "measured" not in repr(one)
    assert not next(f for f in fields(ProviderReturn) if f.name == "measured").compare


def test_frames_shipped_with_a_pickled_return_are_reused_not_rebuilt() -> None:
    provider = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    built = bootcamp_timing(measured(provider, AS_OF), AS_OF)
    # a worker process pickles the return with its measured tables; the copy reuses them
    copy = pickle.loads(pickle.dumps(provider))
    calls: list[int] = []
    reused = derived(measured(copy, AS_OF), ("bootcamp_timing", AS_OF), _counting_build(calls))
    assert calls == []
    assert reused.equals(built)
