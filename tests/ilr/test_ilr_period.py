"""The ILR review of a whole period (every provider's files mapped at once, the
comparisons run over the period's stacked frames) gives each provider exactly what a
review of it alone (a mapping of one) gives: findings, drop-outs, and the error of a
file that cannot be read."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from kpitools import layout
from kpitools.errors import FileLevelError
from kpitools.ilr.mapping import IlrTables, tables_from_ilr_files
from kpitools.ilr.reconcile import IlrReview, ilr_reviews
from kpitools.load import load_provider
from kpitools.model import ILR_DROPOUTS, ProviderReturn
from kpitools.rules import Rules

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ilr"
F2223 = FIXTURES / "ILR-10012345-2223-20230331-120000-01.xml"
AS_OF = date(2023, 3, 31)

# Agrees with F2223 but for L001's completion and L002's withdrawal date; L005 missing.
LEARNERS = """learner_ref,uln,bootcamp_id,learner_type,employer_id,start_date,m1_date,withdrawal_date,withdrawal_reported_date,completion_date
L001,1000000043,SB-0001-01,independent,,2023-01-09,2023-01-16,,,2023-03-09
L002,,SB-0001-01,co-funded,E1,2023-02-06,,2023-02-09,2023-02-20,
L004,,SB-0001-02,self-employed,,2023-03-27,,,,
"""


def _provider(
    period: Path,
    provider_id: str,
    *,
    ilr: str | None,
    learners: str | None = LEARNERS,
    employee_count: int = 40,
) -> Path:
    folder = period / provider_id
    folder.mkdir(parents=True)
    (folder / "provider.csv").write_text(
        f"provider_id,name,ukprn\n{provider_id},Test Provider,10012345\n"
    )
    (folder / "bootcamps.csv").write_text(
        "bootcamp_id,start_date,end_date,price_per_learner\n"
        "SB-0001-01,2023-01-09,2023-04-28,3000\nSB-0001-02,2023-03-24,2023-06-30,3000\n"
    )
    (folder / "employers.csv").write_text(
        f"employer_id,name,employee_count\nE1,Acme,{employee_count}\n"
    )
    if learners is not None:
        (folder / "learners.csv").write_text(learners)
    if ilr is not None:
        (folder / "ilr").mkdir()
        (folder / "ilr" / F2223.name).write_text(ilr, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def period(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five providers sharing learner refs (each provider's L001 is its own): two with
    the same ILR and different datasheets, one without ILR files, one whose ILR file is
    truncated, one whose learners come from the ILR itself (nothing to reconcile)."""
    root = tmp_path_factory.mktemp("ilr_period") / "2023-03"
    text = F2223.read_text(encoding="utf-8")
    _provider(root, "P001", ilr=text)
    _provider(
        root,
        "P002",
        ilr=text,
        learners=LEARNERS.replace("2023-03-09", "2023-03-10"),
        employee_count=400,
    )
    _provider(root, "P003", ilr=None)
    _provider(root, "P004", ilr=text[:-300])
    _provider(root, "P005", ilr=text, learners=None)
    return root


def _returns(period_dir: Path) -> dict[str, ProviderReturn]:
    returns = {}
    for folder in layout.provider_folders(period_dir):
        try:
            returns[folder.name] = load_provider(folder)
        except FileLevelError:
            continue  # P004's learners cannot come from its broken ILR
    return returns


def _alone(returns: dict[str, ProviderReturn], key: str, rules: Rules) -> IlrReview:
    """The review of one provider alone: the one function over a mapping of one."""
    review = ilr_reviews({key: returns[key]}, as_of=AS_OF, rules=rules)[key]
    assert isinstance(review, IlrReview)
    return review


def _same_review(one: IlrReview, other: IlrReview) -> None:
    assert one.findings == other.findings
    assert list(one.worklists) == list(other.worklists)
    for name, frame in one.worklists.items():
        pd.testing.assert_frame_equal(frame, other.worklists[name])


def test_period_reviews_equal_each_providers_own(period: Path) -> None:
    returns = _returns(period)
    assert list(returns) == ["P001", "P002", "P003", "P004", "P005"]
    found = ilr_reviews(returns, as_of=AS_OF, rules=Rules())
    assert list(found) == ["P001", "P002", "P003", "P004", "P005"]
    # P004's file cannot be read: its review is the error that stops it, as alone
    failed = found["P004"]
    assert isinstance(failed, FileLevelError)
    alone = ilr_reviews({"P004": returns["P004"]}, as_of=AS_OF, rules=Rules())["P004"]
    assert isinstance(alone, FileLevelError)
    assert "not a well-formed ILR XML file" in alone.one_line()
    assert failed.one_line() == alone.one_line()
    reviews = {key: review for key, review in found.items() if isinstance(review, IlrReview)}
    for key, review in reviews.items():
        _same_review(review, _alone(returns, key, Rules()))
    # each provider's learners were compared with its own ILR, not the other's
    mismatches = {
        key: sorted(
            (f.rule, f.entity) for f in review.findings if f.rule.startswith("ILR-MISMATCH-")
        )
        for key, review in reviews.items()
    }
    assert mismatches == {
        "P001": [
            ("ILR-MISMATCH-COMPLETION-DATE", "learner:L001"),
            ("ILR-MISMATCH-MISSING-IN-DATASHEET", "learner:L005"),
            ("ILR-MISMATCH-WITHDRAWAL-DATE", "learner:L002"),
        ],
        "P002": [
            ("ILR-MISMATCH-MISSING-IN-DATASHEET", "learner:L005"),
            ("ILR-MISMATCH-SME", "learner:L002"),
            ("ILR-MISMATCH-WITHDRAWAL-DATE", "learner:L002"),
        ],
        "P003": [],
        "P005": [],  # its learners are the ILR's: nothing to reconcile
    }
    assert reviews["P003"] == IlrReview()
    assert len(reviews["P001"].worklists[ILR_DROPOUTS]) == 1


def test_period_tables_equal_each_providers_own(period: Path) -> None:
    paths = {
        folder.name: layout.ilr_files(folder)
        for folder in layout.provider_folders(period)
        if layout.ilr_files(folder)
    }
    together = tables_from_ilr_files(paths, rules=Rules())
    assert list(together) == ["P001", "P002", "P004", "P005"]
    alone = {key: tables_from_ilr_files({key: paths[key]}, rules=Rules())[key] for key in paths}
    failed = together["P004"]
    assert isinstance(failed, FileLevelError) and isinstance(alone["P004"], FileLevelError)
    assert failed.one_line() == alone["P004"].one_line()
    for key in ("P001", "P002", "P005"):
        mapped, own = together[key], alone[key]
        assert isinstance(mapped, IlrTables) and isinstance(own, IlrTables)
        for name in ("learners", "interviews", "outcomes", "learner_facts", "rejected"):
            pd.testing.assert_frame_equal(getattr(mapped, name), getattr(own, name))
        assert (mapped.counts, mapped.inputs, mapped.notes, mapped.lines, mapped.findings) == (
            own.counts,
            own.inputs,
            own.notes,
            own.lines,
            own.findings,
        )


def test_an_empty_period_has_no_reviews() -> None:
    assert ilr_reviews({}, as_of=AS_OF, rules=Rules()) == {}
    assert tables_from_ilr_files({}, rules=Rules()) == {}


def test_period_reviews_equal_each_providers_own_on_the_demo(demo_dir, tmp_path: Path) -> None:
    root, _ = demo_dir
    period_dir = tmp_path / "2023-03"
    shutil.copytree(root / "2023-03", period_dir)
    returns = _returns(period_dir)
    rules = Rules()
    found = ilr_reviews(returns, as_of=AS_OF, rules=rules)
    assert list(found) == list(returns)
    reviews = {key: review for key, review in found.items() if isinstance(review, IlrReview)}
    assert len(reviews) == len(found)
    assert sum(len(r.findings) for r in reviews.values()) > 0
    assert sum(len(r.worklists.get(ILR_DROPOUTS, ())) for r in reviews.values()) > 0
    for key, review in reviews.items():
        _same_review(review, _alone(returns, key, rules))
