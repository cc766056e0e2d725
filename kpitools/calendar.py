"""Calendar arithmetic of the guidance: calendar months, windows, reporting periods.

"+ 1 calendar month" and "+ 6 calendar months" keep the day of the month, or take the
month's last day where it has none (31 August + 6 months = 28 or 29 February). Windows
include both ends.
"""

from __future__ import annotations

import calendar as _cal
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

from kpitools.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day.

    >>> add_months(date(2023, 8, 31), 6)
    datetime.date(2024, 2, 29)
    """
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = _cal.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def add_months_series(days: pd.Series, months: int) -> pd.Series:
    """Vectorised :func:`add_months` for a datetime64 Series (NaT stays NaT).

    pandas' ``DateOffset(months=n)`` clamps to the month end exactly as the guidance asks.
    """
    import pandas as pd  # here: a pack worker imports this module (kpitools.layout) only

    return days + pd.DateOffset(months=months)


def iso(value: object, *, missing: str = "") -> str:
    """A date (Timestamp, date, datetime64) as ``YYYY-MM-DD``, for messages; ``missing``
    when there is none (None, NaN, NaT, pd.NA or blank text).

    The KPIs write a missing date as nothing, the irregularity checks as ``missing="blank"``.
    """
    import pandas as pd  # here: a pack worker imports this module (kpitools.layout) only

    if value is None or (isinstance(value, str) and not value.strip()):
        return missing
    try:
        if pd.isna(value):
            return missing
    except (TypeError, ValueError):  # not a scalar: let pandas say what it is below
        pass
    return pd.Timestamp(value).date().isoformat()


def parse_period(period: str) -> tuple[int, int]:
    """``"2023-03"`` → ``(2023, 3)``; anything else is a ValueError."""
    match = _PERIOD.match(str(period))
    if not match:
        raise ValueError(f"period {period!r} is not YYYY-MM")
    return int(match.group(1)), int(match.group(2))


def period_end(period: str) -> date:
    """The last day of a reporting period: the default ``as_of``."""
    year, month = parse_period(period)
    return date(year, month, _cal.monthrange(year, month)[1])


def period_of(day: date) -> str:
    """The reporting period ``YYYY-MM`` a date falls in: ``date(2023, 3, 31)`` → ``"2023-03"``."""
    return f"{day.year:04d}-{day.month:02d}"


def previous_period(period: str) -> str:
    """``"2023-03"`` → ``"2023-02"``."""
    year, month = parse_period(period)
    return period_of(date(year, month, 1) - timedelta(days=1))


def as_of_outside(as_of: date, period: str | None) -> str | None:
    """A warning when ``as_of`` is not in the period's month (measuring March's return
    at a date in May is allowed, but rarely meant), naming both; else None."""
    if not period:
        return None
    try:
        year, month = parse_period(period)
    except ValueError:
        return None
    if (as_of.year, as_of.month) == (year, month):
        return None
    return (
        f"as_of {as_of.isoformat()} is outside the period {period} "
        f"({period}-01 to {period_end(period).isoformat()}): the figures are measured at "
        f"{as_of.isoformat()}, not at the period's end"
    )


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: object, *, name: str, where: str = "") -> date | None:
    """Parse an ISO date given as text; blank gives None. The one reader of a date the
    user gives (``--as-of`` of every command, ``as_of`` in a params YAML).

    Raises:
        ParameterError: anything but ``YYYY-MM-DD`` text (YAML dates arrive as text).
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
        raise ParameterError(
            f"{name} must be a date written YYYY-MM-DD, got {value!r}", path=where or None
        )
    try:
        return date.fromisoformat(value.strip())
    except ValueError as error:
        raise ParameterError(
            f"{name} {value!r} is not a real date ({error})", path=where or None
        ) from None
