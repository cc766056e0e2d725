"""Row validation: typed frames, every reason for a rejected row, references, counts."""

from __future__ import annotations

import csv
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpitools.errors import KpiToolsError
from kpitools.load import load_provider
from kpitools.model import TableCount
from kpitools.returns import validate as validate_module
from kpitools.returns.contract import TABLES, Table
from kpitools.returns.tables import RawTable, problems_frame, read_csv_table
from kpitools.returns.validate import (
    empty_table,
    frame_from_records,
    validate_many,
    validate_tables,
)
from kpitools.returns.validate_rules import Problems, RawStack
from kpitools.rules import CATALOGUE

LEARNER = {
    "learner_ref": "L1",
    "bootcamp_id": "B1",
    "learner_type": "independent",
    "start_date": "2023-01-09",
}


def test_frame_from_records_types_and_sources():
    # Two learners; learner_ref 000123 keeps its zeros, family name NA is a name,
    # wants_interview defaults to Y for the independent learner and N for the co-funded one.
    frame = frame_from_records(
        "learners",
        [
            {**LEARNER, "learner_ref": "000123", "family_name": "NA", "start_date": "01/03/2023"},
            {**LEARNER, "learner_ref": "2", "learner_type": "co-funded", "employer_id": "E1"},
        ],
        file="learners.csv",
    )
    assert frame["learner_ref"].tolist() == ["000123", "2"]
    assert frame["family_name"].tolist() == ["NA", None]
    assert frame["wants_interview"].tolist() == [True, False]
    assert frame["start_date"].tolist() == [pd.Timestamp("2023-03-01"), pd.Timestamp("2023-01-09")]
    assert frame["source"].tolist() == ["learners.csv:2", "learners.csv:3"]
    assert str(frame["start_date"].dtype) == "datetime64[ns]"
    assert str(frame["wants_interview"].dtype) == "boolean"
    assert frame["learner_ref"].dtype == object and frame["source"].dtype == object


def test_frame_from_records_rejects_bad_cell_naming_row_and_rule():
    with pytest.raises(
        KpiToolsError, match=r"learners.csv line 3: m1_date '31/02/2023'.*BAD-DATE"
    ) as info:
        frame_from_records(
            "learners",
            [LEARNER, {**LEARNER, "learner_ref": "L2", "m1_date": "31/02/2023"}],
            file="learners.csv",
        )
    assert (info.value.row, info.value.column, info.value.value) == (3, "m1_date", "31/02/2023")


def test_frame_from_records_unknown_column_is_an_error():
    with pytest.raises(KpiToolsError, match="'m1date' is not a column of learners"):
        frame_from_records("learners", [{**LEARNER, "m1date": "2023-02-01"}])


def test_empty_table_has_every_column_and_dtype():
    frame = empty_table("bootcamps")
    assert len(frame) == 0
    assert list(frame.columns[-1:]) == ["source"]
    assert str(frame["price_per_learner"].dtype) == "float64"
    assert str(frame["planned_learners"].dtype) == "Int64"
    assert str(frame["accelerated_apprenticeship"].dtype) == "boolean"


# --- validate_tables: whole returns --------------------------------------------------

PROVIDER = [{"provider_id": "P001", "name": "Northern Skills", "ukprn": "10001234"}]
BOOTCAMPS = [
    {
        "bootcamp_id": "B1",
        "start_date": "2023-01-09",
        "end_date": "2023-04-28",
        "price_per_learner": "3000",
    }
]
EMPLOYERS = [{"employer_id": "E1", "name": "Acme"}]


def raw_return(**tables: list[dict[str, str]]) -> dict[str, RawTable]:
    base = {"provider": PROVIDER, "bootcamps": BOOTCAMPS, "employers": EMPLOYERS, **tables}
    return {
        name: RawTable.from_records(name, rows, label=f"{name}.csv") for name, rows in base.items()
    }


def reasons(rejected: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    return list(rejected[["source", "column", "value", "rule"]].itertuples(index=False, name=None))


def test_every_reason_listed_but_row_counted_once():
    # line 2 accepted; line 3 has a bad m1_date AND a bad ULN check digit: two reasons,
    # one rejected row. Read 2 = accepted 1 + rejected 1.
    tables, rejected, counts = validate_tables(
        raw_return(
            learners=[
                LEARNER,
                {**LEARNER, "learner_ref": "L2", "m1_date": "31/02/2023", "uln": "1234567890"},
            ]
        )
    )
    assert reasons(rejected) == [
        ("learners.csv:3", "uln", "1234567890", "BAD-ULN"),
        ("learners.csv:3", "m1_date", "31/02/2023", "BAD-DATE"),
    ]
    assert counts["learners"] == TableCount("learners", 2, 1, 1)
    assert tables["learners"]["learner_ref"].tolist() == ["L1"]


def test_month_first_date_is_rejected_with_source():
    _, rejected, _ = validate_tables(raw_return(learners=[{**LEARNER, "start_date": "04/13/2023"}]))
    assert reasons(rejected) == [("learners.csv:2", "start_date", "04/13/2023", "BAD-DATE")]


def test_unknown_bootcamp_rejects_learner_and_cascades_to_its_records():
    # L2 names bootcamp B9 (not in bootcamps): rejected REF-BOOTCAMP; its referral (line 3
    # of referrals) names a learner that is not accepted: REF-LEARNER. L1's referral stays.
    learners = [LEARNER, {**LEARNER, "learner_ref": "L2", "bootcamp_id": "B9"}]
    referrals = [
        {"learner_ref": r, "bootcamp_id": b, "referral_date": "2023-02-10"}
        for r, b in (("L1", "B1"), ("L2", "B9"))
    ]
    tables, rejected, counts = validate_tables(raw_return(learners=learners, referrals=referrals))
    assert reasons(rejected) == [
        ("learners.csv:3", "bootcamp_id", "B9", "REF-BOOTCAMP"),
        ("referrals.csv:3", "learner_ref", "L2", "REF-LEARNER"),
    ]
    assert counts["referrals"] == TableCount("referrals", 2, 1, 1)
    # reasons name the columns, never the values (the value column holds them)
    assert rejected["reason"].tolist() == [
        "no accepted row of bootcamps has this bootcamp_id",
        "no accepted row of learners has this learner_ref / bootcamp_id",
    ]


def test_duplicate_key_keeps_first_and_names_its_line():
    # lines 2 and 4 share (L1, B1): line 4 rejected naming line 2; L1 on another bootcamp
    # would be a different key, so line 3 (L1, B2) is accepted once B2 exists.
    bootcamps = [*BOOTCAMPS, {**BOOTCAMPS[0], "bootcamp_id": "B2"}]
    learners = [LEARNER, {**LEARNER, "bootcamp_id": "B2"}, {**LEARNER, "given_name": "Jo"}]
    tables, rejected, counts = validate_tables(raw_return(bootcamps=bootcamps, learners=learners))
    assert reasons(rejected) == [("learners.csv:4", "learner_ref", "L1", "DUP-KEY")]
    assert rejected["reason"].iloc[0] == "same learner_ref, bootcamp_id as line 2"
    assert tables["learners"]["source"].tolist() == ["learners.csv:2", "learners.csv:3"]


def test_cofunded_learner_needs_a_known_employer():
    # line 2 co-funded, E1 known: accepted. line 3 co-funded, E7 unknown: REF-EMPLOYER.
    # line 4 co-funded, blank employer: REQUIRED. line 5 independent naming unknown E7: accepted
    # (the reference applies to co-funded learners only).
    cofunded = {**LEARNER, "learner_type": "co-funded"}
    learners = [
        {**cofunded, "employer_id": "E1"},
        {**cofunded, "learner_ref": "L2", "employer_id": "E7"},
        {**cofunded, "learner_ref": "L3"},
        {**LEARNER, "learner_ref": "L4", "employer_id": "E7"},
    ]
    _, rejected, counts = validate_tables(raw_return(learners=learners))
    assert reasons(rejected) == [
        ("learners.csv:3", "employer_id", "E7", "REF-EMPLOYER"),
        ("learners.csv:4", "employer_id", "", "REQUIRED"),
    ]
    assert rejected["reason"].iloc[1] == "required when learner_type is co-funded"
    assert counts["learners"] == TableCount("learners", 4, 2, 2)


def test_optional_reference_blank_is_fine_but_unknown_is_not():
    contact = {"employer_id": "E1", "stage": "design", "attempt_date": "2023-01-16", "reached": "Y"}
    contacts = [
        contact,
        {**contact, "bootcamp_id": "B1"},
        {**contact, "bootcamp_id": "B9"},
        {**contact, "employer_id": "E9"},
    ]
    _, rejected, _ = validate_tables(raw_return(employer_contacts=contacts))
    assert reasons(rejected) == [
        ("employer_contacts.csv:4", "bootcamp_id", "B9", "REF-BOOTCAMP"),
        ("employer_contacts.csv:5", "employer_id", "E9", "REF-EMPLOYER"),
    ]


def test_provider_row_rules():
    # line 2: provider id with a space and a 7-digit UKPRN; line 3: a second provider row.
    provider = [{"provider_id": "P 1", "name": "X", "ukprn": "1000123"}, PROVIDER[0]]
    _, rejected, counts = validate_tables(raw_return(provider=provider))
    assert reasons(rejected) == [
        ("provider.csv:2", "ukprn", "1000123", "BAD-UKPRN"),
        ("provider.csv:2", "provider_id", "P 1", "BAD-ID"),
        ("provider.csv:3", "provider_id", "P001", "DUP-KEY"),
    ]
    assert counts["provider"] == TableCount("provider", 2, 0, 2)


def test_reader_problems_reject_the_row():
    raw = raw_return(learners=[LEARNER, {**LEARNER, "learner_ref": "L2"}])
    short = RawTable.of_frame(
        "learners",
        "learners.csv",
        raw["learners"].cells,
        raw["learners"].rows,
        problems_frame([(1, "family_name", "", "13 fields where the header has 14", "SHORT-ROW")]),
    )
    tables, rejected, counts = validate_tables({**raw, "learners": short})
    assert reasons(rejected) == [("learners.csv:3", "family_name", "", "SHORT-ROW")]
    assert counts["learners"] == TableCount("learners", 2, 1, 1)


def test_absent_tables_are_empty_with_contract_columns():
    tables, rejected, counts = validate_tables(raw_return(learners=[LEARNER]))
    assert len(tables["outcomes"]) == 0 and "outcome_date" in tables["outcomes"].columns
    assert str(tables["outcomes"]["outcome_date"].dtype) == "datetime64[ns]"
    assert counts["outcomes"] == TableCount("outcomes", 0, 0, 0)
    assert list(rejected.columns) == [
        "table",
        "source",
        "column",
        "value",
        "reason",
        "rule",
        "personal",
    ]


def test_defaults_filled():
    bootcamps = [
        BOOTCAMPS[0],
        {**BOOTCAMPS[0], "bootcamp_id": "B2", "accelerated_apprenticeship": "y"},
    ]
    learners = [
        LEARNER,
        {**LEARNER, "learner_ref": "L2", "learner_type": "self-employed"},
        {**LEARNER, "learner_ref": "L3", "learner_type": "self-employed", "wants_interview": "Y"},
        {**LEARNER, "learner_ref": "L4", "wants_interview": "no"},
    ]
    tables, _, _ = validate_tables(raw_return(bootcamps=bootcamps, learners=learners))
    assert tables["bootcamps"]["accelerated_apprenticeship"].tolist() == [False, True]
    assert tables["learners"]["wants_interview"].tolist() == [True, False, True, False]


# --- property: nothing is lost ------------------------------------------------------

CELL_POOLS: dict[str, list[str]] = {
    "id": ["A1", "000123", "", "x;y"],
    "text": ["NA", "None", "", "=1+1", 'Ann, "Jo"\nLee'],
    "date": ["2023-01-09", "31/03/2023", "31/02/2023", "04/13/2023", "", "2040-01-01", "NULL"],
    "flag": ["Y", "no", "TRUE", "maybe", ""],
    "money": ["1250", "£1,250.50", "1,25", ""],
    "int": ["3", "1,200", "-1", ""],
    "score": ["0", "5", "6", ""],
    "idlist": ["B1;B2", "", "B1;;B2"],
    "uln": ["1234567899", "9999999999", "1234567890", "123", ""],
    "ukprn": ["10001234", "123", ""],
    "birth_date": ["1990-04-12", "2020-01-01", "31/02/1990", ""],
    "postcode": ["B1 1AA", "sw1a2aa", "B1", ""],
    "ni_number": ["QQ 12 34 56 C", "QQ123456", "Q1", ""],
}
# Small pools for the columns that join tables, so references both hit and miss and keys repeat.
JOIN_POOLS = {
    "bootcamp_id": ["B1", "B2", ""],
    "learner_ref": ["L1", "L2", "000123"],
    "employer_id": ["E1", "E2", "E9"],
    "provider_id": ["P001", "P 1"],
}


@st.composite
def csv_table(draw: st.DrawFn, table: Table) -> tuple[list[str], list[list[str]]]:
    header = draw(st.permutations(list(table.column_names)))
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        row = []
        for name in header:
            column = table.column(name)
            pool = JOIN_POOLS.get(name) or (
                [*column.codes, "bad", ""]
                if column.kind in ("code", "codelist")
                else CELL_POOLS[column.kind]
            )
            row.append(draw(st.sampled_from(pool)))
        shape = draw(st.sampled_from(["ok", "ok", "short", "extra"]))
        rows.append(
            row[:-1] if shape == "short" else [*row, "surplus"] if shape == "extra" else row
        )
    return header, rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({name: csv_table(table) for name, table in TABLES.items()}))
def test_rows_read_equal_accepted_plus_rejected(return_tables):
    with tempfile.TemporaryDirectory() as folder:
        raw = {}
        for name, (header, rows) in return_tables.items():
            path = Path(folder) / f"{name}.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows([header, *rows])
            raw[name] = read_csv_table(path, name)[0]
        tables, rejected, counts = validate_tables(raw)
    for name, (_, rows) in return_tables.items():
        count = counts[name]
        sources = {f"{name}.csv:{row}" for row in raw[name].rows}
        rejected_sources = set(rejected.loc[rejected["table"] == name, "source"])
        accepted_sources = set(tables[name]["source"])
        # a line of empty fields holds no row: the reader skips it (documented)
        assert (
            count.read == sum(any(rows_field for rows_field in row) for row in rows) == len(sources)
        )
        assert count.read == count.accepted + count.rejected
        assert (count.accepted, count.rejected) == (len(tables[name]), len(rejected_sources))
        assert (
            accepted_sources | rejected_sources == sources
            and not accepted_sources & rejected_sources
        )
    allowed = {c for t in TABLES.values() for c in t.column_names} | {"(beyond the last column)"}
    assert rejected["source"].str.fullmatch(r"[a-z_]+\.csv:\d+").all()
    assert set(rejected["column"]) <= allowed
    assert set(rejected["rule"]) <= {r.id for r in CATALOGUE.values() if r.kpi == "validation"}


def test_every_table_naming_a_rejected_learner_is_rejected_too():
    # Five tables reference learners; their keys are gathered once and shared. L2 is
    # rejected (bad start_date), so its payment, assessment, interview, outcome and
    # referral are each rejected REF-LEARNER; L1's five records are all accepted.
    learners = [
        {**LEARNER, "learner_type": "co-funded", "employer_id": "E1"},
        {**LEARNER, "learner_ref": "L2", "start_date": "31/02/2023"},
    ]
    both = [("L1", "B1"), ("L2", "B1")]
    tables, rejected, counts = validate_tables(
        raw_return(
            learners=learners,
            cofunding_payments=[
                {
                    "employer_id": "E1",
                    "learner_ref": r,
                    "bootcamp_id": b,
                    "amount": "100",
                    "payment_date": "2023-02-01",
                }
                for r, b in both
            ],
            assessments=[
                {
                    "learner_ref": r,
                    "bootcamp_id": b,
                    "kind": "final",
                    "assessment_date": "2023-03-01",
                }
                for r, b in both
            ],
            interviews=[
                {
                    "learner_ref": r,
                    "bootcamp_id": b,
                    "offer_date": "2023-03-02",
                    "role_type": "job",
                    "matches_skills": "Y",
                }
                for r, b in both
            ],
            outcomes=[
                {
                    "learner_ref": r,
                    "bootcamp_id": b,
                    "outcome_type": "new_job",
                    "outcome_date": "2023-03-03",
                }
                for r, b in both
            ],
            referrals=[
                {"learner_ref": r, "bootcamp_id": b, "referral_date": "2023-02-10"} for r, b in both
            ],
        )
    )
    referring = ["cofunding_payments", "assessments", "interviews", "outcomes", "referrals"]
    assert reasons(rejected) == [
        ("learners.csv:3", "start_date", "31/02/2023", "BAD-DATE"),
        *((f"{name}.csv:3", "learner_ref", "L2", "REF-LEARNER") for name in referring),
    ]
    for name in referring:
        assert counts[name] == TableCount(name, 2, 1, 1)
        assert tables[name]["learner_ref"].tolist() == ["L1"]


def test_tables_built_from_blocks_equal_the_constructor_built_ones(monkeypatch):
    # Typed tables are assembled from ready blocks when pandas offers it, else by the
    # DataFrame constructor: the same return gives equal tables (values, dtypes, columns)
    # both ways. The return mixes text, dates, flags, money and Int64 columns.
    learners = [
        {**LEARNER, "given_name": "Ann", "m1_date": "2023-01-16", "uln": "1234567899"},
        {**LEARNER, "learner_ref": "L2", "wants_interview": "N"},
    ]
    raw = raw_return(learners=learners)
    fast_tables, fast_rejected, fast_counts = validate_tables(raw)
    monkeypatch.setattr("kpitools.returns.validate.FROM_BLOCKS", None)
    slow_tables, slow_rejected, slow_counts = validate_tables(raw)
    assert fast_counts == slow_counts
    pd.testing.assert_frame_equal(fast_rejected, slow_rejected)
    for name, frame in slow_tables.items():
        pd.testing.assert_frame_equal(fast_tables[name], frame, check_exact=True)
        assert list(fast_tables[name].dtypes) == list(frame.dtypes)
        assert fast_tables[name].columns.dtype == frame.columns.dtype


# --- several returns at once (a period's) --------------------------------------------


def test_returns_validated_together_are_each_as_validated_alone():
    # Five returns stacked in one pass: keys, references and the one-provider rule stay
    # within each return. A: L1 twice on B1 (DUP-KEY naming its own line 2). B: the same
    # keys as A (no duplicate across returns) and a learner on B2, a bootcamp only A has
    # (REF-BOOTCAMP), and a co-funded learner naming E7, not among its employers
    # (REF-EMPLOYER). C: a header-only learners file and no employers table. D: every
    # learner row rejected, so its referral is rejected too. E: two provider rows and no
    # employers table, so a co-funded learner naming E7 is accepted (nothing is inferred
    # from a table left out).
    bootcamps_a = [*BOOTCAMPS, {**BOOTCAMPS[0], "bootcamp_id": "B2"}]
    a = raw_return(bootcamps=bootcamps_a, learners=[LEARNER, {**LEARNER, "given_name": "Jo"}])
    b = raw_return(
        learners=[
            LEARNER,
            {**LEARNER, "learner_ref": "L2", "bootcamp_id": "B2"},
            {**LEARNER, "learner_ref": "L3", "learner_type": "co-funded", "employer_id": "E7"},
        ]
    )
    c = raw_return(learners=[])
    c["learners"] = RawTable.of_frame(
        "learners",
        "learners.csv",
        pd.DataFrame({name: pd.Series(dtype=object) for name in ("learner_ref", "bootcamp_id")}),
        [],
    )
    del c["employers"]
    d = raw_return(
        learners=[{**LEARNER, "start_date": "31/02/2023"}],
        referrals=[{"learner_ref": "L1", "bootcamp_id": "B1", "referral_date": "2023-02-10"}],
    )
    e = raw_return(
        provider=[*PROVIDER, {**PROVIDER[0], "provider_id": "P002"}],
        learners=[{**LEARNER, "learner_type": "co-funded", "employer_id": "E7"}],
    )
    del e["employers"]
    returns = [a, b, c, d, e]
    together = validate_many(returns)
    for raw, (tables, rejected, counts) in zip(returns, together, strict=True):
        alone_tables, alone_rejected, alone_counts = validate_tables(raw)
        assert counts == alone_counts
        pd.testing.assert_frame_equal(rejected, alone_rejected)
        for name, frame in alone_tables.items():
            pd.testing.assert_frame_equal(tables[name], frame, check_exact=True)
    (
        (_, rejected_a, counts_a),
        (tables_b, rejected_b, _),
        (tables_c, rejected_c, counts_c),
        (_, rejected_d, counts_d),
        (tables_e, rejected_e, _),
    ) = together
    assert reasons(rejected_a) == [("learners.csv:3", "learner_ref", "L1", "DUP-KEY")]
    assert rejected_a["reason"].tolist() == ["same learner_ref, bootcamp_id as line 2"]
    assert reasons(rejected_b) == [
        ("learners.csv:3", "bootcamp_id", "B2", "REF-BOOTCAMP"),
        ("learners.csv:4", "employer_id", "E7", "REF-EMPLOYER"),
    ]
    assert tables_b["learners"]["source"].tolist() == ["learners.csv:2"]
    assert counts_c["learners"] == TableCount("learners", 0, 0, 0) and rejected_c.empty
    assert len(tables_c["learners"]) == 0 and "m1_date" in tables_c["learners"].columns
    assert counts_d["learners"] == TableCount("learners", 1, 0, 1)
    assert [rule for *_, rule in reasons(rejected_d)] == ["BAD-DATE", "REF-LEARNER"]
    assert reasons(rejected_e) == [("provider.csv:3", "provider_id", "P002", "DUP-KEY")]
    assert rejected_e["reason"].tolist() == [
        "the provider table holds one provider, already given on line 2"
    ]
    assert tables_e["learners"]["employer_id"].tolist() == ["E7"]


def test_no_returns_validate_to_nothing():
    assert validate_many([]) == []


def _interview_tables(from_ilr: bool, **offer: str) -> dict[str, RawTable]:
    """A return of bootcamp B1, learner L1 and one interview offer."""
    bootcamps = RawTable.from_records(
        "bootcamps",
        [
            {
                "bootcamp_id": "B1",
                "start_date": "2023-01-02",
                "end_date": "2023-03-31",
                "price_per_learner": "3000",
            }
        ],
        label="bootcamps.csv",
    )
    learners = RawTable.from_records("learners", [LEARNER], label="learners.csv")
    label = "ilr/ILR-10012345-2223-20230331-120000-01.xml" if from_ilr else "interviews.csv"
    interviews = RawTable.from_records(
        "interviews",
        [{"learner_ref": "L1", "bootcamp_id": "B1", "offer_date": "2023-03-01", **offer}],
        label=label,
    )
    return {
        "bootcamps": bootcamps,
        "learners": learners,
        "interviews": replace(interviews, from_ilr=from_ilr),
    }


def test_unknown_role_type_is_refused_from_a_providers_file():
    # "unknown" is not one of the contract's role types nor a flag: a provider cannot
    # use it to pass an offer without its role type (issue 23)
    tables, rejected, counts = validate_tables(
        _interview_tables(False, role_type="unknown", matches_skills="unknown")
    )
    assert tables["interviews"].empty and counts["interviews"].rejected == 1
    assert sorted(zip(rejected["column"], rejected["rule"], strict=True)) == [
        ("matches_skills", "BAD-FLAG"),
        ("role_type", "BAD-CODE"),
    ]


def test_unknown_role_type_is_kept_from_the_ilr_and_nothing_else_is():
    # the ILR's offers: role type and skills match unknown, kept as such
    tables, rejected, counts = validate_tables(
        _interview_tables(True, role_type="unknown", matches_skills="unknown")
    )
    assert counts["interviews"].accepted == 1 and rejected.empty
    offer = tables["interviews"].iloc[0]
    assert offer.role_type == "unknown" and pd.isna(offer.matches_skills)
    # from the ILR too, a blank or another word is what it is: rejected
    _, rejected, _ = validate_tables(_interview_tables(True, role_type="", matches_skills="maybe"))
    assert sorted(zip(rejected["column"], rejected["rule"], strict=True)) == [
        ("matches_skills", "BAD-FLAG"),
        ("role_type", "REQUIRED"),
    ]


# --- a file of bad rows: reasons kept up to a bound, every row counted (issue 29) ------


def _bad_learners(count: int, ref: str = "R") -> list[dict[str, str]]:
    """Learner rows with two bad cells each (m1_date, completion_date)."""
    return [
        {**LEARNER, "learner_ref": f"{ref}{i}", "m1_date": "x", "completion_date": "y"}
        for i in range(count)
    ]


def test_reasons_are_listed_for_the_first_rows_only_and_every_row_counted(monkeypatch):
    monkeypatch.setattr(validate_module, "MAX_REJECTED_REASONS", 5)
    # ten rows of two reasons and one good row: rows of 2 + 2 reasons are listed (a third
    # row would make 6), the other eight rows and their 16 reasons counted only
    learners = [LEARNER, *_bad_learners(10)]
    tables, rejected, counts = validate_tables(raw_return(learners=learners))
    assert counts["learners"] == TableCount("learners", 11, 1, 10, 8, 16)
    assert counts["learners"].balances
    assert rejected["source"].tolist() == ["learners.csv:3"] * 2 + ["learners.csv:4"] * 2
    assert len(tables["learners"]) == 1
    # each return of a period is bounded on its own, as alone
    other = raw_return(learners=_bad_learners(1, "S"))
    together = validate_many([raw_return(learners=learners), other])
    assert together[0][2] == counts and together[1][2]["learners"] == TableCount(
        "learners", 1, 0, 1
    )
    assert len(together[1][1]) == 2


def test_the_details_held_while_checking_are_bounded(monkeypatch):
    # a million reasons must not be held to list five: details are kept for the first
    # rejected rows only, each return's count of reasons is exact
    table = TABLES["learners"]
    raw = RawTable.from_records("learners", _bad_learners(1000), label="learners.csv")
    stack = RawStack.of(table, [raw])
    problems = Problems(stack, listed_rows=5)
    for column in ("m1_date", "completion_date", "withdrawal_date"):
        problems.add(column, np.arange(1000), "bad", "BAD-DATE")
    assert sum(len(p) for p in problems.positions) == 15
    assert problems.reasons.tolist() == [3000] and problems.rejected.all()
    assert problems.frame()["position"].tolist() == [p for p in range(5) for _ in range(3)]


def test_a_table_with_unlisted_rows_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(validate_module, "MAX_REJECTED_REASONS", 5)
    folder = tmp_path / "P001"
    folder.mkdir()
    for name, rows in (("provider", PROVIDER), ("bootcamps", BOOTCAMPS)):
        _write_csv(folder / f"{name}.csv", rows)
    _write_csv(folder / "learners.csv", _bad_learners(10))
    provider = load_provider(folder)
    assert provider.counts["learners"].rejected == 10
    assert [w for w in provider.warnings if "counted, not listed" in w] == [
        "learners.csv: 10 rows rejected; the reasons of the first 2 are listed "
        "(rejected_rows.csv, the pack, the register), the other 8 rows (16 reasons) are "
        "counted, not listed: at most 5 reasons are kept a table, and the checks of "
        "rejected rows (DUP-ROW, EMP-UNKNOWN) saw the listed ones only; correct the file "
        "and send it again"
    ]


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
