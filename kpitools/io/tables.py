"""The raw form of a table as read from a file, before validation.

Readers (:mod:`kpitools.io.tables`) produce it, :mod:`kpitools.validate` consumes it, and
tests build it directly with :meth:`RawTable.from_records`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

PROBLEM_COLUMNS = ("position", "column", "value", "reason", "rule")


def empty_problems() -> pd.DataFrame:
    """An empty reader-problems frame: position (int), column, value, reason, rule."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})
    return frame.astype({"position": "int64"})


def problems_frame(rows: Iterable[tuple[int, str, str, str, str]]) -> pd.DataFrame:
    """Reader problems (position, column, value, reason, rule) as a frame."""
    rows = list(rows)
    if not rows:
        return empty_problems()
    frame = pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS)).astype(object)
    return frame.astype({"position": "int64"})


@dataclass(frozen=True)
class RawTable:
    """One table as read, every cell still text.

    Attributes:
        table: the contract table name, e.g. ``"learners"``.
        label: where it came from as a person names it: ``"learners.csv"`` or
            ``"datasheet.xlsx[learners]"``; sources are ``f"{label}:{row}"``.
        cells: one ``object`` column per contract column found in the file (matched
            ignoring case and spaces, renamed to the contract name); cells are ``str``,
            ``""`` when blank. Positions 0..n-1 are the rows read, in file order.
        rows: the row number a person sees for each position (CSV line, Excel row).
        problems: what the reader already found wrong with a row (SHORT-ROW,
            EXTRA-FIELD, an id that lost digits in Excel): position, column, value,
            reason, rule. Such rows are rejected by validation.
        row_word: ``"line"`` for CSV files, ``"row"`` for spreadsheets.
    """

    table: str
    label: str
    cells: pd.DataFrame
    rows: np.ndarray
    problems: pd.DataFrame = field(default_factory=empty_problems)
    row_word: str = "line"

    def __len__(self) -> int:
        return len(self.rows)

    def source(self) -> pd.Series:
        """``label:row`` for every row, e.g. ``learners.csv:14``."""
        return pd.Series([f"{self.label}:{row}" for row in self.rows], dtype=object)

    @classmethod
    def empty(cls, table: str, label: str | None = None) -> RawTable:
        """A table that is absent: no rows, no columns."""
        return cls(table, label or f"{table}.csv", pd.DataFrame(), np.zeros(0, dtype=np.int64))

    @classmethod
    def from_records(
        cls,
        table: str,
        records: Sequence[dict[str, str | None]],
        *,
        label: str,
        first_row: int = 2,
    ) -> RawTable:
        """Rows given as dicts of text, numbered like a CSV file from ``first_row``."""
        columns: list[str] = []
        for record in records:
            columns.extend(k for k in record if k not in columns)
        data = {
            c: pd.Series(["" if r.get(c) is None else str(r.get(c)) for r in records], dtype=object)
            for c in columns
        }
        rows = np.arange(first_row, first_row + len(records), dtype=np.int64)
        return cls(table, label, pd.DataFrame(data, index=pd.RangeIndex(len(records))), rows)
