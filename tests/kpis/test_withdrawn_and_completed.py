"""A learner with both a withdrawal and a completion (kpi-rules.md, clarified 2026-12-07):
read adversely for each KPI, as the method statement (``kpitools rules``) says."""

from __future__ import annotations

from datetime import date

from kpi_frames import build, kpis_alone, learner

from kpitools.method import WITHDRAWN_AND_COMPLETED, method_statement_text
from kpitools.rules import Rules


def test_counted_as_the_method_statement_says(rules):
    # W (independent, so wants an interview) reached M1 on 2023-01-10, withdrew on
    # 2023-02-01 and also carries a completion on 2023-03-20 (DATE-ORDER); no assessment,
    # interview, outcome or referral. At 2023-10-01 its outcome window (to 2023-09-20)
    # has closed. Adversely:
    #   drop-out: withdrawal on/after M1 -> 1 / 1 drop-out (DROP-ABOVE-LIMIT);
    #   new skills, interview, progression (start at M2): a completer, failing -> 0 / 1;
    #   referral: one case, unsuccessful at the withdrawal (due 2023-03-01) -> 0 / 1.
    # (Progression has no target by default: counted, its failure only reported.)
    tables = build(
        learners=[learner("W", m1="2023-01-10", withdrawn="2023-02-01", completed="2023-03-20")]
    )
    results = kpis_alone(tables, as_of=date(2023, 10, 1), rules=rules)
    provider = {
        r.kpi: (r.numerator, r.denominator)
        for r in results
        if r.bootcamp_id == "ALL" and not r.stage
    }
    assert provider == {
        "employer_cofunding": (0, 0),
        "learner_dropout": (1, 1),
        "new_skills": (0, 1),
        "guaranteed_interview": (0, 1),
        "career_progression": (0, 1),
        "referral": (0, 1),
    }
    found = sorted({(f.rule, f.entity) for r in results for f in r.exceptions})
    assert found == [
        ("DROP-ABOVE-LIMIT", "bootcamp:B1"),
        ("INT-NONE", "learner:W"),
        ("NS-NO-FINAL", "learner:W"),
        ("NS-NO-INITIAL", "learner:W"),
        ("REF-MISSING", "learner:W"),
    ]


def test_kpitools_rules_states_it():
    statement = " ".join(method_statement_text(Rules()).split())
    assert WITHDRAWN_AND_COMPLETED in statement
    assert "a drop-out when the withdrawal is on or after M1" in WITHDRAWN_AND_COMPLETED
    assert "new skills, guaranteed interview, career progression" in WITHDRAWN_AND_COMPLETED
