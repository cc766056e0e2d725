"""A case's rows month by month: each row of each table set beside the same row in the
other months (:data:`kpitools.cases.gather.PAIR_KEYS`), each value as text, and which
values changed since the month before. The HTML shows them side by side, the case
workbook one value a line; both name learners through the output's naming rule first
(personal-data columns dropped unless ``include_pii``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from kpitools.cases.gather import ENTITY_COLUMN, PAIR_KEYS, Case
from kpitools.privacy.naming import LearnerNaming
from kpitools.returns.contract import TABLES

SOURCE = "source"
ABSENT = "(not in this return)"


@dataclass(frozen=True)
class RowHistory:
    """One row of one table across the months.

    Attributes:
        table: the contract table.
        key: what tells this row from the entity's other rows of the table (its
            :data:`PAIR_KEYS` values but the entity's own), as text.
        values: one row per field (``source`` first: the ``file:line``), one column per
            month of the case; text, blank where the field is blank, :data:`ABSENT` as
            the source of a month without the row.
        changed: (field, month) of each value that differs from the month before,
            where both months hold the row.
    """

    table: str
    key: str
    values: pd.DataFrame
    changed: frozenset[tuple[str, str]]


def row_histories(case: Case, naming: LearnerNaming) -> list[RowHistory]:
    """Every row of the case's tables across its months, tables in the contract's order,
    rows in the order they first appear."""
    periods = [m.period for m in case.months]
    histories = []
    for table in TABLES:
        by_key: dict[tuple[str, ...], dict[str, dict[str, str]]] = {}
        for month in case.months:
            frame = month.tables.get(table)
            if frame is None:
                continue
            for key, values in _keyed_rows(table, frame, naming, case.entity.kind):
                by_key.setdefault(key, {})[month.period] = values
        for key, found in by_key.items():
            histories.append(_history(table, key, found, periods))
    return histories


def _keyed_rows(
    table: str, frame: pd.DataFrame, naming: LearnerNaming, kind: str
) -> list[tuple[tuple[str, ...], dict[str, str]]]:
    """Each row's pairing key (a repeated key numbered) and its values as text, named by
    ``naming``; the entity's own column is left out of both (the case names it once)."""
    own = ENTITY_COLUMN[kind]
    key_columns = [c for c in PAIR_KEYS[table] if c in frame.columns and c != own]
    shown = naming.frame(frame.drop(columns=[own], errors="ignore"))
    seen: dict[tuple[str, ...], int] = {}
    rows = []
    for position in range(len(frame)):
        raw = frame.iloc[position]
        named = shown.iloc[position]
        key = tuple(f"{c} {_text(table, c, named[c])}" for c in key_columns)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = (*key, f"#{seen[key]}")
        values = {SOURCE: str(raw[SOURCE])}
        values.update({c: _text(table, c, named[c]) for c in shown.columns if c != SOURCE})
        rows.append((key, values))
    return rows


def _history(
    table: str, key: tuple[str, ...], found: dict[str, dict[str, str]], periods: list[str]
) -> RowHistory:
    fields = list(dict.fromkeys(f for values in found.values() for f in values))
    columns = {
        period: [found[period].get(f, "") if period in found else "" for f in fields]
        for period in periods
    }
    values = pd.DataFrame(columns, index=fields, dtype=object)
    values.loc[SOURCE] = [found[p][SOURCE] if p in found else ABSENT for p in periods]
    changed = {
        (f, now)
        for before, now in zip(periods, periods[1:], strict=False)
        if before in found and now in found
        for f in fields
        if f != SOURCE and found[before].get(f, "") != found[now].get(f, "")
    }
    return RowHistory(table, " · ".join(key), values, frozenset(changed))


def _text(table: str, column: str, value: object) -> str:
    """A validated value as the return would write it: a date ``YYYY-MM-DD``, money
    with two decimals, a flag Y or N, blank when missing."""
    if value is None or (
        not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)
    ):
        return ""
    if isinstance(value, datetime | pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    kind = _kind(table, column)
    if kind == "money" and isinstance(value, int | float):
        return f"{value:.2f}"
    if isinstance(value, bool) or kind == "flag":
        return "Y" if bool(value) else "N"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _kind(table: str, column: str) -> str:
    try:
        return TABLES[table].column(column).kind
    except KeyError:  # a column the validation added
        return ""
