"""Starts (a profile's KPI): learners past M1 against the bootcamp's planned_learners."""

from __future__ import annotations

from datetime import date

from kpi_frames import bootcamp, build, learner

from kpitools.kpis.starts import starts
from kpitools.profiles import load_profile

EXTENSION = load_profile("dfe-2025-extension").rules  # starts_target 0.5


def _planned(bootcamp_id: str, planned: str, **kw: str) -> dict[str, str]:
    return {**bootcamp(bootcamp_id, **kw), "planned_learners": planned}


def test_starts_against_planned_learners():
    # At 2023-02-01, every bootcamp running (first M1 2023-01-10):
    # B1 plans 10; 4 learners past M1, a fifth reaches M1 on 2023-02-10 (after as_of,
    #    not a start) -> 4 / 10 = 40 % < 50 % -> off_track, STARTS-BELOW-TARGET.
    # B2 gives no planned_learners; 2 starts -> not measured: no_data, with a note.
    # B3 plans 2; 3 starts -> 3 / 3 (the starts when more than planned), on_track, noted.
    # ALL: (4 + 3) / (10 + 3) = 7 / 13 = 53.8 % >= 50 % -> on_track; B2 left out, noted.
    learners = [learner(f"A{i}", "B1", m1="2023-01-10") for i in range(4)]
    learners.append(learner("A5", "B1", m1="2023-02-10"))
    learners += [learner(f"B{i}", "B2", m1="2023-01-10") for i in range(2)]
    learners += [learner(f"C{i}", "B3", m1="2023-01-10") for i in range(3)]
    bootcamps = [_planned("B1", "10"), _planned("B2", ""), _planned("B3", "2")]
    results = starts(
        build(bootcamps=bootcamps, learners=learners), as_of=date(2023, 2, 1), rules=EXTENSION
    )
    figures = [(r.bootcamp_id, r.numerator, r.denominator, r.status) for r in results]
    assert figures == [
        ("B1", 4, 10, "off_track"),
        ("B2", 0, 0, "no_data"),
        ("B3", 3, 3, "on_track"),
        ("ALL", 7, 13, "on_track"),
    ]
    notes = {r.bootcamp_id: r.notes for r in results}
    assert notes["B2"] == ("planned_learners not given: not measured",)
    assert notes["B3"] == ("3 starts against 2 planned learners",)
    assert notes["ALL"] == ("1 bootcamp(s) without planned_learners left out",)
    [below] = results[0].exceptions
    assert (below.rule, below.entity) == ("STARTS-BELOW-TARGET", "bootcamp:B1")
    assert below.message == "4 starts of 10 planned learners (40.0%), below the 50% target"


def test_a_bootcamp_not_begun_is_not_due_and_left_out_of_all():
    # B1 plans 4, 2 starts by 2023-02-01 -> 2 / 4 = 50 %: on_track. B2 (2023-03-01 to
    # 2023-05-31) plans 20 and has not begun -> not_due, 0 / 0, and its places are not
    # pooled: ALL 2 / 4. Once B1 has ended (2023-04-01) with 2 of 4: met.
    learners = [learner(f"A{i}", "B1", m1="2023-01-10") for i in range(2)]
    bootcamps = [
        _planned("B1", "4"),
        _planned("B2", "20", start="2023-03-01", end="2023-05-31"),
    ]
    tables = build(bootcamps=bootcamps, learners=learners)
    results = starts(tables, as_of=date(2023, 2, 1), rules=EXTENSION)
    figures = [(r.bootcamp_id, r.numerator, r.denominator, r.status) for r in results]
    assert figures == [("B1", 2, 4, "on_track"), ("B2", 0, 0, "not_due"), ("ALL", 2, 4, "on_track")]
    later = starts(tables, as_of=date(2023, 4, 1), rules=EXTENSION)
    assert (later[0].numerator, later[0].denominator, later[0].status) == (2, 4, "met")
