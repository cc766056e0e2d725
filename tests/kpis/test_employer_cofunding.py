"""Employer co-funding: SME limit, rates, the £1 tolerance, employers counted once."""

from __future__ import annotations

from datetime import date

from kpi_frames import bootcamp, build, learner

from kpitools.kpis.employer_cofunding import employer_cofunding


def _employer(employer_id: str, count: str = "", band: str = "") -> dict[str, str]:
    return {
        "employer_id": employer_id,
        "name": f"Employer {employer_id}",
        "employee_count": count,
        "size_band": band,
    }


def _payment(
    ref: str, amount: str, employer: str, bootcamp_id: str = "B1", day: str = "2023-01-05"
) -> dict[str, str]:
    return {
        "employer_id": employer,
        "learner_ref": ref,
        "bootcamp_id": bootcamp_id,
        "amount": amount,
        "payment_date": day,
    }


def _cofunded(
    ref: str, employer: str, bootcamp_id: str = "B1", m1: str = "2023-01-10", **kw
) -> dict[str, str]:
    return learner(ref, bootcamp_id, m1=m1, learner_type="co-funded", employer=employer, **kw)


def _found(results):
    return sorted((f.entity, f.rule) for r in results for f in r.exceptions)


def test_sme_limit_and_one_pound_tolerance(rules):
    # Price £3,000. E249 has 249 employees -> SME, 10 % = £300; paid £299 (£1 short) -> pass.
    # E250 has 250 employees -> large, 30 % = £900; paid £898.99 (£1.01 short) -> fail.
    # E250B large, paid £300 only -> COF-UNDERPAID. ENONE SME by band, nothing paid ->
    # COF-NO-EVIDENCE. Employers passing: E249 only -> 1 / 4.
    employers = [
        _employer("E249", "249"),
        _employer("E250", "250"),
        _employer("E250B", "5000"),
        _employer("ENONE", band="SME"),
    ]
    learners = [
        _cofunded("L1", "E249"),
        _cofunded("L2", "E250"),
        _cofunded("L3", "E250B"),
        _cofunded("L4", "ENONE"),
    ]
    payments = [
        _payment("L1", "299", "E249"),
        _payment("L2", "898.99", "E250"),
        _payment("L3", "300", "E250B"),
    ]
    results = employer_cofunding(
        build(employers=employers, learners=learners, cofunding_payments=payments),
        as_of=date(2023, 2, 1),
        rules=rules,
    )
    assert (results[0].numerator, results[0].denominator, results[0].status) == (1, 4, "off_track")
    assert _found(results) == [
        ("learner:L2", "COF-UNDERPAID"),
        ("learner:L3", "COF-UNDERPAID"),
        ("learner:L4", "COF-NO-EVIDENCE"),
    ]
    message = next(f.message for r in results for f in r.exceptions if f.entity == "learner:L2")
    assert "£898.99 of the required £900.00" in message and "£1.01" in message


def test_declared_band_disagreeing_with_count_is_listed(rules):
    # E1 declares SME but has 300 employees -> COF-SIZE-MISMATCH and the large rate
    # applies: 30 % of £3,000 = £900; paid £300 -> also COF-UNDERPAID.
    # E2 declares large with 300 employees -> consistent.
    employers = [_employer("E1", "300", "SME"), _employer("E2", "300", "large")]
    learners = [_cofunded("L1", "E1")]
    payments = [_payment("L1", "300", "E1")]
    results = employer_cofunding(
        build(employers=employers, learners=learners, cofunding_payments=payments),
        as_of=date(2023, 2, 1),
        rules=rules,
    )
    assert _found(results) == [
        ("employer:E1", "COF-SIZE-MISMATCH"),
        ("learner:L1", "COF-UNDERPAID"),
    ]


def test_employer_counts_once_for_the_provider(rules):
    # E1 (SME) has L1 on B1 (paid £300 of £300) and L2 on B2 (paid nothing).
    # B1: E1 passes (1/1). B2: E1 fails (0/1). ALL: E1 once, failing -> 0 / 1.
    employers = [_employer("E1", "10")]
    learners = [_cofunded("L1", "E1", "B1"), _cofunded("L2", "E1", "B2")]
    payments = [_payment("L1", "300", "E1", "B1")]
    tables = build(
        bootcamps=[bootcamp("B1"), bootcamp("B2")],
        employers=employers,
        learners=learners,
        cofunding_payments=payments,
    )
    b1, b2, pooled = employer_cofunding(tables, as_of=date(2023, 2, 1), rules=rules)
    assert [(r.numerator, r.denominator) for r in (b1, b2, pooled)] == [(1, 1), (0, 1), (0, 1)]


def test_due_at_m1_life_cycle(rules):
    # L1 (E1, SME, price £3,000 -> £300) reaches M1 on 2023-01-10; paid £300 on 2023-01-20.
    # 2023-01-05: started, before M1 and unpaid -> not_due (stage begins at first M1).
    # 2023-01-10: past M1, unpaid -> off_track (COF-NO-EVIDENCE).
    # 2023-01-20: paid in full -> on_track. After the bootcamp ends (and L1 completed) -> met.
    employers = [_employer("E1", "10")]
    learners = [_cofunded("L1", "E1", completed="2023-03-20")]
    tables = build(
        employers=employers,
        learners=learners,
        cofunding_payments=[_payment("L1", "300", "E1", day="2023-01-20")],
    )
    statuses = [
        employer_cofunding(tables, as_of=d, rules=rules)[0].status
        for d in (date(2023, 1, 5), date(2023, 1, 10), date(2023, 1, 20), date(2023, 4, 1))
    ]
    assert statuses == ["not_due", "off_track", "on_track", "met"]


def test_learner_not_yet_at_m1_and_unpaid_is_at_risk(rules):
    # L1 past M1 and paid; L2 started, M1 still ahead, unpaid -> can be put right -> at_risk.
    employers = [_employer("E1", "10")]
    learners = [_cofunded("L1", "E1"), _cofunded("L2", "E1", m1="2023-02-10")]
    tables = build(
        employers=employers, learners=learners, cofunding_payments=[_payment("L1", "300", "E1")]
    )
    result = employer_cofunding(tables, as_of=date(2023, 2, 1), rules=rules)[0]
    assert (result.numerator, result.denominator, result.status) == (1, 1, "at_risk")


def test_findings_and_members_cite_every_row_they_rest_on(rules):
    # L1 (learners.csv:2) of E1 (employers.csv:2) on B1 (bootcamps.csv:2, £3,000: large,
    # 30 % = £900) paid £500 in two payments (cofunding_payments.csv:2 and :3): short.
    # L2 (learners.csv:3) of E2 (employers.csv:3) paid nothing: only its own three rows.
    results = employer_cofunding(
        build(
            employers=[_employer("E1", "500"), _employer("E2", "500")],
            learners=[_cofunded("L1", "E1"), _cofunded("L2", "E2")],
            cofunding_payments=[_payment("L1", "200", "E1"), _payment("L1", "300", "E1")],
        ),
        as_of=date(2023, 2, 1),
        rules=rules,
    )
    cited = {f.rule: f.source for r in results for f in r.exceptions if r.bootcamp_id == "B1"}
    assert cited == {
        "COF-UNDERPAID": "learners.csv:2; employers.csv:2; bootcamps.csv:2; "
        "cofunding_payments.csv:2; cofunding_payments.csv:3",
        "COF-NO-EVIDENCE": "learners.csv:3; employers.csv:3; bootcamps.csv:2",
    }
    # the figure's members are the employers, each with the rows of its learners
    members = results[-1].members.frame()
    assert members[["member", "in_population", "in_numerator"]].values.tolist() == [
        ["employer:E1", True, False],
        ["employer:E2", True, False],
    ]
    assert members["source"].tolist() == [cited["COF-UNDERPAID"], cited["COF-NO-EVIDENCE"]]


def test_exact_pence_requirement_rounded_half_up_then_one_pound_tolerance(rules):
    # kpi-rules.md (clarified 2026-12-07), the worked case of issue 27. Price £4,205.45;
    # every employer is an SME (10 %): 10 % of £4,205.45 = £420.545, rounded half up to
    # £420.55 (floats rounded half to even gave £420.54, so £419.54 passed: issue 27).
    # B1: E1 pays £419.55 for L1 (£1.00 short: within the tolerance, passes);
    #     E2 pays £419.54 for L2 (£1.01 short: COF-UNDERPAID)           -> B1 1 / 2.
    # B2: E1 pays £419.54 for L3 (fails); E3 pays nothing for L4 (COF-NO-EVIDENCE)
    #                                                                    -> B2 0 / 2.
    # ALL: each employer once, passing only when every learner of it is paid for:
    #     E1 fails through L3, E2 and E3 fail                            -> ALL 0 / 3.
    employers = [_employer(e, "10") for e in ("E1", "E2", "E3")]
    bootcamps = [bootcamp("B1", price="4205.45"), bootcamp("B2", price="4205.45")]
    learners = [
        _cofunded("L1", "E1"),
        _cofunded("L2", "E2"),
        _cofunded("L3", "E1", "B2"),
        _cofunded("L4", "E3", "B2"),
    ]
    payments = [
        _payment("L1", "419.55", "E1"),
        _payment("L2", "419.54", "E2"),
        _payment("L3", "419.54", "E1", "B2"),
    ]
    tables = build(
        bootcamps=bootcamps, employers=employers, learners=learners, cofunding_payments=payments
    )
    results = employer_cofunding(tables, as_of=date(2023, 2, 1), rules=rules)
    figures = [(r.bootcamp_id, r.numerator, r.denominator) for r in results]
    assert figures == [("B1", 1, 2), ("B2", 0, 2), ("ALL", 0, 3)]
    messages = {f.entity: f.message for r in results for f in r.exceptions}
    assert messages["learner:L2"] == (
        "paid £419.54 of the required £420.55 (10%, SME): short by £1.01"
    )
    assert "required £420.55 (SME)" in messages["learner:L4"]
    assert _found(results) == [
        ("learner:L2", "COF-UNDERPAID"),
        ("learner:L3", "COF-UNDERPAID"),
        ("learner:L4", "COF-NO-EVIDENCE"),
    ]


def test_payments_are_summed_in_exact_pence(rules):
    # Price £3,000.10, large (30 %): £900.03 exactly. E1 pays £300.01 + £300.01 +
    # £299.01 = £899.03, exactly £1.00 short -> passes; E2 pays a penny less (£299.00
    # last) -> £1.01 short -> COF-UNDERPAID. ALL 1 / 2.
    employers = [_employer("E1", "500"), _employer("E2", "500")]
    bootcamps = [bootcamp("B1", price="3000.10")]
    learners = [_cofunded("L1", "E1"), _cofunded("L2", "E2")]
    payments = [
        _payment("L1", "300.01", "E1"),
        _payment("L1", "300.01", "E1", day="2023-01-06"),
        _payment("L1", "299.01", "E1", day="2023-01-07"),
        _payment("L2", "300.01", "E2"),
        _payment("L2", "300.01", "E2", day="2023-01-06"),
        _payment("L2", "299.00", "E2", day="2023-01-07"),
    ]
    tables = build(
        bootcamps=bootcamps, employers=employers, learners=learners, cofunding_payments=payments
    )
    results = employer_cofunding(tables, as_of=date(2023, 2, 1), rules=rules)
    assert (results[-1].numerator, results[-1].denominator) == (1, 2)
    assert _found(results) == [("learner:L2", "COF-UNDERPAID")]
