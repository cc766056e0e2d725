"""The evidence request: one line per learner (or employer) and topic, by the
provider's own refs, with plain sources, the values before and now of a restatement,
every answerable rule asked about; and a returned request read back as untrusted input.
"""

from __future__ import annotations

import shutil
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from kpitools.outputs.register import EVIDENCE_SHEET, evidence_layout
from kpitools.outputs.workbook import write_evidence_request
from kpitools.rules import CATALOGUE, ILR_RULES
from kpitools.worklists.evidence_request import (
    EVIDENCE_NEEDED,
    NOT_ASKED,
    REQUEST_COLUMNS,
    evidence_request,
    plain_source,
    request_header,
)
from kpitools.worklists.followup import _apply_replies, provider_words
from kpitools.worklists.replies import read_replies, returned_replies


def _exception(eid: str, rule: str, ref: str, source: str, message: str = "", **more: str) -> dict:
    return {
        "exception_id": eid,
        "rule": rule,
        "entity": f"learner:{ref} (L-x)" if ref else more.pop("entity"),
        "learner_ref": ref or None,
        "bootcamp_id": more.pop("bootcamp_id", "B1"),
        "source": source,
        "message": message,
        "status": more.pop("status", "open"),
    }


EXCEPTIONS = pd.DataFrame(
    [
        _exception("EX-000000000001", "NS-NO-INITIAL", "A", "learners.csv:2"),
        _exception("EX-000000000002", "NS-NO-FINAL", "A", "learners.csv:2"),  # same line as 1
        _exception(
            "EX-000000000003",
            "RESTATED-M1-DATE",
            "B",
            "learners.csv:3; 2023-02/learners.csv:3",
            "M1 date 2022-03-07 last month is now 2022-03-11",
        ),
        _exception(
            "EX-000000000004",
            "DUP-ULN-OVERLAP",
            "C",
            "learners.csv:4",
            "the learner has the ULN of provider P004's learner at learners.csv:13",
        ),
        _exception(
            "EX-000000000005",
            "COF-SIZE-MISMATCH",
            "",
            "employers.csv:9",
            "declared SME but 420 employees makes it large (SME below 250)",
            entity="employer:E8",
            bootcamp_id="ALL",
        ),
        _exception("EX-000000000006", "DROP-ABOVE-LIMIT", "", "", entity="bootcamp:B1"),
        _exception("EX-000000000007", "DUP-ROW", "D", "learners.csv:6", status="accepted"),
    ]
)


def test_one_line_per_learner_and_topic_with_plain_sources_and_values() -> None:
    request = evidence_request(EXCEPTIONS, "2023-03")
    assert list(request.columns) == list(REQUEST_COLUMNS)
    # A's two assessment asks are one line; DROP-ABOVE-LIMIT asks nothing; the accepted
    # DUP-ROW is closed
    assert list(request["exception_ids"]) == [
        "EX-000000000001, EX-000000000002",
        "EX-000000000004",
        "EX-000000000003",
        "EX-000000000005",
    ]
    assert list(request["line"]) == [1, 2, 3, 4]
    assert list(request["topic"]) == [
        "missing assessments",
        "duplicate records",
        "dates to confirm",
        "employer records",
    ]
    first = request.iloc[0]
    assert first["what_we_ask"] == (
        "the initial assessment, dated on or before M1; the final assessment"
    )
    assert first["where"] == "your learners file, line 2, March 2023 return"
    restated = request.iloc[2]
    assert (restated["value_before"], restated["value_now"]) == ("2022-03-07", "2022-03-11")
    assert restated["where"] == (
        "your learners file, line 3, March 2023 return; your learners file, line 3, "
        "February 2023 return"
    )
    # the other provider is not named to this one
    assert "P004" not in request.iloc[1]["what_we_found"]
    assert list(request["employer_id"]) == ["", "", "", "E8"]
    assert list(request["learner_ref"]) == ["A", "C", "B", ""]
    assert "L-" not in " ".join(request.astype(str).to_numpy().ravel())  # own refs only
    assert set(request["response"]) == {""}


def test_every_rule_a_provider_can_answer_is_asked_about() -> None:
    # every rule of the catalogue is asked about or named as not asked, with why; the
    # ILR's DfE rules are corrected in the next ILR file, validation rules are rejected rows
    for required in (
        "DUP-ULN-OVERLAP",
        "DUP-ROW",
        "RESTATED-M1-DATE",
        "COF-SIZE-MISMATCH",
        "DATE-ORDER",
        "EMP-UNKNOWN",
    ):
        assert required in EVIDENCE_NEEDED
    mismatches = {r for r in CATALOGUE if r.startswith("ILR-MISMATCH-")}
    assert mismatches <= set(EVIDENCE_NEEDED)
    for rule, found in CATALOGUE.items():
        if found.kpi == "validation" or rule in EVIDENCE_NEEDED:
            continue
        assert rule in NOT_ASKED or rule in ILR_RULES, rule
    assert set(EVIDENCE_NEEDED) <= set(CATALOGUE)


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("learners.csv:12", "your learners file, line 12, March 2023 return"),
        (
            "2023-02/cofunding_payments.csv:9",
            "your cofunding_payments file, line 9, February 2023 return",
        ),
        (
            "datasheet.xlsx[learners]:14",
            "your datasheet, sheet learners, row 14, March 2023 return",
        ),
        (
            "ilr/ILR-1-2223-20230331-180000-01.xml:3055",
            "your ILR file ILR-1-2223-20230331-180000-01.xml, line 3055",
        ),
    ],
)
def test_plain_sources(source: str, shown: str) -> None:
    assert plain_source(source, "2023-03") == shown


def _written(tmp_path: Path) -> Path:
    request = evidence_request(EXCEPTIONS, "2023-03")
    header = request_header(
        provider="Acme Training",
        provider_id="P001",
        period="2023-03",
        requested_by="Sam Auditor, WMCA",
        reply_date=date(2023, 4, 14),
        lines=len(request),
    )
    path = tmp_path / "evidence_request.xlsx"
    write_evidence_request(
        header, request, path, sheet_name=EVIDENCE_SHEET, layout=evidence_layout()
    )
    return path


def test_the_workbook_has_a_header_block_reply_columns_and_validation(tmp_path: Path) -> None:
    book = load_workbook(_written(tmp_path))
    sheet = book[EVIDENCE_SHEET]
    block = {sheet.cell(r, 1).value: sheet.cell(r, 2).value for r in range(1, 7)}
    assert block["Evidence request"] == "Acme Training (P001)"
    assert block["period"] == "March 2023 return (2023-03)"
    assert block["requested by"] == "Sam Auditor, WMCA"
    assert block["reply by"].date() == date(2023, 4, 14)
    assert "evidence_request.xlsx" in block["how to reply"]
    header = [c.value for c in sheet[8]]
    assert header == list(REQUEST_COLUMNS)
    assert sheet.freeze_panes == "C9" and sheet.auto_filter.ref == "A8:N12"
    rules = {str(v.sqref): (v.type, v.formula1) for v in sheet.data_validations.dataValidation}
    assert rules["N9:N1007"][0] == "date"
    assert rules["L9:L1007"] == ("textLength", "2000")
    assert rules["M9:M1007"] == ("textLength", "200")
    assert sheet["L8"].fill.fgColor.rgb.endswith("FFF2CC")  # the reply columns are shaded


def _reply(path: Path, line: int, response: str, reference: str = "", when: object = None) -> None:
    book = load_workbook(path)
    sheet = book[EVIDENCE_SHEET]
    row = 8 + line
    sheet.cell(row, 12).value = response
    sheet.cell(row, 13).value = reference
    sheet.cell(row, 14).value = when
    book.save(path)


def test_a_reply_goes_into_the_response_marked_as_the_providers_words(tmp_path: Path) -> None:
    path = _written(tmp_path)
    _reply(path, 1, '=HYPERLINK("http://x") assessments sent', "ASSESS-7", date(2023, 4, 10))
    _reply(path, 3, "the M1 date was wrong in February")
    read = read_replies(path)
    assert read.lines == 4 and set(read.replies) == {
        "EX-000000000001",
        "EX-000000000002",
        "EX-000000000003",
    }
    rows = [dict(r) for r in EXCEPTIONS.to_dict("records")]
    assert _apply_replies(rows, read) == 3
    first = rows[0]
    assert first["response"] == provider_words(
        read.replies["EX-000000000001"], "evidence_request.xlsx"
    )
    assert first["response"].startswith(
        "[provider's reply, evidence_request.xlsx line 1] =HYPERLINK"
    )
    assert (first["evidence_ref"], first["response_date"]) == ("ASSESS-7", date(2023, 4, 10))
    assert _apply_replies(rows, read) == 3 and rows[0]["response"] == first["response"]  # once


@pytest.mark.parametrize("damage", ["not a zip", "too many parts", "no lines"])
def test_a_bad_returned_request_is_not_used_with_a_note(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "evidence_request.xlsx"
    if damage == "not a zip":
        path.write_bytes(b"<html>not a workbook</html>")
    elif damage == "too many parts":
        with zipfile.ZipFile(path, "w") as archive:
            for n in range(1_001):
                archive.writestr(f"xl/part{n}.xml", "<x/>")
    else:
        book = Workbook()
        book.active["A1"] = "thanks, all fine"
        book.save(path)
    read = returned_replies(path, "P001")
    assert read is not None and not read.replies and not read.sha256
    assert read.notes[0].startswith(
        "the provider's evidence reply evidence_request.xlsx not used: "
    )
    assert returned_replies(None, "P001") is None


def test_a_returned_request_is_no_table_of_the_return(
    demo_dir: tuple[Path, object], tmp_path: Path
) -> None:
    # the folder reader reads the same tables and inputs with the returned request beside
    # them, and layout finds it (any case of its name)
    from kpitools import layout
    from kpitools.returns.folder import read_provider_folder

    folder = tmp_path / "2023-03" / "P001"
    shutil.copytree(demo_dir[0] / "2023-03" / "P001", folder)
    before = read_provider_folder(folder)
    assert layout.evidence_reply(folder) is None
    shutil.copy(_written(tmp_path), folder / "Evidence_Request.xlsx")
    after = read_provider_folder(folder)
    assert set(after.tables) == set(before.tables) and after.inputs == before.inputs
    assert after.warnings == before.warnings
    assert layout.evidence_reply(folder) == folder / "Evidence_Request.xlsx"
