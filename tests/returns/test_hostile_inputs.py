"""Hostile and damaged inputs (issue 14): mixed encodings, over-long cells, files that
differ only in case, a provider.csv without its row, and workbook bombs."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpitools.errors import FileLevelError
from kpitools.load import load_provider
from kpitools.returns import workbook as workbook_module
from kpitools.returns.folder import read_provider_folder
from kpitools.returns.tables import read_csv_table
from kpitools.returns.validate import validate_tables
from kpitools.returns.workbook import MAX_SHEET_COLUMNS, MAX_SHEET_ROWS, read_workbook
from kpitools.text import MAX_CELL_CHARS

FIXTURE = Path(__file__).parents[1] / "fixtures" / "loaders" / "P001"
HEADER = "learner_ref,bootcamp_id,referral_date,referred_to\n"
HEADER_CELLS = ["learner_ref", "bootcamp_id", "referral_date", "referred_to"]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- encodings ------------------------------------------------------------------------


def test_utf8_file_with_one_cp1252_byte_is_refused_naming_line_and_byte(tmp_path):
    # line 2 is UTF-8 'Zoë' (c3 ab); line 3 holds 'é' typed as cp1252 (one byte e9).
    # Decoding the whole file as cp1252 would turn line 2 into 'ZoÃ«'.
    head = (HEADER + "L1,B1,2023-02-10,Zoë\n").encode("utf-8")
    data = head + b"L2,B1,2023-02-10,Ren\xe9\n"
    offset = len(head) + len("L2,B1,2023-02-10,Ren")
    with pytest.raises(FileLevelError) as info:
        read_csv_table(write(tmp_path, "referrals.csv", data), "referrals")
    assert info.value.row == 3
    assert info.value.one_line() == (
        f"referrals.csv line 3: mixed encodings: the file is UTF-8 but byte {offset} (0xe9) "
        "is not; re-save the file as UTF-8 (check the accented letters of that line)"
    )


def test_byte_offset_counts_the_byte_order_mark(tmp_path):
    data = b"\xef\xbb\xbf" + (HEADER + "L1,B1,2023-02-10,Zoë\n").encode() + b"\xe9\n"
    with pytest.raises(FileLevelError, match=f"byte {len(data) - 2} "):
        read_csv_table(write(tmp_path, "referrals.csv", data), "referrals")


def test_pure_cp1252_file_is_still_read_with_the_warning(tmp_path):
    data = (HEADER + "L1,B1,2023-02-10,Zoë\nL2,B1,2023-02-10,René £5\n").encode("cp1252")
    raw, warnings = read_csv_table(write(tmp_path, "referrals.csv", data), "referrals")
    assert raw.cells["referred_to"].tolist() == ["Zoë", "René £5"]
    assert warnings == [
        "referrals.csv: read as cp1252 (Windows) text, not UTF-8; please save as UTF-8"
    ]


# --- one cell-size limit, rejecting the row -------------------------------------------


def test_csv_cell_over_the_limit_rejects_its_row_not_the_file(tmp_path):
    # line 2: a cell of exactly the limit is kept; line 3: one character more (and line
    # 4: a 1 MB cell) reject their row; line 5 is ordinary.
    text = (
        HEADER
        + f"L1,B1,2023-02-10,{'a' * MAX_CELL_CHARS}\n"
        + f"L2,B1,2023-02-10,{'b' * (MAX_CELL_CHARS + 1)}\n"
        + f'L3,B1,2023-02-10,"{"c," * 2**19}"\n'
        + "L4,B1,2023-02-10,x\n"
    )
    raw, _ = read_csv_table(write(tmp_path, "referrals.csv", text.encode()), "referrals")
    assert raw.rows.tolist() == [2, 3, 4, 5]
    problems = raw.problems[["position", "column", "value", "reason", "rule"]].values.tolist()
    assert problems == [
        [1, "referred_to", "", "cell of 32,768 characters; the limit is 32,767", "CELL-TOO-LONG"],
        [
            2,
            "referred_to",
            "",
            "cell of 1,048,576 characters; the limit is 32,767",
            "CELL-TOO-LONG",
        ],
    ]
    assert len(raw.cells.loc[0, "referred_to"]) == MAX_CELL_CHARS
    assert raw.cells.loc[1:2, "referred_to"].tolist() == ["", ""]  # not kept in memory


def test_long_cell_beyond_the_last_column_is_not_kept_either(tmp_path):
    text = HEADER + f"L1,B1,2023-02-10,x,{'z' * (MAX_CELL_CHARS + 1)}\n"
    raw, _ = read_csv_table(write(tmp_path, "referrals.csv", text.encode()), "referrals")
    assert raw.problems[["column", "value", "rule"]].values.tolist() == [
        ["(beyond the last column)", "(32,768 characters)", "EXTRA-FIELD"]
    ]


def test_long_cell_made_of_short_lines_is_caught_too(tmp_path):
    # every line is short, but the quoted cell spanning them is over the limit
    text = HEADER + 'L1,B1,2023-02-10,"' + "ab\n" * 11_000 + '"\nL2,B1,2023-02-10,x\n'
    raw, _ = read_csv_table(write(tmp_path, "referrals.csv", text.encode()), "referrals")
    assert raw.problems[["position", "rule"]].values.tolist() == [[0, "CELL-TOO-LONG"]]
    assert raw.rows.tolist() == [2, 11_003]


def test_xlsx_cell_over_the_same_limit_rejects_its_row(tmp_path):
    # written by hand: openpyxl cuts long cells when it writes, Excel would not read them
    sheet = (
        inline_row(1, HEADER_CELLS)
        + inline_row(2, ["L1", "B1", "2023-02-10", "a" * MAX_CELL_CHARS])
        + inline_row(3, ["L2", "B1", "2023-02-10", "b" * 2**20])
    )
    tables, _ = read_workbook(raw_workbook(tmp_path / "datasheet.xlsx", sheet))
    raw = tables["referrals"]
    assert raw.problems[["position", "column", "rule"]].values.tolist() == [
        [1, "referred_to", "CELL-TOO-LONG"]
    ]
    _, rejected, counts = validate_tables({"referrals": raw})
    assert (counts["referrals"].read, counts["referrals"].rejected) == (2, 2)  # REF-LEARNER too
    assert "CELL-TOO-LONG" in set(
        rejected.loc[rejected["source"] == "datasheet.xlsx[referrals]:3", "rule"]
    )


# --- folders --------------------------------------------------------------------------


def test_table_files_differing_only_in_case_refuse_the_provider(tmp_path):
    folder = shutil.copytree(FIXTURE, tmp_path / "P001")
    shutil.copy(folder / "learners.csv", folder / "learners.CSV")
    with pytest.raises(FileLevelError) as info:
        read_provider_folder(folder)
    assert info.value.one_line() == (
        f"{folder}: learners.CSV and learners.csv are two files for one table "
        "(names differ only in case); keep one"
    )


def test_other_files_differing_in_case_are_no_concern(tmp_path):
    folder = shutil.copytree(FIXTURE, tmp_path / "P001")
    (folder / "notes.txt").write_text("a")
    (folder / "NOTES.txt").write_text("b")
    assert len(read_provider_folder(folder).inputs) == 10


def test_header_only_provider_csv_refuses_the_provider(tmp_path):
    folder = shutil.copytree(FIXTURE, tmp_path / "P001")
    (folder / "provider.csv").write_text("provider_id,name,ukprn\n")
    with pytest.raises(FileLevelError) as info:
        load_provider(folder)
    assert info.value.one_line() == (
        f"{folder / 'provider.csv'}: has a header but no provider row "
        "(provider_id, name, ukprn); add the row"
    )


# --- workbook limits, checked before openpyxl parses ----------------------------------


def raw_workbook(path: Path, sheet_xml: bytes, shared_strings: bytes | None = None) -> Path:
    """A minimal xlsx written by hand, so a test can build what openpyxl never would."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    pkg = "http://schemas.openxmlformats.org/package/2006"
    doc = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            (
                f'<Types xmlns="{pkg}/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                "</Types>"
            ),
        )
        archive.writestr(
            "_rels/.rels",
            (
                f'<Relationships xmlns="{pkg}/relationships"><Relationship Id="rId1" '
                f'Type="{doc}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ),
        )
        archive.writestr(
            "xl/workbook.xml",
            (
                f'<workbook {ns} {rel_ns}><sheets><sheet name="referrals" sheetId="1" r:id="rId1"/>'
                "</sheets></workbook>"
            ),
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            (
                f'<Relationships xmlns="{pkg}/relationships"><Relationship Id="rId1" '
                f'Type="{doc}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
            ),
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f"<worksheet {ns}><sheetData>".encode() + sheet_xml + b"</sheetData></worksheet>",
        )
        if shared_strings is not None:
            archive.writestr(
                "xl/sharedStrings.xml", f"<sst {ns}>".encode() + shared_strings + b"</sst>"
            )
    return path


def inline_row(number: int, cells: list[str]) -> bytes:
    parts = [
        f'<c r="{openpyxl.utils.get_column_letter(i)}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
        for i, text in enumerate(cells, start=1)
    ]
    return f'<row r="{number}">{"".join(parts)}</row>'.encode()


def test_hand_built_workbook_within_the_limits_is_read(tmp_path):
    # the control for the bombs below: the same construction, within the limits
    sheet = inline_row(1, HEADER_CELLS) + inline_row(2, ["L1", "B1", "2023-02-10", "x"])
    tables, _ = read_workbook(raw_workbook(tmp_path / "datasheet.xlsx", sheet))
    assert tables["referrals"].cells["learner_ref"].tolist() == ["L1"]


def test_masses_of_empty_rows_are_refused_before_parsing(tmp_path):
    # Empty rows compress to almost nothing (2 M of them in 1.7 MB ran past 300 s);
    # just past the limit is enough to show the refusal.
    rows = b"".join(b'<row r="%d"/>' % n for n in range(2, MAX_SHEET_ROWS + 100))
    path = raw_workbook(tmp_path / "datasheet.xlsx", inline_row(1, HEADER_CELLS) + rows)
    with pytest.raises(FileLevelError) as info:
        read_workbook(path)
    assert info.value.one_line() == (
        f"datasheet.xlsx: workbook too large to read: sheet sheet1.xml reaches row "
        f"{MAX_SHEET_ROWS + 1:,}, the limit is {MAX_SHEET_ROWS:,} (MAX_SHEET_ROWS); send the "
        "tables as CSV files or split the workbook"
    )


def test_one_cell_far_down_or_far_right_is_refused(tmp_path):
    # a single cell in Excel's last row (or column) makes openpyxl pad up to it
    far_down = (
        inline_row(1, HEADER_CELLS)
        + b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    )
    with pytest.raises(FileLevelError, match="reaches row 1,048,576"):
        read_workbook(raw_workbook(tmp_path / "down.xlsx", far_down))
    far_right = (
        inline_row(1, HEADER_CELLS)
        + b'<row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>'
    )
    with pytest.raises(FileLevelError, match="row 2 reaches column 16,384.*MAX_SHEET_COLUMNS"):
        read_workbook(raw_workbook(tmp_path / "right.xlsx", far_right))
    at_limit = inline_row(1, HEADER_CELLS) + (
        b'<row r="2"><c r="%s2" t="inlineStr"><is><t>x</t></is></c></row>'
        % openpyxl.utils.get_column_letter(MAX_SHEET_COLUMNS).encode()
    )
    tables, _ = read_workbook(raw_workbook(tmp_path / "edge.xlsx", at_limit))
    assert tables["referrals"].problems["rule"].tolist() == ["EXTRA-FIELD"]


def test_too_many_shared_strings_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(workbook_module, "MAX_SHARED_STRINGS", 10)
    sheet = inline_row(1, HEADER_CELLS)
    strings = b"<si><t>a</t></si>" * 11
    with pytest.raises(
        FileLevelError, match=r"more than 10 shared strings.*\(MAX_SHARED_STRINGS\)"
    ):
        read_workbook(raw_workbook(tmp_path / "datasheet.xlsx", sheet, strings))
    read_workbook(raw_workbook(tmp_path / "ok.xlsx", sheet, b"<si><t>a</t></si>" * 10))


def test_uncompressed_size_over_the_limit_is_refused_from_the_zip_directory(tmp_path):
    # 30 M shared strings: over the size limit before a single one is parsed
    size = workbook_module.MAX_XLSX_UNCOMPRESSED_BYTES
    strings = b"<si><t>a</t></si>" * (size // 17 + 1)
    path = raw_workbook(tmp_path / "datasheet.xlsx", inline_row(1, HEADER_CELLS), strings)
    with pytest.raises(
        FileLevelError, match=r"bytes uncompressed, the limit is 52,428,800 \(MAX_XLSX"
    ):
        read_workbook(path)


def test_a_zip_that_is_not_a_workbook_is_one_line(tmp_path):
    path = tmp_path / "datasheet.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row")
    with pytest.raises(
        FileLevelError,
        match=r"not a readable Excel workbook \(XMLSyntaxError in xl/worksheets/sheet1.xml\)",
    ):
        read_workbook(path)
