"""The audit engine: one provider from its folder (a run of one), a period of providers
(in one process or in worker processes: the same results, in the same order), what a
provider gets alone and in its period, failures kept to their provider, each provider's
rules, and the kpis command."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from kpi_frames import bootcamp, learner, small_return, write_return

from kpitools.audit import (
    SINGLE_PROVIDER_NOTE,
    audit_period,
    audit_provider,
    audit_single_provider,
    shares,
)
from kpitools.checks.people import PERSON_MATCHES
from kpitools.cli import main
from kpitools.errors import FileLevelError, KpiToolsError, ParameterError, ProviderFailure
from kpitools.model import ILR_DROPOUTS, ProviderAudit
from kpitools.outputs.workbook import write_register
from kpitools.rules import Rules
from kpitools.worklists import BREACH_RISK
from kpitools.worklists.build import breach_risks, portfolio_hazard_of
from kpitools.worklists.followup import RegisterTrail

AS_OF = date(2023, 3, 31)


def _period(root: Path) -> Path:
    """DATA/2023-02/P1, DATA/2023-03/P1 (small_return) and DATA/2023-03/P2 (broken)."""
    write_return(root / "2023-02" / "P1", small_return())
    write_return(root / "2023-03" / "P1", small_return())
    broken = small_return("P2")
    del broken["bootcamps"]  # a required table: the provider cannot be read
    write_return(root / "2023-03" / "P2", broken)
    return root / "2023-03"


def test_audit_provider_from_folder(tmp_path):
    period_dir = _period(tmp_path)
    audit = audit_provider(period_dir / "P1", as_of=AS_OF, previous_dir=tmp_path / "2023-02" / "P1")
    assert isinstance(audit, ProviderAudit)
    assert (audit.provider_id, audit.period, audit.rules) == ("P1", "2023-03", Rules())
    assert audit.previous is not None
    assert [f.rule for f in audit.irregularities] == ["FUTURE-DATED"]
    # 9 KPI rows (employer engagement x3 stages) for B1 and ALL
    assert len(audit.kpi_results) == 18
    assert audit.kpi_frame()["kpi"].iloc[0] == "employer_engagement"


def test_missing_previous_return_is_noted(tmp_path):
    period_dir = _period(tmp_path)
    audit = audit_provider(period_dir / "P1", as_of=AS_OF, previous_dir=tmp_path / "nowhere")
    assert audit.previous is None
    assert audit.notes[0].startswith("no previous return found at")


def test_audit_period_goes_on_past_a_broken_provider(tmp_path):
    results = audit_period(_period(tmp_path), as_of=AS_OF, rules=Rules())
    assert sorted(results) == ["P1", "P2"]
    assert isinstance(results["P1"], ProviderAudit)
    assert isinstance(results["P2"], FileLevelError)
    # the previous month's folder of the same provider was found by itself
    assert results["P1"].previous is not None


def test_kpis_command_writes_byte_identical_csvs(tmp_path):
    period_dir = _period(tmp_path)
    runner = CliRunner()
    outputs = []
    for name in ("a", "b"):
        result = runner.invoke(
            main,
            [
                "kpis",
                str(period_dir / "P1"),
                "--as-of",
                "2023-03-31",
                "--out",
                str(tmp_path / name),
            ],
        )
        assert result.exit_code == 0, result.output
        outputs.append({p.name: p.read_bytes() for p in (tmp_path / name).glob("*.csv")})
    assert sorted(outputs[0]) == [
        "exceptions.csv",
        "kpi_members.csv",
        "kpi_results.csv",
        "rejected_rows.csv",
    ]
    assert outputs[0] == outputs[1]
    assert "learner_dropout" in result.output and "at_risk" in result.output


def test_kpis_command_exits_1_when_rows_were_rejected(tmp_path):
    # the README's exit codes: 0 every row accepted (above), 1 rows rejected (the four
    # files are still written and rejected_rows.csv lists the row), 2 bad input (below)
    period_dir = _period(tmp_path)
    learners = period_dir / "P1" / "learners.csv"
    header = learners.read_text(encoding="utf-8").splitlines()[0]
    width = len(header.split(","))
    with learners.open("a", encoding="utf-8") as handle:
        handle.write("LX,B1" + "," * (width - 2) + "\n")  # required columns blank
    result = CliRunner().invoke(
        main,
        ["kpis", str(period_dir / "P1"), "--as-of", "2023-03-31", "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 1, result.output
    assert "rejected row reason(s)" in result.output
    rejected = (tmp_path / "o" / "rejected_rows.csv").read_text(encoding="utf-8")
    assert "learners.csv:" in rejected and (tmp_path / "o" / "manifest.json").exists()


def test_kpis_command_applies_params_rules_and_refuses_unknown_keys(tmp_path):
    period_dir = _period(tmp_path)
    params = tmp_path / "p.yaml"
    # drop-out 1/5 = 20 %: at_risk at the default limit (above 16 %), on_track at 50 %
    params.write_text("rules:\n  dropout_limit: 0.5\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "kpis",
            str(period_dir / "P1"),
            "--as-of",
            "2023-03-31",
            "--out",
            str(tmp_path / "o"),
            "--params",
            str(params),
        ],
    )
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "learner_dropout" in x)
    assert line.split()[-1] == "on_track"
    params.write_text("rules:\n  dropout_limt: 0.5\n", encoding="utf-8")
    result = runner.invoke(
        main,
        [
            "kpis",
            str(period_dir / "P1"),
            "--as-of",
            "2023-03-31",
            "--out",
            str(tmp_path / "o"),
            "--params",
            str(params),
        ],
    )
    assert result.exit_code == 2
    assert "unknown rule(s) dropout_limt" in result.output
    assert "Traceback" not in result.output


def test_kpis_command_on_unreadable_provider_is_one_line(tmp_path):
    period_dir = _period(tmp_path)
    result = CliRunner().invoke(
        main,
        ["kpis", str(period_dir / "P2"), "--as-of", "2023-03-31", "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and len(result.output.splitlines()) == 1


def test_no_previous_return_is_said(tmp_path):
    # 2023-02/P1 exists but is not given: the audit cannot compare months, and says so
    period_dir = _period(tmp_path)
    audit = audit_provider(period_dir / "P1", as_of=AS_OF)
    assert audit.previous is None
    assert audit.notes == (
        "no previous month's return beside this one: restatements (RESTATED-*) not checked",
    )
    assert not [f for f in audit.irregularities if f.rule.startswith("RESTATED-")]


def test_previous_return_of_another_provider_is_refused(tmp_path):
    period_dir = _period(tmp_path)
    write_return(tmp_path / "2023-02" / "P9", small_return("P9"))
    try:
        audit_provider(period_dir / "P1", as_of=AS_OF, previous_dir=tmp_path / "2023-02" / "P9")
    except ParameterError as error:
        assert "provider P9's, not P1's" in error.one_line()
        assert error.one_line().startswith(str(tmp_path / "2023-02" / "P9"))
    else:
        raise AssertionError("another provider's previous month was accepted")


def _cofunded_return(*, supplied: bool) -> dict:
    """small_return plus L6, co-funded by E1, past M1 with no payment and E1 never
    contacted. ``supplied``: cofunding_payments.csv and employer_contacts.csv are there
    with a header only (an empty table); otherwise the two files are left out."""
    rows = small_return()
    rows["learners"].append(learner("L6", m1="2023-01-10", learner_type="co-funded", employer="E1"))
    if not supplied:
        del rows["cofunding_payments"], rows["employer_contacts"]
    return rows


def test_absent_tables_are_not_supplied_and_nothing_is_inferred(tmp_path):
    write_return(tmp_path / "2023-03" / "P1", _cofunded_return(supplied=False))
    audit = audit_provider(tmp_path / "2023-03" / "P1", as_of=AS_OF)
    assert audit.provider.not_supplied == {
        "employer_contacts": "employer_contacts.csv",
        "cofunding_payments": "cofunding_payments.csv",
    }
    assert any(w.startswith("cofunding_payments.csv not supplied") for w in audit.provider.warnings)
    assert audit.provider.counts["learners"].accepted == 6  # L6 is not rejected either
    by_kpi = {}
    for result in audit.kpi_results:
        by_kpi.setdefault(result.kpi, []).append(result)
    for kpi, missing in (
        ("employer_cofunding", "cofunding_payments.csv"),
        ("employer_engagement", "employer_contacts.csv"),
    ):
        assert {r.status for r in by_kpi[kpi]} == {"no_data"}
        assert all(missing in r.notes[0] and "not supplied" in r.notes[0] for r in by_kpi[kpi])
    assert {r.status for r in by_kpi["learner_dropout"]} != {"no_data"}  # needs neither file
    rules = {f.rule for f in audit.findings()}
    assert not rules & {"COF-NO-EVIDENCE", "EE-UNREACHABLE-3"}


def test_header_only_tables_are_empty_and_missing_evidence_is_a_finding(tmp_path):
    write_return(tmp_path / "2023-03" / "P1", _cofunded_return(supplied=True))
    audit = audit_provider(tmp_path / "2023-03" / "P1", as_of=AS_OF)
    assert audit.provider.not_supplied == {}
    rules = [f.rule for f in audit.findings()]
    assert "COF-NO-EVIDENCE" in rules  # L6 past M1, no payment in a supplied table
    cofunding = [
        r for r in audit.kpi_results if r.kpi == "employer_cofunding" and r.bootcamp_id == "ALL"
    ]
    assert cofunding[0].status != "no_data"


def test_validate_warns_naming_the_absent_table(tmp_path):
    write_return(tmp_path / "P1", _cofunded_return(supplied=False))
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "P1")])
    assert "warning: cofunding_payments.csv not supplied" in result.output
    assert "warning: employer_contacts.csv not supplied" in result.output
    assert "warning: outcomes.csv" not in result.output  # supplied, header only


def test_a_header_only_learners_file_says_no_learners_yet(tmp_path):
    rows = small_return()
    rows["learners"] = []
    write_return(tmp_path / "2023-03" / "P1", rows)
    result = CliRunner().invoke(
        main,
        [
            "kpis",
            str(tmp_path / "2023-03" / "P1"),
            "--as-of",
            "2023-03-31",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    # 1: the rows of assessments, interviews and referrals naming those learners are rejected
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "note: No learners yet" in result.output
    assert "note: cross-provider checks" in result.output  # a single-provider run says so
    manifest = (tmp_path / "out" / "manifest.json").read_text(encoding="utf-8")
    assert "No learners yet" in manifest and "need the other providers of the period" in manifest


def test_every_learner_rejected_gives_the_count_and_top_reasons(tmp_path):
    rows = small_return()
    for number, row in enumerate(rows["learners"]):
        row["uln"] = "9.66422E+09"  # what Excel shows of a 10-digit ULN stored as a number
        if number == 0:
            row["start_date"] = "44927"  # and an Excel date serial in the first row
    write_return(tmp_path / "2023-03" / "P1", rows)
    audit = audit_provider(tmp_path / "2023-03" / "P1", as_of=AS_OF)
    assert audit.provider.counts["learners"].accepted == 0
    note = audit.notes[0]
    assert note.startswith("Every learner row was rejected (5 of 5)")
    # the commonest reason first: 5 rows of ULNs, then 1 row of an Excel date serial
    assert "uln: Excel converted this ULN to a number in scientific notation" in note
    assert note.index("(5 rows)") < note.index("start_date: an Excel date serial number")
    assert {r.denominator for r in audit.kpi_results if r.kpi == "learner_dropout"} == {0}


def test_cross_provider_checks_with_the_period_dir(tmp_path):
    # P1 and P2 share L1's ULN on overlapping learning: only a run that sees both knows
    for provider_id in ("P1", "P2"):
        rows = small_return(provider_id)
        rows["learners"][0]["uln"] = "9664217882"
        write_return(tmp_path / "2023-03" / provider_id, rows)
    alone = audit_single_provider(tmp_path / "2023-03" / "P1", as_of=AS_OF)
    assert alone.notes[-1] == SINGLE_PROVIDER_NOTE
    assert "DUP-ULN-OVERLAP" not in {f.rule for f in alone.irregularities}
    together = audit_single_provider(
        tmp_path / "2023-03" / "P1", as_of=AS_OF, period_dir=tmp_path / "2023-03"
    )
    assert together.notes[-1].startswith("cross-provider checks run against 1 other provider(s)")
    assert "DUP-ULN-OVERLAP" in {f.rule for f in together.irregularities}


def test_as_of_outside_the_period_is_noted(tmp_path):
    write_return(tmp_path / "2023-03" / "P1", small_return())
    audit = audit_provider(tmp_path / "2023-03" / "P1", as_of=date(2023, 5, 31))
    assert any(n.startswith("as_of 2023-05-31 is outside the period 2023-03") for n in audit.notes)
    inside = audit_provider(tmp_path / "2023-03" / "P1", as_of=AS_OF)
    assert not any("outside the period" in n for n in inside.notes)


def test_audit_period_fails_a_folder_whose_provider_csv_names_another(tmp_path):
    write_return(tmp_path / "2023-03" / "P1", small_return())
    write_return(tmp_path / "2023-03" / "P3", small_return("P9"))
    results = audit_period(tmp_path / "2023-03", as_of=AS_OF, rules=Rules())
    assert isinstance(results["P1"], ProviderAudit)
    assert results["P3"].one_line() == (
        f"{tmp_path / '2023-03' / 'P3'}: provider.csv names provider 'P9' but the folder is 'P3'; "
        "rename the folder or correct provider.csv"
    )


def _with_finished_bootcamp(provider_id: str, withdrawn: int) -> dict:
    """small_return (B1 running at AS_OF) plus B0, finished 2023-02-28: 10 learners past
    M1 2023-01-10, the first ``withdrawn`` withdrawn 2023-02-01, the rest completed."""
    rows = small_return(provider_id)
    rows["bootcamps"].append(bootcamp("B0", "2023-01-02", "2023-02-28"))
    rows["learners"] += [
        learner(
            f"F{i}",
            "B0",
            m1="2023-01-10",
            **(
                {"withdrawn": "2023-02-01", "reported": "2023-02-02"}
                if i < withdrawn
                else {"completed": "2023-02-20"}
            ),
        )
        for i in range(10)
    ]
    return rows


def test_period_breach_risk_is_shrunk_toward_the_audited_providers_only(tmp_path):
    # P1 lost none of its finished bootcamp, P2 lost 2 of 10; P3's return names P9 (it
    # loads but its audit fails) and lost 9 of 10: it does not pool into the hazard.
    write_return(tmp_path / "2023-03" / "P1", _with_finished_bootcamp("P1", 0))
    write_return(tmp_path / "2023-03" / "P2", _with_finished_bootcamp("P2", 2))
    write_return(tmp_path / "2023-03" / "P3", _with_finished_bootcamp("P9", 9))
    results = audit_period(tmp_path / "2023-03", as_of=AS_OF, rules=Rules())
    assert isinstance(results["P3"], FileLevelError)
    audits = {p: results[p] for p in ("P1", "P2")}
    returns = {p: a.provider for p, a in audits.items()}
    prior = portfolio_hazard_of(returns, as_of=AS_OF)
    expected = breach_risks(returns, as_of=AS_OF, rules=Rules(), portfolio=prior)
    for provider_id, audit in audits.items():
        pd.testing.assert_frame_equal(audit.worklists[BREACH_RISK], expected[provider_id])
        # in the place a single-provider audit gives it
        alone = audit_provider(tmp_path / "2023-03" / provider_id, as_of=AS_OF)
        assert list(audit.worklists) == list(alone.worklists)
    # P1 alone has a zero hazard; shrunk toward P2's drop-outs its risk rises
    alone_p1 = audit_provider(tmp_path / "2023-03" / "P1", as_of=AS_OF).worklists[BREACH_RISK]
    assert alone_p1.iloc[0]["p_above_limit"] == 0.0
    assert 0.0 < audits["P1"].worklists[BREACH_RISK].iloc[0]["p_above_limit"]
    # pooled with P9's return as well, P1's risk would differ
    p9 = {**returns, "P3": audit_provider(tmp_path / "2023-03" / "P3", as_of=AS_OF).provider}
    with_p9 = breach_risks(
        p9, as_of=AS_OF, rules=Rules(), portfolio=portfolio_hazard_of(p9, as_of=AS_OF)
    )
    assert not with_p9["P1"].equals(audits["P1"].worklists[BREACH_RISK])


def test_kpis_command_refuses_an_output_folder_inside_the_return(tmp_path):
    period_dir = _period(tmp_path)
    out = period_dir / "P1" / "out"
    result = CliRunner().invoke(
        main, ["kpis", str(period_dir / "P1"), "--as-of", "2023-03-31", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {out}: output folder is inside the input folder {period_dir / 'P1'}; "
        "inputs are read-only: give a folder outside it\n"
    )
    assert not out.exists()


def test_packs_warns_of_an_as_of_outside_the_period(tmp_path, monkeypatch):
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", "pack-tests-key-0123456789abcdef")
    (tmp_path / "2023-03").mkdir()
    # no notebooks there: the run stops before any work, after the warning
    result = CliRunner().invoke(
        main,
        [
            "packs",
            str(tmp_path / "2023-03"),
            "--out",
            str(tmp_path / "out"),
            "--as-of",
            "2023-05-31",
            "--notebooks",
            str(tmp_path / "none"),
        ],
    )
    assert (
        "warning: as_of 2023-05-31 is outside the period 2023-03 (2023-03-01 to 2023-03-31)"
        in result.stderr
    )


KEY = b"audit-tests-key-0123456789abcdef"


def test_single_provider_audit_is_complete_when_returned(tmp_path):
    # asked for them, the audit holds its trends and its register's follow-up: nothing is
    # added to it after it is returned
    period_dir = _period(tmp_path)
    out_dir = tmp_path / "out" / "2023-03" / "P1"
    audit = audit_single_provider(
        period_dir / "P1", as_of=AS_OF, trend_months=2, register=RegisterTrail(out_dir, KEY)
    )
    assert audit.trends.periods == ["2023-02", "2023-03"]
    # no OUT/2023-02/P1 folder: every exception is new, the expected register named
    assert audit.followup.previous == "2023-02/P1/exceptions.xlsx"  # relative to OUT
    assert not audit.followup.previous_found
    assert set(audit.followup.exceptions["change"]) == {"new"}
    # L4's DROP-LATE-REPORT and one FUTURE-DATED: one exception each
    assert len(audit.followup.exceptions) == len(audit.findings()) == 2
    bare = audit_single_provider(period_dir / "P1", as_of=AS_OF)
    assert bare.trends is None and bare.followup is None


def test_period_audit_carries_each_register_follow_up(tmp_path):
    # last month's register of P1 held this month's two exceptions, queried: they recur
    period_dir = _period(tmp_path)
    period_out = tmp_path / "out" / "2023-03"
    first = audit_period(period_dir, as_of=AS_OF, period_out=period_out, pseudonym_key=KEY)["P1"]
    row = first.followup.exceptions.assign(status="queried")
    (tmp_path / "out" / "2023-02" / "P1").mkdir(parents=True)
    write_register({"Exceptions": row}, tmp_path / "out" / "2023-02" / "P1" / "exceptions.xlsx")
    results = audit_period(
        period_dir, as_of=AS_OF, period_out=period_out, pseudonym_key=KEY, trend_months=12
    )
    followup = results["P1"].followup
    assert followup.previous_found
    assert (
        followup.exceptions[["change", "status"]].values.tolist() == [["recurring", "queried"]] * 2
    )
    assert results["P1"].trends.periods == ["2023-02", "2023-03"]
    assert isinstance(results["P2"], FileLevelError)  # a provider that failed has none
    assert audit_period(period_dir, as_of=AS_OF)["P1"].followup is None


# --- audit_period in worker processes ------------------------------------------------


@pytest.fixture(scope="module")
def demo_period(small_demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo (3 providers, planted irregularities) plus one unreadable provider:
    DATA/2023-03, copied once for the tests below, which only read it."""
    root = tmp_path_factory.mktemp("audit_demo")
    shutil.copytree(small_demo_dir, root, dirs_exist_ok=True)
    broken = root / "2023-03" / "P009"
    shutil.copytree(root / "2023-03" / "P001", broken)
    (broken / "bootcamps.csv").unlink()  # a required table: the provider cannot be read
    return root / "2023-03"


@pytest.fixture(scope="module")
def demo_audited(demo_period: Path) -> dict[str, ProviderAudit | KpiToolsError]:
    """``audit_period(demo_period)`` in this process, nothing patched: what the tests
    below compare other runs' results with (never changed by them)."""
    return audit_period(demo_period, as_of=AS_OF)


def _same_audit(one: ProviderAudit, other: ProviderAudit) -> None:
    assert one.provider.counts == other.provider.counts
    pd.testing.assert_frame_equal(one.provider.rejected, other.provider.rejected)
    for name, frame in one.provider.tables.items():
        pd.testing.assert_frame_equal(frame, other.provider.tables[name])
    assert one.irregularities == other.irregularities
    assert one.kpi_results == other.kpi_results
    assert (one.notes, one.period) == (other.notes, other.period)
    assert (one.previous is None) == (other.previous is None)
    assert list(one.worklists) == list(other.worklists)
    for name, frame in one.worklists.items():
        pd.testing.assert_frame_equal(frame, other.worklists[name])
    assert list(one.charts) == list(other.charts)
    for name, frame in one.charts.items():
        pd.testing.assert_frame_equal(frame, other.charts[name])


def test_two_workers_give_the_single_process_results_in_order(demo_period, demo_audited):
    alone = demo_audited
    shared = audit_period(demo_period, as_of=AS_OF, workers=2)
    # P004: the small demo's ILR-only provider (its learners from its ILR files)
    assert list(shared) == list(alone) == ["P001", "P002", "P003", "P004", "P009"]
    for provider_id, result in alone.items():
        if isinstance(result, KpiToolsError):
            assert type(shared[provider_id]) is type(result)
            assert shared[provider_id].one_line() == result.one_line()
        else:
            _same_audit(result, shared[provider_id])
    # the planted irregularities, cross-provider ones included, came back from the workers
    assert sum(len(a.irregularities) for a in shared.values() if isinstance(a, ProviderAudit)) > 0


def test_the_period_loads_its_returns_together_as_each_alone(tmp_path, monkeypatch):
    # P1 has last month's return, P2 cannot be read (no bootcamps), P3 has no previous
    # month, P4's previous month is another provider's return: loaded together they give
    # what each run of one provider gives it, however the validation is batched
    period_dir = _period(tmp_path)
    write_return(period_dir / "P3", small_return("P3"))
    write_return(period_dir / "P4", small_return("P4"))
    write_return(tmp_path / "2023-02" / "P4", small_return("P1"))
    together = audit_period(period_dir, as_of=AS_OF)
    monkeypatch.setattr("kpitools.load.VALIDATED_TOGETHER", 2)  # batches end mid-provider
    batched = audit_period(period_dir, as_of=AS_OF)
    assert list(together) == list(batched) == ["P1", "P2", "P3", "P4"]
    assert together["P1"].previous is not None and together["P3"].previous is None
    assert together["P3"].notes[0].startswith("no previous return found at")
    for provider_id in ("P2", "P4"):
        with pytest.raises(KpiToolsError) as alone:
            audit_provider(
                period_dir / provider_id,
                as_of=AS_OF,
                previous_dir=tmp_path / "2023-02" / provider_id,
            )
        assert together[provider_id].one_line() == alone.value.one_line()
        assert batched[provider_id].one_line() == alone.value.one_line()
    assert isinstance(together["P4"], ParameterError)
    for provider_id in ("P1", "P3"):
        alone = audit_provider(
            period_dir / provider_id, as_of=AS_OF, previous_dir=tmp_path / "2023-02" / provider_id
        )
        _same_return(together[provider_id], alone)
        assert together[provider_id].notes == alone.notes
        _same_audit(together[provider_id], batched[provider_id])


def _same_return(one: ProviderAudit, other: ProviderAudit) -> None:
    """The same return (and previous month's) loaded."""
    assert one.provider.counts == other.provider.counts
    pd.testing.assert_frame_equal(one.provider.rejected, other.provider.rejected)
    for name, frame in one.provider.tables.items():
        pd.testing.assert_frame_equal(frame, other.provider.tables[name])
    assert (one.previous is None) == (other.previous is None)


def test_a_run_of_one_provider_gives_what_its_period_gives_it(demo_period, demo_audited):
    # the same engine: alone, a provider gets every figure, finding, worklist, chart and
    # note its period gives it, but for what needs the other providers (DUP-ULN-OVERLAP
    # and DUP-PERSON-* across providers, the breach risk shrunk toward the period's hazard)
    compared = 0
    for provider_id, together in demo_audited.items():
        previous_dir = demo_period.parent / "2023-02" / provider_id
        if isinstance(together, KpiToolsError):
            with pytest.raises(KpiToolsError) as failed:
                audit_provider(demo_period / provider_id, as_of=AS_OF, previous_dir=previous_dir)
            assert failed.value.one_line() == together.one_line()
            continue
        alone = audit_provider(demo_period / provider_id, as_of=AS_OF, previous_dir=previous_dir)
        _same_return(together, alone)
        assert together.kpi_results == alone.kpi_results
        assert together.notes == alone.notes and together.period == alone.period
        mine = len(alone.irregularities)
        assert together.irregularities[:mine] == alone.irregularities
        across = together.irregularities[mine:]
        assert all(
            (f.rule == "DUP-ULN-OVERLAP" and "of provider P" in f.message)
            or (f.rule.startswith("DUP-PERSON-") and "same person as provider P" in f.message)
            for f in across
        )
        # the person matches behind those findings are the period's too
        assert [n for n in together.worklists if n != PERSON_MATCHES] == list(alone.worklists)
        for name, frame in alone.worklists.items():
            if name != BREACH_RISK:
                pd.testing.assert_frame_equal(together.worklists[name], frame, obj=name)
        assert list(together.charts) == list(alone.charts)
        for name, frame in alone.charts.items():
            pd.testing.assert_frame_equal(together.charts[name], frame, obj=name)
        compared += 1
    assert compared == 4  # three datasheet providers and the ILR-only one
    # the planted cross-provider duplicates are the period's alone
    assert any(
        f.rule == "DUP-ULN-OVERLAP" and "of provider P" in f.message
        for audit in demo_audited.values()
        if isinstance(audit, ProviderAudit)
        for f in audit.irregularities
    )


def test_worklists_in_order_breach_risk_after_the_ageing_lists_the_ilr_s_last(demo_audited):
    audit = demo_audited["P001"]
    names = list(audit.worklists)
    # P001 has planted person matches: their worklist follows the breach risk
    assert names.pop(7) == PERSON_MATCHES
    assert names[:7] == [
        "sample_employers",
        "sample_completers",
        "sample_outcomes",
        "ageing_awaiting_outcome",
        "ageing_unreached_employers",
        "ageing_unreported_withdrawals",
        BREACH_RISK,
    ]
    assert names[7:] in ([], [ILR_DROPOUTS])
    assert any(
        ILR_DROPOUTS in a.worklists for a in demo_audited.values() if isinstance(a, ProviderAudit)
    )


def _two_good_providers(root: Path) -> Path:
    """DATA/2023-03 of _period plus P3, readable: two providers audited together."""
    period_dir = _period(root)
    write_return(period_dir / "P3", small_return("P3"))
    return period_dir


@pytest.mark.parametrize(
    "step",
    [
        "kpitools.audit.compute_kpis",
        "kpitools.audit.run_checks",
        "kpitools.audit.pack_charts",
        "kpitools.audit.build_worklists",
        "kpitools.ilr.reconcile.ilr_reviews",
        "kpitools.audit.run_portfolio_checks",
        "kpitools.audit.breach_risks",
    ],
)
def test_a_fault_in_a_step_over_the_providers_stops_the_run(tmp_path, monkeypatch, step):
    # a step that runs over every provider at once holds no input of its own: its error
    # is a fault of kpitools, raised with its traceback, never computed another way
    period_dir = _two_good_providers(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(step, broken)
    with pytest.raises(RuntimeError, match="boom"):
        audit_period(period_dir, as_of=AS_OF)


def test_a_provider_whose_folder_faults_fails_alone(demo_period, tmp_path, monkeypatch):
    # reading P002's folder meets a fault of kpitools: P002 fails with the traceback for
    # its error.txt; the others get exactly what a period without P002 gives them
    from kpitools import load

    read = load.read_provider_folder

    def faulty(folder, *args, **kwargs):
        if Path(folder) == demo_period / "P002":
            raise RuntimeError("boom")
        return read(folder, *args, **kwargs)

    without = tmp_path / "2023-03"
    shutil.copytree(demo_period, without, ignore=lambda folder, names: ["P002"])
    shutil.copytree(demo_period.parent / "2023-02", tmp_path / "2023-02")
    expected = audit_period(without, as_of=AS_OF)
    monkeypatch.setattr(load, "read_provider_folder", faulty)
    results = audit_period(demo_period, as_of=AS_OF)
    failure = results["P002"]
    assert isinstance(failure, ProviderFailure)
    assert failure.one_line().endswith(
        "loading failed on an unexpected error (RuntimeError: boom); "
        "the other providers were not affected"
    )
    assert "Traceback" in failure.detail and "boom" in failure.detail
    assert list(results) == ["P001", "P002", "P003", "P004", "P009"]  # P004: ILR-only
    for provider_id, result in expected.items():
        if isinstance(result, ProviderAudit):
            # the same data in another folder: the note naming last month's folder aside
            notes = tuple(n.replace(str(tmp_path), str(demo_period.parent)) for n in result.notes)
            _same_audit(results[provider_id], replace(result, notes=notes))
        else:
            assert results[provider_id].one_line().replace(str(demo_period), "") == (
                result.one_line().replace(str(without), "")
            )
    # a run of that one provider raises the fault itself
    with pytest.raises(RuntimeError, match="boom"):
        audit_provider(demo_period / "P002", as_of=AS_OF)


def test_a_provider_whose_register_follow_up_faults_fails_alone(tmp_path, monkeypatch):
    period_dir = _two_good_providers(tmp_path)
    period_out = tmp_path / "out" / "2023-03"
    from kpitools import audit as engine

    follow = engine.provider_followup

    def faulty(findings, **kwargs):
        if kwargs["provider_id"] == "P3":
            raise RuntimeError("boom")
        return follow(findings, **kwargs)

    monkeypatch.setattr(engine, "provider_followup", faulty)
    results = audit_period(period_dir, as_of=AS_OF, period_out=period_out, pseudonym_key=KEY)
    assert isinstance(results["P3"], ProviderFailure)
    assert "register follow-up failed on an unexpected error (RuntimeError: boom)" in (
        results["P3"].one_line()
    )
    assert results["P1"].followup is not None
    assert isinstance(results["P2"], FileLevelError)


def test_each_provider_is_measured_with_its_own_rules(tmp_path):
    # drop-out 1/5 = 20 %: at_risk at the default limit (above 16 %), on_track at 50 %
    period_dir = _two_good_providers(tmp_path)
    lenient = Rules(dropout_limit=0.5)
    results = audit_period(
        period_dir, as_of=AS_OF, rules={"P1": Rules(), "P2": Rules(), "P3": lenient}
    )
    status = {
        provider_id: next(
            r.status
            for r in results[provider_id].kpi_results
            if r.kpi == "learner_dropout" and r.bootcamp_id == "ALL"
        )
        for provider_id in ("P1", "P3")
    }
    assert status == {"P1": "at_risk", "P3": "on_track"}
    assert (results["P1"].rules, results["P3"].rules) == (Rules(), lenient)
    for provider_id, rules in (("P1", Rules()), ("P3", lenient)):
        alone = audit_provider(
            period_dir / provider_id,
            as_of=AS_OF,
            rules=rules,
            previous_dir=tmp_path / "2023-02" / provider_id,
        )
        assert results[provider_id].kpi_results == alone.kpi_results
    with pytest.raises(ParameterError, match="no rules given for provider folder"):
        audit_period(period_dir, as_of=AS_OF, rules={"P1": Rules()})


def test_an_empty_period_audits_nothing(tmp_path):
    (tmp_path / "2023-03").mkdir()
    assert audit_period(tmp_path / "2023-03", as_of=AS_OF) == {}


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 50])
@pytest.mark.parametrize("items", [[], ["P1"], list("ABCDEFG")])
def test_a_period_is_cut_into_contiguous_even_shares_for_the_workers(items, count):
    cut = shares(items, count)
    assert [item for share in cut for item in share] == items  # every task once, in order
    assert len(cut) == min(len(items), count)
    assert all(cut) and (not cut or max(map(len, cut)) - min(map(len, cut)) <= 1)
