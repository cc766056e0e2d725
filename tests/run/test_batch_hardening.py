"""`kpitools packs` against hostile folders, keys, outputs and reruns (issue 14 items 3,
4, 8-11; issue 10 item 7). One real batch on a tiny period is shared by the tests that
need its results; everything refused up front is checked without running a notebook."""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

import pytest
from builders import write_provider
from click.testing import CliRunner
from openpyxl import load_workbook
from pack_html import read_page

from kpitools.cli import main
from kpitools.io.workspace import LOCK_FILE, run_lock

PERIOD = "2023-03"
MARKUP = "<img src=x onerror=alert(1)>"  # a folder name cannot hold "/"
BEL_NAME = "Acme\x07 Bell\x1b[2J "  # put before the employer's name


@pytest.fixture(scope="module")
def rerun(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """A period rerun into an OUT holding an earlier run's folders.

    DATA/2023-03: P001 (clean, but for a BEL and an ESC in its employer's name), P005
    whose provider.csv names P009 (its previous month, DATA/2023-02/P005, names P005),
    and three folders that are no provider ids: 'P 003', 'P004.resubmitted' and one
    named as markup.
    OUT/2023-03 before the run: P001 with a file the new set does not have, P007 (a
    provider no longer in the data, with its old pack and manifest), and what a killed
    run leaves: a half-built '.building-P001'.
    """
    root = tmp_path_factory.mktemp("rerun")
    period_dir = root / "data" / PERIOD
    write_provider(period_dir / "P001")
    employers = period_dir / "P001" / "employers.csv"
    with employers.open(encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))
    records[1][1] = BEL_NAME + records[1][1]
    with employers.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(records)
    write_provider(period_dir / "P005", provider_id="P009")
    write_provider(root / "data" / "2023-02" / "P005", provider_id="P005")
    for name in ("P 003", "P004.resubmitted", MARKUP):
        write_provider(period_dir / name)
    out = root / "out"
    old = out / PERIOD
    (old / "P001").mkdir(parents=True)
    (old / "P001" / "from_the_old_run.csv").write_text("old")
    (old / "P007").mkdir()
    (old / "P007" / "audit_pack.html").write_text("<html>old pack</html>")
    (old / "P007" / "manifest.json").write_text(
        json.dumps({"generated_at_utc": "2023-02-01T09:00:00+00:00"})
    )
    (old / ".building-P001").mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("KPITOOLS_PSEUDONYM_KEY", "pack-tests-key-0123456789abcdef")
    try:
        result = CliRunner().invoke(
            main, ["packs", str(period_dir), "--out", str(out), "--workers", "1", "--no-progress"]
        )
    finally:
        mp.undo()
    return out / PERIOD, result


@pytest.mark.slow
def test_every_folder_is_audited_skipped_or_stale_in_terminal_and_index_alike(rerun):
    period_out, result = rerun
    assert result.exit_code == 1, result.output  # P005 failed
    stderr = result.stderr.splitlines()
    assert stderr[-1] == "1 packs built, 1 failed, 3 skipped, 1 stale. Open:"
    reason = (
        "not audited: the folder name is not a provider id (letters, digits, _ and - only, "
        "at most 40); rename it to the provider's id to audit it"
    )
    for name in ("'P 003'", "'P004.resubmitted'", f"'{MARKUP}'"):
        assert f"SKIPPED {name}: {reason}" in stderr
    assert (
        "STALE P007: stale: left by an earlier run (made 2023-02-01T09:00:00+00:00); not rebuilt, "
        "as the data for 2023-03 has no folder P007"
    ) in stderr
    assert [line for line in stderr if line.startswith("FAILED")] == [
        # the folder named from its period on, as the index (circulated) shows it
        f"FAILED P005: {PERIOD}/P005: provider.csv names provider "
        "'P009' but the folder is 'P005'; rename the folder or correct provider.csv"
    ]
    html = (period_out / "index.html").read_text(encoding="utf-8")
    page = read_page(html)
    assert "1 packs built, <b>1</b> failed, <b>3</b> skipped, <b>1</b> stale" in html
    listed = page.sections["Failed-packs"]
    for text in ("P 003", "P004.resubmitted", "SKIPPED", "STALE", "P007", "P005", "P009"):
        assert text in listed, text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and MARKUP not in html  # escaped
    links = [a.get("href") for t, a in page.tags if t == "a"]
    assert "P001/audit_pack.html" in links and "P007/audit_pack.html" in links


@pytest.mark.slow
def test_rerun_replaces_a_provider_set_whole_and_leaves_no_intermediate_files(rerun):
    period_out, _ = rerun
    assert not (period_out / "P001" / "from_the_old_run.csv").exists()
    assert {"audit_pack.html", "manifest.json", "kpi_results.csv", "params.yaml"} <= {
        p.name for p in (period_out / "P001").iterdir()
    }
    assert sorted(p.name for p in (period_out / "P005").iterdir()) == ["error.txt"]
    assert (
        period_out / "P007" / "audit_pack.html"
    ).read_text() == "<html>old pack</html>"  # shown, kept
    hidden = sorted(p.name for p in period_out.iterdir() if p.name.startswith("."))
    assert hidden == [LOCK_FILE, ".portfolio.json"]  # no staging folder, no saved audit
    assert not list(period_out.rglob("*.pkl"))
    assert "audit_path: ''" in (period_out / "P001" / "params.yaml").read_text()


@pytest.mark.slow
def test_control_characters_in_a_value_leave_the_provider_built_with_a_note(rerun):
    # openpyxl refuses BEL and ESC in a workbook: the register used to fail the provider
    period_out, result = rerun
    folder = period_out / "P001"
    assert (folder / "audit_pack.html").exists() and not (folder / "error.txt").exists()
    note = (
        "employers.csv: 1 cell(s) hold control characters (\\x07, \\x1b), shown as \\xNN "
        "escapes in every output: line 2 column name"
    )
    assert note in json.loads((folder / "manifest.json").read_text())["warnings"]
    assert note in (folder / "audit_pack.html").read_text(encoding="utf-8")
    register = load_workbook(folder / "exceptions.xlsx")
    cells = [c for s in register for row in s.iter_rows(values_only=True) for c in row if c]
    assert "Acme\\x07 Bell\\x1b[2J =HYPERLINK" in " ".join(map(str, cells))
    summary = [tuple(row) for row in register["Summary"].iter_rows(values_only=True)]
    assert summary[-1][0] == "note" and "held control characters" in summary[-1][1]
    for path in folder.iterdir():  # no output holds one raw
        assert b"\x07" not in path.read_bytes() or path.suffix == ".xlsx", path.name


# --- refused before any work: one line, exit 2 ----------------------------------------


@pytest.fixture
def period(tmp_path: Path) -> Path:
    write_provider(tmp_path / "data" / PERIOD / "P001")
    return tmp_path / "data" / PERIOD


def packs(period: Path, out: Path | str, *extra: str) -> object:
    return CliRunner().invoke(
        main, ["packs", str(period), "--out", str(out), "--no-progress", *extra]
    )


def one_line_exit_2(result: object) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def params_with_key(tmp_path: Path, key_file: Path) -> str:
    path = tmp_path / "common.yaml"
    path.write_text(f"pseudonym_key_file: {key_file}\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the pseudonym key: No such file or directory"),
        (b"short", "pseudonym key is too short (5 bytes, need 16)"),
        ("folder", "cannot read the pseudonym key: Is a directory"),
    ],
)
def test_missing_short_or_unreadable_key_is_one_line_before_any_work(
    period, tmp_path, content, message
):
    key = tmp_path / "keys" / "pseudonym.key"
    if content == "folder":
        key.mkdir(parents=True)
    elif content is not None:
        key.parent.mkdir()
        key.write_bytes(content)
    out = tmp_path / "out"
    line = one_line_exit_2(packs(period, out, "--params", params_with_key(tmp_path, key)))
    assert line == f"error: {key}: {message}"
    assert not (out / PERIOD / "P001").exists() and not (out / PERIOD / "index.html").exists()


@pytest.mark.parametrize("where", [".", PERIOD, f"{PERIOD}/P001"])
def test_key_anywhere_inside_out_is_refused(period, tmp_path, where):
    out = tmp_path / "out"
    key = out / where / "pseudonym.key"
    key.parent.mkdir(parents=True)
    key.write_text("k" * 32)
    line = one_line_exit_2(packs(period, out, "--params", params_with_key(tmp_path, key)))
    assert line == f"error: {key}: the pseudonym key must be kept outside the output folder {out}"


def test_key_readable_by_others_is_warned_with_the_chmod(tmp_path, caplog):
    from kpitools.privacy.pseudonym import check_key

    key = tmp_path / "pseudonym.key"
    key.write_text("k" * 32)
    key.chmod(0o644)
    check_key(key, out_root=tmp_path / "out")
    assert caplog.messages == [
        f"the pseudonym key {key} can be read by others (mode 0644): anyone who can read it can "
        f"undo the pseudonyms; run: chmod 600 {key}"
    ]
    caplog.clear()
    key.chmod(0o600)
    check_key(key, out_root=tmp_path / "out")
    assert caplog.messages == []


@pytest.mark.parametrize("case", ["file", "proc", "inside input"])
def test_unusable_output_folder_is_one_line(period, tmp_path, case):
    if case == "file":  # OUT itself a file is refused by click's own check of --out
        (tmp_path / "out").write_text("a file")
        out = tmp_path / "out" / "packs"
        expected = f"output folder: {tmp_path / 'out'} is a file, not a folder; give a folder"
    elif case == "proc":
        out = Path("/proc/kpitools-out")
        expected = "output folder is under /proc, which is no place for files"
    else:
        out = period.parent  # OUT/2023-03 would be DATA/2023-03 itself
        expected = f"output folder is inside the input folder {period}; inputs are read-only"
    line = one_line_exit_2(packs(period, out))
    assert expected in line


def test_second_run_on_the_same_period_says_who_holds_it(period, tmp_path):
    out = tmp_path / "out"
    (out / PERIOD).mkdir(parents=True)
    with run_lock(out / PERIOD):
        line = one_line_exit_2(packs(period, out))
    assert line.startswith(
        f"error: {out / PERIOD}: another kpitools run is writing this folder (pid {os.getpid()} on "
    )
    assert not (out / PERIOD / "P001").exists()


def test_a_file_where_a_providers_folder_goes_is_refused_up_front(period, tmp_path):
    # it was renamed aside on the first run (exit 0) and jammed every later run
    out = tmp_path / "out"
    (out / PERIOD).mkdir(parents=True)
    (out / PERIOD / "P001").write_text("someone's notes")
    line = one_line_exit_2(packs(period, out))
    assert line == (
        f"error: {out / PERIOD / 'P001'}: a file, not a folder, is where provider P001's "
        "outputs go; move it out of the way and run again"
    )
    assert (out / PERIOD / "P001").read_text() == "someone's notes"
    assert sorted(p.name for p in (out / PERIOD).iterdir()) == ["P001"]


def test_no_open_line_without_an_index(period, tmp_path, monkeypatch):
    # "1 packs built, 1 failed. Open:" was printed with nothing to open
    from kpitools.run import batch as batch_module
    from kpitools.run.batch import BatchResult
    from kpitools.run.runner import PackOutcome

    def no_index(period_dir, out, **kwargs):  # noqa: ANN001, ANN003, ANN202 - test double
        ok = PackOutcome("P001", True, "x/audit_pack.html", "x/audit_pack.ipynb", None)
        failed = PackOutcome("portfolio", False, "i.html", None, "kernel died")
        return BatchResult(Path(out), {"P001": ok}, {}, failed)

    monkeypatch.setattr(batch_module, "build_packs", no_index)
    result = packs(period, tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "1 packs built, 0 failed. No index page was written."
    assert result.stdout == ""


@pytest.mark.slow
def test_a_run_killed_while_swapping_leaves_the_index_marked_and_the_next_repairs_it(
    period, tmp_path, monkeypatch
):
    # the index showed one run's figures and linked the other's packs, unmarked
    from kpitools.run import batch

    out = tmp_path / "out"
    assert packs(period, out).exit_code == 0
    first = json.loads((out / PERIOD / "P001" / "manifest.json").read_text())["run"]
    assert f"Built by run {first}" in (out / PERIOD / "index.html").read_text(encoding="utf-8")
    real = batch.replace_folder

    def killed(staging, final):  # noqa: ANN001, ANN202 - test double
        real(staging, final)
        raise KeyboardInterrupt  # stopped after the first swap

    monkeypatch.setattr(batch, "replace_folder", killed)
    assert packs(period, out).exit_code == 1
    index = (out / PERIOD / "index.html").read_text(encoding="utf-8")
    assert "Index of 2023-03 out of date" in index and "may hold the files of two runs" in index
    assert "P001/audit_pack.html" not in index  # links to nothing it cannot vouch for
    monkeypatch.setattr(batch, "replace_folder", real)
    assert packs(period, out).exit_code == 0
    third = json.loads((out / PERIOD / "P001" / "manifest.json").read_text())["run"]
    index = (out / PERIOD / "index.html").read_text(encoding="utf-8")
    assert "out of date" not in index and f"Built by run {third}" in index
    assert third != first


def test_saved_audit_is_owner_only(audit, tmp_path):
    from kpitools.present.context import save_audit

    path = save_audit(audit, tmp_path / "P001.audit.pkl")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_run_stopped_mid_batch_leaves_the_old_set_whole(period, tmp_path, monkeypatch):
    # The new set of P001 is staged, then the run is stopped (Ctrl-C, or SIGTERM turned
    # into SystemExit) before its pack is built: P001 keeps its old files, nothing new
    # mixed in; the saved audits go with the run; the next run clears the staging folder.
    from kpitools.run import batch

    out = tmp_path / "out"
    old = out / PERIOD / "P001"
    old.mkdir(parents=True)
    (old / "kpi_results.csv").write_text("old figures")
    (old / "audit_pack.html").write_text("old pack")
    work_dirs: list[Path] = []

    def stopped(jobs, **kwargs):  # noqa: ANN001, ANN003, ANN202 - test double
        work_dirs.append(Path(jobs[0].parameters["audit_path"]).parent)
        assert (out / PERIOD / ".building-P001" / "kpi_results.csv").is_file()
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "run_jobs", stopped)
    result = packs(period, out)
    assert result.exit_code == 1 and "Aborted!" in result.output  # click's word for Ctrl-C
    assert sorted(p.name for p in old.iterdir()) == ["audit_pack.html", "kpi_results.csv"]
    assert (old / "kpi_results.csv").read_text() == "old figures"
    assert work_dirs and not work_dirs[0].exists()  # the raw data went with the run
    from kpitools.io.workspace import tidy_period_folder

    tidy_period_folder(out / PERIOD)
    assert not (out / PERIOD / ".building-P001").exists()


def test_single_pack_refuses_to_replace_a_folder_that_is_not_a_pack(provider_dir, tmp_path):
    from kpitools.errors import PackError
    from kpitools.params import PackParams, write_params
    from kpitools.run.single import build_pack

    out_dir = tmp_path / "reports"
    out_dir.mkdir()
    (out_dir / "my_notes.docx").write_text("the analyst's own file")
    params = write_params(
        PackParams(provider_dir=str(provider_dir), out_dir=str(out_dir), period=PERIOD),
        tmp_path / "P001.yaml",
    )
    with pytest.raises(PackError, match="holds files that are not a pack's; give an empty folder"):
        build_pack(params)
    assert (out_dir / "my_notes.docx").exists()


def test_params_command_names_the_folders_it_skips(period, tmp_path, caplog):
    from kpitools.run.single import write_period_params

    write_provider(period / "P004.resubmitted")
    written = write_period_params(period, tmp_path / "params")
    assert [p.name for p in written] == ["P001.yaml"]
    assert caplog.messages == [
        "'P004.resubmitted': not audited: the folder name is not a provider id (letters, digits, "
        "_ and - only, at most 40); rename it to the provider's id to audit it"
    ]


def test_params_command_writes_the_profile_and_refuses_an_unknown_one(period, tmp_path):
    from click.testing import CliRunner

    from kpitools.cli import main
    from kpitools.params import load_params

    out = tmp_path / "params"
    made = CliRunner().invoke(
        main, ["params", str(period), "--out", str(out), "--profile", "dfe-2025-extension"]
    )
    assert made.exit_code == 0, made.output
    assert load_params(out / "P001.yaml").profile == "dfe-2025-extension"
    refused = CliRunner().invoke(
        main, ["params", str(period), "--out", str(tmp_path / "none"), "--profile", "dfe-2099"]
    )
    assert refused.exit_code == 2
    assert "dfe-2099" in refused.output
    assert not (tmp_path / "none").exists()
