"""The demo generator: reproducible files, the data-contract layout, realistic rates,
and a ground truth that names every planted rule at the row where it was planted."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from kpitools.calendar import period_end
from kpitools.cli import main
from kpitools.demo.generator import generate
from kpitools.demo.truth import GroundTruth
from kpitools.demo.world import uln_check_digit
from kpitools.errors import ParameterError
from kpitools.returns.contract import KPIS, TABLES
from kpitools.rules import CATALOGUE

IRREGULARITIES = {
    "FUTURE-DATED",
    "DUP-ROW",
    "DUP-ULN-OVERLAP",
    "DATE-ORDER",
    "M2-NO-EVIDENCE",
    "EMP-UNKNOWN",
    "RESTATED-DISAPPEARED",
    "RESTATED-WITHDRAWAL-TO-COMPLETION",
    "RESTATED-START-DATE",
    "RESTATED-M1-DATE",
    "RESTATED-WITHDRAWAL-DATE",
    "RESTATED-PAYMENT-CHANGED",
    "RESTATED-PAYMENT-REMOVED",
}
REJECTIONS = {"BAD-DATE", "BAD-ULN", "REF-BOOTCAMP", "REQUIRED", "BAD-CODE"}


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _read(root: Path, period: str, provider: str, table: str) -> pd.DataFrame:
    return pd.read_csv(
        root / period / provider / f"{table}.csv",
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
    )


def _regular(truth: GroundTruth) -> list[str]:
    """The providers with a learners table (all but the ILR-only one)."""
    return [p for p in truth.providers if p not in truth.ilr_only_providers]


def _day(text: str) -> date:
    pattern = "%d/%m/%Y" if "/" in text else "%Y-%m-%d"
    return datetime.strptime(text, pattern).date()


def test_same_seed_gives_byte_identical_files(demo_dir, tmp_path):
    root, _ = demo_dir
    generate(tmp_path)
    first, again = _files(root), _files(tmp_path)
    assert list(first) == list(again)
    # 6 providers' every table, the ILR-only provider's datasheet tables (issue 23)
    assert sum(name.endswith(".csv") for name in first) == 3 * (6 * len(TABLES) + 7)
    assert "ground_truth.json" in first
    assert [name for name in first if first[name] != again[name]] == []


def test_different_seed_gives_different_data(demo_dir, tmp_path):
    root, truth = demo_dir
    other = generate(tmp_path, seed=2024)
    for provider in _regular(truth):
        name = f"2023-03/{provider}/learners.csv"
        assert (root / name).read_bytes() != (tmp_path / name).read_bytes()
    assert other.to_json() != truth.to_json()


def test_layout_and_ground_truth_file(demo_dir):
    root, truth = demo_dir
    assert truth.periods == ["2023-01", "2023-02", "2023-03"]
    assert truth.providers == [f"P00{i}" for i in range(1, 8)]
    assert truth.ilr_only_providers == ["P007"]  # one more: its learners from its ILR
    for period in truth.periods:
        for provider in truth.providers:
            names = sorted(p.name for p in (root / period / provider).glob("*.csv"))
            wanted = set(TABLES) - (
                {"learners", "interviews", "outcomes"} if provider == "P007" else set()
            )
            assert names == sorted(f"{t}.csv" for t in wanted)
    assert GroundTruth.read(root / "ground_truth.json") == truth


def test_ground_truth_lists_every_planted_rule(demo_dir):
    _, truth = demo_dir
    kpi_rules = {r.id for r in CATALOGUE.values() if r.kpi in KPIS}
    assert len(kpi_rules) == 20
    assert kpi_rules | IRREGULARITIES | REJECTIONS <= truth.rules()
    assert all(
        e.rule in CATALOGUE and e.kind == CATALOGUE[e.rule].kpi
        for e in truth.expectations + truth.background
    )
    kinds = {e.plant for e in truth.expectations if e.rule == "DATE-ORDER"}
    assert kinds == {
        "DATE-ORDER-m1-before-start",
        "DATE-ORDER-completion-before-m1",
        "DATE-ORDER-withdrawn-and-completed",
        "DATE-ORDER-outcome-before-start",
    }
    across = {e.provider_id for e in truth.expectations if e.plant == "DUP-ULN-OVERLAP-across"}
    assert len(across) == 2
    assert {"INT-INVALID-full-apprenticeship", "INT-INVALID-no-skills-match"} <= {
        e.plant for e in truth.expectations
    }
    # restatements show in the month they happen, not before
    restated = {e.rule: e.period for e in truth.expectations if e.rule.startswith("RESTATED-")}
    assert restated["RESTATED-DISAPPEARED"] == "2023-02"
    assert restated["RESTATED-M1-DATE"] == "2023-03"


def test_hostile_text_is_recorded_and_written_verbatim(demo_dir):
    root, truth = demo_dir
    values = {h.value for h in truth.hostile}
    assert {
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '=HYPERLINK("http://example.invalid","x")',
        "Ba$$in",
    } <= values
    assert {v[0] for v in values} >= {"+", "-", "@"}
    for h in truth.hostile:
        frame = _read(root, h.period, h.provider_id, h.table)
        assert frame.at[h.row - 2, h.column] == h.value


def test_clean_provider_has_nothing_planted(demo_dir):
    _, truth = demo_dir
    assert truth.clean_providers == ["P006"]
    touched = {e.provider_id for e in truth.expectations + truth.background}
    touched |= {h.provider_id for h in truth.hostile}
    assert touched == {"P001", "P002", "P003", "P004", "P005", "P007"}


def test_every_expectation_points_at_its_row(demo_dir):
    root, truth = demo_dir
    for e in (e for e in truth.expectations if e.table in TABLES):
        kind, _, name = e.entity.partition(":")
        for period, row in ((e.period, e.row), (_previous(truth, e.period), e.previous_row)):
            if row is None:
                continue
            found = _read(root, period, e.provider_id, e.table).iloc[row - 2]
            column = {
                "learner": "learner_ref",
                "employer": "employer_id",
                "bootcamp": "bootcamp_id",
            }[kind]
            assert found[column] == name, e
            if e.column:
                assert found[e.column] == e.value, e
        assert e.source == (f"{e.table}.csv:{e.row}" if e.row else "")
    gone = next(e for e in truth.expectations if e.rule == "RESTATED-DISAPPEARED")
    assert gone.row is None and gone.previous_row is not None


def _previous(truth: GroundTruth, period: str) -> str:
    index = truth.periods.index(period)
    return truth.periods[index - 1] if index else period


def test_learner_numbers_and_rates_are_realistic(demo_dir):
    root, truth = demo_dir
    learners = pd.concat(
        [_read(root, "2023-03", p, "learners").assign(provider=p) for p in _regular(truth)]
    )
    assert 1450 <= len(learners) <= 1550
    stats = truth.stats
    assert 0.55 <= stats["completion_rate"] <= 0.75
    assert 0.05 <= stats["co_funded_rate"] <= 0.15
    assert 0.28 <= stats["positive_outcome_rate_closed_windows"] <= 0.48
    # the same rates read back from the files, for bootcamps that ended long ago
    ended = pd.concat([_read(root, "2023-03", p, "bootcamps") for p in _regular(truth)])
    ended = set(ended.loc[ended["end_date"].map(_day) < date(2022, 12, 1), "bootcamp_id"])
    old = learners[learners["bootcamp_id"].isin(ended)]
    assert 0.55 <= (old["completion_date"] != "").mean() <= 0.75
    assert 0.05 <= (learners["learner_type"] == "co-funded").mean() <= 0.15
    assert 0 < (learners["learner_type"] == "self-employed").mean() < 0.08


def test_every_uln_passes_the_check_digit_except_the_planted_one(demo_dir):
    root, truth = demo_dir
    for period in truth.periods:
        planted = {
            (e.provider_id, e.row)
            for e in truth.expectations
            if e.rule == "BAD-ULN" and e.period == period
        }
        failing = set()
        for provider in _regular(truth):
            frame = _read(root, period, provider, "learners")
            for row, uln in enumerate(frame["uln"], start=2):
                if uln_check_digit(uln[:9]) != int(uln[9]):
                    failing.add((provider, row))
        assert failing == planted and len(planted) == 1


def test_every_csv_reads_as_text_with_the_contract_header(demo_dir):
    root, truth = demo_dir
    for path in sorted(root.rglob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        assert tuple(frame.columns) == TABLES[path.stem].column_names, path
    refs = _read(root, "2023-03", "P006", "learners")["learner_ref"]
    assert refs.str.fullmatch(r"0\d{5}").all()  # leading zeros kept as text


def test_returns_show_only_what_happened_by_the_month_end(demo_dir):
    root, truth = demo_dir
    future = {
        (e.period, e.provider_id, e.row) for e in truth.expectations if e.rule == "FUTURE-DATED"
    }
    for period in truth.periods:
        as_of = period_end(period)
        for provider in truth.providers:
            for table in TABLES.values():
                if table.name == "bootcamps":
                    continue  # planned dates
                if not (root / period / provider / f"{table.name}.csv").is_file():
                    continue  # the ILR-only provider's learners, offers and outcomes
                frame = _read(root, period, provider, table.name)
                for column in (c.name for c in table.columns if c.kind == "date"):
                    for row, text in enumerate(frame[column], start=2):
                        if text and text != "31/02/2023" and _day(text) > as_of:
                            assert (period, provider, row) in future, (period, provider, column)
    assert len(future) == 3
    counts = [
        (_read(root, p, "P006", "learners")["completion_date"] != "").sum() for p in truth.periods
    ]
    assert counts[0] < counts[-1]  # the same learners complete as the months go by


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"periods": ["2023-01", "2023-03"]}, "consecutive"),
        ({"periods": ["2023-13"]}, "YYYY-MM"),
        ({"providers": 1}, "providers"),
        ({"learners": 500}, "learners"),
        ({"fmt": "json"}, "format"),
        ({"providers": 2, "learners": 200}, "too few learners"),
    ],
)
def test_arguments_it_cannot_honour_are_refused(tmp_path, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        generate(tmp_path, **kwargs)


def test_cli_writes_the_demo_and_refuses_bad_periods(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        main, ["demo", "--out", str(tmp_path), "--periods", "2023-02,2023-03", "--seed", "7"]
    )
    assert result.exit_code == 0, result.output
    assert "7 providers x 2 periods" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2023-02", "2023-03", "ground_truth.json"]
    bad = runner.invoke(main, ["demo", "--out", str(tmp_path), "--periods", "2023-01,2023-05"])
    assert bad.exit_code == 2 and "consecutive" in bad.output


def test_fewer_providers_still_hold_every_plant(small_demo_dir):
    # 3 providers (the session's small demo, also fewer learners and two months): plant
    # sets of P001-P005 share P001 and P002, P003 stays clean
    truth = GroundTruth.read(small_demo_dir / "ground_truth.json")
    assert truth.providers == ["P001", "P002", "P003", "P004"]  # P004: the ILR-only one
    assert truth.clean_providers == ["P003"] and truth.ilr_only_providers == ["P004"]
    assert {e.provider_id for e in truth.expectations} == {"P001", "P002", "P004"}
    kpi_rules = {r.id for r in CATALOGUE.values() if r.kpi in KPIS}
    assert kpi_rules | IRREGULARITIES | REJECTIONS <= truth.rules()


def test_the_ilr_only_provider_can_be_left_out():
    from kpitools.demo.generator import build

    kept, left = build(periods=["2023-03"]), build(periods=["2023-03"], ilr_only=False)
    assert kept.truth.ilr_only_providers == ["P007"] and left.truth.ilr_only_providers == []
    assert left.truth.providers == [f"P00{i}" for i in range(1, 7)] and left.ilr_only is None
    # the other providers are the same either way: the ILR-only one has a world of its own
    assert left.returns["2023-03"] == kept.returns["2023-03"]
    assert [e for e in kept.truth.expectations if e.provider_id != "P007"] == (
        left.truth.expectations
    )
