"""Row validation: every row read is accepted, or rejected with every reason.

Input is the raw form of :class:`kpitools.returns.tables.RawTable` (cells as text, with the row
a person sees); output is the typed tables of ``kpitools/model.py``, the rejected rows
(one row per reason: table, source, column, value, reason, rule) and a
:class:`~kpitools.model.TableCount` per table where read = accepted + rejected.

Tables are validated in ``contract.LOAD_ORDER`` so that references are checked against
the *accepted* rows of the referenced table: a rejected learner makes its payments,
assessments, interviews, outcomes and referrals rejected too (REF-LEARNER).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from kpitools.errors import KpiToolsError
from kpitools.model import PERSONAL, TableCount, empty_rejected
from kpitools.returns.cells import parse_cells
from kpitools.returns.contract import (
    LOAD_ORDER,
    SOURCE_COLUMN,
    TABLES,
    UNKNOWN_FROM_ILR,
    Column,
    Table,
)
from kpitools.returns.period import renumbered
from kpitools.returns.personal import known_values, mark_personal
from kpitools.returns.tables import RawTable, object_array, repeated
from kpitools.returns.validate_rules import (
    Problems,
    RawStack,
    reference_problems,
    table_problems,
)

# pandas >= 2.3 builds a frame from ready blocks; None: the DataFrame constructor (older
# pandas; a test sets it to check that both ways give the same tables)
try:
    from pandas.api.internals import create_dataframe_from_blocks as FROM_BLOCKS
except ImportError:  # pragma: no cover - older pandas
    FROM_BLOCKS = None

ValidatedTables = tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[str, TableCount]]


def validate_tables(raw: Mapping[str, RawTable]) -> ValidatedTables:
    """Validate every contract table of one provider's return.

    Args:
        raw: raw tables by contract name; an absent table is validated as empty, and
            references to it are not checked (an absent table is not supplied: a
            co-funded learner is not rejected because employers.csv was left out).

    Returns:
        ``(tables, rejected, counts)``: accepted rows per contract table (all tables
        present, typed per ``kpitools/model.py``, with ``source``), the rejected-rows
        frame (``model.empty_rejected`` columns, values that could be personal data
        marked: :mod:`kpitools.returns.personal`) and the counts per table.
    """
    return validate_many([raw])[0]


def validate_many(raws: Sequence[Mapping[str, RawTable]]) -> list[ValidatedTables]:
    """:func:`validate_tables` of several returns at once (a period's), the same result
    for each as alone: each table of every return is stacked (:class:`RawStack`) and
    checked in one pass per column and rule, keys and references within each return.

    Args:
        raws: per return, its raw tables by contract name.

    Returns:
        Per return, in the order given, what :func:`validate_tables` returns.
    """
    accepted = _AcceptedTables()
    tables: list[dict[str, pd.DataFrame]] = [{} for _ in raws]
    rejected_parts: list[list[dict[str, np.ndarray]]] = [[] for _ in raws]
    counts: list[dict[str, TableCount]] = [{} for _ in raws]
    for name in LOAD_ORDER:
        stack = RawStack.of(TABLES[name], [raw.get(name) or RawTable.empty(name) for raw in raws])
        checked = _check_stack(TABLES[name], stack, accepted=accepted, supplied=raws)
        typed, problems = checked.typed, checked.problems
        bad_positions = np.flatnonzero(checked.rejected)
        keep = np.ones(len(stack), dtype=bool)
        keep[bad_positions] = False
        whole = renumbered(typed[keep]) if len(bad_positions) else typed
        accepted[name], accepted.groups[name] = whole, stack.group[keep]
        read = np.diff(stack.starts)
        rejected = np.bincount(stack.group[bad_positions], minlength=len(raws))
        kept_starts = np.concatenate([[0], np.cumsum(read - rejected)]).tolist()
        for g, (count_read, count_rejected) in enumerate(
            zip(read.tolist(), rejected.tolist(), strict=True)
        ):
            tables[g][name] = (
                whole
                if len(raws) == 1
                else renumbered(whole.iloc[kept_starts[g] : kept_starts[g + 1]])
            )
            counts[g][name] = TableCount(
                name, count_read, count_read - count_rejected, count_rejected
            )
        if len(problems):
            listed, listed_rows, listed_reasons = _listed(problems, stack)
            unlisted_reasons = checked.reasons - listed_reasons
            for g in np.flatnonzero(unlisted_reasons).tolist():
                counts[g][name] = replace(
                    counts[g][name],
                    unlisted_rows=int(rejected[g] - listed_rows[g]),
                    unlisted_reasons=int(unlisted_reasons[g]),
                )
            for g, part in _rejected_rows(name, stack, listed):
                rejected_parts[g].append(part)
    return [
        (
            tables[g],
            mark_personal(_rejected_frame(rejected_parts[g]), known_values(raws[g]))
            if rejected_parts[g]
            else _EMPTY_REJECTED.copy(deep=False),
            counts[g],
        )
        for g in range(len(raws))
    ]


MAX_REJECTED_REASONS = 5_000
"""The rejection reasons kept per table of a return: those of its first rejected rows,
whole rows only, up to this many. The rows beyond are counted (read = accepted +
rejected holds) but not listed (:class:`~kpitools.model.TableCount` ``unlisted_*``): a
file of 100,000 bad rows gives a million reasons, which held as rows of a frame and
cells of a register took gigabytes (issue 29). :mod:`kpitools.io.memory` counts them
in its estimate."""


def _listed(problems: pd.DataFrame, stack: RawStack) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The problems of each return's first rejected rows, whole rows, at most
    :data:`MAX_REJECTED_REASONS` a return; and per return the rows and the reasons
    listed. ``problems`` are in position order."""
    positions = problems["position"].to_numpy(dtype=np.int64)
    groups = stack.group[positions]
    rank = np.arange(len(positions)) - np.searchsorted(groups, groups, side="left")
    last_of_row = np.searchsorted(positions, positions, side="right") - 1
    listed = rank[last_of_row] < MAX_REJECTED_REASONS
    returns = len(stack.starts) - 1
    rows = np.unique(positions[listed])
    return (
        problems if listed.all() else problems[listed],
        np.bincount(stack.group[rows], minlength=returns),
        np.bincount(groups[listed], minlength=returns),
    )


_EMPTY_REJECTED = empty_rejected()  # copied (copy-on-write) for a return without rejections


class _AcceptedTables(dict[str, pd.DataFrame]):
    """Accepted tables so far, every return's rows stacked, with the return of each row
    (``groups``: references are looked up within one return)."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: dict[str, np.ndarray] = {}


def empty_table(name: str) -> pd.DataFrame:
    """A contract table with no rows: every column, with its validated dtype."""
    typed, _ = check_rows(TABLES[name], RawTable.empty(name), accepted={})
    return typed


def frame_from_records(
    table: str, records: Sequence[Mapping[str, str | None]], *, file: str = "<test>"
) -> pd.DataFrame:
    """A typed, validated table from rows of text cells (for fixtures and notebooks).

    Rows are numbered like a CSV file (first record = line 2), so sources read
    ``f"{file}:2"``, ``f"{file}:3"``... Cells, required values, codes, ULNs, keys and
    defaults are checked as for a file; references to other tables are not.

    Args:
        table: a contract table name.
        records: one dict per row, column name to text (``None`` or absent = blank).
        file: the file name used in sources and messages.

    Returns:
        The table as :func:`validate_tables` returns it.

    Raises:
        KpiToolsError: an unknown table or column, or any cell that would be rejected
            (the message names the first problem and how many there are).
    """
    if table not in TABLES:
        raise KpiToolsError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}")
    known = set(TABLES[table].column_names)
    for number, record in enumerate(records, start=2):
        unknown = sorted(set(record) - known)
        if unknown:
            raise KpiToolsError(
                f"{unknown[0]!r} is not a column of {table}",
                path=file,
                row=number,
                column=unknown[0],
            )
    raw = RawTable.from_records(table, [dict(r) for r in records], label=file)
    typed, problems = check_rows(TABLES[table], raw, accepted=None)
    if len(problems):
        first = problems.iloc[0]
        row = int(raw.rows[int(first["position"])])
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise KpiToolsError(
            f"{first['column']} {first['value']!r}: {first['reason']} [{first['rule']}]{more}",
            path=file,
            row=row,
            column=str(first["column"]),
            value=first["value"],
        )
    return typed


def _rejected_rows(
    name: str, stack: RawStack, problems: pd.DataFrame
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """Problems as rejected-rows entries (table, source, column, value, reason, rule),
    for each return that has some."""
    positions = problems["position"].to_numpy(dtype=np.int64)  # ascending
    sources = [
        f"{stack.labels[g]}:{row}"
        for g, row in zip(
            stack.group[positions].tolist(), stack.rows[positions].tolist(), strict=True
        )
    ]
    columns = {
        "table": repeated(name, len(positions)),
        "source": object_array(sources),
        **{c: problems[c].to_numpy(dtype=object) for c in ("column", "value", "reason", "rule")},
    }
    cuts = np.searchsorted(positions, stack.starts).tolist()
    for g, (start, stop) in enumerate(itertools.pairwise(cuts)):
        if stop > start:
            yield g, {c: values[start:stop] for c, values in columns.items()}


def _rejected_frame(parts: Sequence[dict[str, np.ndarray]]) -> pd.DataFrame:
    """The rejected-rows entries (``model.empty_rejected`` columns but
    :data:`~kpitools.model.PERSONAL`, all ``object``)."""
    columns = [c for c in empty_rejected().columns if c != PERSONAL]
    return pd.DataFrame(
        {c: pd.Series(np.concatenate([p[c] for p in parts]), dtype=object) for c in columns}
    )


def check_rows(
    table: Table,
    raw: RawTable,
    *,
    accepted: Mapping[str, pd.DataFrame] | None,
    supplied: Collection[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type every row of one table and list every problem (rows are not dropped).

    Args:
        table: the contract table.
        raw: its raw rows.
        accepted: accepted tables validated so far, for references; None skips them.
        supplied: the tables the return holds; references to an optional table not
            among them are skipped (None: every table counts as supplied).

    Returns:
        ``(typed, problems)``: all rows typed (bad cells missing) with ``source``, and
        the problems as position, column, value, reason, rule (those of the first
        :data:`MAX_REJECTED_REASONS` rejected rows).
    """
    checked = _check_stack(
        table,
        RawStack.of(table, [raw]),
        accepted=accepted,
        supplied=None if supplied is None else [supplied],
    )
    return checked.typed, checked.problems


@dataclass(frozen=True)
class _Checked:
    """One table of a stack checked: every row typed, the problems whose details are
    kept (:class:`~kpitools.returns.validate_rules.Problems`), every rejected row and
    every return's count of reasons."""

    typed: pd.DataFrame
    problems: pd.DataFrame
    rejected: np.ndarray
    reasons: np.ndarray


def _check_stack(
    table: Table,
    stack: RawStack,
    *,
    accepted: Mapping[str, pd.DataFrame] | None,
    supplied: Sequence[Collection[str]] | None,
) -> _Checked:
    """:func:`check_rows` of one table of several returns stacked (``supplied``: per
    return); positions are the stack's."""
    index = pd.RangeIndex(len(stack))
    cells = stack.cells
    typed: dict[str, Any] = {}
    blanks: dict[str, np.ndarray] = {}
    problems = Problems(stack, listed_rows=MAX_REJECTED_REASONS)
    # a row the ILR mapping rejected (a stray contract, a learner twice in a file ...) is
    # rejected for the mapping's reasons: the contract columns it could not fill are not
    # reasons of their own
    mapped_rejected = np.zeros(len(stack), dtype=bool)
    if stack.from_ilr.any() and len(stack.problems):
        mapped_rejected[stack.problems["position"].to_numpy(dtype=np.int64)] = True
        mapped_rejected &= stack.from_ilr
    for column in table.columns:
        unknown = _unknown_from_ilr(column, stack)
        raw = cells[column.name]
        if unknown is not None:  # read as blank, then given back as unknown below
            raw = np.where(unknown, "", raw)
        parsed = parse_cells(column, raw)
        typed[column.name] = parsed.values
        blanks[column.name] = parsed.blank
        for failure in parsed.failures:
            problems.add_mask(column.name, failure.mask, failure.reason, failure.rule)
        if column.required:
            blank = parsed.blank & ~mapped_rejected
            if unknown is not None:
                blank &= ~unknown
            problems.add_mask(column.name, blank, "a required value is blank", "REQUIRED")
        if unknown is not None and column.kind == "code":
            typed[column.name] = np.where(unknown, UNKNOWN_FROM_ILR, parsed.values)
    _fill_defaults(table, typed)
    typed[SOURCE_COLUMN] = stack.sources()
    frame = _typed_frame(typed, index)
    table_problems(table, stack, typed, problems)
    if accepted is not None:
        for reference in table.references:
            reference_problems(table, reference, stack, typed, blanks, accepted, problems, supplied)
    return _Checked(frame, problems.frame(), problems.rejected, problems.reasons)


def _unknown_from_ilr(column: Column, stack: RawStack) -> np.ndarray | None:
    """Where a column marked ``unknown_from_ilr`` holds ``unknown`` in a row mapped from
    the ILR (None when it cannot: every other row, and every provider's file, is read
    by the contract's codes alone, so ``unknown`` there is BAD-CODE or BAD-FLAG)."""
    if not column.unknown_from_ilr or not stack.from_ilr.any():
        return None
    cells = stack.cells[column.name]
    unknown = stack.from_ilr & np.array(
        [isinstance(c, str) and c.strip().lower() == UNKNOWN_FROM_ILR for c in cells], dtype=bool
    )
    return unknown if unknown.any() else None


def _typed_frame(typed: Mapping[str, Any], index: pd.RangeIndex) -> pd.DataFrame:
    """The typed table from its columns' arrays (new arrays, numpy or pandas').

    Numpy columns of one dtype are stacked into one block, as the DataFrame
    constructor would consolidate them, without its per-column checks (a third of the
    time of a provider's load went there); older pandas use the constructor.
    """
    if FROM_BLOCKS is None:
        return pd.DataFrame(
            {  # object arrays as Series: pandas would read text columns as its str dtype
                name: pd.Series(values, index=index, dtype=object, copy=False)
                if values.dtype == object
                else values
                for name, values in typed.items()
            },
            index=index,
            copy=False,  # the arrays are new
        )
    arrays = list(typed.values())
    by_dtype: dict[np.dtype, list[int]] = {}
    blocks: list[tuple[Any, np.ndarray]] = []
    for position, values in enumerate(arrays):
        if isinstance(values, np.ndarray):
            by_dtype.setdefault(values.dtype, []).append(position)
        else:  # Int64 and boolean columns are pandas arrays: a block each
            blocks.append((values, np.array([position])))
    for positions in by_dtype.values():
        blocks.append((np.vstack([arrays[p] for p in positions]), np.array(positions)))
    return FROM_BLOCKS(blocks, index=index, columns=pd.Index(list(typed)))


def _fill_defaults(table: Table, typed: dict[str, Any]) -> None:
    """Contract defaults: accelerated_apprenticeship N; wants_interview Y for
    independent learners and N otherwise."""
    if table.name == "bootcamps":
        flag = typed["accelerated_apprenticeship"]
        typed["accelerated_apprenticeship"] = flag.fillna(False)
    elif table.name == "learners":
        independent = typed["learner_type"] == "independent"
        wants = typed["wants_interview"]
        known = wants.to_numpy(dtype=bool, na_value=False)
        filled = np.where(wants.isna(), independent, known)
        typed["wants_interview"] = pd.arrays.BooleanArray(filled, np.zeros(len(filled), bool))


def rejection_message(source: str, column: str, value: object, reason: str, rule: str) -> str:
    """One rejected-row reason in words, e.g. ``learners.csv line 14, column m1_date,
    value '31/02/2023': not a date (...) [BAD-DATE]``."""
    label, _, row = source.rpartition(":")
    row_word = "row" if label.endswith("]") else "line"
    shown = str(value).replace("\n", "\\n")
    return f"{label} {row_word} {row}, column {column}, value '{shown}': {reason} [{rule}]"


def reconciliation_lines(counts: Mapping[str, TableCount]) -> list[str]:
    """Rows read / accepted / rejected per table as aligned text lines."""
    lines = [f"{'table':<20}{'read':>8}{'accepted':>10}{'rejected':>10}  balanced"]
    for count in counts.values():
        balanced = "yes" if count.balances else "NO"
        lines.append(
            f"{count.table:<20}{count.read:>8}{count.accepted:>10}{count.rejected:>10}  {balanced}"
        )
    return lines
