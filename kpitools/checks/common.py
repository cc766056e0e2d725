"""Small helpers shared by the irregularity checks: findings, sources, learning periods."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from kpitools.model import Finding
from kpitools.returns.contract import ULN_UNKNOWN
from kpitools.rules import rule

IRREGULARITY = "irregularity"


def irregularity(
    rule_id: str, entity: str, sources: Iterable[str], message: str, bootcamp_id: str = "ALL"
) -> Finding:
    """A register row for an irregularity, with the catalogue's severity.

    Args:
        rule_id: an id of :mod:`kpitools.rules` whose kpi is ``irregularity``.
        entity: ``learner:<ref>`` or ``employer:<id>``.
        sources: the ``file:row`` of every row that is evidence, in citation order.
        message: plain words, never a name, ULN or contact detail.
        bootcamp_id: the bootcamp concerned, or ``ALL``.
    """
    entry = rule(rule_id)
    if entry.kpi != IRREGULARITY:
        raise ValueError(f"{rule_id} is a {entry.kpi} rule, not an irregularity")
    return Finding(
        kpi=IRREGULARITY,
        rule=rule_id,
        severity=entry.severity,
        entity=entity,
        source=join_sources(sources),
        message=message,
        bootcamp_id=bootcamp_id or "ALL",
    )


def join_sources(sources: Iterable[str]) -> str:
    """``file:row`` references joined by ``"; "``, blanks and repeats left out."""
    seen: list[str] = []
    for source in sources:
        text = "" if is_blank(source) else str(source)
        if text and text not in seen:
            seen.append(text)
    return "; ".join(seen)


def learner_entity(learner_ref: object) -> str:
    return f"learner:{learner_ref}"


def employer_entity(employer_id: object) -> str:
    return f"employer:{employer_id}"


def is_blank(value: object) -> bool:
    """True for None, NaN, NaT, pd.NA and empty text."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


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
    return ["" if missing else value if type(value) is str else str(value)
            for value, missing in zip(values, blank, strict=True)]


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
        bootcamp_end = learners["bootcamp_id"].map(pd.Series(bootcamps["end_date"].array,
                                                             index=ids.array))
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
