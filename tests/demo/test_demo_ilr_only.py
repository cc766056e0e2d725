"""The demo's ILR-only provider (P007 in the default demo, kpitools.demo.ilr_only): its
learners, interview offers and outcomes come only from its ILR files; its planted
irregularities are all found by the audit `make demo` runs (audit_period), and nothing
else; its offers and outcomes are unverified, never missing."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from kpitools.audit import audit_period
from kpitools.calendar import period_end
from kpitools.demo.ilr_only import DATASHEET_TABLES
from kpitools.ilr.reader import read_ilr
from kpitools.model import ILR_SUPERSEDED, ILR_USED, ProviderAudit

PID = "P007"


@pytest.fixture(scope="module")
def audits(demo_dir) -> dict[str, ProviderAudit]:
    root, truth = demo_dir
    found = {}
    for period in truth.periods:
        audit = audit_period(root / period, as_of=period_end(period))[PID]
        assert isinstance(audit, ProviderAudit), audit
        found[period] = audit
    return found


def test_the_folder_holds_what_the_ilr_lacks_and_every_monthly_file(demo_dir) -> None:
    root, truth = demo_dir
    assert truth.ilr_only_providers == [PID]
    folder = root / "2023-03" / PID
    assert sorted(p.stem for p in folder.glob("*.csv")) == sorted(DATASHEET_TABLES)
    files = sorted((folder / "ilr").glob("*.xml"))
    # every month of 2022-23 so far: August 2022 (bootcamps in the ILR from then) to March
    prepared = [read_ilr(p).header.file_preparation_date.isoformat() for p in files]
    assert prepared == [
        "2022-08-31", "2022-09-30", "2022-10-31", "2022-11-30",
        "2022-12-31", "2023-01-31", "2023-02-28", "2023-03-31",
    ]  # fmt: skip


def test_every_learner_offer_and_outcome_comes_from_the_ilr(audits) -> None:
    provider = audits["2023-03"].provider
    for name in ("learners", "interviews", "outcomes"):
        sources = provider.tables[name]["source"]
        assert len(sources) and sources.str.startswith("ilr/ILR-").all(), name
    assert set(provider.tables["interviews"]["role_type"]) == {"unknown"}
    assert set(provider.tables["outcomes"]["role_type"]) == {"unknown"}


def test_every_kind_of_plant_is_in_the_truth(demo_dir) -> None:
    _, truth = demo_dir
    mine = [e for e in truth.expectations if e.provider_id == PID]
    by_period = {p: Counter(e.rule for e in mine if e.period == p) for p in truth.periods}
    each = {"DUP-ROW", "DUP-KEY", "ILR-R_135", "REQUIRED", "ILR-REENROLLED", "ILR-UKPRN-MISMATCH"}
    for period in truth.periods:
        assert each <= set(by_period[period]), period
    # the withdrawal keyed in error in January's file, undone in February's, the real
    # one (of February) first shown in March's
    assert by_period["2023-02"]["RESTATED-WITHDRAWAL-DATE"] == 1
    assert by_period["2023-03"]["DROP-LATE-REPORT"] == 1


def test_the_audit_finds_exactly_what_the_truth_says(demo_dir, audits) -> None:
    _, truth = demo_dir
    for period, audit in audits.items():
        expected = {
            (e.rule, e.entity)
            for e in truth.expectations + truth.background
            if e.provider_id == PID and e.period == period and e.kind != "validation"
        }
        found = {(f.rule, f.entity) for f in [*audit.findings(), *audit.informational()]}
        assert found == expected, period
        rejected = sorted(
            zip(audit.provider.rejected["rule"], audit.provider.rejected["source"], strict=True)
        )
        assert rejected == sorted((e.rule, e.source) for e in truth.rejected(PID, period))


def test_offers_and_outcomes_from_the_ilr_are_unverified_never_missing(audits) -> None:
    audit = audits["2023-03"]
    for rule_id in ("INT-NONE", "INT-INVALID", "M2-NO-EVIDENCE", "CP-INVALID-OUTCOME"):
        assert not [f for f in audit.findings() if f.rule == rule_id], rule_id
    provider = {r.kpi: r for r in audit.kpi_results if r.bootcamp_id == "ALL"}
    # every interview offer is the ILR's: every completer who wants one is unverified
    assert provider["guaranteed_interview"].unverified > 0
    assert provider["guaranteed_interview"].denominator == 0
    # new_job outcomes (achievement dates) are unverified, new roles and plans count
    assert provider["career_progression"].unverified > 0
    assert provider["career_progression"].numerator > 0
    sample = audit.worklists["sample_unverified"]
    unverified = provider["guaranteed_interview"].unverified
    assert len(sample) >= unverified and set(sample["reason"]) == {"role type unknown (ILR)"}


def test_the_ilr_scope_and_inputs(audits) -> None:
    audit = audits["2023-03"]
    scope = audit.ilr_scope
    assert scope is not None and not scope.reconciled
    assert (len(scope.files_used), len(scope.files_superseded)) == (1, 7)
    roles = Counter(i.role for i in audit.inputs() if i.path.startswith("ilr/"))
    assert roles == {ILR_USED: 1, ILR_SUPERSEDED: 7}
    # the previous month's return (also read from its ILR) is an input too
    assert any(i.path.startswith("2023-02/P007/ilr/") for i in audit.inputs())


@pytest.mark.slow
def test_the_pack_of_the_ilr_only_provider(demo_dir, tmp_path: Path, monkeypatch) -> None:
    # the provider's pack, built as `kpitools packs` builds it, with each section
    # exercised from the ILR: the unverified count beside the figures, the ILR section
    # opening with its scope and listing the planted ILR findings
    from click.testing import CliRunner

    from kpitools.cli import main

    root, _ = demo_dir
    data = tmp_path / "data"
    for period in ("2023-02", "2023-03"):
        shutil.copytree(root / period / PID, data / period / PID)
    result = CliRunner().invoke(
        main, ["packs", str(data / "2023-03"), "--out", str(tmp_path / "out"), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "2023-03" / PID / "audit_pack.html").read_text(encoding="utf-8")
    for text in (
        "<th>unverified</th>",  # a column of the KPI tables
        "(role type unknown, ILR)",
        "ILR files used (the current state of each collection year)",
        "not reconciled: the return&#39;s learners come from the ILR itself",
        "ILR-R_135",
        "ILR-REENROLLED",
        "ILR-UKPRN-MISMATCH",
        "DUP-ROW",
        "DROP-LATE-REPORT",
        "ILR, superseded (read for withdrawal report dates)",
        "<h3>Sample unverified</h3>",
    ):
        assert text in html, text
    index = (tmp_path / "out" / "2023-03" / "index.html").read_text(encoding="utf-8")
    assert "unverified (role type unknown, ILR)" in index
