"""Learner drop-out: cohort, M1 boundary, 20 % limit, amber margin, late reports."""

from __future__ import annotations

from datetime import date

from kpi_frames import bootcamp, build, learner

from kpitools.kpis.learner_dropout import learner_dropout
from kpitools.rules import Rules


def _by_id(results):
    return {r.bootcamp_id: r for r in results}


def _five(withdrawn_refs: int, *, end: str = "2023-03-31") -> list[dict[str, str]]:
    """Five (or more) learners, M1 on 2023-01-10; the first `withdrawn_refs` withdraw."""
    rows = []
    for i in range(max(5, withdrawn_refs)):
        if i < withdrawn_refs:
            rows.append(
                learner(f"L{i}", m1="2023-01-10", withdrawn="2023-02-01", reported="2023-02-05")
            )
        else:
            rows.append(learner(f"L{i}", m1="2023-01-10", completed="2023-03-20"))
    return rows


def test_exactly_twenty_percent_is_met_and_one_more_is_not(rules):
    # 5 cohort learners, 1 withdrew after M1: 1/5 = 20 % = limit -> met (bootcamp over:
    # everyone completed or withdrew, as_of 2023-04-30 after end 2023-03-31).
    met = _by_id(learner_dropout(build(learners=_five(1)), as_of=date(2023, 4, 30), rules=rules))
    assert (met["B1"].numerator, met["B1"].denominator, met["B1"].status) == (1, 5, "met")
    assert not [f for f in met["B1"].exceptions if f.rule == "DROP-ABOVE-LIMIT"]
    # 2 of 5 = 40 % > 20 % -> not_met, and the bootcamp is listed DROP-ABOVE-LIMIT, citing
    # its row and then the rows of its two drop-outs (L0, L1: learners.csv lines 2, 3)
    failed = _by_id(learner_dropout(build(learners=_five(2)), as_of=date(2023, 4, 30), rules=rules))
    assert (failed["B1"].numerator, failed["B1"].status) == (2, "not_met")
    assert [
        (f.entity, f.source) for f in failed["B1"].exceptions if f.rule == "DROP-ABOVE-LIMIT"
    ] == [("bootcamp:B1", "bootcamps.csv:2; learners.csv:2; learners.csv:3")]
    members = failed["B1"].members.frame()
    assert members.loc[members["in_numerator"], "member"].tolist() == ["learner:L0", "learner:L1"]


def test_withdrawal_on_m1_counts_and_day_before_does_not(rules):
    # L1 withdraws on its M1 date -> drop-out; L2 withdraws the day before its M1 -> not
    # part of the KPI (shown in notes); L3 completes. All three have an M1 date, so the
    # cohort is 3 and the drop-outs 1: 1 / 3.
    learners = [
        learner("L1", m1="2023-01-10", withdrawn="2023-01-10", reported="2023-01-11"),
        learner("L2", m1="2023-01-10", withdrawn="2023-01-09", reported="2023-01-11"),
        learner("L3", m1="2023-01-10", completed="2023-03-01"),
    ]
    result = _by_id(learner_dropout(build(learners=learners), as_of=date(2023, 2, 1), rules=rules))[
        "B1"
    ]
    assert (result.numerator, result.denominator) == (1, 3)
    assert result.notes == ("1 withdrawal(s) before M1, not part of the KPI",)


def test_cohort_is_m1_on_or_before_as_of(rules):
    # L1 M1 2023-01-10 (in), L2 M1 2023-01-20 = as_of (in), L3 M1 2023-01-21 (after as_of:
    # not yet in the cohort), L4 no M1. Cohort = 2, no drop-out.
    learners = [
        learner("L1", m1="2023-01-10"),
        learner("L2", m1="2023-01-20"),
        learner("L3", m1="2023-01-21"),
        learner("L4"),
    ]
    result = _by_id(
        learner_dropout(build(learners=learners), as_of=date(2023, 1, 20), rules=rules)
    )["B1"]
    assert (result.numerator, result.denominator, result.status) == (0, 2, "on_track")


def test_amber_margin_and_status_life_cycle(rules):
    # 25 learners, M1 2023-01-10; 4 withdraw on 2023-02-01 (16 % = 80 % of 20 %: not above
    # the amber margin -> on_track); a fifth on 2023-02-15 makes 5/25 = 20 % > 16 % ->
    # at_risk; a sixth on 2023-03-01 makes 24 % > 20 % -> off_track while running, and
    # not_met once the bootcamp is over (as_of after end_date 2023-03-31).
    dates = ["2023-02-01"] * 4 + ["2023-02-15", "2023-03-01"]
    rows = [
        learner(f"L{i:02d}", m1="2023-01-10", withdrawn=dates[i] if i < len(dates) else "")
        for i in range(25)
    ]
    tables = build(learners=rows)

    def status(day: date) -> tuple[int, str]:
        result = _by_id(learner_dropout(tables, as_of=day, rules=rules))["B1"]
        return result.numerator, result.status

    assert status(date(2023, 1, 9)) == (0, "not_due")  # before the first M1
    assert status(date(2023, 2, 1)) == (4, "on_track")
    assert status(date(2023, 2, 15)) == (5, "at_risk")
    assert status(date(2023, 3, 1)) == (6, "off_track")
    assert status(date(2023, 3, 31)) == (6, "off_track")  # end_date itself: still running
    assert status(date(2023, 4, 1)) == (6, "not_met")


def test_met_as_soon_as_every_cohort_learner_is_done(rules):
    # 5 learners all completed by 2023-03-20 though end_date is 2023-03-31: due, 0/5 -> met.
    rows = [learner(f"L{i}", m1="2023-01-10", completed="2023-03-20") for i in range(5)]
    result = _by_id(learner_dropout(build(learners=rows), as_of=date(2023, 3, 20), rules=rules))[
        "B1"
    ]
    assert (result.status, result.due_date) == ("met", date(2023, 3, 20))
    # the day before, one learner has not completed yet (completion after as_of is
    # ignored) -> running, on_track; due date forecast = end_date.
    result = _by_id(learner_dropout(build(learners=rows), as_of=date(2023, 3, 19), rules=rules))[
        "B1"
    ]
    assert (result.status, result.due_date) == ("on_track", date(2023, 3, 31))


def test_provider_pools_numerators_and_denominators(rules):
    # B1: 1 of 5 dropped (20 %); B2: 1 of 2 dropped (50 %). ALL = 2 / 7, not (20+50)/2.
    b2 = [
        learner("M1", "B2", m1="2023-01-10", withdrawn="2023-02-01"),
        learner("M2", "B2", m1="2023-01-10"),
    ]
    tables = build(bootcamps=[bootcamp("B1"), bootcamp("B2")], learners=_five(1) + b2)
    results = learner_dropout(tables, as_of=date(2023, 3, 1), rules=rules)
    assert [r.bootcamp_id for r in results] == ["B1", "B2", "ALL"]
    pooled = results[-1]
    assert (pooled.numerator, pooled.denominator) == (2, 7)
    assert pooled.value == 2 / 7


def test_limit_is_a_parameter():
    # 2 of 5 = 40 %: not_met at the default 20 %, met with dropout_limit 0.5.
    tables = build(learners=_five(2))
    result = learner_dropout(tables, as_of=date(2023, 4, 30), rules=Rules(dropout_limit=0.5))
    assert result[0].status == "met"


def test_withdrawal_reported_exactly_one_month_later_is_on_time(rules):
    # withdrawn 2023-01-31: deadline = 2023-02-28 (no 31 February). Reported on
    # 2023-02-28 -> on time; reported 2023-03-01 -> DROP-LATE-REPORT.
    rows = [
        learner("ON", m1="2023-01-10", withdrawn="2023-01-31", reported="2023-02-28"),
        learner("LATE", m1="2023-01-10", withdrawn="2023-01-31", reported="2023-03-01"),
    ]
    results = learner_dropout(build(learners=rows), as_of=date(2023, 3, 31), rules=rules)
    late = [f for r in results for f in r.exceptions if f.rule == "DROP-LATE-REPORT"]
    assert [(f.entity, f.source, f.bootcamp_id) for f in late] == [
        ("learner:LATE", "learners.csv:3", "B1")
    ]
    assert "Ada" not in late[0].message and "Lovelace" not in late[0].message


def test_inputs_are_not_changed(rules):
    tables = build(learners=_five(2))
    before = {name: frame.copy() for name, frame in tables.items()}
    learner_dropout(tables, as_of=date(2023, 2, 1), rules=rules)
    for name, frame in tables.items():
        assert frame.equals(before[name]), name
