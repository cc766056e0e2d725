"""KPI 2: employer co-funding of learners trained by their own employer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd

from kpitools.calendar import iso
from kpitools.kpis.common import learner_findings, learner_key, lookup, per_learner
from kpitools.kpis.measured import bootcamp_timing, derived, measured_tables
from kpitools.kpis.summary import Measure, all_of, concat_cases, summarise
from kpitools.model import (
    Finding,
    KpiResult,
    employer_entity,
    finding,
    join_sources,
)
from kpitools.money import pence, pounds, pounds_text, share_pence
from kpitools.returns.period import provider_of, providers_of, scope
from kpitools.rules import Rules

KPI = "employer_cofunding"
_KEY = ["learner_ref", "bootcamp_id"]


def employer_cofunding(
    tables: Mapping[str, pd.DataFrame], *, as_of: date, rules: Rules
) -> list[KpiResult]:
    """Employer co-funding: employers paying the required contribution for their staff.

    Population:
        Employers of co-funded learners (learner_type = co-funded) past M1; per bootcamp,
        the employers of its co-funded learners; for the provider (ALL), each employer
        once.
    Formula:
        Employers that pass, divided by the population. An employer passes when, for each
        of its co-funded learners past M1, payments (cofunding_payments, on or before
        as_of) add up to at least rate x the bootcamp's price_per_learner, short by no more
        than payment_tolerance pounds. Money is exact: every amount in whole pence, the
        required contribution rounded half up to the penny (10 % of £4,205.45 =
        £420.545 is £420.55) before the tolerance is applied. Rate cofunding_rate_sme for an SME (fewer than
        sme_employee_limit employees), cofunding_rate_large otherwise. The size band is
        the one implied by employee_count when given, else the declared size_band, else
        large (the higher contribution, so a shortfall is never missed).
    Exclusions:
        Payments dated after as_of are ignored (FUTURE-DATED). Learners who withdrew
        before M1 are not in the population.
    Statuses:
        not_due before the first M1; each learner's contribution falls due at M1: at_risk
        while a co-funded learner not yet at M1 is short, off_track once a learner past M1
        is; met / not_met once the bootcamp is over. COF-NO-EVIDENCE (past M1, no
        payment), COF-UNDERPAID (short by more than the tolerance), COF-SIZE-MISMATCH
        (declared size band disagrees with employee_count).
    Rules:
        cofunding_rate_sme, cofunding_rate_large, sme_employee_limit, payment_tolerance
    Guidance:
        "100% of employers that are training existing employees are making the appropriate
        contribution: 30% for large employers / 10% for SMEs." "Where employers are
        training their own existing employees (directly employed), employers must co-fund
        the training with a cash contribution." "Providers will be required to retain
        evidence of payment of Co-funding from employers at the appropriate rate."

    Args:
        tables: validated tables, by table name.
        as_of: the measurement date.
        rules: the rules in force.

    Returns:
        One KpiResult per bootcamp, then one for ALL.
    """
    measured = measured_tables(tables, as_of)
    owed = contributions(measured, rules)
    at_m1 = owed["m1_date"].notna()
    open_cases = owed.loc[~at_m1 & owed["withdrawal_date"].isna()]
    due = owed.loc[at_m1]
    # One case per employer and bootcamp; for ALL, one per employer. ';' cannot be in ids.
    per_bootcamp = _employer_cases(due, due["bootcamp_id"] + ";" + due["employer_key"])
    pooled = _employer_cases(due, due["employer_key"], pooled=True)
    pending = {
        "bootcamp_id": open_cases["bootcamp_id"],
        "member": "employer:" + open_cases["employer_key"],
        "source": open_cases["evidence"],
        "due": pd.NaT,
        "passed": open_cases["paid_enough"],
        "in_value": False,
    }
    cases = concat_cases(per_bootcamp, pending)
    all_cases = concat_cases(pooled, pending)
    findings = _payment_findings(owed.loc[at_m1]) + size_mismatches(measured["employers"], rules)
    return summarise(
        _measure(),
        cases,
        bootcamp_timing(measured, as_of),
        as_of=as_of,
        findings=findings,
        all_cases=all_cases,
    )


def _measure() -> Measure:
    return Measure(
        KPI,
        counted="paid the required contribution for each of its co-funded learners past M1",
        not_counted="short of the required contribution for a co-funded learner past M1",
    )


def _employer_cases(due: pd.DataFrame, key: pd.Series, pooled: bool = False) -> dict[str, object]:
    """Per ``key``: due at the first M1, passed when every learner's employer paid enough.

    The case's bootcamp is that of the key's learners; pooled, its provider's ``ALL``.
    """
    grouped = due.groupby(key, sort=False)
    bootcamps = grouped["bootcamp_id"].first()
    if pooled:
        bootcamps = [all_of(provider) for provider in providers_of(bootcamps).tolist()]
    return {
        "bootcamp_id": bootcamps,
        "member": "employer:" + grouped["employer_key"].first(),
        "source": grouped["evidence"].agg(_joined),
        "due": grouped["m1_date"].min(),
        "passed": grouped["paid_enough"].all(),
        "in_value": True,
    }


def _joined(evidence: pd.Series) -> str:
    """The rows behind several learners' contributions, each once, in order."""
    return join_sources(source for text in evidence.tolist() for source in text.split("; "))


def size_band(employers: pd.DataFrame, rules: Rules) -> pd.Series:
    """The band used: implied by employee_count when given, else declared, else large."""
    count = employers["employee_count"]
    small = count.lt(rules.sme_employee_limit).to_numpy(dtype=bool, na_value=False)
    declared = employers["size_band"].to_numpy(dtype=object)
    band = np.where(
        count.notna().to_numpy(dtype=bool),
        np.where(small, "SME", "large").astype(object),
        np.where(pd.isna(declared), "large", declared).astype(object),
    )
    return pd.Series(band, index=employers.index, name=count.name, dtype=object)


def contributions(measured: Mapping[str, pd.DataFrame], rules: Rules) -> pd.DataFrame:
    """Per co-funded learner: band, rate, ``required_pence``, ``paid_pence``,
    ``shortfall_pence`` and ``paid_enough``, in exact whole pence (:mod:`kpitools.money`);
    ``required`` and ``paid`` in pounds for charts.

    The requirement is rate x price rounded half up to the penny; a learner passes when
    short by no more than ``payment_tolerance`` (also in exact pence): at £4,205.45 and
    10 % the requirement is £420.55, so £419.55 passes and £419.54 (£1.01 short) fails.

    Built once per measured tables and rules (the KPI and the co-funding chart share it).
    """
    return derived(measured, ("contributions", rules), lambda: _contributions(measured, rules))


def _contributions(measured: Mapping[str, pd.DataFrame], rules: Rules) -> pd.DataFrame:
    learners = measured["learners"]
    cofunded = learners.loc[
        learners["learner_type"].eq("co-funded"),
        [*_KEY, "employer_id", "m1_date", "withdrawal_date", "source"],
    ]
    employers = measured["employers"].drop_duplicates("employer_id")
    employer_rows = pd.Series(
        employers["source"].to_numpy(), index=employers["employer_id"], name="source"
    )
    bands = pd.Series(
        size_band(employers, rules).to_numpy(), index=employers["employer_id"], name="band"
    )
    bootcamps = measured["bootcamps"].drop_duplicates("bootcamp_id")
    bootcamp_rows = pd.Series(
        bootcamps["source"].to_numpy(), index=bootcamps["bootcamp_id"], name="source"
    )
    prices = pd.Series(
        [pence(price) for price in bootcamps["price_per_learner"].tolist()],
        index=bootcamps["bootcamp_id"],
        name="price_pence",
        dtype=object,
    )
    payments = measured["cofunding_payments"]
    amounts = pd.Series(
        [pence(amount) for amount in payments["amount"].tolist()],
        index=payments.index,
        dtype=object,
    )
    paying = learner_key(payments)
    paid = per_learner(paying, amounts, ["sum", "size"])
    payment_rows = _rows_per_learner(paying, payments["source"])
    person = learner_key(cofunded)
    owed = cofunded.assign(
        evidence=_evidence(
            cofunded["source"],
            lookup(cofunded["employer_id"], employer_rows),
            lookup(cofunded["bootcamp_id"], bootcamp_rows),
            [payment_rows.get(key, ()) for key in person.tolist()],
        ),
        band=lookup(cofunded["employer_id"], bands),
        price_pence=lookup(cofunded["bootcamp_id"], prices),
        sum=lookup(person, paid["sum"]),
        size=lookup(person, paid["size"]),
    )
    band = owed["band"].fillna("large")
    rate = band.map({"SME": rules.cofunding_rate_sme, "large": rules.cofunding_rate_large})
    required = [
        share_pence(r, p) for r, p in zip(rate.tolist(), owed["price_pence"].tolist(), strict=True)
    ]
    total = [0 if pd.isna(s) else int(s) for s in owed["sum"].tolist()]
    shortfall = [r - t for r, t in zip(required, total, strict=True)]
    tolerance = pence(rules.payment_tolerance)
    return owed.assign(
        employer_key=owed["employer_id"].fillna(_unknown(owed["bootcamp_id"])),
        band=band,
        rate=rate,
        required_pence=pd.Series(required, index=owed.index, dtype="int64"),
        paid_pence=pd.Series(total, index=owed.index, dtype="int64"),
        shortfall_pence=pd.Series(shortfall, index=owed.index, dtype="int64"),
        required=pd.Series([pounds(r) for r in required], index=owed.index, dtype="float64"),
        paid=pd.Series([pounds(t) for t in total], index=owed.index, dtype="float64"),
        payments=owed["size"].fillna(0).astype(int),
        paid_enough=pd.Series([s <= tolerance for s in shortfall], index=owed.index, dtype=bool),
    )


def _rows_per_learner(keys: pd.Series, sources: pd.Series) -> dict[str, list[str]]:
    """Per learner key (:func:`learner_key`; blank keys left out), its payment rows,
    each once, in row order."""
    rows: dict[str, list[str]] = {}
    for key, source in zip(keys.tolist(), sources.tolist(), strict=True):
        if isinstance(key, str):
            mine = rows.setdefault(key, [])
            if source not in mine:
                mine.append(source)
    return rows


def _evidence(
    learner: pd.Series, employer: pd.Series, bootcamp: pd.Series, payments: list[Sequence[str]]
) -> pd.Series:
    """Every row a learner's contribution rests on, in citation order: the learner row,
    the employer row that sets the size band, the bootcamp row that sets the price and
    each payment row summed (``payments``: per learner, its payment rows)."""
    rows = [
        join_sources([own, firm, course, *paid])
        for own, firm, course, paid in zip(
            learner.tolist(), employer.tolist(), bootcamp.tolist(), payments, strict=True
        )
    ]
    return pd.Series(rows, index=learner.index, dtype=object)


def _unknown(bootcamp_ids: pd.Series) -> pd.Series:
    """``(unknown)``, the employer key of a learner without employer_id (scoped to the
    learner's provider in a period's tables, so providers' unknowns stay apart)."""
    return pd.Series(
        [scope(provider, "(unknown)") for provider in providers_of(bootcamp_ids)],
        index=bootcamp_ids.index,
        dtype=object,
    )


def _payment_findings(due: pd.DataFrame) -> list[Finding]:
    failing = due.loc[~due["paid_enough"]]
    none = failing.loc[failing["payments"].eq(0)]
    short = failing.loc[failing["payments"].gt(0)]
    return learner_findings(
        none,
        "COF-NO-EVIDENCE",
        sources=none["evidence"],
        messages=[
            f"past M1 ({iso(m)}) with no co-funding payment recorded; "
            f"required {pounds_text(r)} ({b})"
            for m, r, b in zip(none["m1_date"], none["required_pence"], none["band"], strict=True)
        ],
    ) + learner_findings(
        short,
        "COF-UNDERPAID",
        sources=short["evidence"],
        messages=[
            f"paid {pounds_text(p)} of the required {pounds_text(r)} ({rate:.0%}, {b}): "
            f"short by {pounds_text(s)}"
            for p, r, rate, b, s in zip(
                short["paid_pence"],
                short["required_pence"],
                short["rate"],
                short["band"],
                short["shortfall_pence"],
                strict=True,
            )
        ],
    )


def size_mismatches(employers: pd.DataFrame, rules: Rules) -> list[Finding]:
    """COF-SIZE-MISMATCH: a declared size_band that disagrees with employee_count."""
    implied = size_band(employers.assign(size_band=None), rules)
    known = employers["employee_count"].notna() & employers["size_band"].notna()
    wrong = employers.loc[known & implied.ne(employers["size_band"])]
    return [
        finding(
            "COF-SIZE-MISMATCH",
            employer_entity(employer),
            [source],
            f"declared {declared} but {count} employees makes it "
            f"{'SME' if count < rules.sme_employee_limit else 'large'} "
            f"(SME below {rules.sme_employee_limit})",
            all_of(provider_of(employer)),
        )
        for employer, declared, count, source in zip(
            wrong["employer_id"],
            wrong["size_band"],
            wrong["employee_count"],
            wrong["source"],
            strict=True,
        )
    ]
