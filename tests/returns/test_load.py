"""load_provider end to end on the hand-made fixture, and the `kpitools validate` command."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpitools.cli import main
from kpitools.errors import FileLevelError
from kpitools.load import load_provider
from kpitools.model import TableCount
from kpitools.returns.contract import TABLES

FIXTURE = Path(__file__).parents[1] / "fixtures" / "loaders" / "P001"


@pytest.fixture
def provider_dir(tmp_path: Path) -> Path:
    target = tmp_path / "P001"
    shutil.copytree(FIXTURE, target)
    return target


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(text)


def test_fixture_loads_clean_with_typed_tables():
    # The fixture: 1 provider, 2 bootcamps, 2 employers, 4 learners (L3's given name holds
    # a quoted newline, so L4 is on line 6), 2 contacts, 1 payment, 2 assessments,
    # 1 interview, 1 outcome, 1 referral; every row valid.
    loaded = load_provider(FIXTURE)
    assert loaded.provider_id == "P001" and loaded.provider_name == "Northern Skills Ltd"
    assert loaded.ukprn == "10001234"
    read = {name: count.read for name, count in loaded.counts.items()}
    assert read == {
        "provider": 1,
        "bootcamps": 2,
        "employers": 2,
        "learners": 4,
        "employer_contacts": 2,
        "cofunding_payments": 1,
        "assessments": 2,
        "interviews": 1,
        "outcomes": 1,
        "referrals": 1,
    }
    assert all(c.accepted == c.read and c.rejected == 0 for c in loaded.counts.values())
    learners = loaded.tables["learners"]
    assert learners["learner_ref"].tolist() == ["000123", "000124", "L3", "L4"]
    assert learners["family_name"].tolist() == ["NA", "O'Neil", "Park", "None"]
    assert learners["source"].tolist()[-1] == "learners.csv:6"
    assert learners["wants_interview"].tolist() == [True, False, True, False]
    assert loaded.tables["bootcamps"]["price_per_learner"].tolist() == [3000.0, 4500.5]
    assert loaded.tables["cofunding_payments"]["amount"].tolist() == [1350.15]
    # a note starting with '=' stays text (neutralised on output, not here)
    assert loaded.tables["employer_contacts"]["notes"].tolist() == ["=cheerful call", "voicemail"]
    assert loaded.warnings == []


def test_planted_bad_rows_are_rejected_and_balanced(provider_dir):
    # learners: line 6 unknown bootcamp; line 7 bad ULN check digit; line 8 duplicate of
    # line 2; line 9 a short row. Read 4 + 4 = 8, rejected 4, accepted 4.
    append(
        provider_dir / "learners.csv",
        "L5,,B9,independent,,,2023-01-09,,,,,,A,B\n"
        "L6,1234567890,B1,independent,,,2023-01-09,,,,,,A,B\n"
        "000123,,B1,independent,,,2023-01-09,,,,,,A,B\n"
        "L8,,B1,independent,,,2023-01-09\n",
    )
    loaded = load_provider(provider_dir)
    assert loaded.counts["learners"] == TableCount("learners", 8, 4, 4)
    assert list(loaded.rejected[["source", "rule"]].itertuples(index=False, name=None)) == [
        ("learners.csv:7", "REF-BOOTCAMP"),
        ("learners.csv:8", "BAD-ULN"),
        ("learners.csv:9", "DUP-KEY"),
        ("learners.csv:10", "SHORT-ROW"),
    ]


def test_required_table_absent_is_a_file_level_error(provider_dir):
    (provider_dir / "bootcamps.csv").unlink()
    with pytest.raises(
        FileLevelError,
        match=r"P001: required table 'bootcamps' is absent \(expected bootcamps.csv\)",
    ):
        load_provider(provider_dir)


def test_learners_may_come_from_ilr_when_absent(provider_dir):
    # Without learners.csv the folder is still a return when ilr/*.xml is present; the
    # learners then come from the ILR (tests/test_load_provider.py), so a file that
    # is not an ILR of a known year stops the provider with a message naming it.
    (provider_dir / "learners.csv").unlink()
    with pytest.raises(FileLevelError, match="required table 'learners'"):
        load_provider(provider_dir)
    (provider_dir / "ilr").mkdir()
    (provider_dir / "ilr" / "ILR-10001234.xml").write_text("<Message/>")
    with pytest.raises(FileLevelError, match="ILR-10001234.xml"):
        load_provider(provider_dir)


def test_absent_optional_tables_are_empty_and_typed(provider_dir):
    (provider_dir / "outcomes.csv").unlink()
    loaded = load_provider(provider_dir)
    assert loaded.counts["outcomes"] == TableCount("outcomes", 0, 0, 0)
    assert str(loaded.tables["outcomes"]["outcome_date"].dtype) == "datetime64[ns]"


def test_provider_id_given_or_from_file(provider_dir):
    renamed = provider_dir.rename(provider_dir.parent / "P999")
    loaded = load_provider(renamed)
    assert loaded.provider_id == "P001"
    assert loaded.warnings == ["provider.csv names provider 'P001' but the folder is 'P999'"]
    assert load_provider(renamed, provider_id="X1").provider_id == "X1"


def test_missing_folder(tmp_path):
    with pytest.raises(FileLevelError, match="not a provider folder"):
        load_provider(tmp_path / "nowhere")


# --- kpitools validate ----------------------------------------------------------------


def test_cli_clean_provider_exits_0():
    result = CliRunner().invoke(main, ["validate", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    assert "  learners                   4         4         0  yes" in result.output


def test_cli_lists_rejected_rows_and_exits_1(provider_dir):
    append(provider_dir / "learners.csv", "L9,,B1,independent,,,2023-01-09,31/02/2023,,,,,A,B\n")
    result = CliRunner().invoke(main, ["validate", str(provider_dir)])
    assert result.exit_code == 1
    assert (
        "learners.csv line 7, column m1_date, value '31/02/2023': not a date "
        "(expected YYYY-MM-DD or DD/MM/YYYY, day first) [BAD-DATE]"
    ) in result.output
    assert "  learners                   5         4         1  yes" in result.output


def test_cli_file_level_error_exits_2_and_other_providers_go_on(provider_dir, tmp_path):
    broken = tmp_path / "P002"
    shutil.copytree(FIXTURE, broken)
    (broken / "learners.csv").write_text("learner_ref,learner_ref\n")
    result = CliRunner().invoke(main, ["validate", str(broken), str(provider_dir)])
    assert result.exit_code == 2
    message = f"error: {broken / 'learners.csv'}: column 'learner_ref' appears twice in the header"
    assert result.stderr == message + "\n"
    assert "Traceback" not in result.output
    assert "P001 (" in result.stdout


def test_cli_shows_warnings(provider_dir):
    data = (provider_dir / "referrals.csv").read_text(
        encoding="utf-8"
    ) + "000124,B1,2023-02-11,Café\n"
    (provider_dir / "referrals.csv").write_bytes(data.encode("cp1252"))
    result = CliRunner().invoke(main, ["validate", str(provider_dir)])
    assert "warning: referrals.csv: read as cp1252" in result.output
    assert result.exit_code == 0


def test_contract_doc_names_every_table_and_column():
    # docs/contract.md is the project's own statement of the contract: it must keep up.
    doc = (Path(__file__).parents[2] / "docs" / "contract.md").read_text(encoding="utf-8")
    for name, table in TABLES.items():
        assert f"### {name}\n" in doc
        for column in table.columns:
            assert f"| {column.name} | {column.kind} |" in doc, (name, column.name)


def test_cli_escapes_control_characters_in_data(provider_dir):
    # An id holding ANSI escapes (clear screen, cursor up) and a carriage return must be
    # shown, not obeyed: every line printed shows them as \xNN (the row's one rejected
    # value: a row with two is withheld whole, as a shifted row would be)
    learners = provider_dir / "learners.csv"
    append(learners, '"L\x1b[2J\x1b[1A\r9",,B1,independent,,,2023-01-09,,,,,,A,B\n')
    result = CliRunner().invoke(main, ["validate", str(provider_dir)])
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\r" not in result.output
    assert "L\\x1b[2J\\x1b[1A\\r9" in result.output


def test_cli_escapes_control_characters_in_one_line_errors(provider_dir):
    (provider_dir / "learners.csv").write_text("learner_ref,Learner_Ref\n")
    broken = provider_dir.parent / "P\x1b[2J"
    provider_dir.rename(broken)
    result = CliRunner().invoke(main, ["validate", str(broken)])
    assert result.exit_code == 2
    assert "\x1b" not in result.output
    assert "P\\x1b[2J" in result.stderr
