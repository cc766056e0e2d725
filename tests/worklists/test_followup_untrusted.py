"""A register read back is untrusted input (issue 29, items 2 and 3): what an auditor
typed stays in working files, every carried value is named by this run's rule, and a
register that is another provider's, another key's, malformed, or odd in any of the
ways an auditor's Excel can make it odd is handled without loss and named.

The registers are real ones: written by kpitools for the hand-made audit of
tests/present/builders.py (month 2023-02), edited with openpyxl as an auditor would,
then read back by the next month's (2023-03) follow-up.
"""

from __future__ import annotations

import csv
import os
import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from builders import followup_of, hand_audit, make_context, pii_strings, write_provider
from openpyxl import load_workbook

from kpitools.model import Finding, FollowUp, ProviderAudit
from kpitools.outputs.register import keep_replaced_register, write_provider_register
from kpitools.present.context import PackContext
from kpitools.present.findings import findings_first
from kpitools.present.report import headline
from kpitools.privacy.pseudonym import key_fingerprint
from kpitools.store.rows import register_rows
from kpitools.text import MAX_CELL_CHARS
from kpitools.worklists.followup import RegisterTrail, read_register

TEST_KEY = "register-untrusted-key-0123456789"
# L1's name and ULN are in builders.LEARNERS; the note an auditor should never have typed
NOTE = "INTERNAL NOTE: phoned Zebedee Quattlebaum (ULN 1234567897) at home, suspect fraud"
GONE = Finding(  # found in February only: resolved in March
    "irregularity", "DATE-ORDER", "medium", "learner:L1", "learners.csv:2", "M1 before start", "B1"
)
GONE_EMPLOYER = Finding(  # E1's contact details are in builders.pii_strings()
    "employer_cofunding",
    "COF-UNDERPAID",
    "high",
    "employer:E1",
    "cofunding_payments.csv:2",
    "paid 0.00 of 250.00",
    "B1",
)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", TEST_KEY)


def _february(tmp_path: Path, *, include_pii: bool = False, provider: str = "P001") -> Path:
    """February's register of the hand audit (one more finding than March), as written."""
    folder = write_provider(tmp_path / "data" / "2023-02" / provider, provider)
    audit = hand_audit(folder, period="2023-02")
    audit = replace(audit, irregularities=(*audit.irregularities, GONE, GONE_EMPLOYER))
    out = tmp_path / "out" / "2023-02" / provider
    write_provider_register(make_context(audit, out, include_pii=include_pii), out)
    return out / "exceptions.xlsx"


def _march(tmp_path: Path, **options: object) -> PackContext:
    folder = write_provider(tmp_path / "data" / "2023-03" / "P001")
    audit: ProviderAudit = hand_audit(folder)
    return make_context(audit, tmp_path / "out" / "2023-03" / "P001", **options)  # type: ignore[arg-type]


def _edit(register: Path, sheet: str, match: dict[str, str], values: dict[str, object]) -> None:
    """Set ``values`` in each row of ``sheet`` whose cells equal ``match`` (as an auditor)."""
    book = load_workbook(register)
    rows = book[sheet]
    header = [c.value for c in rows[1]]
    for number in range(2, rows.max_row + 1):
        cells = {h: rows.cell(number, i + 1).value for i, h in enumerate(header)}
        if all(cells.get(k) == v for k, v in match.items()):
            for name, value in values.items():
                rows.cell(number, header.index(name) + 1, value)
    book.save(register)


def _cells(register: Path) -> dict[str, list[tuple[str, str]]]:
    """Every cell of every sheet of a register: sheet -> (column, text)."""
    book = load_workbook(register)
    found: dict[str, list[tuple[str, str]]] = {}
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        header = [str(h) for h in rows[0]] if rows else []
        found[sheet.title] = [
            (header[i] if i < len(header) else "", str(v))
            for row in rows[1:]
            for i, v in enumerate(row)
            if v is not None
        ]
    return found


def test_a_resolved_exceptions_response_never_reaches_the_pack(tmp_path: Path) -> None:
    # The auditor resolves February's DATE-ORDER with a note naming the learner; in March
    # it no longer occurs: the pack lists it as resolved, by id and status only.
    register = _february(tmp_path)
    _edit(
        register,
        "Exceptions",
        {"rule": "DATE-ORDER"},
        {"status": "resolved", "response": NOTE, "owner": "Sam Secret"},
    )
    ctx = _march(tmp_path)
    assert ctx.followup is not None
    resolved = next(
        r for r in ctx.followup.resolved.to_dict("records") if r["rule"] == "DATE-ORDER"
    )
    assert resolved["response"] == NOTE  # in the register
    pack = str(findings_first(ctx)) + str(headline(ctx))
    assert resolved["exception_id"] in pack.split("Resolved since last month")[1]
    for secret in ("INTERNAL NOTE", "Quattlebaum", "1234567897", "Sam Secret"):
        assert secret not in pack
    # the register, a working file, keeps what the auditor typed
    write_provider_register(ctx, Path(ctx.params.out_dir))
    cells = _cells(Path(ctx.params.out_dir) / "exceptions.xlsx")
    assert ("response", NOTE) in cells["Resolved"]


def test_an_include_pii_registers_entities_are_not_carried_into_a_default_one(
    tmp_path: Path,
) -> None:
    # February was built with --include-pii: its entity cells name learners. March's
    # default register carries February's rows (resolved, and the event that stays open)
    # with their entity named by March's rule: no name, no ULN.
    register = _february(tmp_path, include_pii=True)
    february = _cells(register)
    assert any("Quattlebaum" in text for _, text in february["Exceptions"])  # the repro
    ctx = _march(tmp_path)
    out = Path(ctx.params.out_dir)
    write_provider_register(ctx, out)
    march = _cells(out / "exceptions.xlsx")
    personal = pii_strings()
    leaks = [
        (sheet, column, text)
        for sheet, cells in march.items()
        for column, text in cells
        for value in personal
        if value and value in text
    ]
    assert leaks == []
    entities = sorted(text for column, text in march["Resolved"] if column == "entity")
    assert entities[0] == "employer:E1" and entities[1].startswith("learner:L1 (L-")
    assert any(
        "Octavia Brambleworth" in text for _, text in february["Resolved"] + february["Exceptions"]
    )
    assert str(findings_first(ctx)).count("Quattlebaum") == 0


# --- item 3: the register as untrusted input ----------------------------------------


def _rewrite(register: Path, member: str, change: Callable[[str], str]) -> None:
    """Change one part of a workbook as a crafted or damaged file would have it."""
    with zipfile.ZipFile(register) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts[member] = change(parts[member].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(register, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def _rules(followup: FollowUp) -> dict[str, str]:
    return dict(zip(followup.exceptions["rule"], followup.exceptions["change"], strict=True))


def test_another_providers_register_is_not_used_and_the_pack_says_why(tmp_path: Path) -> None:
    # P002's February register, put where P001's belongs: on main its rows were shown as
    # P001's "resolved"
    other = _february(tmp_path / "p002", provider="P002")
    mine = tmp_path / "out" / "2023-02" / "P001" / "exceptions.xlsx"
    mine.parent.mkdir(parents=True)
    shutil.copy(other, mine)
    ctx = _march(tmp_path)
    assert ctx.followup is not None
    assert ctx.followup.resolved.empty and not ctx.followup.previous_found
    assert set(_rules(ctx.followup).values()) == {"new"}
    (why,) = ctx.followup.unused
    assert why == (
        "last month's register 2023-02/P001/exceptions.xlsx (in the output folder) not used: "
        "it is provider "
        "P002's register, not P001's (its Summary's provider_id)"
    )
    pack = str(findings_first(ctx))
    assert (
        "Last month&#39;s register 2023-02/P001/exceptions.xlsx (in the output folder) not "
        "used: it is provider "
        "P002&#39;s register, not P001&#39;s (its Summary&#39;s provider_id). Every exception "
        "is new."
    ) in pack
    write_provider_register(ctx, Path(ctx.params.out_dir))
    assert ("note", why) in _summary_rows(ctx)


def _summary_rows(ctx: PackContext) -> list[tuple[str, str]]:
    book = load_workbook(Path(ctx.params.out_dir) / "exceptions.xlsx")
    return [(str(k), str(v)) for k, v in book["Summary"].iter_rows(min_row=2, values_only=True)]


def test_another_keys_or_periods_register_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", "another-key-entirely-0123456789ab")
    _february(tmp_path)
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", TEST_KEY)
    ctx = _march(tmp_path)
    assert ctx.followup is not None and ctx.followup.resolved.empty
    (why,) = ctx.followup.unused
    assert "its exception ids were made with another pseudonym key (KF-" in why
    assert key_fingerprint(TEST_KEY.encode()) in why
    # January's register in February's folder
    register = _february(tmp_path / "jan")
    _edit(register, "Summary", {"item": "period"}, {"value": "2023-01"})
    shutil.copy(register, tmp_path / "out" / "2023-02" / "P001" / "exceptions.xlsx")
    (why,) = _march(tmp_path).followup.unused  # type: ignore[union-attr]
    assert why.endswith("it is the register of 2023-01, not of 2023-02 (its Summary's period)")


def test_a_malformed_register_is_not_used_the_provider_is_built(tmp_path: Path) -> None:
    # one bad character reference in the shared strings: on main the provider FAILED
    register = _february(tmp_path)
    _rewrite(register, "xl/worksheets/sheet2.xml", lambda xml: xml.replace("<t>", "<t>&#1;", 1))
    audit = hand_audit(write_provider(tmp_path / "data" / "2023-03" / "P001"))
    trail = RegisterTrail(tmp_path / "out" / "2023-03" / "P001", TEST_KEY.encode())
    followup = followup_of(audit, trail)
    (why,) = followup.unused
    assert (
        "not used: not a readable Excel workbook (XMLSyntaxError in xl/worksheets/sheet2.xml)"
    ) in why
    assert set(_rules(followup).values()) == {"new"}


def test_a_register_over_the_datasheets_limits_is_refused_before_openpyxl(
    tmp_path: Path,
) -> None:
    # a cell in row 1,048,576: a 26 kB file that openpyxl pads for minutes (on main)
    register = _february(tmp_path)
    far = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    _rewrite(
        register,
        "xl/worksheets/sheet2.xml",
        lambda xml: xml.replace("</sheetData>", far + "</sheetData>"),
    )
    started = time.monotonic()
    followup = _march(tmp_path).followup
    assert followup is not None and time.monotonic() - started < 30
    (why,) = followup.unused
    assert "workbook too large to read: sheet sheet2.xml reaches row 1,048,576" in why
    assert "MAX_SHEET_ROWS" in why


def test_formulas_repeated_ids_ids_in_lower_case_and_forged_ids_lose_nothing(
    tmp_path: Path,
) -> None:
    register = _february(tmp_path)
    book = load_workbook(register)
    sheet = book["Exceptions"]
    header = [c.value for c in sheet[1]]
    column = {name: header.index(name) + 1 for name in header}
    by_rule = {  # the exceptions that recur in March (February's own are left out)
        sheet.cell(r, column["rule"]).value: r
        for r in range(2, sheet.max_row + 1)
        if sheet.cell(r, column["bootcamp_id"]).value != "B1"
        or sheet.cell(r, column["rule"]).value in ("DROP-LATE-REPORT", "DUP-ULN-OVERLAP")
    }
    # a formula response saved without a computed value (openpyxl computes none)
    late = by_rule["DROP-LATE-REPORT"]
    sheet.cell(late, column["response"], '=CONCAT("called ","back")')
    # an id typed in lower case with a space, the row queried
    dup = by_rule["DUP-ULN-OVERLAP"]
    typed = sheet.cell(dup, column["exception_id"]).value
    sheet.cell(dup, column["exception_id"], " " + typed.lower()[:6] + " " + typed.lower()[6:])
    sheet.cell(dup, column["status"], "queried")
    # the same id twice: the second row holds another response; a third repeats the first
    cof = by_rule["COF-UNDERPAID"]
    cof_id = sheet.cell(cof, column["exception_id"]).value
    sheet.cell(cof, column["response"], "first answer")
    rows = [[c.value for c in sheet[cof]] for _ in range(2)]
    rows[0][column["response"] - 1] = "second answer"
    # an id kpitools never made, marked resolved
    forged = ["EX-0123456789AB", "high", "DATE-ORDER", "resolved"] + [None] * (len(header) - 4)
    for values in (*rows, forged):
        sheet.append(values)
    book.save(register)
    ctx = _march(tmp_path)
    followup = ctx.followup
    assert followup is not None
    frame = followup.exceptions.set_index("exception_id")
    late_id = frame.index[frame["rule"] == "DROP-LATE-REPORT"][0]
    assert frame.loc[late_id, "response"] == '=CONCAT("called ","back")'
    assert (frame.loc[typed, "change"], frame.loc[typed, "status"]) == ("recurring", "queried")
    assert frame.loc[cof_id, "response"] == "first answer"
    manual = frame[frame["change"] == "manual"]
    notes = dict(zip(manual["response"].fillna(""), manual["review_note"], strict=True))
    assert notes["second answer"] == f"a second row with id {cof_id}: kept as a row added by hand"
    assert "first answer" not in notes  # the row repeated whole is read once
    # the forged row, marked resolved: a row added by hand that an auditor closed, on the
    # Resolved sheet under an id of its own, never shown in the pack as kpitools's
    resolved = followup.resolved.set_index("exception_id")
    forged_row = resolved[resolved["review_note"].str.contains("EX-0123456789AB", na=False)]
    assert len(forged_row) == 1 and forged_row.index[0].startswith("MAN-")
    assert forged_row["status"].iloc[0] == "resolved"
    assert "EX-0123456789AB" not in set(resolved.index)
    assert "EX-0123456789AB" not in str(findings_first(ctx))
    (source,) = followup.sources
    assert source.handled == (
        "1 formula cell(s) without a computed value (saved by a program that does not "
        "compute formulas): kept as their formula text",
        f"1 id(s) typed in another case or with spaces, read as kpitools's: {typed}",
        f"1 row(s) repeated whole, read once: {cof_id}",
        f"1 row(s) with an id a row above had, kept as rows added by hand: {cof_id}",
        "1 id(s) kpitools did not write into it, kept as rows added by hand: EX-0123456789AB",
    )
    write_provider_register(ctx, Path(ctx.params.out_dir))
    named = [v for k, v in _summary_rows(ctx) if k.endswith("not as kpitools wrote it")]
    assert named == list(source.handled)


def test_a_response_over_excels_limit_is_cut_with_a_mark_and_kept_whole_in_the_store(
    tmp_path: Path,
) -> None:
    register = _february(tmp_path)
    long = "call log " + "x" * 40_000
    _edit(register, "Exceptions", {"rule": "DROP-LATE-REPORT"}, {"response": "LONG"})
    _rewrite(register, "xl/worksheets/sheet2.xml", lambda xml: xml.replace(">LONG<", f">{long}<"))
    ctx = _march(tmp_path)
    assert ctx.followup is not None
    row = ctx.followup.exceptions.set_index("rule").loc["DROP-LATE-REPORT"]
    assert row["response"] == long
    stored = register_rows(ctx.followup)  # what the audit store records of the register
    assert long in set(stored["response"])
    out = Path(ctx.params.out_dir)
    write_provider_register(ctx, out)
    cells = dict(_cells(out / "exceptions.xlsx")["Exceptions"])
    assert len(cells["response"]) == MAX_CELL_CHARS
    assert cells["response"].endswith(
        "[cut at Excel's limit: 40,009 characters; the full text is in the audit store]"
    )
    assert any("held more than 32,767 characters" in v for k, v in _summary_rows(ctx))
    # read back next month unedited: the cut text is what kpitools wrote, not an edit
    again = read_register(out / "exceptions.xlsx")
    written = again.written
    assert written is not None
    cut = written.loc[written["field"] == "response", "value"]
    assert cells["response"] in set(cut)


def test_a_register_saved_as_xlsm_or_csv_is_read_back_and_kept(tmp_path: Path) -> None:
    register = _february(tmp_path)
    _edit(
        register, "Exceptions", {"rule": "DROP-LATE-REPORT"}, {"status": "queried", "owner": "Sam"}
    )
    # saved as .xlsm (a workbook with macros) beside kpitools's older .xlsx
    xlsm = register.with_suffix(".xlsm")
    shutil.copy(register, xlsm)
    os.utime(register, (1_600_000_000, 1_600_000_000))
    followup = _march(tmp_path).followup
    assert followup is not None and followup.previous_found
    row = followup.exceptions.set_index("rule").loc["DROP-LATE-REPORT"]
    assert (row["status"], row["owner"], row["change"]) == ("queried", "Sam", "recurring")
    assert followup.sources[0].path.endswith("exceptions.xlsm")
    assert followup.sources[0].handled[0].startswith("saved as .xlsm")
    assert any("also there, older and not read: exceptions.xlsx" in n for n in followup.notes)
    # saved as CSV: its one sheet, the Exceptions (dates as a UK Excel writes them)
    rows = list(load_workbook(register)["Exceptions"].values)
    xlsm.unlink()
    register.unlink()
    with register.with_suffix(".csv").open("w", newline="", encoding="utf-8-sig") as file:
        writer = csv.writer(file)
        for values in rows:
            writer.writerow(
                v.strftime("%d/%m/%Y") if hasattr(v, "strftime") else ("" if v is None else v)
                for v in values
            )
    followup = _march(tmp_path).followup
    assert followup is not None and followup.previous_found
    row = followup.exceptions.set_index("rule").loc["DROP-LATE-REPORT"]
    assert (row["status"], row["owner"], row["change"]) == ("queried", "Sam", "recurring")
    assert str(row["first_seen"]) == "2023-03-31"  # February's, as_of of the hand audit
    assert followup.sources[0].handled[0].startswith("saved as CSV")


def test_a_register_saved_as_xlsm_is_kept_when_its_folder_is_replaced(tmp_path: Path) -> None:
    final, staging = tmp_path / "final", tmp_path / "staging"
    final.mkdir()
    staging.mkdir()
    (final / "exceptions.xlsx").write_bytes(b"kpitools's")
    (final / "exceptions.xlsm").write_bytes(b"the auditor's")
    os.utime(final / "exceptions.xlsx", (1_600_000_000, 1_600_000_000))
    kept = keep_replaced_register(final, staging)
    assert kept is not None and kept.suffix == ".xlsm" and kept.read_bytes() == b"the auditor's"
    history = sorted(p.suffix for p in (staging / ".history").iterdir())
    assert history == [".xlsm", ".xlsx"]
