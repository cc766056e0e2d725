"""A period's tables stacked: identifiers scoped, and each table stacked once within
shared_stacks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpitools.returns.period import SCOPE, shared_stacks, stacked_tables


def _bootcamps(*ids: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "bootcamp_id": pd.Series(list(ids), dtype=object),
            "source": pd.Series([f"bootcamps.csv:{i + 2}" for i in range(len(ids))], dtype=object),
        }
    )


def _tables() -> dict[str, dict[str, pd.DataFrame]]:
    # P1 has B1 and B2, P2 has its own B1: scoped, the two B1 are told apart.
    return {"P1": {"bootcamps": _bootcamps("B1", "B2")}, "P2": {"bootcamps": _bootcamps("B1")}}


def test_stacked_tables_scope_each_providers_identifiers() -> None:
    stacked = stacked_tables(_tables(), names=("bootcamps",))["bootcamps"]
    assert stacked["bootcamp_id"].tolist() == [f"P1{SCOPE}B1", f"P1{SCOPE}B2", f"P2{SCOPE}B1"]
    assert stacked["source"].tolist() == ["bootcamps.csv:2", "bootcamps.csv:3", "bootcamps.csv:2"]
    assert list(stacked.index) == [0, 1, 2]


def test_within_shared_stacks_the_same_frames_are_stacked_once() -> None:
    tables = _tables()
    alone = stacked_tables(tables, names=("bootcamps",))["bootcamps"]
    with shared_stacks():
        first = stacked_tables(tables, names=("bootcamps",))["bootcamps"]
        with shared_stacks():  # entered again: the same stacks
            again = stacked_tables(tables, names=("bootcamps",))["bootcamps"]
        # each caller has its own frame over the one stack: a change to one is its own
        assert again is not first and _same_memory(again, first)
        again["bootcamp_id"] = "changed"
        pd.testing.assert_frame_equal(first, alone)
        # other frames (P2's bootcamps replaced), or other providers: stacked anew
        other = {**tables, "P2": {"bootcamps": _bootcamps("B7")}}
        assert (
            stacked_tables(other, names=("bootcamps",))["bootcamps"]["bootcamp_id"].tolist()[-1]
            == f"P2{SCOPE}B7"
        )
        only_p1 = stacked_tables({"P1": tables["P1"]}, names=("bootcamps",))["bootcamps"]
        assert len(only_p1) == 2
    # outside the block nothing is kept: stacked anew, the same figures
    after = stacked_tables(tables, names=("bootcamps",))["bootcamps"]
    assert not _same_memory(after, first)
    pd.testing.assert_frame_equal(after, alone)


def _same_memory(one: pd.DataFrame, other: pd.DataFrame) -> bool:
    return np.shares_memory(one["bootcamp_id"].to_numpy(), other["bootcamp_id"].to_numpy())
