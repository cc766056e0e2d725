"""Completion (a profile's KPI): completers over starts past M1, once a bootcamp ended."""

from __future__ import annotations

from datetime import date

from kpi_frames import bootcamp, build, learner

from kpitools.kpis.completion import completion
from kpitools.profiles import load_profile

EXTENSION = load_profile("dfe-2025-extension").rules  # completion_target 0.8


def _figures(results):
    return [(r.bootcamp_id, r.numerator, r.denominator, r.status) for r in results]


def test_completers_over_starts_once_ended():
    # B1 (2023-01-01 to 2023-03-31), five starts (M1 2023-01-10): A, B, C completed on
    # 2023-03-20; D withdrew on 2023-02-01; E withdrew on 2023-02-01 and also carries a
    # completion (DATE-ORDER: read adversely, a drop-out, not a completion). F has no M1:
    # not a start. B2 (to 2023-06-30) has one start G, still learning.
    # At 2023-03-15 B1 runs: not_due, nothing judged. At 2023-04-01 B1 has ended:
    # 3 / 5 = 60 % < 80 % -> not_met, COMP-BELOW-TARGET; B2 runs: not_due, 0 / 0; ALL
    # judges the ended bootcamps only: 3 / 5, below while B2 runs -> off_track.
    learners = [learner(r, m1="2023-01-10", completed="2023-03-20") for r in "ABC"]
    learners += [
        learner("D", m1="2023-01-10", withdrawn="2023-02-01"),
        learner("E", m1="2023-01-10", withdrawn="2023-02-01", completed="2023-03-20"),
        learner("F", completed="2023-03-20"),
        learner("G", "B2", m1="2023-01-10"),
    ]
    tables = build(bootcamps=[bootcamp("B1"), bootcamp("B2", end="2023-06-30")], learners=learners)
    running = completion(tables, as_of=date(2023, 3, 15), rules=EXTENSION)
    assert _figures(running) == [
        ("B1", 0, 0, "not_due"),
        ("B2", 0, 0, "not_due"),
        ("ALL", 0, 0, "not_due"),
    ]
    ended = completion(tables, as_of=date(2023, 4, 1), rules=EXTENSION)
    assert _figures(ended) == [
        ("B1", 3, 5, "not_met"),
        ("B2", 0, 0, "not_due"),
        ("ALL", 3, 5, "off_track"),
    ]
    [below] = ended[0].exceptions
    assert (below.rule, below.entity) == ("COMP-BELOW-TARGET", "bootcamp:B1")
    assert below.message == "3 of 5 starts completed (60.0%), below the 80% target"


def test_four_of_five_is_met():
    # 4 / 5 = 80 % exactly: at least the target -> met, no exception.
    learners = [learner(r, m1="2023-01-10", completed="2023-03-20") for r in "ABCD"]
    learners.append(learner("E", m1="2023-01-10", withdrawn="2023-02-01"))
    results = completion(build(learners=learners), as_of=date(2023, 4, 1), rules=EXTENSION)
    assert _figures(results) == [("B1", 4, 5, "met"), ("ALL", 4, 5, "met")]
    assert not any(r.exceptions for r in results)
