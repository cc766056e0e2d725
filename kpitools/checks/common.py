"""Small helpers shared by the irregularity checks: keys, dates, learning periods (a
finding is built by :func:`kpitools.model.irregularity`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpitools.model import is_blank
from kpitools.returns.contract import ULN_UNKNOWN


def text_key(frame: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> pd.Series:
    """One text key per row joining ``columns`` by ``|``; blanks become empty text.

    (``astype(str)`` would turn a missing value into NaN under pandas' string dtype, and
    NaN never equals itself, so keys built that way would not match.)
    """
    if frame.empty:
        return pd.Series([], index=frame.index, dtype=object)
    parts = [_column_texts(frame[c]) for c in columns]
    keys = parts[0] if len(parts) == 1 else ["|".join(texts) for texts in zip(*parts, strict=True)]
    name = columns[0] if len(columns) == 1 else None  # as pandas names a sum of columns
    return pd.Series(keys, index=frame.index, dtype=object, name=name)


def _column_texts(column: pd.Series) -> list[str]:
    """A column's values as text (``str`` of each value, as ``astype(str)`` writes them),
    blanks as empty text, in one pass over the column."""
    blank = column.isna().tolist()
    values = column.astype(object).tolist()
    return [
        "" if missing else value if type(value) is str else str(value)
        for value, missing in zip(values, blank, strict=True)
    ]


def known_uln(uln: object) -> bool:
    """A ULN that can identify a person: present and not 9999999999 (not known)."""
    return not is_blank(uln) and str(uln).strip() != ULN_UNKNOWN


def learning_periods(learners: pd.DataFrame, bootcamps: pd.DataFrame) -> pd.DataFrame:
    """Each learner's learning period ``[learning_start, learning_end]``.

    The end is the withdrawal date, else the completion date, else the bootcamp's end
    date; an end before the start (dates out of order, reported by DATE-ORDER) is taken
    as the start so that the period is never empty. A learner without a start date has
    neither (both blank).

    Returns:
        ``learners`` with two extra datetime columns (a new frame).
    """
    # numpy on the dates: this runs for every provider of a period, on small frames
    start = learners["start_date"]
    starts = start.to_numpy(dtype="datetime64[ns]")
    end = _dates(learners["withdrawal_date"])
    end = np.where(np.isnat(end), _dates(learners["completion_date"]), end)
    end = np.where(np.isnat(end), _bootcamp_ends(learners, bootcamps), end)
    # an end before the start is the start (so is any end beside a blank start)
    end = np.where(np.isnat(end) | (end >= starts), end, starts)
    end = np.where(np.isnat(end), starts, end)
    dtype = learners["withdrawal_date"].dtype  # the end's, as filling it in keeps it
    return learners.assign(
        learning_start=start, learning_end=pd.Series(end, index=learners.index).astype(dtype)
    )


def _dates(column: pd.Series) -> np.ndarray:
    return column.to_numpy(dtype="datetime64[ns]")


def _bootcamp_ends(learners: pd.DataFrame, bootcamps: pd.DataFrame) -> np.ndarray:
    """Each learner's bootcamp's end date (NaT for a bootcamp not in ``bootcamps``; of a
    bootcamp listed twice, the first row's)."""
    ids = pd.Index(bootcamps["bootcamp_id"].to_numpy(dtype=object))
    ends = _dates(bootcamps["end_date"])
    if not ids.is_unique or ids.hasnans:  # validated bootcamps are neither
        first = ~ids.duplicated(keep="first") & ~ids.isna()
        ids, ends = ids[first], ends[first]
    position = ids.get_indexer(learners["bootcamp_id"].to_numpy(dtype=object))
    # -1, no such bootcamp: the NaT appended
    return np.append(ends, np.datetime64("NaT", "ns"))[position]


def source_prefixed(source: object, label: str) -> str:
    """A previous month's ``file:row`` as ``<label>/file:row`` (e.g. ``2023-02/learners.csv:14``)."""
    if is_blank(source):
        return ""
    return "; ".join(f"{label}/{part.strip()}" for part in str(source).split(";") if part.strip())
