"""EMP-UNKNOWN on hand-made rows."""

from __future__ import annotations

import pandas as pd
from auditkit_frames import frame, learner

from kpitools.checks.employers import unknown_employers
from kpitools.model import empty_rejected


def _tables(**given):
    tables = {
        name: frame(name, given.get(name, []))
        for name in ("employers", "learners", "cofunding_payments", "interviews", "outcomes")
    }
    return tables


def test_unknown_employer_in_each_table_and_rejected_learner_rows():
    # Listed: E1. E9 is named by L1's interview (line 2) and outcome (line 2): a finding
    # for each row. E8 by independent learner L2's employer_id (line 3). E7 only by a
    # co-funded learner the loader rejected with REF-EMPLOYER (line 5): on the employer.
    # E1 and a blank employer_id are fine; E6 (a rejected contact) is not a learner row.
    tables = _tables(
        employers=[{"employer_id": "E1", "name": "Acme"}],
        learners=[learner("L1", employer_id="E1"), learner("L2", employer_id="E8"), learner("L3")],
        interviews=[
            {
                "learner_ref": "L1",
                "bootcamp_id": "B1",
                "employer_id": "E9",
                "offer_date": "2023-02-01",
                "role_type": "job",
                "matches_skills": "Y",
            }
        ],
        outcomes=[
            {
                "learner_ref": "L1",
                "bootcamp_id": "B1",
                "outcome_type": "new_job",
                "outcome_date": "2023-03-01",
                "employer_id": "E9",
            }
        ],
        cofunding_payments=[
            {
                "employer_id": "E1",
                "learner_ref": "L1",
                "bootcamp_id": "B1",
                "amount": 300,
                "payment_date": "2023-02-01",
            }
        ],
    )
    rejected = pd.DataFrame(
        [
            {
                "table": "learners",
                "source": "learners.csv:5",
                "column": "employer_id",
                "value": "E7",
                "reason": "not in employers",
                "rule": "REF-EMPLOYER",
                "personal": False,
            },
            {
                "table": "employer_contacts",
                "source": "employer_contacts.csv:2",
                "column": "employer_id",
                "value": "E6",
                "reason": "not in employers",
                "rule": "REF-EMPLOYER",
                "personal": False,
            },
        ],
        columns=list(empty_rejected().columns),
    )
    findings = unknown_employers(tables, rejected)
    assert sorted((f.entity, f.source, f.bootcamp_id) for f in findings) == [
        ("employer:E7", "learners.csv:5", "ALL"),
        ("learner:L1", "interviews.csv:2", "B1"),
        ("learner:L1", "outcomes.csv:2", "B1"),
        ("learner:L2", "learners.csv:3", "B1"),
    ]
    assert all("E9" in f.message for f in findings if f.entity == "learner:L1")
    assert all(f.rule == "EMP-UNKNOWN" and f.severity == "medium" for f in findings)


def test_listed_employers_are_not_flagged():
    tables = _tables(
        employers=[{"employer_id": "E1", "name": "Acme"}],
        learners=[learner("L1", learner_type="co-funded", employer_id="E1")],
        cofunding_payments=[
            {
                "employer_id": "E1",
                "learner_ref": "L1",
                "bootcamp_id": "B1",
                "amount": 300,
                "payment_date": "2023-02-01",
            }
        ],
    )
    assert unknown_employers(tables, empty_rejected()) == []
