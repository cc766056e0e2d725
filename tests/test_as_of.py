"""One reader of the measurement date the user gives: every command's ``--as-of`` takes
``YYYY-MM-DD`` and refuses the same other forms the same way (one line, exit 2)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpitools.calendar import parse_date
from kpitools.cli import main
from kpitools.errors import ParameterError

PROVIDER = Path(__file__).parent / "fixtures" / "loaders" / "P001"


def test_iso_date_is_read_and_blank_is_none() -> None:
    assert parse_date("2023-03-31", name="--as-of") == date(2023, 3, 31)
    assert parse_date(" 2023-03-31 ", name="--as-of") == date(2023, 3, 31)
    assert parse_date("", name="--as-of") is None


@pytest.mark.parametrize("text", ["2023-W13-5", "2023-3-31", "20230331", "2023-02-30", "31/03/2023"])
def test_other_forms_are_refused(text: str) -> None:
    with pytest.raises(ParameterError, match="--as-of"):
        parse_date(text, name="--as-of")


@pytest.mark.parametrize("command", ["kpis", "sample"])
@pytest.mark.parametrize("text", ["2023-W13-5", "2023-3-31"])
def test_every_command_refuses_them_alike(tmp_path: Path, command: str, text: str) -> None:
    result = CliRunner().invoke(main, [command, str(PROVIDER), "--as-of", text, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "--as-of" in result.output and "YYYY-MM-DD" in result.output
    assert not (tmp_path / "o").exists()
