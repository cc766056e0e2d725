"""A case's rows month by month: paired by key, changed values marked, named by the
output's rule (the ref and personal data out of the circulated page)."""

from __future__ import annotations

from case_builders import hand_case

from kpitools.cases.compare import ABSENT, row_histories


def test_rows_are_paired_across_months_and_the_restated_value_marked() -> None:
    case = hand_case()
    histories = row_histories(case, case.naming)
    learners = [h for h in histories if h.table == "learners"]
    assert [h.key for h in learners] == ["bootcamp_id B1"]
    (learner,) = learners
    assert list(learner.values.columns) == ["2023-02", "2023-03"]
    assert learner.values.loc["withdrawal_date"].tolist() == ["2022-10-07", "2022-10-06"]
    assert learner.changed == {("withdrawal_date", "2023-03")}
    assert learner.values.loc["source"].tolist() == ["learners.csv:14", "learners.csv:14"]


def test_a_row_added_in_a_later_month_is_absent_before_and_not_marked() -> None:
    case = hand_case()
    payments = [h for h in row_histories(case, case.naming) if h.table == "cofunding_payments"]
    # the same evidence twice in March: the second is its own row, absent in February
    assert [h.key for h in payments] == ["evidence_ref INV-1", "evidence_ref INV-1 · #2"]
    second = payments[1]
    assert second.values.loc["source"].tolist() == [ABSENT, "cofunding_payments.csv:3"]
    assert second.values.loc["amount"].tolist() == ["", "100.00"]
    assert second.changed == frozenset()


def test_the_circulated_naming_leaves_out_the_ref_and_personal_data() -> None:
    case = hand_case()
    (learner, *_) = row_histories(case, case.naming)
    shown = " ".join(" ".join(map(str, v)) for v in learner.values.itertuples())
    assert "000433" not in shown and "Octavia" not in shown and "1234567897" not in shown
    # the learner itself is named once, by the case, not in every row
    assert "learner_ref" not in learner.values.index
    (pii, *_) = row_histories(hand_case(include_pii=True), hand_case(include_pii=True).naming)
    assert "Octavia" in pii.values.loc["given_name"].tolist()
