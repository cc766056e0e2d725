from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kpitools.calendar import (
    add_months,
    add_months_series,
    iso,
    parse_date,
    period_end,
    period_of,
    previous_period,
)
from kpitools.cli import main
from kpitools.errors import ParameterError


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # leap year: last day of February
        (date(2022, 8, 31), 6, date(2023, 2, 28)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2023, 3, 15), 1, date(2023, 4, 15)),  # keeps the day of the month
        (date(2023, 12, 10), 1, date(2024, 1, 10)),  # crosses the year
    ],
)
def test_add_months_keeps_day_or_takes_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_series_version_agrees_with_scalar():
    days = pd.Series(pd.to_datetime(["2023-08-31", "2022-08-31", None, "2023-03-15"]))
    shifted = add_months_series(days, 6)
    assert shifted.iloc[0].date() == date(2024, 2, 29)
    assert shifted.iloc[1].date() == date(2023, 2, 28)
    assert pd.isna(shifted.iloc[2])
    assert shifted.iloc[3].date() == date(2023, 9, 15)


def test_periods():
    assert period_end("2024-02") == date(2024, 2, 29)
    assert previous_period("2023-01") == "2022-12"
    with pytest.raises(ValueError):
        period_end("2023-13")


def test_as_of_outside_the_period_names_both():
    from kpitools.calendar import as_of_outside

    assert as_of_outside(date(2023, 3, 1), "2023-03") is None
    assert as_of_outside(date(2023, 3, 31), "2023-03") is None
    assert as_of_outside(date(2023, 3, 15), None) is None
    before = as_of_outside(date(2023, 2, 28), "2023-03")
    after = as_of_outside(date(2023, 4, 1), "2023-03")
    assert before.startswith(
        "as_of 2023-02-28 is outside the period 2023-03 (2023-03-01 to 2023-03-31)"
    )
    assert after.startswith("as_of 2023-04-01 is outside the period 2023-03")


def test_iso_writes_a_date_and_says_what_a_missing_one_is() -> None:
    for value in (pd.Timestamp("2023-03-31"), date(2023, 3, 31), np.datetime64("2023-03-31")):
        assert iso(value) == "2023-03-31"
    for missing in (None, pd.NaT, np.nan, pd.NA, "", "  "):
        assert iso(missing) == ""  # the KPIs' messages
        assert iso(missing, missing="blank") == "blank"  # the irregularity checks'


def test_period_of_a_date_on_both_sides_of_a_month_end() -> None:
    assert period_of(date(2023, 3, 31)) == "2023-03"
    assert period_of(date(2023, 4, 1)) == "2023-04"
    assert period_of(date(999, 12, 1)) == "0999-12"


# --- the measurement date the user gives: one reader ------------------------------------
# every command's --as-of takes YYYY-MM-DD and refuses the same other forms the same way
# (one line, exit 2)

PROVIDER = Path(__file__).parent / "fixtures" / "loaders" / "P001"


def test_iso_date_is_read_and_blank_is_none() -> None:
    assert parse_date("2023-03-31", name="--as-of") == date(2023, 3, 31)
    assert parse_date(" 2023-03-31 ", name="--as-of") == date(2023, 3, 31)
    assert parse_date("", name="--as-of") is None


@pytest.mark.parametrize(
    "text", ["2023-W13-5", "2023-3-31", "20230331", "2023-02-30", "31/03/2023"]
)
def test_other_forms_are_refused(text: str) -> None:
    with pytest.raises(ParameterError, match="--as-of"):
        parse_date(text, name="--as-of")


@pytest.mark.parametrize("command", ["kpis", "sample"])
@pytest.mark.parametrize("text", ["2023-W13-5", "2023-3-31"])
def test_every_command_refuses_them_alike(tmp_path: Path, command: str, text: str) -> None:
    result = CliRunner().invoke(
        main, [command, str(PROVIDER), "--as-of", text, "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2, result.output
    assert "--as-of" in result.output and "YYYY-MM-DD" in result.output
    assert not (tmp_path / "o").exists()
