"""On the demo data: the register as a living worklist from one month to the next, and
the index row that shows a provider's bootcamp breach.

The auditor edits the 2023-02 register of P001 (status, owner, a response that looks like
a formula, a response date); building 2023-03 carries each edit to the same exception_id,
marks it recurring and keeps its first month; 2023-02's exceptions that no longer occur
are on the Resolved sheet. Only prepare_period and publish run (no notebook), on P001
and P005.
"""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kpitools.present.portfolio import provider_matrix
from kpitools.rules import rule
from kpitools.run.batch import prepare_period, publish
from kpitools.run.index import portfolio_summary
from kpitools.run.runner import PackOutcome
from kpitools.run.single import batch_base
from kpitools.worklists.followup import REGISTER_COLUMNS, RESOLVED_COLUMNS

pytestmark = pytest.mark.slow

RESPONSE = "=provider sent the start letter"  # formula-looking text must stay text
SHEETS = [
    "Summary",
    "Exceptions",
    "Resolved",
    "Evidence request",
    "Rejected rows",
    "CP no outcome (info)",
    "sample_employers",
    "sample_completers",
    "sample_outcomes",
    "ageing_awaiting_outcome",
    "ageing_unreached_employers",
    "ageing_unreported_withdrawals",
    "breach_risk",
]


@pytest.fixture(scope="module")
def months(
    demo_dir: tuple[Path, object], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, object], object]:
    mp = pytest.MonkeyPatch()
    mp.setenv("KPITOOLS_PSEUDONYM_KEY", "pack-tests-key-0123456789abcdef")
    root = tmp_path_factory.mktemp("demo")
    data, out = root / "data", root / "out"
    for period in ("2023-01", "2023-02", "2023-03"):
        for provider in ("P001", "P005"):
            shutil.copytree(demo_dir[0] / period / provider, data / period / provider)
    publish(prepare_period(data / "2023-02", out, base=batch_base(), work_dir=root / "work02"), {})
    register = out / "2023-02" / "P001" / "exceptions.xlsx"
    book = load_workbook(register)
    sheet = book["Exceptions"]
    header = [c.value for c in sheet[1]]
    edited = {}
    for row in range(2, sheet.max_row + 1):
        exception_id = sheet.cell(row=row, column=header.index("exception_id") + 1).value
        values = {
            "status": "queried",
            "owner": f"Auditor {row}",
            "response": RESPONSE,
            "response_date": datetime(2023, 3, 10),
        }
        for name, value in values.items():
            cell = sheet.cell(row=row, column=header.index(name) + 1, value=value)
            if isinstance(value, str):  # typed as text ('=... in Excel), not a formula
                cell.data_type = "s"
        edited[exception_id] = values
    book.save(register)
    prepared = prepare_period(data / "2023-03", out, base=batch_base(), work_dir=root / "work03")
    publish(prepared, {})
    mp.undo()
    return out, edited, prepared


def test_edits_carry_to_the_same_id_and_gone_exceptions_are_resolved(months) -> None:
    out, edited, _ = months
    book = load_workbook(out / "2023-03" / "P001" / "exceptions.xlsx")
    rows = [
        dict(zip(REGISTER_COLUMNS, r, strict=True))
        for r in book["Exceptions"].iter_rows(min_row=2, values_only=True)
    ]
    found = [r for r in rows if r["exception_id"] in edited]
    recurring = [r for r in found if r["change"] == "recurring"]
    # the restatements of 2023-02 do not repeat: events, they stay open with the
    # auditor's follow-up until closed
    carried = [r for r in found if r["change"] == "carried"]
    assert recurring and carried
    for row in carried:
        assert rule(row["rule"]).event and row["last_seen"] == "2023-02"
        assert (row["status"], row["owner"]) == ("queried", edited[row["exception_id"]]["owner"])
    for row in recurring:
        assert row["change"] == "recurring"
        assert (row["status"], row["owner"], row["response"]) == (
            "queried",
            edited[row["exception_id"]]["owner"],
            RESPONSE,
        )
        assert row["response_date"] == datetime(2023, 3, 10)
        assert row["first_seen"] == datetime(2023, 2, 28)  # kept from 2023-02
        assert row["age_days"] == 31
    for row in rows:
        if row["exception_id"] not in edited and row["change"] != "manual":
            assert (row["change"], row["status"], row["first_seen"]) == (
                "new",
                "open",
                datetime(2023, 3, 31),
            )
    resolved = [
        dict(zip(RESOLVED_COLUMNS, r, strict=True))
        for r in book["Resolved"].iter_rows(min_row=2, values_only=True)
    ]
    assert {r["exception_id"] for r in resolved} == set(edited) - {r["exception_id"] for r in rows}
    assert all(r["status"] == "queried" and r["last_seen"] == "2023-02" for r in resolved)
    summary = dict(book["Summary"].iter_rows(min_row=2, values_only=True))
    assert summary["recurring"] == len(recurring)
    assert summary["resolved since last month (sheet Resolved)"] == len(resolved)


def test_register_sheets_columns_validation_header_and_no_formulas(months) -> None:
    out, _, _ = months
    path = out / "2023-03" / "P001" / "exceptions.xlsx"
    book = load_workbook(path)
    members = [n for n in book.sheetnames if n.startswith("Members ")]
    assert book.sheetnames == [*SHEETS, *members, "_written"]  # the baseline, very hidden
    assert book["_written"].sheet_state == "veryHidden"
    exceptions = book["Exceptions"]
    assert [c.value for c in exceptions[1]] == list(REGISTER_COLUMNS)
    assert [c.value for c in book["Resolved"][1]] == list(RESOLVED_COLUMNS)
    for name in SHEETS:
        # the worked sheets freeze the id column with the header
        frozen = "B2" if name in ("Exceptions", "Resolved") else "A2"
        assert book[name].freeze_panes == frozen
        assert book[name].auto_filter.ref and book[name].auto_filter.ref.startswith("A1:")
        assert all(c.font.bold for c in book[name][1])
    validation, _dates = exceptions.data_validations.dataValidation
    assert (validation.type, validation.formula1) == (
        "list",
        '"open,queried,reopened,resolved,accepted"',
    )
    status_column = "ABCDEFGHIJKLMNOP"[REGISTER_COLUMNS.index("status")]
    assert str(validation.sqref).startswith(f"{status_column}2:{status_column}")
    responses = [
        r for r in exceptions.iter_rows(min_row=2) if r[REGISTER_COLUMNS.index("response")].value
    ]
    assert responses and all(
        r[REGISTER_COLUMNS.index("response")].data_type == "s" for r in responses
    )
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == len(SHEETS) + len(members) + 1
        for name in sheets:
            xml = archive.read(name).decode()
            assert "<f>" not in xml and "<f " not in xml
    request = (out / "2023-03" / "P001" / "evidence_request.csv").read_text(encoding="utf-8")
    assert request.splitlines()[0] == (
        "line,topic,what_we_found,what_we_ask,learner_ref,employer_id,bootcamp_id,where,"
        "value_before,value_now,exception_ids,response,evidence_reference,reply_date"
    )


def test_a_figure_not_met_has_a_sheet_of_its_members(months) -> None:
    out, _, _ = months
    book = load_workbook(out / "2023-03" / "P005" / "exceptions.xlsx")
    sheet = book["Members dropout P005-BC02"]  # drop-out 15 of 49, not met
    rows = list(sheet.iter_rows(values_only=True))
    header, body = list(rows[0]), rows[1:]
    assert header == [
        "provider_id",
        "kpi",
        "stage",
        "bootcamp_id",
        "member",
        "in_population",
        "in_numerator",
        "reason",
        "source",
    ]
    column = {name: i for i, name in enumerate(header)}
    population = [r for r in body if r[column["in_population"]] == "Y"]
    assert len(population) == 49
    assert sum(r[column["in_numerator"]] == "Y" for r in population) == 15
    # the working rule: the provider's ref and the pseudonym; each member's row
    assert all(re.fullmatch(r"learner:\S+ \(L-[0-9a-f]{10}\)", r[column["member"]]) for r in body)
    assert all(re.fullmatch(r"learners\.csv:\d+", r[column["source"]]) for r in body)
    # a sheet for every figure off track or not met, and for no other
    with (out / "2023-03" / "P005" / "kpi_results.csv").open(encoding="utf-8") as handle:
        statuses = [r["status"] for r in csv.DictReader(handle)]
    off_course = sum(status in ("off_track", "not_met") for status in statuses)
    assert len([n for n in book.sheetnames if n.startswith("Members ")]) == off_course


def test_index_row_shows_the_bootcamp_that_has_not_met_dropout(months) -> None:
    # P005 as a whole is on track for drop-out (26 of 225 = 11.6 %) while its bootcamp
    # P005-BC02 has not met the limit (15 of 49 = 30.6 %): the cell says both and takes
    # the colour of not met; the breach column names it by the KPI's short title; P005 is
    # listed first; one cell counts its exceptions by severity.
    out, _, prepared = months
    summary = portfolio_summary(
        prepared.contexts,
        {},
        {},
        period="2023-03",
        as_of=date(2023, 3, 31).isoformat(),
        period_out=prepared.period_out,
    )
    assert summary["profiles"] == ["dfe-2022-09"]  # the index names the profile in force
    html = str(provider_matrix(summary))
    rows = html.split("<tr>")
    assert "P005<" in rows[2]  # the header row, then the most urgent provider
    p005 = next(row for row in rows if "<b>P005</b>" in row)
    text = re.sub(r"<br>|</td>", "\n", p005)
    text = re.sub(r"<[^>]+>", "", text)  # what the auditor reads, cell by cell
    assert "on track · 11.6 %\n1 of 5 not met: BC02 30.6 %" in text
    assert 'background:#f29b94" title="not_met">on track · <span class="n">11.6 %</span>' in p005
    assert "BC02 Drop-out not met 30.6 %" in text.splitlines()
    assert "Elmstead Workforce Institute (demo)" in text
    assert (
        '<a href="P005/exceptions.xlsx">' in p005 and '<a href="P005/audit_pack.html">' not in p005
    )  # not built here
    findings = prepared.contexts["P005"].audit.exceptions_frame()
    severities = findings["severity"].value_counts()
    assert severities.sum() == len(findings) > 0
    expected = " · ".join(f"{severities.get(s, 0)} {s}" for s in ("high", "medium", "low"))
    assert f"{len(findings)}\n{expected}" in text
    # the header: short titles, the full title as the tooltip
    assert '<th title="Learner drop-out">Drop-out</th>' in rows[1]
    assert '<th title="Employer engagement (post)">Engagement (post)</th>' in rows[1]


def test_index_links_the_pdf_printed_beside_a_pack(months) -> None:
    # a pack printed with --pdf: the index links it beside the pack and the register
    _, _, prepared = months
    folder = prepared.period_out / "P005"
    outcome = PackOutcome(
        provider_id="P005",
        ok=True,
        html_path=str(folder / "audit_pack.html"),
        executed_path=str(folder / "audit_pack.ipynb"),
        pdf_path=str(folder / "audit_pack.pdf"),
    )
    summary = portfolio_summary(
        prepared.contexts,
        {"P005": outcome},
        {},
        period="2023-03",
        as_of="2023-03-31",
        period_out=prepared.period_out,
    )
    html = str(provider_matrix(summary))
    p005 = next(row for row in html.split("<tr>") if "<b>P005</b>" in row)
    assert '<a href="P005/audit_pack.html">pack</a> · <a href="P005/audit_pack.pdf">PDF</a>' in p005
    p001 = next(row for row in html.split("<tr>") if "<b>P001</b>" in row)
    assert "audit_pack.pdf" not in p001  # no PDF printed for it
