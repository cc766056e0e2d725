"""A run's tables stacked: identifiers scoped when there are several providers, a run of
one left as it is, each table stacked once in the run's Stacks, and the way back: a
finding or result through by_provider, a frame through split_frame (both unscoped),
unscoped itself for every kind of result."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from kpitools.model import Finding, KpiResult
from kpitools.returns.period import (
    SCOPE,
    Stacks,
    by_provider,
    owner_of,
    owners_of,
    prefixes,
    split_frame,
    stacked_tables,
    unscoped,
)


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
    assert owners_of(stacked["bootcamp_id"], ("P1", "P2")).tolist() == ["P1", "P1", "P2"]


def test_a_run_of_one_provider_is_its_tables_as_they_are() -> None:
    # one provider: nothing to tell apart, and its id need not be a folder's name
    tables = {"ACME LTD": _tables()["P1"]}
    stacked = stacked_tables(tables, names=("bootcamps",))["bootcamps"]
    assert stacked["bootcamp_id"].tolist() == ["B1", "B2"]
    assert prefixes(("ACME LTD",)) == ("",)
    assert owner_of("B1", ("ACME LTD",)) == "ACME LTD"
    assert owners_of(["B1", None], ("ACME LTD",)).tolist() == ["ACME LTD", "ACME LTD"]
    with pytest.raises(ValueError, match="named like a folder"):
        prefixes(("P1", "ACME LTD"))


def test_within_a_run_s_stacks_the_same_frames_are_stacked_once() -> None:
    tables = _tables()
    alone = stacked_tables(tables, names=("bootcamps",))["bootcamps"]
    stacks = Stacks()
    first = stacked_tables(tables, names=("bootcamps",), stacks=stacks)["bootcamps"]
    again = stacked_tables(tables, names=("bootcamps",), stacks=stacks)["bootcamps"]
    # each caller has its own frame over the one stack: a change to one is its own
    assert again is not first and _same_memory(again, first)
    again["bootcamp_id"] = "changed"
    pd.testing.assert_frame_equal(first, alone)
    # other frames (P2's bootcamps replaced), or other providers: stacked anew
    other = {**tables, "P2": {"bootcamps": _bootcamps("B7")}}
    assert (
        stacked_tables(other, names=("bootcamps",), stacks=stacks)["bootcamps"][
            "bootcamp_id"
        ].tolist()[-1]
        == f"P2{SCOPE}B7"
    )
    only_p1 = stacked_tables({"P1": tables["P1"]}, names=("bootcamps",), stacks=stacks)
    assert len(only_p1["bootcamps"]) == 2
    # another run's stacks know nothing of these: stacked anew, the same figures
    after = stacked_tables(tables, names=("bootcamps",), stacks=Stacks())["bootcamps"]
    assert not _same_memory(after, first)
    pd.testing.assert_frame_equal(after, alone)


def _same_memory(one: pd.DataFrame, other: pd.DataFrame) -> bool:
    return np.shares_memory(one["bootcamp_id"].to_numpy(), other["bootcamp_id"].to_numpy())


def test_unscoped_takes_the_scope_out_of_every_kind_of_result() -> None:
    p1, p2 = f"P1{SCOPE}", f"P-2{SCOPE}"
    assert unscoped(f"bootcamp {p1}B1 and {p2}B1; {p1}L1;{p1}L2") == "bootcamp B1 and B1; L1;L2"
    assert unscoped("no scope") == "no scope"
    finding = Finding(
        "irregularity", "DUP-ROW", "high", f"learner:{p1}L1", "a.csv:2", "x", f"{p1}B1"
    )
    assert unscoped(finding) == Finding(
        "irregularity", "DUP-ROW", "high", "learner:L1", "a.csv:2", "x", "B1"
    )
    plain = Finding("irregularity", "DUP-ROW", "high", "learner:L1", "a.csv:2", "x", "B1")
    assert unscoped(plain) is plain
    result = KpiResult(
        "learner_dropout",
        f"{p1}ALL",
        1,
        2,
        "on_track",
        date(2023, 3, 31),
        exceptions=(finding,),
        notes=(f"bootcamp {p1}B1",),
        informational=(finding,),
    )
    assert unscoped(result) == KpiResult(
        "learner_dropout",
        "ALL",
        1,
        2,
        "on_track",
        date(2023, 3, 31),
        exceptions=(unscoped(finding),),
        notes=("bootcamp B1",),
        informational=(unscoped(finding),),
    )
    column = pd.Series([f"{p1}E1", None, f"{p1}B1;{p1}B2", "E9"], dtype=object, name="ids")
    expected = pd.Series(["E1", None, "B1;B2", "E9"], dtype=object, name="ids")
    pd.testing.assert_series_equal(unscoped(column), expected)
    frame = pd.DataFrame({"ids": column, "n": [1, 2, 3, 4]})
    pd.testing.assert_frame_equal(
        unscoped(frame), pd.DataFrame({"ids": expected, "n": [1, 2, 3, 4]})
    )
    untouched = pd.DataFrame({"ids": ["E1"], "n": [1]})
    assert unscoped(untouched) is untouched


def test_findings_and_results_leave_a_stack_through_by_provider() -> None:
    p1, p2 = f"P1{SCOPE}", f"P2{SCOPE}"
    found = [
        ("P2", Finding("irregularity", "DUP-ROW", "high", f"learner:{p2}L1", "a.csv:2", "x", "")),
        ("P1", Finding("irregularity", "DUP-ROW", "high", f"learner:{p1}L1", "a.csv:3", "y", "")),
        ("P2", Finding("irregularity", "DUP-ROW", "high", f"learner:{p2}L2", "a.csv:4", "z", "")),
    ]
    cut = by_provider(found, ("P1", "P2", "P3"))
    assert {p: [f.entity for f in fs] for p, fs in cut.items()} == {
        "P1": ["learner:L1"],
        "P2": ["learner:L1", "learner:L2"],  # in the order found
        "P3": [],
    }
    with pytest.raises(ValueError, match="no provider of the stack"):
        by_provider(found, ("P1",))


def test_frames_leave_a_stack_through_split_frame_identifiers_unscoped() -> None:
    # rows of P2 (position 1) and P1 (position 0) interleaved; the identifier columns
    # (the contract's and entity) lose their scope, free text keeps what it holds
    p1, p2 = f"P1{SCOPE}", f"P2{SCOPE}"
    frame = pd.DataFrame(
        {
            "entity": [f"learner:{p2}L1", f"learner:{p1}L1", f"learner:{p2}L2"],
            "bootcamp_id": [f"{p2}B1", f"{p1}B1", f"{p2}B1"],
            "employer_name": [f"{p1}odd name", "Acme", "Beta"],
            "days": [3, 2, 1],
        }
    )
    cut = split_frame(frame, np.array([1, 0, 1]), ("P1", "P2", "P3"))
    assert list(cut) == ["P1", "P2", "P3"]
    assert cut["P1"].to_dict("list") == {
        "entity": ["learner:L1"],
        "bootcamp_id": ["B1"],
        "employer_name": ["Acme"],
        "days": [2],
    }
    assert cut["P2"].to_dict("list") == {
        "entity": ["learner:L1", "learner:L2"],
        "bootcamp_id": ["B1", "B1"],
        "employer_name": [f"{p1}odd name", "Beta"],
        "days": [3, 1],
    }
    assert list(cut["P2"].index) == [0, 1]
    assert cut["P3"].empty and list(cut["P3"].columns) == list(frame.columns)
