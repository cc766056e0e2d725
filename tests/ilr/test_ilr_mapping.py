"""Hand-written ILR files, one per namespace, map to hand-worked contract tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from ilr_xml import ilr_tables

from kpitools.ilr.events import EVENT_INDICATORS, m1_from_start
from kpitools.ilr.mapping import IlrTables
from kpitools.rules import Rules

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ilr"
F2223 = FIXTURES / "ILR-10012345-2223-20230331-120000-01.xml"
F2324 = FIXTURES / "ILR-10012345-2324-20240131-093000-01.xml"
F2425 = FIXTURES / "ILR-10012345-2425-20250228-170000-02.xml"
F2526 = FIXTURES / "ILR-10012345-2526-20251031-080000-01.xml"

T = pd.Timestamp


def _map(*paths: Path, rules: Rules | None = None) -> IlrTables:
    return ilr_tables(list(paths), rules=rules or Rules())


def _row(frame: pd.DataFrame, learner_ref: str) -> pd.Series:
    rows = frame[frame["learner_ref"] == learner_ref]
    assert len(rows) == 1, f"{learner_ref}: {len(rows)} rows"
    return rows.iloc[0]


def _is_missing(value: object) -> bool:
    return value is None or bool(pd.isna(value))


def test_2022_23_learners_types_dates_and_counts() -> None:
    t = _map(F2223)
    # 5 Learner elements; L003 is adult skills (FundModel 35): 4 bootcamp, 1 ignored.
    assert (t.learners_read, t.bootcamp_learners, t.non_bootcamp_learners) == (5, 4, 1)
    assert list(t.learners["learner_ref"]) == ["L001", "L002", "L004", "L005"]
    assert t.counts["learners"].balances and t.counts["learners"].accepted == 4
    l001 = _row(t.learners, "L001")
    # independent (no FFI 2, no SEI): start 2023-01-09, M1 = +7 days = 2023-01-16;
    # completion = later of component end 2023-03-03 and interview offer 2023-03-10.
    assert (l001.bootcamp_id, l001.learner_type, l001.uln) == (
        "SB-0001-01",
        "independent",
        "1000000043",
    )
    assert (l001.start_date, l001.m1_date, l001.completion_date) == (
        T("2023-01-09"),
        T("2023-01-16"),
        T("2023-03-10"),
    )
    assert bool(l001.wants_interview) is True
    assert l001.source == f"{F2223.name}:11"  # the line of its Learner element
    l002 = _row(t.learners, "L002")
    # FFI 2 → co-funded; EmpId of the status applying at start (2022-12-01);
    # withdrawn 2023-02-10 before M1 (2023-02-13) → no M1; one file → reported unknown.
    assert (l002.learner_type, l002.employer_id) == ("co-funded", "123456789")
    assert l002.withdrawal_date == T("2023-02-10")
    assert _is_missing(l002.m1_date) and _is_missing(l002.withdrawal_reported_date)
    assert _is_missing(l002.completion_date)
    assert bool(l002.wants_interview) is False
    # L004 self-employed (SEI 1), start 2023-03-27: M1 2023-04-03 > file date 2023-03-31.
    l004 = _row(t.learners, "L004")
    assert l004.learner_type == "self-employed" and _is_missing(l004.m1_date)
    # L005 start 2023-03-24: M1 2023-03-31 = file date → counted.
    assert _row(t.learners, "L005").m1_date == T("2023-03-31")


def test_2022_23_interview_offer_and_facts() -> None:
    t = _map(F2223)
    assert len(t.interviews) == 1
    offer = t.interviews.iloc[0]
    assert (offer.learner_ref, offer.bootcamp_id, offer.offer_date) == (
        "L001",
        "SB-0001-01",
        T("2023-03-10"),
    )
    # role type and skills match are not in the ILR: unknown, not invented
    assert offer.role_type == "unknown" and pd.isna(offer.matches_skills)
    assert t.outcomes.empty
    facts = _row(t.learner_facts, "L002")
    assert bool(facts.cofunded) and bool(facts.sme)  # OET 2 → SME
    assert (facts.comp_status, facts.withdraw_reason) == (3, 44)
    assert pd.isna(_row(t.learner_facts, "L001").sme)  # SME only means something if co-funded


def test_2023_24_cofunded_large_employer_new_role_and_outcomes() -> None:
    t = _map(F2324)
    # L102 has FundModel 37 / ProgType 32 but SOF 1: not a bootcamp.
    assert (t.learners_read, t.bootcamp_learners, t.non_bootcamp_learners) == (2, 1, 1)
    l101 = _row(t.learners, "L101")
    # Status in force at start 2023-10-02 is the one from 2023-09-01 (EmpId 987654321),
    # not the earlier one nor the later SME one from 2023-11-01.
    assert (l101.learner_type, l101.employer_id) == ("co-funded", "987654321")
    assert not bool(_row(t.learner_facts, "L101").sme)  # no OET 2 at start → large
    # completion = later of component 2023-12-15 and new-role offer 2023-12-20
    assert l101.completion_date == T("2023-12-20")
    assert l101.new_role_evidence_date == T("2023-12-20")
    # outcomes: the new-role offer (2023-12-20) and the achievement (AchDate 2024-01-15)
    outcomes = t.outcomes.sort_values("outcome_date")
    assert list(outcomes["outcome_type"]) == ["new_role", "new_role"]
    assert list(outcomes["outcome_date"]) == [T("2023-12-20"), T("2024-01-15")]
    assert list(outcomes["employer_id"]) == ["987654321", "987654321"]
    assert t.interviews.empty


def test_2024_25_self_employed_plan_and_a_rejected_learner() -> None:
    t = _map(F2425)
    l201 = _row(t.learners, "L201")
    # completion = later of component 2025-01-31 and plan 2025-02-03
    assert (l201.learner_type, l201.completion_date) == ("self-employed", T("2025-02-03"))
    assert list(t.outcomes.sort_values("outcome_date")["outcome_date"]) == [
        T("2025-02-03"),
        T("2025-02-20"),
    ]
    assert set(t.outcomes["outcome_type"]) == {"self_employment_plan"}
    # L202's programme start "2024-13-01" is not a date: rejected, with file, row, column.
    assert t.counts["learners"].read == 2
    assert (t.counts["learners"].accepted, t.counts["learners"].rejected) == (1, 1)
    assert list(t.rejected["rule"]) == ["BAD-DATE"]
    bad = t.rejected.iloc[0]
    assert (bad.source, bad.column, bad.value) == (
        f"{F2425.name}:31",
        "LearnStartDate",
        "2024-13-01",
    )


def test_2025_26_event_indicators_and_event_aims_by_start_date() -> None:
    t = _map(F2526)
    # L301 started 2025-08-04: programme completed 2025-10-06 (its EVI 1, an interview
    # offer, on 2025-10-06; component achieved 2025-10-03) → completion 2025-10-06.
    assert _row(t.learners, "L301").completion_date == T("2025-10-06")
    # L303 started 2025-07-28, before EVI: programme completed 2025-09-15, and its event
    # aim Z0059747 on 2025-09-15 is an interview offer.
    assert _row(t.learners, "L303").completion_date == T("2025-09-15")
    assert sorted(t.interviews["offer_date"]) == [T("2025-09-15"), T("2025-10-06")]
    # L302's EVI code 99 is unknown: not used, and a finding says so.
    assert _is_missing(_row(t.learners, "L302").completion_date)
    unknown = [f for f in t.findings if f.rule == "ILR-EVI-CODE-UNKNOWN"]
    assert [(f.learner_ref, f.aim_seq) for f in unknown] == [("L302", 1)]
    assert "'99'" in unknown[0].message and "99" not in EVENT_INDICATORS


def test_every_namespace_has_its_header_year_and_input_hash() -> None:
    for path, year in ((F2223, "2223"), (F2324, "2324"), (F2425, "2425"), (F2526, "2526")):
        t = _map(path)
        assert t.ukprn == "10012345"
        assert len(t.inputs) == 1 and len(t.inputs[0].sha256) == 64
        assert path.name.split("-")[2] == year


def test_m1_qualifying_days_is_a_parameter() -> None:
    t = _map(F2223, rules=Rules(m1_qualifying_days=14))
    # L001 start 2023-01-09 + 14 days = 2023-01-23
    assert _row(t.learners, "L001").m1_date == T("2023-01-23")
    # L005 start 2023-03-24 + 14 = 2023-04-07, after the file's date → none yet
    assert _is_missing(_row(t.learners, "L005").m1_date)


@pytest.mark.parametrize(
    ("withdrawal", "expected"),
    [
        (date(2023, 3, 7), None),  # withdrew the day before M1 (2023-03-08): no M1
        (date(2023, 3, 8), date(2023, 3, 8)),  # withdrew on the M1 day: M1 reached
        (None, date(2023, 3, 8)),
    ],
)
def test_m1_rule_withdrawal_boundary(withdrawal: date | None, expected: date | None) -> None:
    assert (
        m1_from_start(date(2023, 3, 1), withdrawal, days=7, as_known=date(2023, 3, 31)) == expected
    )


@pytest.mark.parametrize(
    ("as_known", "expected"),
    [(date(2023, 3, 7), None), (date(2023, 3, 8), date(2023, 3, 8))],
)
def test_m1_rule_file_date_boundary(as_known: date, expected: date | None) -> None:
    assert m1_from_start(date(2023, 3, 1), None, days=7, as_known=as_known) == expected


def _month_variant(tmp_path: Path, prepared: str, withdrawn: bool) -> Path:
    """F2223 as prepared on another day, with L002 withdrawn or still continuing."""
    text = F2223.read_text(encoding="utf-8").replace(
        "<FilePreparationDate>2023-03-31</FilePreparationDate>",
        f"<FilePreparationDate>{prepared}</FilePreparationDate>",
    )
    if not withdrawn:
        text = text.replace(
            "<CompStatus>3</CompStatus><LearnActEndDate>2023-02-10</LearnActEndDate>"
            "<WithdrawReason>44</WithdrawReason><Outcome>3</Outcome>",
            "<CompStatus>1</CompStatus>",
        )
    stamp = prepared.replace("-", "")
    path = tmp_path / f"ILR-10012345-2223-{stamp}-120000-01.xml"
    path.write_text(text, encoding="utf-8")
    return path


def test_withdrawal_reported_date_is_first_file_showing_it(tmp_path: Path) -> None:
    # January and February files show L002 continuing; March (F2223) shows it withdrawn
    # on 2023-02-10 → reported 2023-03-31 (given in any order).
    jan = _month_variant(tmp_path, "2023-01-31", withdrawn=False)
    feb = _month_variant(tmp_path, "2023-02-28", withdrawn=False)
    t = _map(F2223, jan, feb)
    l002 = _row(t.learners, "L002")
    assert l002.withdrawal_reported_date == T("2023-03-31")
    assert len(t.inputs) == 3
    assert t.learners_read == 5  # the current state is the latest file only


def test_withdrawal_reported_in_the_month_it_happened(tmp_path: Path) -> None:
    # February's file already shows it → reported 2023-02-28.
    jan = _month_variant(tmp_path, "2023-01-31", withdrawn=False)
    feb = _month_variant(tmp_path, "2023-02-28", withdrawn=True)
    t = _map(jan, feb, F2223)
    assert _row(t.learners, "L002").withdrawal_reported_date == T("2023-02-28")


def test_files_of_two_providers_are_refused(tmp_path: Path) -> None:
    from kpitools.errors import FileLevelError

    other = tmp_path / "ILR-10099999-2223-20230331-120000-01.xml"
    other.write_text(
        F2223.read_text(encoding="utf-8").replace("10012345", "10099999"), encoding="utf-8"
    )
    with pytest.raises(FileLevelError, match="several providers"):
        _map(F2223, other)


def test_frames_have_model_dtypes() -> None:
    t = _map(F2223)
    assert str(t.learners["start_date"].dtype) == "datetime64[ns]"
    assert str(t.learners["wants_interview"].dtype) == "boolean"
    assert t.learners["uln"].dtype == object
    assert str(t.interviews["offer_date"].dtype) == "datetime64[ns]"


# --- issue 23: one bad aim is not a bad learner; duplicates; UKPRNs; restarts ----------


def _one_file(tmp_path: Path, learners: list, *, ukprn: str = "10012345", **options: str) -> Path:
    from ilr_xml import ilr_xml, write

    text = ilr_xml(learners, prepared="2025-11-30", ukprn=ukprn, **options)
    return write(tmp_path, text, ukprn=ukprn, prepared="2025-11-30")


def test_a_learner_twice_in_a_file_is_dup_row_with_both_lines(tmp_path: Path) -> None:
    from ilr_xml import bootcamp, learner, line_of

    one = learner("D1", "1000000043", bootcamp("SB-0001-01", "2025-09-01", "2025-12-19"))
    path = _one_file(tmp_path, [one, one])
    t = _map(path)
    first, second = line_of(path, "D1", 1), line_of(path, "D1", 2)
    # read 2 = 1 mapped (the first) + 1 rejected (the second, listed), never silently
    assert (t.counts["learners"].read, t.counts["learners"].rejected) == (2, 1)
    assert _row(t.learners, "D1").source == f"{path.name}:{first}"
    [rejected] = t.rejected.itertuples(index=False)
    assert (rejected.source, rejected.rule, rejected.column) == (
        f"{path.name}:{second}",
        "DUP-KEY",
        "LearnRefNumber",
    )
    [dup] = [f for f in t.findings if f.rule == "DUP-ROW"]
    assert dup.source == f"{path.name}:{first}; {path.name}:{second}" and dup.severity == "high"


def test_a_stray_component_rejects_only_its_contract(tmp_path: Path) -> None:
    from ilr_xml import bootcamp, learner

    aims = (
        bootcamp("SB-0001-01", "2025-09-01", "2025-12-19")
        + bootcamp("SB-0002-01", "2025-10-01", "2026-01-30", seq=3)[1:]
    )
    t = _map(_one_file(tmp_path, [learner("S1", "1000000043", aims)]))
    assert list(t.learners["bootcamp_id"]) == ["SB-0001-01"]  # the valid bootcamp, mapped
    assert (t.counts["learners"].read, t.counts["learners"].rejected) == (2, 1)
    assert list(t.rejected["value"]) == ["SB-0002-01"] and "R_135" in t.rejected["reason"][0]
    assert [(f.rule, f.aim_seq, f.bootcamp_id) for f in t.findings] == [
        ("ILR-R_135", 4, "SB-0002-01")
    ]


def test_ukprns_of_header_learning_provider_and_file_name_are_compared(tmp_path: Path) -> None:
    from ilr_xml import bootcamp, learner

    one = [learner("A1", "1000000043", bootcamp("SB-0001-01", "2025-09-01", "2025-12-19"))]
    assert _map(_one_file(tmp_path / "same", one)).findings == ()
    # LearningProvider names another provider: one finding naming every value
    t = _map(_one_file(tmp_path / "other", one, provider_ukprn="10099999"))
    [found] = t.findings
    assert (found.rule, found.severity, found.learner_ref) == ("ILR-UKPRN-MISMATCH", "high", "")
    assert (
        "10012345 in the header" in found.message
        and "10099999 in LearningProvider" in found.message
    )


@pytest.mark.parametrize(
    ("earlier", "restart", "kept", "finding"),
    [
        # withdrawn after M1 then a new programme aim: the drop-out stays, ILR-REENROLLED
        ("withdrawn", False, ("2025-10-20", None), "withdrawn on 2025-10-20"),
        # completed then another: the completion stays
        ("completed", False, (None, "2025-10-20"), "completed on 2025-10-20"),
        # a break restarted with RES: history, no finding, the restart decides
        ("break", True, (None, None), None),
        # a break without RES: reported, nothing to keep
        ("break", False, (None, None), "not restarted with RES"),
    ],
)
def test_restarts_and_reenrolments(
    tmp_path: Path, earlier: str, restart: bool, kept: tuple, finding: str | None
) -> None:
    from ilr_xml import bootcamp, closed, learner

    ended = {
        "withdrawn": closed(3, "2025-10-20"),
        "completed": closed(2, "2025-10-20"),
        "break": {"CompStatus": 6, "LearnActEndDate": "2025-10-20", "Outcome": 3},
    }[earlier]
    aims = bootcamp("SB-0001-01", "2025-09-01", "2025-12-19", ended=ended) + bootcamp(
        "SB-0001-01", "2025-11-03", "2026-02-27", seq=3, restart=restart
    )
    t = _map(_one_file(tmp_path, [learner("R1", "1000000043", aims)]))
    row = _row(t.learners, "R1")
    assert row.start_date == T("2025-09-01")  # the first programme aim's start
    got = tuple(
        None if _is_missing(d) else d.date().isoformat()
        for d in (row.withdrawal_date, row.completion_date)
    )
    assert got == kept
    found = [f for f in t.findings if f.rule == "ILR-REENROLLED"]
    if finding is None:
        assert found == []
    else:
        assert len(found) == 1 and finding in found[0].message and found[0].aim_seq == 3


def test_identity_fields_are_mapped_and_an_unknown_postcode_is_blank(tmp_path: Path) -> None:
    # L001 of the fixture: born 1990-04-12, Postcode ZZ99 9ZZ (not known), no NINumber;
    # a copy with a postcode and an NI number maps both as written.
    t = _map(F2223)
    l001 = _row(t.learners, "L001")
    assert l001.date_of_birth == T("1990-04-12")
    assert _is_missing(l001.postcode) and _is_missing(l001.ni_number)
    text = F2223.read_text(encoding="utf-8").replace(
        "<Postcode>ZZ99 9ZZ</Postcode>",
        "<Postcode>B1 1AA</Postcode><NINumber>QQ123456C</NINumber>",
        1,
    )
    copy = tmp_path / F2223.name
    copy.write_text(text, encoding="utf-8")
    l001 = _row(_map(copy).learners, "L001")
    assert (l001.postcode, l001.ni_number) == ("B1 1AA", "QQ123456C")
