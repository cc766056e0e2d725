"""The rules a row breaks beyond its own cells: the provider id, unique keys and
references to other tables; :class:`RawStack`, the raw rows of one table of several
returns one after another (so that a period is checked in one pass per rule, each
return's keys and references kept to itself); and :class:`Problems`, where every
broken rule of a table is gathered (lazily: all of them, not the first) before rows are
rejected.

Used by :mod:`kpitools.returns.validate`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpitools.layout import is_provider_name
from kpitools.returns.contract import AGE_AT_START, TABLES, Reference, Table
from kpitools.returns.tables import (
    PROBLEM_COLUMNS,
    RawTable,
    empty_problems,
    object_array,
    repeated,
)


@dataclass(frozen=True)
class RawStack:
    """One table of several returns, their raw rows one after another.

    Attributes:
        cells: every contract column of the table as read (text; ``""`` where a return's
            file lacks the column), all returns' rows.
        rows: the row number a person sees for each position (its own file's).
        group: for each position, the return it belongs to (0, 1, ...).
        starts: the first position of each return, and the total last.
        labels: each return's file label (``learners.csv``, ``datasheet.xlsx[learners]``).
        row_words: each return's ``line`` or ``row``.
        problems: the readers' problems, positions in the stack.
        from_ilr: for each position, whether its row was mapped from an ILR file
            (:attr:`RawTable.from_ilr`).
    """

    cells: dict[str, np.ndarray]
    rows: np.ndarray
    group: np.ndarray
    starts: np.ndarray
    labels: list[str]
    row_words: list[str]
    problems: pd.DataFrame
    from_ilr: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def of(cls, table: Table, raws: Sequence[RawTable]) -> RawStack:
        """The rows of ``raws`` (one table of each return) stacked in the order given."""
        lengths = np.array([len(raw) for raw in raws], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)])
        grids = [(raw.grid, {name: i for i, name in enumerate(raw.columns)}) for raw in raws]
        cells = {}
        for name in table.column_names:
            parts = [
                grid[:, where[name]] if name in where else repeated("", len(grid))
                for grid, where in grids
            ]
            cells[name] = parts[0] if len(parts) == 1 else _concatenated(parts)
        problems = [
            raw.problems.assign(position=raw.problems["position"] + start)
            for raw, start in zip(raws, starts.tolist(), strict=False)
            if len(raw.problems)
        ]
        return cls(
            cells=cells,
            rows=_concatenated([raw.rows for raw in raws], np.int64),
            group=np.repeat(np.arange(len(raws)), lengths),
            starts=starts,
            labels=[raw.label for raw in raws],
            row_words=[raw.row_word for raw in raws],
            problems=pd.concat(problems, ignore_index=True) if problems else empty_problems(),
            from_ilr=np.repeat(np.array([raw.from_ilr for raw in raws], dtype=bool), lengths),
        )

    def sources(self) -> np.ndarray:
        """``label:row`` for every position, e.g. ``learners.csv:14``."""
        rows = self.rows.tolist()
        sources: list[str] = []
        for label, start, stop in zip(
            self.labels, self.starts[:-1].tolist(), self.starts[1:].tolist(), strict=True
        ):
            sources += map(f"{label}:".__add__, map(str, rows[start:stop]))
        return object_array(sources)


def _concatenated(parts: Sequence[np.ndarray], dtype: Any = object) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


class Problems:
    """The problems of one table, gathered as arrays and made one frame at the end.

    Every problem marks its row rejected (:attr:`rejected`) and is counted for its return
    (:attr:`reasons`); its details (column, value, reason, rule) are kept for each
    return's first ``listed_rows`` rejected rows only, so that a file of bad rows (a
    million reasons) holds memory in proportion to that bound, not to the file.
    """

    def __init__(self, stack: RawStack, *, listed_rows: int) -> None:
        self.cells = stack.cells
        self.group = stack.group
        self.listed_rows = listed_rows
        self.rejected = np.zeros(len(stack), dtype=bool)
        self.reasons = np.zeros(len(stack.starts) - 1, dtype=np.int64)
        # each return's last position whose details are kept (its listed_rows-th
        # rejected row, once it has that many)
        self.cutoff = np.full(len(self.reasons), len(stack), dtype=np.int64)
        self.positions: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        self.parts = {c: [np.empty(0, dtype=object)] for c in PROBLEM_COLUMNS[1:]}
        raw = stack.problems
        if len(raw):
            positions = raw["position"].to_numpy(dtype=np.int64)
            kept = self._count(positions)
            self.positions.append(positions[kept])
            for c in PROBLEM_COLUMNS[1:]:
                self.parts[c].append(raw[c].to_numpy(dtype=object)[kept])

    def _count(self, positions: np.ndarray) -> np.ndarray:
        """Mark and count problems at ``positions``; True where their details are kept."""
        self.reasons += np.bincount(self.group[positions], minlength=len(self.reasons))
        self.rejected[positions] = True
        if np.count_nonzero(self.rejected) >= self.listed_rows:
            rows = np.flatnonzero(self.rejected)
            groups = self.group[rows]
            rank = np.arange(len(rows)) - np.searchsorted(groups, groups, side="left")
            last = rank == self.listed_rows - 1
            self.cutoff[groups[last]] = rows[last]
        return positions <= self.cutoff[self.group[positions]]

    def add(
        self, column: str, positions: np.ndarray, reason: str | Sequence[str], rule: str
    ) -> None:
        """Problems at ``positions`` (ascending), with one reason or one per position."""
        if not len(positions):
            return
        kept = self._count(positions)
        if not kept.all():
            reason = reason if isinstance(reason, str) else object_array(reason)[kept]
            positions = positions[kept]
        count = len(positions)
        self.positions.append(positions)
        self.parts["column"].append(repeated(column, count))
        self.parts["value"].append(self.cells[column][positions])
        self.parts["reason"].append(
            repeated(reason, count) if isinstance(reason, str) else object_array(reason)
        )
        self.parts["rule"].append(repeated(rule, count))

    def add_mask(self, column: str, mask: np.ndarray, reason: str, rule: str) -> None:
        """Problems at the cells where ``mask`` is True."""
        self.add(column, np.flatnonzero(mask), reason, rule)

    def frame(self) -> pd.DataFrame:
        """Position, column, value, reason, rule of the problems whose details are kept,
        in row order (stable); the parts are let go as they are joined."""
        positions = np.concatenate(self.positions)
        # a cutoff only moves down: details kept before it moved are dropped here
        kept = positions <= self.cutoff[self.group[positions]]
        self.positions = [positions]
        if not len(positions):
            return empty_problems()
        order = np.flatnonzero(kept)[np.argsort(positions[kept], kind="stable")]
        index = pd.Index(order)
        columns = {"position": pd.Series(positions[order], index=index)}
        for name in list(self.parts):
            joined = np.concatenate(self.parts.pop(name))
            columns[name] = pd.Series(joined[order], index=index, dtype=object, copy=False)
            del joined
        return pd.DataFrame(columns, index=index, copy=False)  # new arrays: no copy


def table_problems(
    table: Table, stack: RawStack, typed: Mapping[str, Any], problems: Problems
) -> None:
    """Rules about the table as a whole, within each return: duplicate keys, one
    provider, provider id form.

    ``typed`` holds the typed values of each column (arrays, or a frame).
    """
    if table.name == "provider":
        bad_id = [
            value is not None and not is_provider_name(value)
            for value in typed["provider_id"].tolist()
        ]
        reason = "a provider id is 1 to 40 letters, digits, '_' or '-'"
        problems.add_mask("provider_id", np.array(bad_id, dtype=bool), reason, "BAD-ID")
        first = stack.starts[stack.group]  # each row's return's first row
        later = np.flatnonzero(np.arange(len(stack)) != first)
        reasons = [
            f"the provider table holds one provider, already given on {stack.row_words[g]} {row}"
            for g, row in zip(
                stack.group[later].tolist(), stack.rows[first[later]].tolist(), strict=True
            )
        ]
        problems.add("provider_id", later, reasons, "DUP-KEY")
    elif table.key:
        _duplicate_keys(table.key, stack, typed, problems)
    if "date_of_birth" in table.column_names and "start_date" in table.column_names:
        _age_problems(typed["date_of_birth"], typed["start_date"], problems)


def _age_problems(born: Any, start: Any, problems: Problems) -> None:
    """BAD-AGE: a date of birth giving an age outside :data:`AGE_AT_START` at the start
    (a row without either date is not checked)."""
    born_at = pd.DatetimeIndex(np.asarray(born, dtype="datetime64[ns]"))
    start_at = pd.DatetimeIndex(np.asarray(start, dtype="datetime64[ns]"))
    known = ~(born_at.isna() | start_at.isna())
    if not known.any():
        return
    age = start_at.year - born_at.year
    before_birthday = (start_at.month < born_at.month) | (
        (start_at.month == born_at.month) & (start_at.day < born_at.day)
    )
    age = np.asarray(age - before_birthday.astype(int), dtype=float)
    youngest, oldest = AGE_AT_START
    bad = known & ((age < youngest) | (age > oldest))
    reason = f"the date of birth gives an age outside {youngest} to {oldest} at start_date"
    problems.add_mask("date_of_birth", np.asarray(bad, dtype=bool), reason, "BAD-AGE")


def _duplicate_keys(
    key: tuple[str, ...], stack: RawStack, typed: Mapping[str, Any], problems: Problems
) -> None:
    """Later rows with the key of an earlier row of the same return (the first is kept)."""
    column_codes = [
        pd.factorize(np.asarray(typed[c], dtype=object), use_na_sentinel=True)[0] for c in key
    ]
    complete = np.logical_and.reduce(
        [codes >= 0 for codes in column_codes]
    )  # else never a duplicate
    positions = np.flatnonzero(complete)
    codes = _tuple_codes([stack.group[positions], *(c[positions] for c in column_codes)])
    repeated = pd.Series(codes).duplicated(keep="first").to_numpy(dtype=bool)
    if not repeated.any():
        return
    first_of_code = np.full(codes.max() + 1, -1, dtype=np.int64)
    first_of_code[codes[::-1]] = positions[::-1]  # the earliest position writes last
    duplicates = positions[repeated]
    first_rows = stack.rows[first_of_code[codes[repeated]]].tolist()
    reasons = [
        f"same {', '.join(key)} as {stack.row_words[g]} {row}"
        for g, row in zip(stack.group[duplicates].tolist(), first_rows, strict=True)
    ]
    problems.add(key[0], duplicates, reasons, "DUP-KEY")


def _tuple_codes(columns: Sequence[np.ndarray]) -> np.ndarray:
    """One code per row, equal for rows whose values are equal column by column (the
    values compared as Python objects: by hash and ``==``)."""
    codes = np.zeros(len(columns[0]), dtype=np.int64)
    for values in columns:
        column_codes, uniques = pd.factorize(values, use_na_sentinel=True)
        codes, _ = pd.factorize(codes * (len(uniques) + 1) + column_codes + 1)
    return codes.astype(np.int64, copy=False)


def reference_problems(
    table: Table,
    reference: Reference,
    stack: RawStack,
    typed: Mapping[str, Any],
    blanks: Mapping[str, np.ndarray],
    accepted: Mapping[str, pd.DataFrame],
    problems: Problems,
    supplied: Sequence[Collection[str]] | None = None,
) -> None:
    """Rows naming something absent from the accepted rows of the referenced table of
    their own return (``accepted``'s rows belong to the returns of
    ``accepted.groups``, all to the first when it has none)."""
    columns = list(reference.columns)
    rows = len(stack)
    applies = np.ones(rows, dtype=bool)
    if supplied is not None and not _required(reference):
        # an optional table a return left out: nothing is inferred from it
        left_out = np.array([reference.table not in names for names in supplied], dtype=bool)
        applies = ~left_out[stack.group]
    if reference.when is not None:
        when_column, when_value = reference.when
        applies &= np.asarray(typed[when_column], dtype=object) == when_value
    blank = np.logical_or.reduce([blanks[c] for c in columns])
    target = accepted.get(reference.table)
    if target is None or not len(target):
        found = np.zeros(rows, dtype=bool)
    else:
        target_groups = getattr(accepted, "groups", {}).get(
            reference.table, np.zeros(len(target), dtype=np.int64)
        )
        # both sides coded together: a row is found when its (return, key) is a target's
        keys = [np.concatenate([target_groups, stack.group])]
        keys += [
            np.concatenate([target[t].to_numpy(dtype=object), np.asarray(typed[c], dtype=object)])
            for c, t in zip(columns, reference.target_columns, strict=True)
        ]
        codes = _tuple_codes(keys)
        found = np.isin(codes[len(target) :], codes[: len(target)])
    missing = np.flatnonzero(applies & ~blank & ~found)
    # The reason names columns, not values: the value column holds the value, and a
    # reason is shown as it is wherever the identity rule shows the row (kpitools.privacy.naming).
    named = " / ".join(reference.target_columns)
    reason = (
        f"no accepted row of {reference.table} has this {named}"
        if columns == list(reference.target_columns)
        else f"no accepted row of {reference.table} has this {' / '.join(columns)} as {named}"
    )
    problems.add(columns[0], missing, reason, reference.rule)
    already_required = all(table.column(c).required for c in columns)
    if not reference.optional and not already_required:
        why = "a required value is blank"
        if reference.when is not None:
            why = f"required when {reference.when[0]} is {reference.when[1]}"
        problems.add_mask(columns[0], applies & blank, why, "REQUIRED")


def _required(reference: Reference) -> bool:
    return TABLES[reference.table].required_table
