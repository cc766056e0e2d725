"""The per-return cache of derived frames: reused only for the same return, frames and
as_of; forgotten with the return."""

from __future__ import annotations

import gc
import pickle
from datetime import date

from auditkit_frames import bootcamp, frame, learner, provider_return

from kpitools.checks import derived

AS_OF = date(2023, 3, 31)


def _counting_build(calls: list[int]):
    def build() -> int:
        calls.append(1)
        return len(calls)
    return build


def test_value_built_once_per_return_and_as_of() -> None:
    provider = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    calls: list[int] = []
    first = derived.return_derived(provider, AS_OF, "x", _counting_build(calls))
    again = derived.return_derived(provider, AS_OF, "x", _counting_build(calls))
    assert (first, again, len(calls)) == (1, 1, 1)
    # another as_of is another value: rebuilt (and the old one dropped)
    later = derived.return_derived(provider, date(2023, 4, 30), "x", _counting_build(calls))
    assert (later, len(calls)) == (2, 2)


def test_another_return_with_equal_tables_is_not_served_the_cache() -> None:
    one = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    two = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    calls: list[int] = []
    derived.return_derived(one, AS_OF, "x", _counting_build(calls))
    assert derived.return_derived(two, AS_OF, "x", _counting_build(calls)) == 2


def test_a_replaced_table_rebuilds() -> None:
    provider = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    before = derived.measured(provider, AS_OF)
    assert derived.measured(provider, AS_OF) is before
    provider.tables["learners"] = frame("learners", [learner("L1"), learner("L2")])
    after = derived.measured(provider, AS_OF)
    assert after is not before
    assert list(after["learners"]["learner_ref"]) == ["L1", "L2"]


def test_entry_forgotten_with_its_return() -> None:
    provider = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    derived.timing(provider, AS_OF)
    key = id(provider)
    assert key in derived._ENTRIES
    del provider
    gc.collect()
    assert key not in derived._ENTRIES


def test_values_shipped_with_a_copied_return_are_adopted_not_rebuilt() -> None:
    provider = provider_return(bootcamps=[bootcamp()], learners=[learner("L1")])
    built = derived.timing(provider, AS_OF)
    values = derived.derived_values(provider, AS_OF)
    assert set(values) == {"measured", "timing"}
    assert derived.derived_values(provider, date(2023, 4, 30)) == {}  # another as_of: none
    # a worker process pickles the return and its values together; the copy adopts them
    copy, shipped = pickle.loads(pickle.dumps((provider, values)))
    derived.adopt(copy, AS_OF, shipped)
    calls: list[int] = []
    adopted = derived.return_derived(copy, AS_OF, "timing", _counting_build(calls))
    assert calls == []
    assert adopted.equals(built)
