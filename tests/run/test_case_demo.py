"""Issue 26's case file, end to end with the real command on the demo: P002 built for
2023-01..03 into one OUT, as `make demo` does, with one learner's withdrawal date
restated in 2023-03 (the demo's learner 001002, whose ILR already disagrees with its
datasheet) and its ILR finding worked in the 2023-02 register. ``kpitools case`` shows
the three months side by side with the restated value marked, the ILR aims with their
lines, the findings with their register history, no personal data without
``--include-pii``; what the auditor writes in the case workbook is read back into the
store when the case is built again."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from demo_pii import personal_data, table_rows
from openpyxl import load_workbook
from pack_html import read_page, unsafe_findings

from kpitools.cli import main
from kpitools.store.connection import read_store

pytestmark = pytest.mark.slow

KEY = "case-tests-key-0123456789abcdef"
PERIODS = ("2023-01", "2023-02", "2023-03")
LEARNER = "001002"  # the demo's ILR-MISMATCH-WITHDRAWAL-DATE learner of P002
RESTATED = ("2022-10-07", "2022-10-06")  # its withdrawal date in 2023-02, then in 2023-03
WORK = {"status": "queried", "owner": "Sam", "response": "asked for the ILR's end date"}
NOTES = {
    "allegation": "withdrawal dated after the ILR's end",
    "work_done": "=compared the ILR files",  # formula-looking text stays text
    "conclusion": "provider to correct the datasheet",
}


@dataclass
class Built:
    data: Path
    out: Path


def kpitools(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"KPITOOLS_PSEUDONYM_KEY": KEY})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _restate(learners: Path) -> None:
    text = learners.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith(f"{LEARNER},")]
    assert len(rows) == 1 and f",{RESTATED[0]}," in rows[0]
    learners.write_text(
        text.replace(rows[0], rows[0].replace(RESTATED[0], RESTATED[1])), encoding="utf-8"
    )


def _work_the_register(register: Path, exception_id: str) -> None:
    book = load_workbook(register)
    sheet = book["Exceptions"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("exception_id")].value == exception_id:
            for name, value in WORK.items():
                row[header.index(name)].value = value
    book.properties.lastModifiedBy = "Sam Auditor"
    book.save(register)


@pytest.fixture(scope="module")
def built(demo_dir: tuple[Path, object], tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("case")
    result = Built(root / "data", root / "out")
    for period in PERIODS:
        shutil.copytree(demo_dir[0] / period / "P002", result.data / period / "P002")
    _restate(result.data / "2023-03" / "P002" / "learners.csv")
    for period in PERIODS:
        kpitools(
            "packs",
            str(result.data / period),
            "--out",
            str(result.out),
            "--workers",
            "1",
            "--no-progress",
        )
        if period == "2023-02":
            _work_the_register(result.out / period / "P002" / "exceptions.xlsx", _mismatch(result))
    return result


def _mismatch(built: Built) -> str:
    with read_store(built.out) as con:
        (found,) = con.execute(
            "SELECT DISTINCT exception_id FROM findings WHERE learner_ref = ? "
            "AND rule = 'ILR-MISMATCH-WITHDRAWAL-DATE'",
            [LEARNER],
        ).fetchall()
    return str(found[0])


def _case(built: Built, *options: str) -> tuple[Path, str]:
    output = kpitools("case", str(built.out), "2023-03", "P002", *options)
    html = Path(output.strip().splitlines()[-1])
    assert html.suffix == ".html" and html.parent == built.out / "2023-03" / "P002" / "cases"
    return html, html.read_text(encoding="utf-8")


def test_a_learner_case_shows_months_ilr_findings_and_history_without_personal_data(
    built: Built,
) -> None:
    html, text = _case(built, "--learner", LEARNER)
    page = read_page(text)
    assert unsafe_findings(page) == []
    rows = " ".join(read_page(page.sections["Rows,-month-by-month"]).text.split())
    for period in PERIODS:
        assert period in rows
    # the restated withdrawal date, marked in 2023-03 only
    assert f"{RESTATED[1]} (changed)" in rows and f"{RESTATED[0]} (changed)" not in rows
    assert rows.count("(changed)") == 1
    assert "learners.csv:158" in rows
    ilr = read_page(page.sections["ILR-record"]).text
    assert "current state" in ilr and "ILR-10056864-2223-20230331-180000-01.xml" in ilr
    assert "3700" in ilr and "ZPROG001" in ilr and "CompStatus" in ilr and "FFI 1" in ilr
    assert "NO" in ilr  # the withdrawal date the ILR disagrees with
    found = read_page(page.sections["Findings-and-their-register-history"]).text
    assert "RESTATED-WITHDRAWAL-DATE" in found and "ILR-MISMATCH-WITHDRAWAL-DATE" in found
    # the status, and when the auditor's edits were saved; what they typed, and who,
    # only in the case workbook (a working file), as in the register
    assert "queried" in found and "field changed" in found
    assert WORK["response"] not in text and "Sam Auditor" not in text and "Sam" not in found
    # the KPI figures it counts in: the drop-out, which leaves it out (no M1), each month
    members = " ".join(read_page(page.sections["KPI-figures-it-counts-in"]).text.split())
    for period in PERIODS:
        assert f"{period} Learner drop-out P002-BC03 left out withdrew before M1" in members
    # pseudonymised: no ref, name, ULN or contact detail of the return
    personal = personal_data(built.data / "2023-03" / "P002")
    assert len(personal) > 50
    assert [v for v in personal if v in text] == []
    assert f"{LEARNER} (" not in text and html.stem.startswith("L-")
    book = load_workbook(html.with_suffix(".xlsx"))
    cells = " ".join(
        str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v
    )
    assert [v for v in personal if v in cells] == []
    assert f"{LEARNER} ({html.stem})" in cells  # a working file: the ref and pseudonym
    history = [r for r in book["Register history"].iter_rows(values_only=True) if "Sam" in r]
    assert history and all(WORK["response"] in r for r in history)
    edits = {r[3]: r for r in book["Register edits"].iter_rows(min_row=2, values_only=True)}
    assert edits["owner"][5] == "Sam" and edits["owner"][6] == "Sam Auditor"


def test_the_exception_opens_the_same_case_and_pii_only_when_asked(built: Built) -> None:
    html, _ = _case(built, "--exception", _mismatch(built))
    assert html.stem.startswith("L-")
    with_pii, text = _case(built, "--learner", LEARNER, "--include-pii")
    assert with_pii == html
    (row,) = [
        r
        for r in table_rows(built.data / "2023-03" / "P002", "learners")
        if r["learner_ref"] == LEARNER
    ]
    shown = " ".join(read_page(text).text.split())
    assert f"{row['given_name']} {row['family_name']}" in shown and row["uln"] in shown


def test_the_auditors_notes_are_read_back_into_the_store(built: Built) -> None:
    html, _ = _case(built, "--learner", LEARNER)
    workbook = html.with_suffix(".xlsx")
    book = load_workbook(workbook)
    sheet = book["Case"]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in NOTES:
            row[1].value = NOTES[row[0].value]
            row[1].data_type = "s"
    book.properties.lastModifiedBy = "Alex Auditor"
    book.save(workbook)
    edited = workbook.read_bytes()
    output = kpitools("case", str(built.out), "2023-03", "P002", "--learner", LEARNER)
    assert "3 note(s) of the case workbook read back" in output
    # kept before it was replaced, and carried into the new workbook
    kept = list((workbook.parent / ".history").glob(f"{workbook.stem}-*.xlsx"))
    assert edited in {p.read_bytes() for p in kept}
    values = {r[0]: r[1] for r in load_workbook(workbook)["Case"].iter_rows(values_only=True)}
    assert {f: values[f] for f in NOTES} == NOTES
    page = read_page(html.read_text(encoding="utf-8"))
    shown = " ".join(read_page(page.sections["The-auditor's-notes"]).text.split())
    assert shown.count("written (") == 3 and NOTES["allegation"] not in shown
    with read_store(built.out) as con:
        events = con.execute(
            "SELECT field, value, last_modified_by FROM register_events WHERE sheet = 'Case'"
        ).fetchall()
        commands = [
            r[0] for r in con.execute("SELECT command FROM runs ORDER BY run_id").fetchall()
        ]
    assert sorted(events) == sorted((f, v, "Alex Auditor") for f, v in NOTES.items())
    assert commands[-2:] == ["case", "case"]
    newest = kpitools("log", str(built.out)).splitlines()[0]
    assert " case 2023-03 " in newest and newest.endswith("a case file")
    # built again without an edit: nothing recorded twice
    kpitools("case", str(built.out), "2023-03", "P002", "--learner", LEARNER)
    with read_store(built.out) as con:
        again = con.execute("SELECT count(*) FROM register_events WHERE sheet = 'Case'").fetchall()
    assert again[0][0] == len(NOTES)


def test_a_rebuild_of_the_period_keeps_the_case_files(built: Built) -> None:
    _case(built, "--learner", LEARNER)
    cases = built.out / "2023-03" / "P002" / "cases"
    before = sorted(p.name for p in cases.iterdir())
    kpitools(
        "packs",
        str(built.data / "2023-03"),
        "--out",
        str(built.out),
        "--workers",
        "1",
        "--no-progress",
    )
    assert sorted(p.name for p in cases.iterdir()) == before


def test_an_unknown_learner_is_refused_without_naming_it(built: Built) -> None:
    result = CliRunner().invoke(
        main,
        ["case", str(built.out), "2023-03", "P002", "--learner", "NOPE-999"],
        env={"KPITOOLS_PSEUDONYM_KEY": KEY},
    )
    assert result.exit_code == 2
    assert "in no return of P002" in result.output and "NOPE-999" not in result.output


def test_the_index_and_the_pack_give_each_high_finding_its_case_command(built: Built) -> None:
    with read_store(built.out) as con:
        high = {
            str(r[0])
            for r in con.execute(
                "SELECT DISTINCT exception_id FROM findings WHERE period = '2023-03' "
                "AND severity = 'high' AND run_id = (SELECT max(run_id) FROM findings "
                "WHERE period = '2023-03')"
            ).fetchall()
        }
    assert high
    for page in ("index.html", "P002/audit_pack.html"):
        text = " ".join(read_page((built.out / "2023-03" / page).read_text("utf-8")).text.split())
        for exception_id in high:
            assert f"kpitools case OUT 2023-03 P002 --exception {exception_id}" in text, page


def test_hostile_values_are_text_in_the_case(built: Built) -> None:
    # the demo's P002 learner 000789 is named <img src=x onerror=alert(1)>
    html, text = _case(built, "--learner", "000789", "--include-pii")
    page = read_page(text)
    assert unsafe_findings(page) == []
    assert "<img src=x onerror=alert(1)>" in page.text and "<img src=x" not in text
