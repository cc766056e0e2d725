"""The real provider notebook run with papermill and rendered with nbconvert, on the
hand-made audit: sections, embedded charts, no scripts, CSP, escaping, personal data."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from builders import EMAIL, XSS_NAME, pii_strings
from pack_html import embedded_images, read_page, unsafe_findings

from kpitools.model import ProviderAudit
from kpitools.params import PackParams
from kpitools.present.context import save_audit
from kpitools.run.batch import pack_job
from kpitools.run.kernel import WarmKernel
from kpitools.run.runner import PackOutcome, run_pack_job

pytestmark = pytest.mark.slow

SECTIONS = [
    "Findings",
    "Trends",
    "KPI-status",
    "Employer-engagement",
    "Employer-co-funding",
    "Learner-drop-out",
    "New-skills",
    "Guaranteed-interview",
    "Career-progression",
    "Referral-to-alternative-opportunities",
    "Irregularities",
    "ILR-reconciliation",
    "Worklists",
    "Data-quality",
    "Provenance",
]


def _run(
    audit: ProviderAudit, out_dir: Path, kernel: WarmKernel, *, include_pii: bool = False
) -> PackOutcome:
    params = PackParams(
        provider_dir=str(audit.provider.path),
        out_dir=str(out_dir),
        period="2023-03",
        include_pii=include_pii,
        audit_path=str(out_dir / ".audit.pkl"),
    )
    save_audit(audit, params.audit_path)
    return run_pack_job(pack_job(params, "Audit pack P001 2023-03"), kernel)


@pytest.fixture(scope="module")
def kernel() -> WarmKernel:
    """One warm kernel, reset between notebooks, for the module's packs, as a batch runs
    them (a pack in a fresh kernel of its own: test_batch_demo.py)."""
    with WarmKernel() as warm:
        yield warm


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory, kernel: WarmKernel) -> dict[str, str]:
    """The pack without and with include_pii (two notebook runs shared by the tests)."""
    from builders import hand_audit, write_provider

    base = tmp_path_factory.mktemp("pack")
    mp = pytest.MonkeyPatch()
    mp.setenv("KPITOOLS_PSEUDONYM_KEY", "pack-tests-key-0123456789abcdef")
    try:
        audit = hand_audit(write_provider(base / "data" / "2023-03" / "P001"))
        pages = {}
        for name, pii in (("plain", False), ("pii", True)):
            outcome = _run(audit, base / name, kernel, include_pii=pii)
            assert outcome.ok, outcome.error
            pages[name] = Path(outcome.html_path).read_text(encoding="utf-8")
        return pages
    finally:
        mp.undo()


def test_every_section_present_with_charts(packs: dict[str, str]) -> None:
    page = read_page(packs["plain"])
    assert list(page.sections) == SECTIONS
    for chart_section in ("Employer-engagement", "Employer-co-funding", "Learner-drop-out"):
        assert embedded_images(page.sections[chart_section]) >= 1, chart_section
    assert "Exceptions to follow up" in page.sections["Learner-drop-out"]
    assert "Rules applied" in page.sections["Learner-drop-out"]


def test_breach_risk_beside_the_dropout_kpi(packs: dict[str, str]) -> None:
    page = read_page(packs["plain"])
    dropout = read_page(page.sections["Learner-drop-out"]).text
    # builders.py: B1 runs, 1 of 2 withdrawn, projected 61.5 %, P(above 20 %) = 100 %
    assert "Breach risk of running bootcamps" in dropout and "How this is worked out" in dropout
    assert "P(final rate > 20.0 %)" in dropout
    risk = pd.read_html(
        io.StringIO(page.sections["Learner-drop-out"]), match="projected final rate"
    )[0]
    assert risk[
        ["bootcamp", "rate so far", "projected final rate", "P(final rate > 20.0 %)", "at risk"]
    ].values.tolist() == [["B1", "50.0 %", "61.5 %", "100.0 %", "at risk"]]
    # the KPI's figures come first, then the risk, then the cases to follow up
    assert (
        dropout.index("numerator")
        < dropout.index("Breach risk")
        < dropout.index("Exceptions to follow up")
    )
    worklists = read_page(page.sections["Worklists"]).text
    assert "see Learner drop-out" in worklists and "61.5 %" not in worklists


def test_no_code_no_script_and_csp(packs: dict[str, str]) -> None:
    for html in packs.values():
        page = read_page(html)
        assert unsafe_findings(page) == []
        assert "load_context(" not in page.text and "import " not in page.text
        assert len(html) < 1_500_000


def test_hostile_names_are_text(packs: dict[str, str]) -> None:
    page = read_page(packs["plain"])
    assert f"Acme {XSS_NAME} Training" in page.text  # shown as text ...
    assert "<script>alert" not in packs["plain"]  # ... never as markup
    pii = read_page(packs["pii"])
    assert "<img src=x onerror=alert(1)>" not in packs["pii"]
    assert unsafe_findings(pii) == []


def test_personal_data_only_with_include_pii(packs: dict[str, str]) -> None:
    plain = read_page(packs["plain"]).text
    assert [s for s in pii_strings() if s in plain] == []
    assert "pseudonymised" in plain
    with_pii = read_page(packs["pii"]).text
    # the ULN in the duplicate message and the rejected ULN value are shown with include_pii
    assert pii_strings()[3] in with_pii and "12345" in with_pii
    assert EMAIL in with_pii and f"{XSS_NAME} Fothergill" in with_pii


def test_failing_notebook_keeps_executed_notebook_with_error(
    tmp_path: Path, audit: ProviderAudit, kernel: WarmKernel
) -> None:
    out_dir = tmp_path / "broken"
    params = PackParams(
        provider_dir=str(audit.provider.path),
        out_dir=str(out_dir),
        period="2023-03",
        audit_path=str(out_dir / ".audit.pkl"),
    )
    out_dir.mkdir()
    Path(params.audit_path).write_bytes(b"not a pickle")
    outcome = run_pack_job(pack_job(replace(params), "broken"), kernel)
    assert not outcome.ok
    assert "PackError" in outcome.error and "cannot load the saved audit" in outcome.error
    html = Path(outcome.html_path).read_text(encoding="utf-8")
    assert "An Exception was encountered" in html  # papermill's banner
    assert Path(outcome.executed_path).exists()
    assert unsafe_findings(read_page(html)) == []
