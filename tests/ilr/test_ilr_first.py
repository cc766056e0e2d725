"""ILR-first (issue 23): a provider folder whose learners come only from its ILR files is
judged as DfE's rules and the spec's addendum of 2026-12-07 say.

The folder ``2026-03/P010`` holds provider.csv (UKPRN 10012345), bootcamps.csv,
assessments.csv and referrals.csv (what the ILR does not carry) and four monthly ILR
files of 2025-26, prepared 2025-12-31, 2026-01-31, 2026-02-28 and 2026-03-31 (the last
gives the current state, the others are superseded). Learners (bootcamp SB-0001-01,
2025-09-01 to 2025-12-19; every start 2025-09-01, so M1 = 2025-09-08 by the 7-day rule):

- A1, A2: completed 2025-11-28, an EVI 1 (interview offer, the demo's code) dated
  2025-11-20: an offer before completion whose role type the ILR does not say;
- W1: withdrawn 2025-12-15 in December's file (keyed in error), continuing in January's
  and February's, withdrawn 2026-01-20 in March's (the real one, first shown then);
- R1: programme aim 1 withdrawn 2025-10-20, then programme aim 3 from 2025-11-03 on the
  same contract without a restart indicator: a re-enrolment;
- S1: completed 2025-11-28 with an EVI 1 dated 2025-11-21, and a stray component (aim
  3) on contract SB-0002-01, which has no programme aim;
- D1: continuing, twice in March's file (two Learner records, same LearnRefNumber).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from ilr_xml import bootcamp, closed, ilr_xml, learner, line_of, write
from lxml import etree

from kpitools.audit import audit_period, audit_provider
from kpitools.model import ILR_SUPERSEDED, ILR_USED, ProviderAudit
from kpitools.outputs.results import write_provider_outputs
from kpitools.params import PackParams
from kpitools.present import report
from kpitools.present.context import context_from_audit
from kpitools.privacy.naming import WORKING

DFE = Path(__file__).parent.parent / "fixtures" / "ilr" / "dfe"
AS_OF = date(2026, 3, 31)
MONTHS = ("2025-12-31", "2026-01-31", "2026-02-28", "2026-03-31")
CON = "SB-0001-01"
COMPLETED = closed(2, "2025-11-28")


def _learners(prepared: str) -> list[dict[str, object]]:
    """Every learner as the file prepared on ``prepared`` shows them."""
    w1 = {
        "2025-12-31": closed(3, "2025-12-15"),
        "2026-01-31": {},
        "2026-02-28": {},
        "2026-03-31": closed(3, "2026-01-20"),
    }[prepared]
    learners = [
        learner(
            "A1",
            "1000000043",
            bootcamp(CON, "2025-09-01", "2025-12-19", ended=COMPLETED, evi=[("1", "2025-11-20")]),
        ),
        learner(
            "A2",
            "1000000051",
            bootcamp(CON, "2025-09-01", "2025-12-19", ended=COMPLETED, evi=[("1", "2025-11-20")]),
        ),
        learner("W1", "1000000078", bootcamp(CON, "2025-09-01", "2026-01-30", ended=w1)),
        learner(
            "R1",
            "1000000086",
            bootcamp(CON, "2025-09-01", "2025-12-19", ended=closed(3, "2025-10-20"))
            + bootcamp(CON, "2025-11-03", "2026-02-27", seq=3),
        ),
        learner(
            "S1",
            "1000000094",
            bootcamp(CON, "2025-09-01", "2025-12-19", ended=COMPLETED, evi=[("1", "2025-11-21")])
            + bootcamp("SB-0002-01", "2025-10-01", "2026-01-30", seq=3)[1:],
        ),
        learner("D1", "1000000108", bootcamp(CON, "2025-09-01", "2026-01-30")),
    ]
    if prepared == MONTHS[-1]:
        learners.append(learners[-1])  # D1 twice
    return learners


def _provider_folder(root: Path, *, ukprn: str = "10012345", files_ukprn: str = "10012345") -> Path:
    folder = root / "2026-03" / "P010"
    folder.mkdir(parents=True)
    (folder / "provider.csv").write_text(f"provider_id,name,ukprn\nP010,ILR First Ltd,{ukprn}\n")
    (folder / "bootcamps.csv").write_text(
        "bootcamp_id,start_date,end_date,price_per_learner\n"
        f"{CON},2025-09-01,2025-12-19,3000\nSB-0002-01,2025-10-01,2026-01-30,3000\n"
    )
    (folder / "assessments.csv").write_text(
        "learner_ref,bootcamp_id,kind,assessment_date,skills_achieved\n"
        + "".join(
            f"{ref},{CON},initial,2025-09-02,\n{ref},{CON},final,2025-11-27,Y\n"
            for ref in ("A1", "A2", "S1")
        )
    )
    (folder / "referrals.csv").write_text(
        f"learner_ref,bootcamp_id,referral_date,referred_to\nR1,{CON},2025-10-27,careers service\n"
    )
    for prepared in MONTHS:
        write(
            folder / "ilr",
            ilr_xml(_learners(prepared), prepared=prepared, ukprn=files_ukprn),
            ukprn=files_ukprn,
            prepared=prepared,
        )
    return folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _provider_folder(tmp_path_factory.mktemp("ilr_first"))


@pytest.fixture(scope="module")
def audit(folder: Path) -> ProviderAudit:
    return audit_provider(folder, as_of=AS_OF)


def _found(audit: ProviderAudit, rule_id: str) -> list:
    return [f for f in audit.findings() if f.rule == rule_id]


def _learner(audit: ProviderAudit, ref: str, bootcamp_id: str = CON) -> pd.Series:
    learners = audit.provider.tables["learners"]
    rows = learners[(learners["learner_ref"] == ref) & (learners["bootcamp_id"] == bootcamp_id)]
    assert len(rows) == 1, (ref, bootcamp_id, len(rows))
    return rows.iloc[0]


def _result(audit: ProviderAudit, kpi: str, bootcamp_id: str = "ALL"):
    return next(r for r in audit.kpi_results if r.kpi == kpi and r.bootcamp_id == bootcamp_id)


def test_the_files_are_valid_against_dfe_schema(folder: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(DFE / "schemafile25.xsd")))
    for path in sorted((folder / "ilr").glob("*.xml")):
        assert schema.validate(etree.parse(str(path))), (path.name, schema.error_log)


def test_learners_come_from_the_ilr(audit: ProviderAudit) -> None:
    learners = audit.provider.tables["learners"]
    assert sorted(set(learners["learner_ref"])) == ["A1", "A2", "D1", "R1", "S1", "W1"]
    assert audit.provider.not_supplied.keys() >= {"employers", "cofunding_payments"}


# --- done when: EVI interview offers before completion are unverified, not absent --------


def test_evi_offers_before_completion_are_no_int_none_and_no_m2_no_evidence(
    audit: ProviderAudit,
) -> None:
    offers = audit.provider.tables["interviews"]
    assert sorted(offers["learner_ref"]) == ["A1", "A2", "S1"]
    assert set(offers["role_type"]) == {"unknown"} and offers["matches_skills"].isna().all()
    for rule_id in ("INT-NONE", "INT-INVALID", "M2-NO-EVIDENCE"):
        assert _found(audit, rule_id) == [], rule_id
    # none of them is a rejected row either
    assert audit.provider.rejected[audit.provider.rejected["table"] == "interviews"].empty


def test_guaranteed_interview_shows_the_unverified_count(audit: ProviderAudit) -> None:
    # A1, A2 and S1 completed with an ILR offer only: 3 unverified, 0 / 0 judged
    for bootcamp_id in (CON, "ALL"):
        result = _result(audit, "guaranteed_interview", bootcamp_id)
        assert (result.numerator, result.denominator, result.unverified) == (0, 0, 3)
        assert result.status not in ("met", "not_met", "off_track")  # neither failed nor met
        assert result.exceptions == ()


def test_unverified_is_a_column_of_kpi_results_at_the_end(
    audit: ProviderAudit, tmp_path: Path
) -> None:
    written = write_provider_outputs(audit, tmp_path, _naming(audit, tmp_path))
    frame = pd.read_csv(written["kpi_results.csv"], dtype=str, keep_default_na=False)
    assert list(frame.columns)[-1] == "unverified"
    row = frame[(frame["kpi"] == "guaranteed_interview") & (frame["bootcamp_id"] == "ALL")]
    assert row[["numerator", "denominator", "unverified"]].values.tolist() == [["0", "0", "3"]]


def _naming(audit: ProviderAudit, out: Path):
    from kpitools.privacy.naming import provider_naming

    return provider_naming(audit.provider, audience=WORKING, out_dir=out)


def test_the_pack_shows_the_unverified_count_beside_the_figure(
    audit: ProviderAudit, tmp_path: Path
) -> None:
    ctx = context_from_audit(
        audit,
        PackParams(provider_dir=str(audit.provider.path), out_dir=str(tmp_path), period="2026-03"),
    )
    figures = str(report.kpi_figures(ctx, "guaranteed_interview"))
    assert "<th>unverified</th>" in figures and "role type unknown, ILR" in figures
    assert "3 unverified" in str(report.status_matrix(ctx))
    assert "not a job" not in figures


def test_unverified_learners_are_in_the_verification_sample(audit: ProviderAudit) -> None:
    sample = audit.worklists["sample_unverified"]
    assert sorted(sample["learner_ref"]) == ["A1", "A2", "S1"]  # every one, not a sample
    assert set(sample["reason"]) == {"role type unknown (ILR)"}
    assert set(sample["kpis"]) == {"guaranteed_interview"}
    a1 = sample[sample["learner_ref"] == "A1"].iloc[0]
    assert a1.evidence == "interview offer 2025-11-20"


# --- done when: an undone December withdrawal, the real one first shown in March --------


def test_the_real_withdrawal_is_reported_in_march_and_late(audit: ProviderAudit) -> None:
    w1 = _learner(audit, "W1")
    assert w1.withdrawal_date == pd.Timestamp("2026-01-20")
    # December's withdrawal was undone in January: the last run of files showing W1
    # withdrawn starts with March's (2026-03-31), not December's
    assert w1.withdrawal_reported_date == pd.Timestamp("2026-03-31")
    # 2026-01-20 + 1 calendar month = 2026-02-20 < 2026-03-31: reported late
    late = {f.entity: f for f in _found(audit, "DROP-LATE-REPORT")}
    assert "2026-03-31" in late["learner:W1"].message
    # R1 (withdrawn 2025-10-20) is withdrawn in every file given, the first December's:
    # reported 2025-12-31, also more than a month after
    assert _learner(audit, "R1").withdrawal_reported_date == pd.Timestamp("2025-12-31")
    assert sorted(late) == ["learner:R1", "learner:W1"]


# --- done when: a re-enrolment after a withdrawal keeps the drop-out ---------------------


def test_a_reenrolment_keeps_the_dropout_with_ilr_reenrolled(audit: ProviderAudit) -> None:
    r1 = _learner(audit, "R1")
    assert r1.withdrawal_date == pd.Timestamp("2025-10-20")  # after M1 2025-09-08
    assert r1.start_date == pd.Timestamp("2025-09-01")
    [found] = _found(audit, "ILR-REENROLLED")
    assert (found.entity, found.severity, found.bootcamp_id) == ("learner:R1", "high", CON)
    assert "withdrawn on 2025-10-20; the withdrawal still counts" in found.message
    assert found.source.endswith("(aim 3)")
    # the drop-out counts: R1 and W1 withdrew after M1 of the 6 learners past M1
    dropout = _result(audit, "learner_dropout", CON)
    assert (dropout.numerator, dropout.denominator) == (2, 6)


# --- done when: a stray component gives ILR-R_135 and the valid bootcamp is mapped -------


def test_a_stray_component_gives_r135_and_the_valid_bootcamp_is_mapped(
    audit: ProviderAudit, folder: Path
) -> None:
    s1 = _learner(audit, "S1")  # its valid bootcamp
    assert s1.completion_date == pd.Timestamp("2025-11-28")
    [r135] = _found(audit, "ILR-R_135")
    march = sorted((folder / "ilr").glob("*.xml"))[-1]
    assert r135.entity == "learner:S1" and r135.bootcamp_id == "SB-0002-01"
    assert r135.source == f"{march.name}:{line_of(march, 'S1')} (aim 4)"
    # the stray contract alone is a rejected learner row, with its contract
    rejected = audit.provider.rejected
    stray = rejected[(rejected["table"] == "learners") & (rejected["value"] == "SB-0002-01")]
    assert len(stray) == 1 and "R_135" in stray.iloc[0]["reason"]
    assert audit.provider.counts["learners"].balances


# --- done when: a duplicate learner gives DUP-ROW -----------------------------------------


def test_a_learner_twice_in_a_file_is_dup_row_with_both_records(
    audit: ProviderAudit, folder: Path
) -> None:
    march = sorted((folder / "ilr").glob("*.xml"))[-1]
    first, second = line_of(march, "D1", 1), line_of(march, "D1", 2)
    [dup] = _found(audit, "DUP-ROW")
    assert dup.entity == "learner:D1" and dup.severity == "high"
    assert dup.source == f"ilr/{march.name}:{first}; ilr/{march.name}:{second}"
    assert _learner(audit, "D1").source == f"ilr/{march.name}:{first}"  # the first kept


# --- done when: another provider's UKPRN gives ILR-UKPRN-MISMATCH ------------------------


def test_another_providers_ukprn_is_ilr_ukprn_mismatch(tmp_path: Path) -> None:
    # header, LearningProvider and file names say 10099999; provider.csv 10012345
    folder = _provider_folder(tmp_path, files_ukprn="10099999")
    audit = audit_provider(folder, as_of=AS_OF)
    found = _found(audit, "ILR-UKPRN-MISMATCH")
    assert len(found) == len(MONTHS)  # every file, used and superseded
    assert {(f.severity, f.entity) for f in found} == {("high", "provider:P010")}
    assert all("10099999" in f.message and "10012345 in provider.csv" in f.message for f in found)


def test_files_agreeing_with_provider_csv_give_no_ukprn_finding(audit: ProviderAudit) -> None:
    assert _found(audit, "ILR-UKPRN-MISMATCH") == []


# --- provenance and scope ----------------------------------------------------------------


def test_every_ilr_file_is_an_input_with_its_role_and_sha256(
    audit: ProviderAudit, tmp_path: Path
) -> None:
    written = write_provider_outputs(audit, tmp_path, _naming(audit, tmp_path))
    manifest = json.loads(written["manifest.json"].read_text(encoding="utf-8"))
    ilr = [i for i in manifest["inputs"] if i["path"].startswith("ilr/")]
    assert [i["role"] for i in ilr] == [ILR_SUPERSEDED] * 3 + [ILR_USED]
    assert all(len(i["sha256"]) == 64 for i in ilr)
    scope = audit.ilr_scope
    assert scope is not None and len(scope.files_used) == 1 and len(scope.files_superseded) == 3
    assert (scope.reconciled, scope.bootcamps) == (False, 1)


def test_the_period_engine_gives_the_same_audit(folder: Path, audit: ProviderAudit) -> None:
    period = audit_period(folder.parent, as_of=AS_OF)["P010"]
    assert isinstance(period, ProviderAudit)
    assert period.kpi_frame().equals(audit.kpi_frame())
    assert period.exceptions_frame().equals(audit.exceptions_frame())
    assert period.ilr_scope == audit.ilr_scope and period.inputs() == audit.inputs()
