"""Returns with little in them: nothing crashes and the statuses say why there is no figure."""

from __future__ import annotations

from datetime import date

from kpi_frames import bootcamp, build, kpis_alone, learner


def test_bootcamp_without_learners(rules):
    # B1 runs 2023-01-01..2023-03-31 with nobody: before its end nothing has begun
    # (not_due); after its end every KPI has begun but has nothing to measure (no_data),
    # except progression which has no target (no_data too: nothing to report).
    tables = build()
    running = kpis_alone(tables, as_of=date(2023, 2, 1), rules=rules)
    assert {r.status for r in running} == {"not_due"}
    over = kpis_alone(tables, as_of=date(2023, 4, 1), rules=rules)
    assert {r.status for r in over} == {"no_data"}
    assert all((r.numerator, r.denominator, r.exceptions) == (0, 0, ()) for r in over)


def test_no_bootcamps_at_all_gives_only_provider_rows(rules):
    results = kpis_alone(build(bootcamps=[]), as_of=date(2023, 2, 1), rules=rules)
    assert {r.bootcamp_id for r in results} == {"ALL"}
    assert len(results) == 9
    assert {r.status for r in results} == {"not_due"}


def test_learner_starting_after_as_of_is_not_counted(rules):
    # L1 starts 2023-02-10, after as_of 2023-02-01: not in any population; B2's learner
    # L2 is on track. ALL sums only what exists.
    tables = build(
        bootcamps=[bootcamp("B1"), bootcamp("B2")],
        learners=[
            learner("L1", "B1", start="2023-02-10", m1="2023-02-15"),
            learner("L2", "B2", m1="2023-01-10"),
        ],
    )
    results = kpis_alone(tables, as_of=date(2023, 2, 1), rules=rules)
    dropout = {
        r.bootcamp_id: (r.denominator, r.status) for r in results if r.kpi == "learner_dropout"
    }
    assert dropout == {"B1": (0, "not_due"), "B2": (1, "on_track"), "ALL": (1, "on_track")}
