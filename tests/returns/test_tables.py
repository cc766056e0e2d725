"""Strict reading of CSV files and datasheet.xlsx into raw rows with their row numbers."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kpitools.errors import FileLevelError
from kpitools.load import load_provider
from kpitools.returns.folder import read_provider_folder
from kpitools.returns.tables import csv_table, read_csv_table
from kpitools.returns.workbook import read_workbook

FIXTURE = Path(__file__).parents[1] / "fixtures" / "loaders" / "P001"
REFERRALS_HEADER = "learner_ref,bootcamp_id,referral_date,referred_to\n"


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path):
    data = b"\xef\xbb\xbf" + (REFERRALS_HEADER + "L1,B1,2023-02-10,Café\n").encode()
    raw, warnings = read_csv_table(write(tmp_path, "referrals.csv", data), "referrals")
    # Without stripping the BOM the first header would be '\ufefflearner_ref' and the
    # required column learner_ref would be missing.
    assert raw.cells["learner_ref"].tolist() == ["L1"]
    assert raw.cells["referred_to"].tolist() == ["Café"]
    assert warnings == []


def test_cp1252_is_read_with_a_warning_naming_the_file(tmp_path):
    path = write(
        tmp_path,
        "referrals.csv",
        (REFERRALS_HEADER + "L1,B1,2023-02-10,Café £5\n").encode("cp1252"),
    )
    raw, warnings = read_csv_table(path, "referrals")
    assert raw.cells["referred_to"].tolist() == ["Café £5"]
    assert len(warnings) == 1 and warnings[0].startswith("referrals.csv: read as cp1252")


def test_binary_file_is_a_file_level_error(tmp_path):
    path = write(tmp_path, "referrals.csv", b"PK\x03\x04\x00\x00binary")
    with pytest.raises(FileLevelError, match="referrals.csv: not a text file"):
        read_csv_table(path, "referrals")


def test_row_numbers_are_editor_lines_with_quoted_newlines_and_blank_lines(tmp_path):
    # line 1 header; line 2 L1; lines 3-4 L2 (quoted newline); line 5 blank; line 6 L3.
    text = (
        REFERRALS_HEADER
        + 'L1,B1,2023-02-10,x\nL2,B1,2023-02-10,"two\nlines"\n\nL3,B1,2023-02-10,y\n'
    )
    raw, _ = read_csv_table(write(tmp_path, "referrals.csv", text), "referrals")
    assert raw.rows.tolist() == [2, 3, 6]
    assert raw.source().tolist() == ["referrals.csv:2", "referrals.csv:3", "referrals.csv:6"]


def test_short_row_and_extra_field_are_row_problems(tmp_path):
    # line 2 has 3 fields of 4 (SHORT-ROW); line 3 has 5 (EXTRA-FIELD); line 4 has an
    # empty 5th field, as Excel writes trailing commas: not an extra field.
    text = REFERRALS_HEADER + "L1,B1,2023-02-10\nL2,B1,2023-02-10,x,surprise\nL3,B1,2023-02-10,y,\n"
    raw, _ = read_csv_table(write(tmp_path, "referrals.csv", text), "referrals")
    problems = raw.problems[["position", "column", "value", "rule"]].values.tolist()
    assert problems == [
        [0, "referred_to", "", "SHORT-ROW"],
        [1, "(beyond the last column)", "surprise", "EXTRA-FIELD"],
    ]
    assert raw.cells["referred_to"].tolist() == ["", "x", "y"]


def test_headers_match_ignoring_case_and_spaces_unknown_columns_warned(tmp_path):
    text = " Learner_Ref ,BOOTCAMP_ID,referral_date,Colour\nL1,B1,2023-02-10,red\n"
    raw, warnings = read_csv_table(write(tmp_path, "referrals.csv", text), "referrals")
    assert list(raw.cells.columns) == ["learner_ref", "bootcamp_id", "referral_date"]
    assert warnings == ["referrals.csv: column 'Colour' is not in the contract; ignored"]
    # the cells are kept as one grid of the contract columns (Colour dropped); the frame
    # is a view of it, made when asked for
    assert raw.columns == ("learner_ref", "bootcamp_id", "referral_date")
    assert raw.grid.tolist() == [["L1", "B1", "2023-02-10"]]
    assert np.shares_memory(raw.cells.to_numpy(), raw.grid)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "learner_ref,bootcamp_id,referral_date,Learner_Ref\n",
            "column 'learner_ref' appears twice",
        ),
        ("learner_ref,referral_date\nL1,2023-02-10\n", "required column 'bootcamp_id' is missing"),
        ("L1,B1,2023-02-10,x\n", "no header row"),
        ("", "empty file: no header row"),
        ("\n\n", "empty file: no header row"),
        ('learner_ref,bootcamp_id,referral_date\n"L1,B1,2023\n', "not a readable CSV file"),
    ],
)
def test_file_level_errors_name_the_file(tmp_path, text, message):
    with pytest.raises(FileLevelError, match=f"^referrals.csv.*{message}"):
        read_csv_table(write(tmp_path, "referrals.csv", text), "referrals")


def test_duplicated_header_error_carries_the_column(tmp_path):
    path = write(tmp_path, "referrals.csv", "learner_ref,bootcamp_id,referral_date,bootcamp_id\n")
    with pytest.raises(FileLevelError) as info:
        read_csv_table(path, "referrals")
    assert (info.value.path, info.value.column) == ("referrals.csv", "bootcamp_id")


def test_folder_with_datasheet_and_csv_is_ambiguous(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "P001")
    openpyxl.Workbook().save(tmp_path / "P001" / "datasheet.xlsx")
    with pytest.raises(
        FileLevelError, match="ambiguous return: both datasheet.xlsx and provider.csv"
    ):
        read_provider_folder(tmp_path / "P001")


def test_inputs_carry_sha256_and_rows():
    files = read_provider_folder(FIXTURE)
    learners = next(f for f in files.inputs if f.path == "learners.csv")
    assert learners.sha256 == hashlib.sha256((FIXTURE / "learners.csv").read_bytes()).hexdigest()
    assert (learners.rows, learners.tables) == (4, ("learners",))
    assert len(files.inputs) == 10


# --- datasheet.xlsx ------------------------------------------------------------------


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def fixture_as_workbook(target: Path) -> None:
    """The CSV fixture as a workbook the way Excel users store it: dates as date cells,
    amounts and counts as numbers, ids with leading zeros as text."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for csv_path in sorted(FIXTURE.glob("*.csv")):
        sheet = workbook.create_sheet(csv_path.stem)
        for number, row in enumerate(csv_rows(csv_path), start=1):
            sheet.append([excel_value(cell) if number > 1 else cell for cell in row])
    workbook.save(target / "datasheet.xlsx")


def excel_value(cell: str) -> object:
    if cell == "":
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(cell, fmt)
        except ValueError:
            pass
    if cell.isdigit() and not cell.startswith("0") and len(cell) < 15:
        return int(cell)
    if cell.startswith("="):
        return None  # openpyxl would store it as a formula; covered by its own test
    return cell


def test_same_data_as_csv_and_xlsx_gives_identical_tables(tmp_path):
    fixture_as_workbook(tmp_path)
    from_csv = load_provider(FIXTURE)
    from_xlsx = load_provider(tmp_path)
    assert from_xlsx.rejected.empty and from_csv.rejected.empty
    for name, frame in from_csv.tables.items():
        other = from_xlsx.tables[name]
        if name == "employer_contacts":  # the '=cheerful call' note is not in the workbook
            frame, other = frame.drop(columns="notes"), other.drop(columns="notes")
        pd.testing.assert_frame_equal(frame.drop(columns="source"), other.drop(columns="source"))
        # one sheet row per record (the CSV's quoted newline in learners takes two lines)
        rows = range(2, len(frame) + 2)
        assert other["source"].tolist() == [f"datasheet.xlsx[{name}]:{row}" for row in rows]
    assert from_csv.tables["learners"]["source"].tolist()[-1] == "learners.csv:6"
    assert from_xlsx.provider_id == "P001"
    assert [f.path for f in from_xlsx.inputs] == ["datasheet.xlsx"]


def workbook_with(
    tmp_path: Path, rows: list[list[object]], formats: dict[str, str] | None = None
) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Referrals "  # matched ignoring case and spaces
    for row in rows:
        sheet.append(row)
    for ref, number_format in (formats or {}).items():
        sheet[ref].number_format = number_format
    path = tmp_path / "datasheet.xlsx"
    workbook.save(path)
    return path


def test_xlsx_serial_date_number_format_ids_and_blank_rows(tmp_path):
    header = ["learner_ref", "bootcamp_id", "referral_date", "referred_to"]
    # row 2: id 123 shown as 000123, date as serial 44967 = 10 Feb 2023 (1900 system)
    # row 3: blank, skipped; row 4: id 7 in General format, a real date cell
    path = workbook_with(
        tmp_path,
        [header, [123, "B1", 44967, "x"], [None] * 4, [7, 1, dt.datetime(2023, 2, 11), None]],
        {"A2": "000000"},
    )
    tables, warnings = read_workbook(path)
    raw = tables["referrals"]
    assert raw.rows.tolist() == [2, 4]
    assert raw.cells["learner_ref"].tolist() == ["000123", "7"]
    assert raw.cells["bootcamp_id"].tolist() == ["B1", "1"]
    assert raw.cells["referral_date"].tolist() == ["2023-02-10", "2023-02-11"]
    assert raw.source().tolist() == ["datasheet.xlsx[referrals]:2", "datasheet.xlsx[referrals]:4"]
    assert warnings == []


def test_xlsx_id_that_lost_digits_and_extra_cell(tmp_path):
    header = ["learner_ref", "bootcamp_id", "referral_date", "referred_to"]
    path = workbook_with(tmp_path, [header, [12345678901234567, "B1", "2023-02-10", "x", "stray"]])
    raw = read_workbook(path)[0]["referrals"]
    rules = raw.problems[["column", "rule"]].values.tolist()
    assert rules == [["learner_ref", "BAD-ID"], ["(beyond the last column)", "EXTRA-FIELD"]]


def test_xlsx_formula_cell_uses_cached_value_never_evaluates(tmp_path):
    header = ["learner_ref", "bootcamp_id", "referral_date", "referred_to"]
    path = workbook_with(tmp_path, [header, ["L1", "B1", "2023-02-10", "=1+1"]])
    raw, warnings = read_workbook(path)
    # openpyxl stores no cached value, so the cell is blank, not "2" and not "=1+1".
    assert raw["referrals"].cells["referred_to"].tolist() == [""]
    assert warnings == [
        "datasheet.xlsx[referrals] row 2, column referred_to: cell holds the formula '=1+1'; "
        "no cached value, so it is blank (formulas are never evaluated)"
    ]


def test_xlsx_formula_in_a_personal_column_is_named_without_its_text(tmp_path):
    # a formula in given_name can spell a name: the warning names row and column only
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "learners"
    sheet.append(["learner_ref", "bootcamp_id", "learner_type", "start_date", "given_name"])
    sheet.append(["L1", "B1", "independent", "2023-01-09", '="Quin"&"tessa"'])
    sheet.append(["L2", "B1", "independent", "2023-01-09", "=1+1"])
    workbook.save(tmp_path / "datasheet.xlsx")
    warnings = read_workbook(tmp_path / "datasheet.xlsx")[1]
    assert warnings == [
        f"datasheet.xlsx[learners] row {row}, column given_name: cell holds a formula; no "
        "cached value, so it is blank (formulas are never evaluated)"
        for row in (2, 3)
    ]


def test_not_a_workbook_is_a_file_level_error(tmp_path):
    (tmp_path / "datasheet.xlsx").write_text("not a zip")
    with pytest.raises(FileLevelError, match="datasheet.xlsx: not a readable Excel workbook"):
        read_workbook(tmp_path / "datasheet.xlsx")


def test_windows_line_endings_count_as_one_line(tmp_path):
    text = (
        REFERRALS_HEADER.replace("\n", "\r\n")
        + 'L1,B1,2023-02-10,"a\r\nb"\r\nL2,B1,2023-02-10,c\r\n'
    )
    raw, _ = read_csv_table(write(tmp_path, "referrals.csv", text), "referrals")
    # header line 1, L1 lines 2-3 (quoted CRLF), L2 line 4
    assert raw.rows.tolist() == [2, 4]
    assert raw.cells["referred_to"].tolist() == ["a\r\nb", "c"]


@pytest.mark.parametrize(
    "body",
    [
        "L1,B1,2023-02-10,x\n\n , ,\nL2,B1,2023-02-10,y",  # blank lines; no final line break
        "L1,B1,2023-02-10,x\r\n\r\nL2,B1,2023-02-10,y\r\n\r\n",  # Windows line ends
        "L1,B1,2023-02-10,x\nL2,B1,2023-02-10,y\r\n",  # line ends mixed
        "L1,B1,2023-02-10,a\rb\nL2,B1,2023-02-10,y\n",  # a carriage return alone ends a line
        "L1,B1,2023-02-10\nL2,B1,2023-02-10,x,extra\nL3,B1,2023-02-10,y,\n",  # widths
        "L1,B1,2023-02-10,a\x0bb\u2028c\x85d\nL2, B1 ,2023-02-10,\t\n",  # not line ends
    ],
)
def test_unquoted_text_gives_the_rows_the_csv_module_reads(tmp_path, body):
    """A text without quotes is split at line ends and commas, not handed to the csv
    module: every row, line number, cell and problem must be what the csv module gives."""
    text = REFERRALS_HEADER + body
    raw, _ = read_csv_table(write(tmp_path, "referrals.csv", text), "referrals")
    records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    expected = [(n, r) for n, r in enumerate(records[1:], start=2) if "".join(r).strip()]
    assert raw.rows.tolist() == [n for n, _ in expected]
    assert raw.grid.tolist() == [(r + [""] * 4)[:4] for _, r in expected]
    quoted, _ = csv_table(  # the same cells, read by the csv module (a quoted header cell)
        ('"learner_ref"' + text[len("learner_ref") :]).encode(), "referrals.csv", "referrals"
    )
    assert quoted.grid.tolist() == raw.grid.tolist()
    assert quoted.rows.tolist() == raw.rows.tolist()
    assert quoted.problems.equals(raw.problems)


def test_xlsx_sheet_problems_name_the_sheet(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "referrals"
    workbook.active.append(["learner_ref", "bootcamp_id", "referral_date", "LEARNER_REF"])
    workbook.create_sheet("Notes")
    workbook.save(tmp_path / "datasheet.xlsx")
    with pytest.raises(
        FileLevelError, match=r"^datasheet.xlsx\[referrals\]: column 'learner_ref' appears twice"
    ):
        read_workbook(tmp_path / "datasheet.xlsx")
    workbook.active.delete_cols(4)
    workbook.save(tmp_path / "datasheet.xlsx")
    tables, warnings = read_workbook(tmp_path / "datasheet.xlsx")
    assert len(tables["referrals"]) == 0
    assert warnings == ["datasheet.xlsx: sheet 'Notes' is not a contract table; ignored"]


def test_cells_holding_control_characters_are_noted_by_row_and_column(tmp_path) -> None:
    # the outputs show them as \xNN; the warning says where, never what the value is
    names = ["Ann\x0bMarie"] * 4 + ["Zoë", "Zoë"]
    rows = [f"L{i},B1,independent,2023-01-09,{name}" for i, name in enumerate(names)]
    data = "learner_ref,bootcamp_id,learner_type,start_date,given_name\n" + "\n".join(rows)
    data = data.replace("L5,B1", "L5\x07,B1")
    _, warnings = csv_table(data.encode("utf-8"), "learners.csv", "learners")
    assert warnings == [
        "learners.csv: 5 cell(s) hold control characters (\\x0b, \\x07), shown as \\xNN "
        "escapes in every output: line 2 column given_name, line 3 column given_name, "
        "line 4 column given_name and 2 more"
    ]
    assert "Ann" not in warnings[0]
    _, clean = csv_table(
        data.replace("\x07", "").replace("\x0b", " ").encode(), "l.csv", "learners"
    )
    assert clean == []


def _with_member_text(path: Path, member: str, old: bytes, new: bytes) -> None:
    """Rewrite one member of a workbook, replacing ``old`` by ``new`` (a damaged file)."""
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w") as target:
        for info, data in members:
            target.writestr(info, data.replace(old, new) if info.filename == member else data)


def test_xlsx_number_cells_holding_no_number_are_rejected_rows_not_a_traceback(tmp_path):
    # <c><v>abc</v></c>: openpyxl raised ValueError, a traceback in `kpitools validate`
    fixture_as_workbook(tmp_path)
    book = openpyxl.load_workbook(tmp_path / "datasheet.xlsx")
    member = f"xl/worksheets/sheet{book.sheetnames.index('bootcamps') + 1}.xml"
    with zipfile.ZipFile(tmp_path / "datasheet.xlsx") as archive:
        sheet = archive.read(member)
    planned = b'<c r="H2" t="n"><v>20</v></c>'  # planned_learners of B1
    assert planned in sheet
    _with_member_text(
        tmp_path / "datasheet.xlsx", member, planned, b'<c r="H2" t="n"><v>abc</v></c>'
    )
    provider = load_provider(tmp_path)
    rejected = provider.rejected[provider.rejected["table"] == "bootcamps"]
    assert rejected[["source", "column", "value", "rule"]].values.tolist() == [
        ["datasheet.xlsx[bootcamps]:2", "planned_learners", "abc", "BAD-INT"]
    ]
    assert provider.counts["bootcamps"].balances
    assert (
        f"datasheet.xlsx: {member} cell H2 is marked as a number but holds none (a damaged "
        "workbook); read as the text it holds"
    ) in provider.warnings


def test_a_table_file_that_is_a_folder_is_one_error_even_beside_ilr_files(tmp_path):
    # learners.csv as a folder was passed over: with ilr/ the learners came from the ILR
    # without a word
    folder = shutil.copytree(FIXTURE, tmp_path / "P001")
    (folder / "learners.csv").unlink()
    (folder / "learners.csv").mkdir()
    (folder / "ilr").mkdir()
    ilr = (
        Path(__file__).parents[1] / "fixtures" / "ilr" / "ILR-10012345-2223-20230331-120000-01.xml"
    )
    shutil.copy(ilr, folder / "ilr")
    with pytest.raises(FileLevelError) as refused:
        load_provider(folder)
    assert refused.value.one_line() == (
        f"{folder / 'learners.csv'}: is not a file (a folder?), so its table cannot be read; "
        "put the file itself there"
    )
