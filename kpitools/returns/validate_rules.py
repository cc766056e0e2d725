"""The rules a row breaks beyond its own cells: the provider id, unique keys and
references to other tables; and :class:`_Problems`, where every broken rule of a table is
gathered (lazily: all of them, not the first) before rows are rejected.

Used by :mod:`kpitools.returns.validate`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kpitools.layout import PROVIDER_ID_PATTERN
from kpitools.returns.contract import Reference, Table
from kpitools.returns.tables import PROBLEM_COLUMNS, RawTable, empty_problems


def _objects(values: Sequence[object]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


class _Problems:
    """The problems of one table, gathered as arrays and made one frame at the end."""

    def __init__(self, cells: Mapping[str, np.ndarray], raw_problems: pd.DataFrame) -> None:
        self.cells = cells
        self.positions: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        self.parts = {c: [np.empty(0, dtype=object)] for c in PROBLEM_COLUMNS[1:]}
        if len(raw_problems):
            self.positions.append(raw_problems["position"].to_numpy(dtype=np.int64))
            for c in PROBLEM_COLUMNS[1:]:
                self.parts[c].append(raw_problems[c].to_numpy(dtype=object))

    def add(
        self, column: str, positions: np.ndarray, reason: str | Sequence[str], rule: str
    ) -> None:
        """Problems at ``positions`` (ascending), with one reason or one per position."""
        if not len(positions):
            return
        count = len(positions)
        self.positions.append(positions)
        self.parts["column"].append(np.full(count, column, dtype=object))
        self.parts["value"].append(self.cells[column][positions])
        self.parts["reason"].append(
            np.full(count, reason, dtype=object) if isinstance(reason, str) else _objects(reason)
        )
        self.parts["rule"].append(np.full(count, rule, dtype=object))

    def add_mask(self, column: str, mask: np.ndarray, reason: str, rule: str) -> None:
        """Problems at the cells where ``mask`` is True."""
        self.add(column, np.flatnonzero(mask), reason, rule)

    def frame(self) -> pd.DataFrame:
        """Position, column, value, reason, rule, in row order (stable)."""
        positions = np.concatenate(self.positions)
        if not len(positions):
            return empty_problems()
        order = np.argsort(positions, kind="stable")
        index = pd.Index(order)
        columns = {"position": pd.Series(positions[order], index=index)}
        for name, parts in self.parts.items():
            columns[name] = pd.Series(np.concatenate(parts)[order], index=index, dtype=object)
        return pd.DataFrame(columns, index=index)


def _table_problems(
    table: Table, raw: RawTable, typed: Mapping[str, Any], problems: _Problems
) -> None:
    """Rules about the table as a whole: duplicate keys, one provider, provider id form.

    ``typed`` holds the typed values of each column (arrays, or a frame).
    """
    if table.name == "provider":
        pattern = re.compile(PROVIDER_ID_PATTERN)
        bad_id = [
            value is not None and pattern.fullmatch(value) is None
            for value in typed["provider_id"].tolist()
        ]
        reason = "a provider id is 1 to 40 letters, digits, '_' or '-'"
        problems.add_mask("provider_id", np.array(bad_id, dtype=bool), reason, "BAD-ID")
        if len(raw) > 1:
            first = (
                "the provider table holds one provider, already given on "
                f"{raw.row_word} {raw.rows[0]}"
            )
            problems.add("provider_id", np.arange(1, len(raw)), first, "DUP-KEY")
    elif table.key:
        _duplicate_keys(table.key, raw, typed, problems)


def _duplicate_keys(
    key: tuple[str, ...], raw: RawTable, typed: Mapping[str, Any], problems: _Problems
) -> None:
    """Later rows with the key of an earlier row (the first is kept)."""
    first_position: dict[tuple[object, ...], int] = {}
    duplicates: list[int] = []
    reasons: list[str] = []
    rows = raw.rows.tolist()
    for position, values in enumerate(zip(*(typed[c].tolist() for c in key), strict=True)):
        if any(v is None or v is pd.NA or v != v for v in values):
            continue  # an incomplete key is never a duplicate
        first = first_position.setdefault(values, position)
        if first != position:
            duplicates.append(position)
            reasons.append(f"same {', '.join(key)} as {raw.row_word} {rows[first]}")
    problems.add(key[0], np.array(duplicates, dtype=np.int64), reasons, "DUP-KEY")


def _key_parts(typed: Mapping[str, Any], columns: Sequence[str]) -> list[tuple[str, ...]]:
    """Key columns as a tuple of texts per row (blank parts as "")."""
    parts = [["" if v is None else str(v) for v in typed[c].tolist()] for c in columns]
    return list(zip(*parts, strict=True))


def _joined_keys(parts: Sequence[tuple[str, ...]]) -> list[str]:
    """Key parts as one text per row, for fast membership tests."""
    return ["\x1f".join(values) for values in parts]


def _target_keys(
    reference: Reference, target: pd.DataFrame, accepted: Mapping[str, pd.DataFrame]
) -> set[str]:
    """The joined keys of the referenced table's accepted rows (remembered if we can)."""
    cache = getattr(accepted, "key_sets", None)
    wanted = (reference.table, reference.target_columns)
    if cache is not None and wanted in cache:
        return cache[wanted]
    keys = set(_joined_keys(_key_parts(target, reference.target_columns)))
    if cache is not None:
        cache[wanted] = keys
    return keys


def _reference_problems(
    table: Table,
    reference: Reference,
    typed: Mapping[str, Any],
    blanks: Mapping[str, np.ndarray],
    accepted: Mapping[str, pd.DataFrame],
    problems: _Problems,
) -> None:
    """Rows naming something absent from the accepted rows of the referenced table."""
    columns = list(reference.columns)
    rows = len(blanks[reference.columns[0]])
    applies = np.ones(rows, dtype=bool)
    if reference.when is not None:
        when_column, when_value = reference.when
        applies = np.array([v == when_value for v in typed[when_column].tolist()], dtype=bool)
    blank = np.logical_or.reduce([blanks[c] for c in columns])
    parts = _key_parts(typed, columns)
    target = accepted.get(reference.table)
    if target is None or not len(target):
        found = np.zeros(rows, dtype=bool)
    else:
        target_keys = _target_keys(reference, target, accepted)
        found = np.array([k in target_keys for k in _joined_keys(parts)], dtype=bool)
    missing = np.flatnonzero(applies & ~blank & ~found)
    # The reason names columns, not values: the value column holds the value, and a
    # reason is shown as it is wherever the identity rule shows the row (kpitools.privacy.naming).
    named = " / ".join(reference.target_columns)
    reason = (f"no accepted row of {reference.table} has this {named}"
              if columns == list(reference.target_columns)
              else f"no accepted row of {reference.table} has this {' / '.join(columns)} as {named}")
    problems.add(columns[0], missing, [reason] * len(missing), reference.rule)
    already_required = all(table.column(c).required for c in columns)
    if not reference.optional and not already_required:
        why = "a required value is blank"
        if reference.when is not None:
            why = f"required when {reference.when[0]} is {reference.when[1]}"
        problems.add_mask(columns[0], applies & blank, why, "REQUIRED")
