"""`kpitools packs` on returns shaped like the ones providers really send (issue 10):
no provider takes the batch down, absent is not empty, spreadsheet damage is named.

The period: a small demo (3 providers, 2023-02 and 2023-03), then in 2023-03
- P001 without cofunding_payments.csv and employer_contacts.csv (left out);
- P002 whose learner refs lost their leading zeros in every table (Excel);
- P003 clean;
- P004 a new provider whose learners.csv has a header only;
- P005 a new provider whose every ULN Excel showed in scientific notation.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pack_html import read_page

from kpitools.cli import main
from kpitools.demo.truth import GroundTruth
from kpitools.returns.contract import TABLES
from kpitools.run.index import SUMMARY_FILE
from kpitools.run.runner import PackOutcome

pytestmark = pytest.mark.slow

KEY = "pack-tests-key-0123456789abcdef"  # the same as conftest.TEST_KEY


@pytest.fixture(scope="module")
def key_env() -> None:
    mp = pytest.MonkeyPatch()
    mp.setenv("KPITOOLS_PSEUDONYM_KEY", KEY)
    yield
    mp.undo()


def _rewrite(path: Path, change) -> None:  # noqa: ANN001 - a row -> row function
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        header = list(reader.fieldnames or [])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(change(dict(row)) for row in rows)


def _new_provider(period_dir: Path, source: str, provider_id: str) -> Path:
    folder = period_dir / provider_id
    shutil.copytree(period_dir / source, folder)
    _rewrite(folder / "provider.csv", lambda row: {**row, "provider_id": provider_id})
    return folder


def _header_only(table: Path) -> None:
    table.write_text(table.read_text(encoding="utf-8-sig").splitlines()[0] + "\n", encoding="utf-8")


def _page(html_path: Path) -> str:
    return read_page(html_path.read_text(encoding="utf-8")).text


def _strip_zeros(row: dict) -> dict:
    if row.get("learner_ref", "").isdigit():
        row["learner_ref"] = row["learner_ref"].lstrip("0") or "0"
    return row


@pytest.fixture(scope="module")
def base(small_demo_dir: Path) -> Path:
    """The small demo, undamaged (read-only): DATA with 2023-02 and 2023-03."""
    return small_demo_dir


@pytest.fixture(scope="module")
def damaged(base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trust_damaged")
    for period in ("2023-02", "2023-03"):
        shutil.copytree(base / period, root / period)
        # the ILR-only provider (P004 of the small demo) makes room for this test's own
        for provider_id in GroundTruth.read(base / "ground_truth.json").ilr_only_providers:
            shutil.rmtree(root / period / provider_id)
    march = root / "2023-03"
    for name in ("cofunding_payments.csv", "employer_contacts.csv"):
        (march / "P001" / name).unlink()
    for table in (march / "P002").glob("*.csv"):
        _rewrite(table, _strip_zeros)
    new = _new_provider(march, "P003", "P004")
    _header_only(new / "learners.csv")
    excel = _new_provider(march, "P003", "P005")
    _rewrite(
        excel / "learners.csv",
        lambda row: {**row, "uln": f"{float(row['uln']):.5E}" if row["uln"] else ""},
    )
    return march


def _rules(out_dir: Path) -> list[str]:
    with (out_dir / "exceptions.csv").open(encoding="utf-8") as handle:
        return [row["rule"] for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def run(
    damaged: Path, tmp_path_factory: pytest.TempPathFactory, key_env: None
) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("trust_out")
    result = CliRunner().invoke(
        main, ["packs", str(damaged), "--out", str(out), "--workers", "2", "--no-progress"]
    )
    return out / "2023-03", result


def test_every_provider_gets_a_pack_and_the_batch_succeeds(run: tuple[Path, object]) -> None:
    period_out, result = run
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "5 packs built, 0 failed" in result.output
    for provider_id in ("P001", "P002", "P003", "P004", "P005"):
        assert (period_out / provider_id / "audit_pack.html").is_file(), provider_id
        assert not (period_out / provider_id / "error.txt").exists()
    assert (period_out / "index.html").is_file()


def test_left_out_files_are_not_findings(run: tuple[Path, object]) -> None:
    period_out, _ = run
    rules = _rules(period_out / "P001")
    assert "COF-NO-EVIDENCE" not in rules and "EE-UNREACHABLE-3" not in rules
    with (period_out / "P001" / "kpi_results.csv").open(encoding="utf-8") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["kpi"] in ("employer_cofunding", "employer_engagement")
        ]
    assert rows and {r["status"] for r in rows} == {"no_data"}
    page = _page(period_out / "P001" / "audit_pack.html")
    assert "cofunding_payments.csv not supplied" in page
    assert "employer_contacts.csv not supplied" in page


def test_refs_that_lost_their_zeros_are_one_finding(run: tuple[Path, object]) -> None:
    period_out, _ = run
    rules = _rules(period_out / "P002")
    assert rules.count("REF-FORMAT-CHANGED") == 1
    assert sum(rule.startswith("RESTATED-") for rule in rules) <= 5


def test_no_learners_yet_and_every_learner_rejected_say_so(run: tuple[Path, object]) -> None:
    period_out, _ = run
    assert "No learners yet" in _page(period_out / "P004" / "audit_pack.html")
    page = _page(period_out / "P005" / "audit_pack.html")
    assert "Every learner row was rejected" in page
    assert "Excel converted this ULN to a number in scientific notation" in page
    manifest = json.loads((period_out / "P005" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["row_counts"]["learners"]["accepted"] == 0
    assert manifest["notes"][0].startswith("Every learner row was rejected")


# --- property: whatever is removed, emptied or damaged, the batch holds ------------------

DAMAGE = ("remove", "empty", "garble", "excel")


def _damage(table: Path, how: str) -> None:
    if how == "remove":
        table.unlink()
    elif how == "empty":
        _header_only(table)
    elif how == "garble":  # a file cut short in the middle of a row, with a stray quote
        text = table.read_text(encoding="utf-8")
        table.write_text(text[: len(text) // 2] + '"\n', encoding="utf-8")
    else:  # what Excel does to ids and dates when the file is re-saved

        def excel(row: dict) -> dict:
            row = _strip_zeros(row)
            for column, value in row.items():
                if column == "uln" and value:
                    row[column] = f"{float(value):.5E}"
                elif column.endswith("_date") and value:
                    row[column] = "44927"
            return row

        _rewrite(table, excel)


def _fake_pack(job, kernel=None):  # noqa: ANN001, ANN202, ARG001 - stands in for papermill (warm kernel or not): the test is the batch
    Path(job.html_path).parent.mkdir(parents=True, exist_ok=True)
    Path(job.html_path).write_text("<html></html>", encoding="utf-8")
    return PackOutcome(job.provider_id, True, job.html_path, None)


damages = st.lists(
    st.tuples(
        st.sampled_from(("P001", "P002", "P003")),
        st.sampled_from(sorted(TABLES)),
        st.sampled_from(DAMAGE),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(damage=damages)
def test_the_batch_never_breaks_on_damaged_tables(
    damage: list[tuple[str, str, str]],
    base: Path,
    tmp_path_factory: pytest.TempPathFactory,
    key_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kpitools.run import batch

    root = tmp_path_factory.mktemp("prop")
    for period in ("2023-02", "2023-03"):
        shutil.copytree(base / period, root / period)
    for provider_id, table, how in damage:
        path = root / "2023-03" / provider_id / f"{table}.csv"
        if path.exists():
            _damage(path, how)
    monkeypatch.setattr(batch, "run_pack_job", _fake_pack)
    result = CliRunner().invoke(
        main,
        [
            "packs",
            str(root / "2023-03"),
            "--out",
            str(root / "out"),
            "--workers",
            "1",
            "--no-progress",
        ],
    )
    # an exception escaping the command (what prints a traceback) is not a SystemExit
    assert isinstance(result.exception, SystemExit | None), (damage, result.exception)
    assert result.exit_code in (0, 1), (damage, result.output)
    assert "Traceback" not in result.output
    period_out = root / "out" / "2023-03"
    summary = json.loads((period_out / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert summary
    for provider_id in ("P001", "P002", "P003"):
        folder = period_out / provider_id
        if (folder / "error.txt").exists():  # a failure: one plain line first
            assert result.exit_code == 1
            assert (folder / "error.txt").read_text(encoding="utf-8").splitlines()[0]
            continue
        counts = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["row_counts"]
        for table, count in counts.items():
            assert count["read"] == count["accepted"] + count["rejected"], (
                provider_id,
                table,
                damage,
            )
