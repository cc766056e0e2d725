"""The shared KPI machinery added for speed: the measured-tables cache, the learner-key
lookups and cases given as columns. Each must give what the slower form gave."""

from __future__ import annotations

from datetime import date

import pandas as pd
from kpi_frames import bootcamp, build, kpis_alone, learner

from kpitools.kpis.common import learner_key, lookup, per_learner
from kpitools.kpis.measured import bootcamp_timing, measured_tables
from kpitools.kpis.summary import ALL, Measure, concat_cases, summarise

AS_OF = date(2023, 3, 31)


def _tables():
    # B1: L1 M1 2023-01-10, completed 2023-03-20; L2 M1 2023-01-12, still learning.
    # B2: L3 starts 2023-04-03, after as_of, so it is left out when measured.
    return build(
        bootcamps=[bootcamp("B1"), bootcamp("B2", end="2023-06-30")],
        learners=[
            learner("L1", m1="2023-01-10", completed="2023-03-20"),
            learner("L2", m1="2023-01-12"),
            learner("L3", "B2", start="2023-04-03"),
        ],
    )


def test_measuring_measured_tables_again_changes_nothing_and_keeps_the_cache():
    measured = measured_tables(_tables(), AS_OF)
    assert list(measured["learners"]["learner_ref"]) == ["L1", "L2"]  # L3 starts later
    assert measured_tables(measured, AS_OF) is measured
    # Another as_of measures afresh: on 2023-01-11 L1 has no completion yet.
    earlier = measured_tables(measured, date(2023, 1, 11))
    assert earlier is not measured
    assert earlier["learners"]["completion_date"].isna().all()


def test_bootcamp_timing_is_built_once_per_measured_tables_and_as_plain_tables():
    tables = _tables()
    measured = measured_tables(tables, AS_OF)
    first = bootcamp_timing(measured, AS_OF)
    assert bootcamp_timing(measured, AS_OF) is first
    # A plain mapping has no cache: the same figures, built anew.
    plain = bootcamp_timing(dict(measured), AS_OF)
    assert plain is not first
    pd.testing.assert_frame_equal(plain, first)
    # B1: first M1 2023-01-10, first M2 2023-03-20, L2 still learning and end_date
    # 2023-03-31 not yet past -> not finished, finish_date = end_date.
    b1 = first.loc["B1"]
    assert (b1["first_m1"], b1["first_m2"], b1["finished"], b1["finish_date"]) == (
        pd.Timestamp("2023-01-10"),
        pd.Timestamp("2023-03-20"),
        False,
        pd.Timestamp("2023-03-31"),
    )
    # B2: its only learner starts after as_of -> no milestone dates.
    assert first.loc["B2", ["first_m1", "first_m2"]].isna().all()


def test_bootcamp_timing_of_several_bootcamps_at_once():
    # B1 (ends 2023-06-30): L1 M1 01-10, completed 03-20; L2 M1 01-05, withdrew 03-25;
    #   L3 never reached M1 (not in the cohort, so it keeps nothing open) -> first M1
    #   01-05, first M2 03-20, every cohort learner done -> finished, finish_date the
    #   last completion or withdrawal, 03-25.
    # B2 (ends 2023-06-30): L4 M1 02-01 completed 03-01; L5 M1 02-02 still learning ->
    #   not finished, finish_date = end_date.
    # B3 (ended 2023-02-28): no learner -> no milestone dates; finished as its end is
    #   past as_of, finish_date = end_date.
    # L6 is in B9, which the return does not hold: it counts for no bootcamp (its
    #   earlier dates would otherwise be B1's first M1 and M2).
    tables = build(
        bootcamps=[
            bootcamp("B1", end="2023-06-30"),
            bootcamp("B2", end="2023-06-30"),
            bootcamp("B3", end="2023-02-28"),
        ],
        learners=[
            learner("L1", m1="2023-01-10", completed="2023-03-20"),
            learner("L2", m1="2023-01-05", withdrawn="2023-03-25"),
            learner("L3"),
            learner("L4", "B2", m1="2023-02-01", completed="2023-03-01"),
            learner("L5", "B2", m1="2023-02-02"),
            learner("L6", "B9", m1="2023-01-01", completed="2023-01-02"),
        ],
    )
    timing = bootcamp_timing(measured_tables(tables, AS_OF), AS_OF)
    day = pd.Timestamp
    assert timing.to_dict("index") == {
        "B1": {
            "end_date": day("2023-06-30"),
            "first_m1": day("2023-01-05"),
            "first_m2": day("2023-03-20"),
            "finished": True,
            "finish_date": day("2023-03-25"),
        },
        "B2": {
            "end_date": day("2023-06-30"),
            "first_m1": day("2023-02-01"),
            "first_m2": day("2023-03-01"),
            "finished": False,
            "finish_date": day("2023-06-30"),
        },
        "B3": {
            "end_date": day("2023-02-28"),
            "first_m1": pd.NaT,
            "first_m2": pd.NaT,
            "finished": True,
            "finish_date": day("2023-02-28"),
        },
    }
    assert {str(timing[c].dtype) for c in ("end_date", "first_m1", "first_m2", "finish_date")} == {
        str(tables["learners"]["m1_date"].dtype)
    }


def test_kpis_on_plain_and_on_measured_tables_agree(rules):
    tables = _tables()
    assert kpis_alone(tables, as_of=AS_OF, rules=rules) == kpis_alone(
        measured_tables(tables, AS_OF), as_of=AS_OF, rules=rules
    )


def test_lookup_is_a_left_join_by_learner_key_and_keeps_dates_as_dates():
    people = pd.DataFrame(
        {"learner_ref": ["L1", "L2", "L1"], "bootcamp_id": ["B1", "B1", "B2"]}, index=[10, 11, 12]
    )
    events = pd.DataFrame(
        {
            "learner_ref": ["L1", "L1", "L2"],
            "bootcamp_id": ["B1", "B1", "B9"],
            "day": pd.to_datetime(["2023-01-05", "2023-02-01", "2023-01-07"]),
        }
    )
    latest = per_learner(learner_key(events), events["day"], "max")
    found = lookup(learner_key(people), latest)
    # L1/B1 has two events, latest 2023-02-01; L2/B1 and L1/B2 have none (L2's is in B9).
    assert list(found.index) == [10, 11, 12]
    assert found[10] == pd.Timestamp("2023-02-01") and found[[11, 12]].isna().all()
    nothing = lookup(
        learner_key(people),
        per_learner(learner_key(events.iloc[:0]), events["day"].iloc[:0], "max"),
    )
    assert nothing.dtype == events["day"].dtype and nothing.isna().all()


def test_cases_as_columns_count_as_a_frame_does():
    timing = bootcamp_timing(measured_tables(_tables(), AS_OF), AS_OF)
    # Two B1 cases: one passed and due, one short and due 2023-04-15 (not yet: open).
    # One B2 case short and due 2023-03-01 (overdue), outside the value.
    frame = pd.DataFrame(
        {
            "bootcamp_id": ["B1", "B1", "B2"],
            "member": ["learner:L1", "learner:L2", "learner:L3"],
            "source": ["learners.csv:2", "learners.csv:3", "learners.csv:4"],
            "due": pd.to_datetime(["2023-03-01", "2023-04-15", "2023-03-01"]),
            "passed": [True, False, False],
            "in_value": [True, True, False],
        }
    )
    columns = concat_cases(
        {
            "bootcamp_id": "B1",
            "member": frame["member"][:2],
            "source": frame["source"][:2],
            "due": frame["due"][:2],
            "passed": frame["passed"][:2],
            "in_value": True,
        },
        {
            "bootcamp_id": frame["bootcamp_id"][2:],
            "member": frame["member"][2:],
            "source": frame["source"][2:],
            "due": frame["due"][2:],
            "passed": False,
            "in_value": False,
        },
    )
    measure = Measure("new_skills")
    as_frame = summarise(measure, frame, timing, as_of=AS_OF)
    as_columns = summarise(measure, columns, timing, as_of=AS_OF)
    assert as_frame == as_columns
    figures = {r.bootcamp_id: (r.numerator, r.denominator, r.status) for r in as_columns}
    # B1 (first M1 2023-01-10, so begun; not over): 1 of 2, its short case not yet due
    # -> at_risk. B2 has no M1 and its end 2023-06-30 is not past, but its short case
    # has fallen due, which begins its stage (kpi-rules.md "Stage started", clarified
    # 2026-12-07) -> off_track, 0 of 0 (its case is outside the value). ALL pools them:
    # 1 of 2, and B2's short case is past its due date -> off_track.
    assert figures == {
        "B1": (1, 2, "at_risk"),
        "B2": (0, 0, "off_track"),
        ALL: (1, 2, "off_track"),
    }
    # The members come from the same flags: L1 in the numerator, L2 in the population
    # only, L3 outside it (not in the value: not yet due), each with its row.
    members = {r.bootcamp_id: r.members.frame() for r in as_columns}
    assert members[ALL][["member", "source", "in_population", "in_numerator"]].values.tolist() == [
        ["learner:L1", "learners.csv:2", True, True],
        ["learner:L2", "learners.csv:3", True, False],
        ["learner:L3", "learners.csv:4", False, False],
    ]
    assert list(members["B2"]["reason"]) == ["not yet due: counted once it falls due"]
    assert list(members["B1"]["reason"]) == ["meets the KPI", "does not meet the KPI"]
