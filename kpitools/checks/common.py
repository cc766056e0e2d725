"""Small helpers shared by the irregularity checks: keys, dates, learning periods (a
finding is built by :func:`kpitools.model.irregularity`)."""

from __future__ import annotations

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
    as the start so that the period is never empty.

    Returns:
        ``learners`` with two extra datetime columns (a new frame).
    """
    ids = bootcamps["bootcamp_id"]
    if len(learners) and ids.is_unique and not ids.isna().any():
        # one lookup per learner; the same as the merge below for validated bootcamps
        bootcamp_end = learners["bootcamp_id"].map(
            pd.Series(bootcamps["end_date"].array, index=ids.array)
        )
    else:
        ends = bootcamps[["bootcamp_id", "end_date"]].rename(columns={"end_date": "_bootcamp_end"})
        joined = learners.merge(ends, on="bootcamp_id", how="left")
        joined.index = learners.index
        bootcamp_end = joined["_bootcamp_end"]
    end = learners["withdrawal_date"].fillna(learners["completion_date"]).fillna(bootcamp_end)
    start = learners["start_date"]
    end = end.where(end.isna() | (end >= start), start)
    return learners.assign(learning_start=start, learning_end=end.fillna(start))


def source_prefixed(source: object, label: str) -> str:
    """A previous month's ``file:row`` as ``<label>/file:row`` (e.g. ``2023-02/learners.csv:14``)."""
    if is_blank(source):
        return ""
    return "; ".join(f"{label}/{part.strip()}" for part in str(source).split(";") if part.strip())
