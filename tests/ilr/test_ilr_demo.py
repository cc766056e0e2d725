"""On the demo data: ILR files for some providers each month; every planted ILR
disagreement is found by the audit's reconciliation, nothing else, none on the clean
provider."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from kpitools.calendar import period_end
from kpitools.demo.ilr_demo import write_demo_ilr
from kpitools.demo.truth import Expectation
from kpitools.ilr.reader import FILE_NAME, read_ilr
from kpitools.ilr.reconcile import IlrReview, ilr_reviews
from kpitools.load import load_provider
from kpitools.rules import Rules

ILR_RULES = {
    "ILR-MISMATCH-MISSING-IN-ILR",
    "ILR-MISMATCH-MISSING-IN-DATASHEET",
    "ILR-MISMATCH-START-DATE",
    "ILR-MISMATCH-WITHDRAWN",
    "ILR-MISMATCH-WITHDRAWAL-DATE",
    "ILR-MISMATCH-COMPLETION-DATE",
    "ILR-MISMATCH-COFUNDING",
    "ILR-MISMATCH-SME",
}


@pytest.fixture(scope="module")
def demo(demo_dir, tmp_path_factory: pytest.TempPathFactory):
    # the ILR files written again by write_demo_ilr over a copy of the shared demo: the
    # same files, and the planted disagreements it returns, as the generator's
    shared, truth = demo_dir
    root = tmp_path_factory.mktemp("ilr_demo")
    shutil.copytree(shared, root, dirs_exist_ok=True)
    regular = [p for p in truth.providers if p not in truth.ilr_only_providers]
    planted = write_demo_ilr(root, truth.periods, regular, truth.clean_providers, truth.seed)
    found = {}
    for period in truth.periods:
        returns = {
            provider_id: load_provider(root / period / provider_id)
            for provider_id in truth.providers
            if (root / period / provider_id / "ilr").is_dir()
        }
        for provider_id, review in ilr_reviews(
            returns, as_of=period_end(period), rules=Rules()
        ).items():
            assert isinstance(review, IlrReview)
            found[(period, provider_id)] = review.findings
    return root, truth, planted, found


def _ilr_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("ilr/*"))}


def test_the_generator_wrote_the_same_files_and_truth(demo, demo_dir) -> None:
    root, truth, planted, _ = demo
    files = _ilr_files(root)
    assert files and files == _ilr_files(demo_dir[0])
    assert sorted(map(_key, planted)) == sorted(
        _key(e) for e in truth.expectations if e.rule in ILR_RULES
    )


def test_some_providers_send_monthly_ilr_files(demo) -> None:
    root, truth, _, found = demo
    last = truth.periods[-1]
    providers = sorted({p for (_, p) in found} - set(truth.ilr_only_providers))
    assert len(providers) >= 2 and set(truth.clean_providers) <= set(providers)
    files = sorted((root / last / providers[0] / "ilr").glob("*.xml"))
    assert len(files) == len(truth.periods)  # one file per month so far
    for path, period in zip(files, truth.periods, strict=True):
        assert FILE_NAME.match(path.name)
        assert read_ilr(path).header.file_preparation_date == period_end(period)


def test_every_rule_planted_in_every_period(demo) -> None:
    _, truth, planted, _ = demo
    for period in truth.periods:
        rules = Counter(e.rule for e in planted if e.period == period)
        assert set(rules) == ILR_RULES
    assert not [e for e in planted if e.provider_id in truth.clean_providers]


def _key(e: Expectation) -> tuple[str, str, str, str]:
    return (e.period, e.provider_id, e.rule, e.entity)


def test_every_planted_disagreement_is_found_and_nothing_else(demo) -> None:
    # with the ILR-only provider's planted ILR findings (kpitools.demo.ilr_only): its
    # learner twice in a file is DUP-ROW of the checks, from the rejected rows
    _, truth, planted, found = demo
    ilr_only = [
        e
        for e in truth.expectations
        if e.provider_id in truth.ilr_only_providers and e.rule.startswith("ILR-")
    ]
    assert {e.rule for e in ilr_only} == {"ILR-R_135", "ILR-REENROLLED", "ILR-UKPRN-MISMATCH"}
    expected = {_key(e) for e in [*planted, *ilr_only]}
    reported = {
        (period, provider_id, f.rule, f.entity)
        for (period, provider_id), findings in found.items()
        for f in findings
    }
    assert expected - reported == set()
    assert reported - expected == set()


def test_clean_provider_has_no_ilr_finding(demo) -> None:
    _, truth, _, found = demo
    for period in truth.periods:
        for provider_id in truth.clean_providers:
            assert found[(period, provider_id)] == []


def test_findings_cite_the_datasheet_row_of_the_truth(demo) -> None:
    _, _, planted, found = demo
    for e in planted:
        if e.row is None:
            continue
        hits = [
            f for f in found[(e.period, e.provider_id)] if f.rule == e.rule and f.entity == e.entity
        ]
        assert hits and hits[0].source.split("; ")[0] == e.source
