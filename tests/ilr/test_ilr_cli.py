"""`kpitools ilr FILE...`: counts, rejected learners, hostile files as one line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kpitools.cli import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ilr"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["ilr", *args])
    return result.exit_code, result.stdout, result.stderr


def test_counts_bootcamp_and_ignored_learners() -> None:
    code, out, _ = _run(str(FIXTURES / "ILR-10012345-2223-20230331-120000-01.xml"))
    # 5 learners: 4 on a bootcamp, L003 (adult skills) ignored; 1 interview offer
    assert code == 0
    assert "learners read: 5 (Skills Bootcamp: 4, other learners ignored: 1)" in out
    assert "learners: 4 bootcamp rows = 4 mapped + 0 rejected" in out
    assert "interviews: 1, outcomes: 0" in out
    assert "Testone" not in out and "1000000043" not in out  # no personal data


def test_rejected_learner_gives_exit_1_with_file_row_column() -> None:
    code, out, _ = _run(str(FIXTURES / "ILR-10012345-2425-20250228-170000-02.xml"))
    assert code == 1
    assert "02.xml:31: LearnStartDate '2024-13-01'" in out and "[BAD-DATE]" in out


def test_hostile_file_is_one_line_on_stderr_and_exit_2() -> None:
    code, out, err = _run(str(FIXTURES / "hostile" / "external_entity_passwd.xml"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "DOCTYPE" in err and "Traceback" not in err


def test_a_rejected_birth_date_is_withheld_on_the_terminal(tmp_path: Path) -> None:
    # a date of birth is personal data even when it is not a date: rejected, not printed
    source = FIXTURES / "ILR-10012345-2223-20230331-120000-01.xml"
    text = source.read_text(encoding="utf-8").replace(
        "<DateOfBirth>1990-04-12</DateOfBirth>", "<DateOfBirth>1987-02-30</DateOfBirth>", 1
    )
    assert "1987-02-30" in text
    (tmp_path / source.name).write_text(text, encoding="utf-8")
    code, out, err = _run(str(tmp_path / source.name))
    assert code == 1
    assert "DateOfBirth [withheld]: not a date" in out
    assert "1987-02-30" not in out + err
