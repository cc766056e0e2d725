"""One provider rebuilt alone (``kpitools pack``) into the OUT of a batch: its
cross-provider checks run when the period folder is given (the batch's params.yaml
gives it; ``--period-dir`` too), and the period's index shows the new build's row and
says so, or is marked out of date on a page of its own when it cannot be refreshed.

The default demo's P003 and P004 of 2023-03: P003's learner at learners.csv:30 has the
ULN of P004's at learners.csv:13 on overlapping dates (DUP-ULN-OVERLAP in both), each
finding naming the other learner (``related``) in the register, the store and the case.
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from demo_pii import personal_data, table_rows
from openpyxl import load_workbook

from kpitools.cli import main
from kpitools.privacy.pseudonym import Pseudonymiser
from kpitools.store.connection import read_store

pytestmark = pytest.mark.slow

DUP = "DUP-ULN-OVERLAP"
KEY = "rebuild-tests-key-0123456789abcdef"


@pytest.fixture(scope="module")
def batch(
    demo_dir: tuple[Path, object], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """DATA/2023-03 with P003 and P004, built by `kpitools packs` into OUT."""
    base = tmp_path_factory.mktemp("rebuild")
    for provider in ("P003", "P004"):
        shutil.copytree(demo_dir[0] / "2023-03" / provider, base / "data" / "2023-03" / provider)
    mp = pytest.MonkeyPatch()
    mp.setenv("KPITOOLS_PSEUDONYM_KEY", KEY)
    try:
        built = CliRunner().invoke(
            main,
            [
                "packs",
                str(base / "data" / "2023-03"),
                "--out",
                str(base / "out"),
                "--workers",
                "1",
                "--no-progress",
            ],
        )
    finally:
        mp.undo()
    assert built.exit_code == 0, built.output
    return base / "data" / "2023-03", base / "out" / "2023-03"


def _pack(*arguments: str) -> object:
    mp = pytest.MonkeyPatch()
    mp.setenv("KPITOOLS_PSEUDONYM_KEY", KEY)
    try:
        return CliRunner().invoke(main, ["pack", *arguments])
    finally:
        mp.undo()


def _dups(period_out: Path, provider: str) -> int:
    text = (period_out / provider / "exceptions.csv").read_text(encoding="utf-8")
    return text.count(DUP)


def _summary(period_out: Path) -> dict:
    return json.loads((period_out / ".portfolio.json").read_text(encoding="utf-8"))


def _related(period_out: Path, provider: str, sheet: str = "Exceptions") -> list[object]:
    """The related learner of each DUP-ULN-OVERLAP row of a provider's register."""
    rows = list(
        load_workbook(period_out / provider / "exceptions.xlsx", read_only=True)[sheet].values
    )
    found = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    return [row["related"] for row in found if row["rule"] == DUP]


def _other(period_dir: Path, provider: str, line: int) -> tuple[str, str]:
    """The ref of a provider's learner at ``learners.csv:<line>`` and its pseudonym."""
    ref = table_rows(period_dir / provider, "learners")[line - 2]["learner_ref"]
    return ref, Pseudonymiser(KEY.encode(), provider).learner(ref)


def test_each_side_names_the_other_learner_in_the_register_store_and_case(
    batch: tuple[Path, Path],
) -> None:
    # first in this file: the test below rebuilds P003 without its overlap
    period_dir, period_out = batch
    theirs, their_pseudonym = _other(period_dir, "P004", 13)
    mine, my_pseudonym = _other(period_dir, "P003", 30)
    # the register: a working file, so the ref and the other provider's pseudonym, as
    # exceptions.csv names it
    assert _related(period_out, "P003") == [f"P004/learner:{theirs} ({their_pseudonym})"]
    assert _related(period_out, "P004") == [f"P003/learner:{mine} ({my_pseudonym})"]
    with (period_out / "P003" / "exceptions.csv").open(encoding="utf-8") as handle:
        written = [r["related"] for r in csv.DictReader(handle) if r["rule"] == DUP]
    assert written == _related(period_out, "P003")
    # no name, ULN or contact detail of either return in either register
    personal = personal_data(period_dir / "P003") + personal_data(period_dir / "P004")
    for provider in ("P003", "P004"):
        with zipfile.ZipFile(period_out / provider / "exceptions.xlsx") as book:
            text = " ".join(book.read(n).decode("utf-8") for n in book.namelist())
        assert [v for v in personal if v in text] == []
    # the store: as found, and each finding joins the other side's
    with read_store(period_out.parent) as con:
        pairs = con.execute(
            """
            SELECT a.provider_id, a.related, b.provider_id FROM findings a
            LEFT JOIN findings b ON b.run_id = a.run_id AND b.rule = a.rule
                AND b.provider_id || '/' || b.entity = a.related
            WHERE a.rule = ? ORDER BY a.provider_id
            """,
            [DUP],
        ).fetchall()
    assert pairs == [
        ("P003", f"P004/learner:{theirs}", "P004"),
        ("P004", f"P003/learner:{mine}", "P003"),
    ]
    # the case of P004's learner: its finding and P003's, each naming the other
    # learner by its provider and pseudonym, never a ref
    case = CliRunner().invoke(
        main,
        ["case", str(period_out.parent), "2023-03", "P004", "--learner", theirs],
        env={"KPITOOLS_PSEUDONYM_KEY": KEY},
    )
    assert case.exit_code == 0, case.output
    page = Path(case.output.strip().splitlines()[-1]).read_text(encoding="utf-8")
    assert f"P003/learner:{my_pseudonym}" in page and f"P004/learner:{their_pseudonym}" in page
    assert f"learner:{mine}" not in page and f"learner:{theirs}" not in page
    assert [v for v in personal if v in page] == []


def test_rebuilt_alone_keeps_or_says_it_lost_the_cross_provider_checks(
    batch: tuple[Path, Path], tmp_path: Path
) -> None:
    period_dir, period_out = batch
    assert _dups(period_out, "P003") == 1 and _dups(period_out, "P004") == 1
    written = (period_out / "P003" / "params.yaml").read_text(encoding="utf-8")
    assert f"period_dir: {period_dir.resolve()}" in written.splitlines()
    # 1. the batch's params.yaml as it is: the checks run against P004, the row refreshed
    again = _pack(str(period_out / "P003" / "params.yaml"))
    assert again.exit_code == 0, again.output
    assert (
        f"note: cross-provider checks run against 1 other provider(s) of {period_dir.resolve()}"
        in again.stderr
    )
    assert f"index {period_out / 'index.html'}: the row of P003 refreshed" in again.stderr
    assert _dups(period_out, "P003") == 1
    summary = _summary(period_out)
    assert [(r["provider_id"], r["cross_provider"]) for r in summary["rebuilt"]] == [("P003", True)]
    # one ULN at both (planted), and one person under two ULNs at both (planted)
    assert sorted((d["provider_id"], d["rule"]) for d in summary["duplicates"]) == [
        ("P003", "DUP-PERSON-OVERLAP"),
        ("P003", "DUP-ULN-OVERLAP"),
        ("P004", "DUP-PERSON-OVERLAP"),
        ("P004", "DUP-ULN-OVERLAP"),
    ]
    index = (period_out / "index.html").read_text(encoding="utf-8")
    assert "Rebuilt alone by kpitools pack since this run" in index
    assert "cross-provider checks run" in index
    # 2. without period_dir: the checks are not run, and both the terminal and the index
    # say so; the index's duplicates of P003 go with its old build (P004's stay)
    alone = tmp_path / "P003.yaml"
    alone.write_text(written.replace(f"period_dir: {period_dir.resolve()}", "period_dir: ''"))
    lost = _pack(str(alone))
    assert lost.exit_code == 0, lost.output
    assert "note: cross-provider checks (one ULN at two providers" in lost.stderr
    assert _dups(period_out, "P003") == 0
    # the overlap no longer found is resolved, its related learner carried as found and
    # named again as the register names it
    theirs, their_pseudonym = _other(period_dir, "P004", 13)
    assert _related(period_out, "P003", "Resolved") == [
        f"P004/learner:{theirs} ({their_pseudonym})"
    ]
    summary = _summary(period_out)
    assert [(r["provider_id"], r["cross_provider"]) for r in summary["rebuilt"]] == [
        ("P003", False)
    ]
    assert sorted(d["provider_id"] for d in summary["duplicates"]) == ["P004", "P004"]
    row = next(p for p in summary["providers"] if p["provider_id"] == "P003")
    assert row["pack"] == "P003/audit_pack.html" and row["status"] == "OK"
    assert "without the cross-provider checks" in (period_out / "index.html").read_text()
    # 3. --period-dir gives them back; another month's folder is refused in one line
    back = _pack(str(alone), "--period-dir", str(period_dir))
    assert back.exit_code == 0, back.output
    assert _dups(period_out, "P003") == 1
    assert [r["cross_provider"] for r in _summary(period_out)["rebuilt"]] == [True]
    wrong = _pack(str(alone), "--period-dir", str(period_dir.parent / "2023-02"))
    assert wrong.exit_code == 2 and wrong.output.count("\n") == 1
    assert "is the folder of 2023-02, but the return in provider_dir" in wrong.output


def test_an_index_that_cannot_be_refreshed_is_marked_out_of_date(
    batch: tuple[Path, Path],
) -> None:
    _, period_out = batch
    data = period_out / ".portfolio.json"
    kept = data.read_bytes()
    data.unlink()  # an index without its data
    try:
        rebuilt = _pack(str(period_out / "P004" / "params.yaml"))
    finally:
        data.write_bytes(kept)  # for the other test, whichever runs first
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "marked out of date: the index's data (.portfolio.json) is missing" in rebuilt.stderr
    page = (period_out / "index.html").read_text(encoding="utf-8")
    assert "<title>Index of 2023-03 out of date</title>" in page
    assert "P004 was rebuilt alone by kpitools pack after this index was written" in page
    assert "Run kpitools packs for 2023-03 again" in page


def test_the_notebook_runs_the_cross_provider_checks_given_the_period_folder(
    batch: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the notebook's first cell on its own (no saved audit), as JupyterLab runs it
    from kpitools.audit import SINGLE_PROVIDER_NOTE
    from kpitools.present.context import load_context

    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", KEY)
    period_dir, _ = batch
    parameters = {"provider_dir": str(period_dir / "P003"), "out_dir": str(tmp_path / "P003")}
    with_period = load_context(**parameters, period_dir=str(period_dir)).audit
    assert with_period.period == "2023-03"  # period blank: from the folder
    assert [f.rule for f in with_period.findings()].count(DUP) == 1
    alone = load_context(**parameters, period_dir="").audit
    assert DUP not in [f.rule for f in alone.findings()]
    assert SINGLE_PROVIDER_NOTE in alone.notes
