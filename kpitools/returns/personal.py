"""Which rejected values could be personal data: decided by column *and* by value.

A rejected value is shown (without ``include_pii``) only when it cannot be personal
data. :func:`mark_personal` marks each rejected entry (column
:data:`~kpitools.model.PERSONAL` of the rejected-rows frame) that could be, because:

1. its column holds personal data (:data:`~kpitools.returns.contract.PII_COLUMN_NAMES`,
   the ILR's personal fields included);
2. its row is misaligned (a field too few or too many, ``SHORT-ROW`` / ``EXTRA-FIELD``),
   or holds two or more rejected values: a row whose values are swapped or shifted
   (names under ``bootcamp_id``, a given name under a date) is treated alike, every
   value withheld;
3. the value equals, ignoring case and spaces, a personal-data value anywhere in the
   return (any cell of a personal-data column of the contract, in accepted or rejected
   rows, a given and family name together too), or one of its words of letters equals
   a word of one;
4. it is shaped like personal data: an e-mail address, a run of 10 or more digits (a
   ULN, a phone number), a National Insurance number or a UK postcode;
5. it is words of letters in a column that expects a date, a number, a flag, a code or
   an identifier (a name typed in the wrong column), unless it is a word of the
   contract itself (a code, ``yes``, ``no``).

The personal-data columns are read from the contract (``PII_COLUMNS``), so a column
added there (``date_of_birth``, ``postcode``, ``ni_number``) is covered here too. The
mark is made where the raw return is at hand (validation, the ILR mapping);
:mod:`kpitools.privacy.naming` withholds what it marks in every output.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping

import numpy as np
import pandas as pd

from kpitools.model import PERSONAL
from kpitools.returns.cell_kinds import FLAG_FALSE, FLAG_TRUE
from kpitools.returns.contract import (
    PII_COLUMN_NAMES,
    PII_COLUMNS,
    TABLES,
    UNKNOWN_FROM_ILR,
)
from kpitools.returns.tables import RawTable

MISALIGNED_RULES = frozenset({"SHORT-ROW", "EXTRA-FIELD"})
"""A row with too few or too many fields: its values sit under the wrong headers."""

_EMAIL = re.compile(r"\S@\S")
# a run of digits with the separators a phone number is written with (+44 (0)121 496-0000)
_DIGIT_RUN = re.compile(r"\+?\(?\d[\d\s().\-/]*\d")
_LONG_NUMBER = 10
_NI_NUMBER = re.compile(r"(?<![^\W_])[A-Za-z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-Da-d]?(?![^\W_])")
_POSTCODE = re.compile(r"(?<![^\W_])[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2}(?![^\W_])")
_WORDS = re.compile(r"[^\W\d_]+(?:[\s'’.\-]+[^\W\d_]+)*[.]?")
_TOKEN = re.compile(r"[^\W\d_]+")  # a word of letters (digits are the shapes' business)
_SHORTEST_TOKEN = 3  # shorter words ("Al", "Li") would match half the values of a return
# Kinds whose cells are never words: a word there is a value from another column.
_TEXT_KINDS = frozenset({"text"})
# The words of the contract itself (codes, flags): never a person, whatever the column.
_VOCABULARY = frozenset(
    {code.casefold() for table in TABLES.values() for c in table.columns for code in c.codes}
    | set(FLAG_TRUE)
    | set(FLAG_FALSE)
    | {UNKNOWN_FROM_ILR}
)


def normalised(value: object) -> str:
    """A value compared ignoring case and spaces: ``" Zoë  Smith"`` → ``"zoësmith"``."""
    return "".join(str(value).split()).casefold()


class KnownValues:
    """The personal-data values of one return, normalised (:func:`normalised`), and
    their words of :data:`_SHORTEST_TOKEN` characters or more."""

    def __init__(self, values: Iterable[object] = ()) -> None:
        self.values: set[str] = set()
        self.tokens: set[str] = set()
        self.add(values)

    def add(self, values: Iterable[object]) -> None:
        for value in values:
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                continue
            text = str(value)
            if not text.strip():
                continue
            self.values.add(normalised(text))
            self.tokens.update(
                t for t in _TOKEN.findall(text.casefold()) if len(t) >= _SHORTEST_TOKEN
            )

    def holds(self, value: str) -> bool:
        """Whether ``value``, or one of its words, is a known personal-data value."""
        if normalised(value) in self.values:
            return True
        return any(
            t in self.tokens for t in _TOKEN.findall(value.casefold()) if len(t) >= _SHORTEST_TOKEN
        )


def known_values(raws: Mapping[str, RawTable]) -> KnownValues:
    """Every cell of the return's personal-data columns (:data:`PII_COLUMNS`), accepted
    or rejected rows alike, and each row's text personal values joined in pairs (a
    given and a family name as one value, both ways round)."""
    known = KnownValues()
    for table, columns in PII_COLUMNS.items():
        raw = raws.get(table)
        if raw is None or not len(raw):
            continue
        where = {name: i for i, name in enumerate(raw.columns)}
        present = [c for c in columns if c in where]
        for column in present:
            known.add(raw.grid[:, where[column]].tolist())
        texts = [c for c in present if _column_kind(table, c) == "text"]
        for first in texts:
            for second in texts:
                if first != second:
                    known.add(
                        f"{a}{b}"
                        for a, b in zip(
                            raw.grid[:, where[first]].tolist(),
                            raw.grid[:, where[second]].tolist(),
                            strict=True,
                        )
                        if isinstance(a, str) and isinstance(b, str) and a.strip() and b.strip()
                    )
    return known


def shaped_like_personal(value: str) -> bool:
    """An e-mail address, 10 or more digits in a run (a ULN, a phone number), a
    National Insurance number or a UK postcode, anywhere in ``value``.

    >>> [shaped_like_personal(v) for v in ("a.b@example.org", "0121 496 0000", "QQ123456C")]
    [True, True, True]
    >>> [shaped_like_personal(v) for v in ("B1 1AA", "31/02/2023", "P001-BC01", "44927")]
    [True, False, False, False]
    """
    if _EMAIL.search(value) or _NI_NUMBER.search(value) or _POSTCODE.search(value):
        return True
    return any(sum(ch.isdigit() for ch in run) >= _LONG_NUMBER for run in _DIGIT_RUN.findall(value))


def _column_kind(table: str, column: str) -> str | None:
    """The contract kind of a column (None for a column the contract does not know: an
    ILR field, ``(beyond the last column)``)."""
    contract = TABLES.get(table)
    if contract is None or column not in contract.column_names:
        return None
    return contract.column(column).kind


def _words_out_of_place(value: str, kind: str | None) -> bool:
    """Words of letters in a column that expects no words (a name typed there)."""
    if kind in _TEXT_KINDS:
        return False
    text = value.strip()
    return bool(_WORDS.fullmatch(text)) and text.casefold() not in _VOCABULARY


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return bool(pd.isna(value))


def personal_entries(
    rejected: pd.DataFrame,
    known: KnownValues,
    *,
    personal_columns: Collection[str] = PII_COLUMN_NAMES,
) -> np.ndarray:
    """For each rejected entry (table, source, column, value, rule), whether its value
    could be personal data (the rules of the module docstring).

    Args:
        rejected: rejected-rows entries, one per reason.
        known: the return's personal-data values (:func:`known_values`).
        personal_columns: the columns that hold personal data.
    """
    count = len(rejected)
    if not count:
        return np.zeros(0, dtype=bool)
    tables = rejected["table"].astype(str).tolist()
    sources = rejected["source"].astype(str).tolist()
    columns = rejected["column"].astype(str).tolist()
    values = rejected["value"].tolist()
    rules = rejected["rule"].astype(str).tolist()
    rows = list(zip(tables, sources, strict=True))
    # the columns holding a rejected value, per row; misaligned rows
    filled: dict[tuple[str, str], set[str]] = {}
    misaligned: set[tuple[str, str]] = set()
    for row, column, value, rule in zip(rows, columns, values, rules, strict=True):
        if rule in MISALIGNED_RULES:
            misaligned.add(row)
        if not _blank(value):
            filled.setdefault(row, set()).add(column)
    marked = np.zeros(count, dtype=bool)
    for i, (row, table, column, value) in enumerate(
        zip(rows, tables, columns, values, strict=True)
    ):
        if column in personal_columns or row in misaligned or len(filled.get(row, ())) > 1:
            marked[i] = True
        elif not _blank(value):
            text = str(value)
            marked[i] = (
                shaped_like_personal(text)
                or _words_out_of_place(text, _column_kind(table, column))
                or known.holds(text)
            )
    return marked


def mark_personal(
    rejected: pd.DataFrame,
    known: KnownValues,
    *,
    personal_columns: Collection[str] = PII_COLUMN_NAMES,
) -> pd.DataFrame:
    """``rejected`` with its :data:`PERSONAL` column set by :func:`personal_entries`."""
    marks = personal_entries(rejected, known, personal_columns=personal_columns)
    return rejected.assign(**{PERSONAL: pd.Series(marks, index=rejected.index, dtype=bool)})
