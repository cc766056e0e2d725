"""DUP-ROW and DUP-ULN-OVERLAP on hand-made rows."""

from __future__ import annotations

from auditkit_frames import bootcamp, frame, learner

from kpitools.checks.duplicates import (
    duplicate_learner_rows,
    exact_duplicate_rows,
    uln_overlaps_across,
    uln_overlaps_within,
)
from kpitools.model import empty_rejected

ULN_A = "1000000004"  # any 10 digits: the checks do not validate ULNs
ULN_B = "2000000000"


def _rejected(rows: list[dict]):
    import pandas as pd

    return pd.DataFrame(rows, columns=list(empty_rejected().columns)).astype(object)


def test_dup_row_from_rejected_dup_key_cites_both_rows():
    # L1 on B1 at line 2 was kept; the loader rejected line 4 (same key) with DUP-KEY,
    # reporting the key in column/value. Expect one DUP-ROW citing lines 2 and 4.
    learners = frame("learners", [learner("L1"), learner("L2")])
    rejected = _rejected(
        [
            {
                "table": "learners",
                "source": "learners.csv:4",
                "column": "learner_ref, bootcamp_id",
                "value": "L1, B1",
                "reason": "second row with key",
                "rule": "DUP-KEY",
            },
            {
                "table": "learners",
                "source": "learners.csv:5",
                "column": "m1_date",
                "value": "31/02/2023",
                "reason": "not a date",
                "rule": "BAD-DATE",
            },
        ]
    )
    findings = duplicate_learner_rows(learners, rejected)
    assert [(f.rule, f.entity, f.source, f.bootcamp_id) for f in findings] == [
        ("DUP-ROW", "learner:L1", "learners.csv:2; learners.csv:4", "B1")
    ]
    assert findings[0].severity == "high" and findings[0].kpi == "irregularity"


def test_dup_row_finds_the_kept_row_named_in_the_loaders_reason():
    # The loader reports column learner_ref, value L1 and "same learner_ref, bootcamp_id
    # as line 3". L1 is on B1 (line 2) and B2 (line 3): the reason picks line 3, B2.
    learners = frame("learners", [learner("L1", "B1"), learner("L1", "B2")])
    rejected = _rejected(
        [
            {
                "table": "learners",
                "source": "learners.csv:6",
                "column": "learner_ref",
                "value": "L1",
                "reason": "same learner_ref, bootcamp_id as line 3",
                "rule": "DUP-KEY",
            },
        ]
    )
    findings = duplicate_learner_rows(learners, rejected)
    assert [(f.entity, f.source, f.bootcamp_id) for f in findings] == [
        ("learner:L1", "learners.csv:3; learners.csv:6", "B2")
    ]


def test_no_dup_row_without_dup_key_or_in_other_tables():
    learners = frame("learners", [learner("L1")])
    rejected = _rejected(
        [
            {
                "table": "outcomes",
                "source": "outcomes.csv:3",
                "column": "learner_ref",
                "value": "L1",
                "reason": "dup",
                "rule": "DUP-KEY",
            },
        ]
    )
    assert duplicate_learner_rows(learners, rejected) == []
    assert duplicate_learner_rows(learners, empty_rejected()) == []


def test_exact_duplicate_payment_rows_are_flagged_once_per_repeat():
    # Lines 2 and 4 are identical (E1, L1, B1, £300, 2023-02-01); line 3 differs only in
    # the amount (£301), so it is a different payment: one finding, lines 2 and 4.
    tables = {
        "cofunding_payments": frame(
            "cofunding_payments",
            [
                {
                    "employer_id": "E1",
                    "learner_ref": "L1",
                    "bootcamp_id": "B1",
                    "amount": 300,
                    "payment_date": "2023-02-01",
                },
                {
                    "employer_id": "E1",
                    "learner_ref": "L1",
                    "bootcamp_id": "B1",
                    "amount": 301,
                    "payment_date": "2023-02-01",
                },
                {
                    "employer_id": "E1",
                    "learner_ref": "L1",
                    "bootcamp_id": "B1",
                    "amount": 300,
                    "payment_date": "2023-02-01",
                },
            ],
        )
    }
    findings = exact_duplicate_rows(tables)
    assert [(f.rule, f.entity, f.source) for f in findings] == [
        ("DUP-ROW", "learner:L1", "cofunding_payments.csv:2; cofunding_payments.csv:4")
    ]


def _overlap_case(second_start: str, second_withdrawal: str | None = None):
    bootcamps = frame(
        "bootcamps",
        [
            bootcamp("B1", "2023-01-09", "2023-03-31"),
            bootcamp("B2", "2023-04-03", "2023-06-30"),
        ],
    )
    learners = frame(
        "learners",
        [
            learner("L1", "B1", start="2023-01-09", uln=ULN_A, withdrawal_date="2023-02-15"),
            learner("L9", "B2", start=second_start, uln=ULN_A, withdrawal_date=second_withdrawal),
            learner("L3", "B2", start="2023-04-03", uln="9999999999"),
            learner("L4", "B1", start="2023-01-09", uln="9999999999"),
        ],
    )
    return learners, bootcamps


def test_uln_overlap_when_periods_share_the_end_day():
    # L1 learns 2023-01-09..2023-02-15 (withdrawn). L9 starts 2023-02-15: both ends
    # included, so they share one day -> one finding, on the later row (L9, B2).
    learners, bootcamps = _overlap_case("2023-02-15")
    findings = uln_overlaps_within(learners, bootcamps)
    assert [(f.rule, f.entity, f.bootcamp_id, f.source) for f in findings] == [
        ("DUP-ULN-OVERLAP", "learner:L9", "B2", "learners.csv:2; learners.csv:3")
    ]
    assert ULN_A not in findings[0].message


def test_same_uln_twice_on_one_bootcamp_is_dup_row_whatever_the_dates():
    # L1 and L8 on B1 share ULN_A under two refs: the same learner entered twice, even
    # though L1 withdrew before L8 started. L2 (ULN_B) has no twin.
    bootcamps = frame("bootcamps", [bootcamp("B1", "2023-01-09", "2023-03-31")])
    learners = frame(
        "learners",
        [
            learner("L1", uln=ULN_A, withdrawal_date="2023-01-20"),
            learner("L2", uln=ULN_B),
            learner("L8", start="2023-02-01", uln=ULN_A),
        ],
    )
    findings = uln_overlaps_within(learners, bootcamps)
    assert [(f.rule, f.entity, f.source) for f in findings] == [
        ("DUP-ROW", "learner:L8", "learners.csv:2; learners.csv:4")
    ]
    assert ULN_A not in findings[0].message


def test_no_uln_overlap_one_day_later_nor_for_unknown_ulns():
    # L9 starts 2023-02-16, the day after L1 withdrew: no overlap. L3 and L4 both carry
    # 9999999999 (not known) and their periods overlap, but unknown ULNs never match.
    learners, bootcamps = _overlap_case("2023-02-16")
    assert uln_overlaps_within(learners, bootcamps) == []


def test_uln_overlap_uses_bootcamp_end_when_still_learning():
    # L1 has no withdrawal or completion: learning runs to B1's end 2023-03-31, so L9
    # starting 2023-03-31 overlaps, 2023-04-01 does not.
    bootcamps = frame(
        "bootcamps",
        [bootcamp("B1", "2023-01-09", "2023-03-31"), bootcamp("B2", "2023-03-01", "2023-06-30")],
    )
    for start, expected in (("2023-03-31", 1), ("2023-04-01", 0)):
        learners = frame(
            "learners",
            [learner("L1", "B1", uln=ULN_A), learner("L9", "B2", start=start, uln=ULN_A)],
        )
        assert len(uln_overlaps_within(learners, bootcamps)) == expected


def test_uln_overlap_across_providers_reports_both_sides_without_the_uln():
    # P001's L1 (B1, 2023-01-09..2023-03-31) and P002's X7 (C1, from 2023-03-01) share
    # ULN_A: one pair, reported to both providers. ULN_B appears once: nothing.
    # P001's L2 shares ULN_B with nobody.
    bc1 = frame("bootcamps", [bootcamp("B1", "2023-01-09", "2023-03-31")])
    bc2 = frame("bootcamps", [bootcamp("C1", "2023-03-01", "2023-05-31")])
    p1 = frame("learners", [learner("L1", "B1", uln=ULN_A), learner("L2", "B1", uln=ULN_B)])
    p2 = frame("learners", [learner("X7", "C1", start="2023-03-01", uln=ULN_A)])
    found = uln_overlaps_across({"P001": p1, "P002": p2}, {"P001": bc1, "P002": bc2})
    assert [(f.entity, f.bootcamp_id) for f in found["P001"]] == [("learner:L1", "B1")]
    assert [(f.entity, f.bootcamp_id) for f in found["P002"]] == [("learner:X7", "C1")]
    message = found["P001"][0].message
    assert "P002" in message and "learners.csv:2" in message and "C1" in message
    assert "X7" not in message and "L1" not in message  # refs are named at write time
    assert ULN_A not in message
    # the other provider's learner, structured, for the working files to name
    assert (found["P001"][0].related, found["P002"][0].related) == (
        "P002/learner:X7",
        "P001/learner:L1",
    )


def test_no_cross_provider_overlap_for_disjoint_periods_or_same_provider():
    # X7 starts 2023-04-01, after L1's learning ends (2023-03-31): no overlap. The same
    # ULN twice within P001 is the within-provider check's, not repeated here.
    bc1 = frame(
        "bootcamps",
        [bootcamp("B1", "2023-01-09", "2023-03-31"), bootcamp("B2", "2023-01-09", "2023-03-31")],
    )
    bc2 = frame("bootcamps", [bootcamp("C1", "2023-04-01", "2023-05-31")])
    p1 = frame("learners", [learner("L1", "B1", uln=ULN_A), learner("L5", "B2", uln=ULN_A)])
    p2 = frame("learners", [learner("X7", "C1", start="2023-04-01", uln=ULN_A)])
    found = uln_overlaps_across({"P001": p1, "P002": p2}, {"P001": bc1, "P002": bc2})
    assert found == {"P001": [], "P002": []}


def test_cross_provider_overlaps_are_the_same_for_ids_shared_by_the_providers():
    # Both providers name their bootcamp B1 and their learner L1 (ends 2023-03-31 at
    # P001, 2023-04-30 at P002); the learning periods are found per provider (ids
    # scoped over the stacked tables) and the findings show the ids unscoped. A
    # provider id that is not a folder name ("P 1") is checked provider by provider:
    # the same findings.
    bc1 = frame("bootcamps", [bootcamp("B1", "2023-01-09", "2023-03-31")])
    bc2 = frame("bootcamps", [bootcamp("B1", "2023-03-31", "2023-04-30")])
    p1 = frame("learners", [learner("L1", "B1", uln=ULN_A)])
    p2 = frame("learners", [learner("L1", "B1", start="2023-03-31", uln=ULN_A)])
    found = uln_overlaps_across({"P001": p1, "P002": p2}, {"P001": bc1, "P002": bc2})
    assert [(f.entity, f.bootcamp_id) for f in found["P002"]] == [("learner:L1", "B1")]
    assert "2023-03-31 to 2023-04-30" in found["P002"][0].message
    assert "\x1f" not in found["P001"][0].message + found["P002"][0].message
    assert found["P001"][0].related == "P002/learner:L1"  # unscoped too
    alone = uln_overlaps_across({"P001": p1, "P 1": p2}, {"P001": bc1, "P 1": bc2})
    assert alone["P 1"] == found["P002"]
    # one day apart (P002 from 2023-04-01): no overlap
    later = frame("bootcamps", [bootcamp("B1", "2023-04-01", "2023-04-30")])
    p3 = frame("learners", [learner("L1", "B1", start="2023-04-01", uln=ULN_A)])
    assert uln_overlaps_across({"P001": p1, "P002": p3}, {"P001": bc1, "P002": later}) == {
        "P001": [],
        "P002": [],
    }


def test_learning_periods_edge_cases() -> None:
    """The end: withdrawal, else completion, else the bootcamp's end; an end before the
    start is the start; a blank start leaves both blank; an unknown or blank bootcamp
    gives no bootcamp end."""
    import pandas as pd

    from kpitools.checks.common import learning_periods

    day = pd.Timestamp
    nat = pd.NaT
    learners = pd.DataFrame(
        {
            "learner_ref": ["W", "C", "B", "EARLY", "NOSTART", "UNKNOWN", "BLANK", "NOTHING"],
            "bootcamp_id": ["B1", "B1", "B2", "B1", "B1", "B9", None, "B2"],
            "start_date": [day("2023-01-10")] * 4 + [nat] + [day("2023-01-10")] * 3,
            "withdrawal_date": [day("2023-02-01"), nat, nat, day("2023-01-01"), nat, nat, nat, nat],
            "completion_date": [
                day("2023-03-01"),
                day("2023-03-02"),
                nat,
                nat,
                day("2023-03-03"),
                nat,
                nat,
                nat,
            ],
        },
        index=[10, 11, 12, 13, 14, 15, 16, 17],
    )
    bootcamps = pd.DataFrame({"bootcamp_id": ["B1", "B2"], "end_date": [day("2023-04-30"), nat]})
    periods = learning_periods(learners, bootcamps)
    assert list(periods.index) == list(learners.index)
    assert periods["learning_start"].equals(learners["start_date"])
    assert periods["learning_end"].tolist() == [
        day("2023-02-01"),  # withdrawal first
        day("2023-03-02"),  # then completion
        day("2023-01-10"),  # the bootcamp has no end: the start
        day("2023-01-10"),  # withdrew before the start: the start
        nat,  # no start: no period
        day("2023-01-10"),  # a bootcamp not in the return: the start
        day("2023-01-10"),  # no bootcamp: the start
        day("2023-01-10"),
    ]
    assert periods["learning_end"].dtype == learners["withdrawal_date"].dtype
