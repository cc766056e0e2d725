"""Row validation: every row read is accepted, or rejected with every reason.

Input is the raw form of :class:`kpitools.io.tables.RawTable` (cells as text, with the row
a person sees); output is the typed tables of ``kpitools/model.py``, the rejected rows
(one row per reason: table, source, column, value, reason, rule) and a
:class:`~kpitools.model.TableCount` per table where read = accepted + rejected.

Tables are validated in ``contract.LOAD_ORDER`` so that references are checked against
the *accepted* rows of the referenced table: a rejected learner makes its payments,
assessments, interviews, outcomes and referrals rejected too (REF-LEARNER).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from kpitools.cells import parse_column
from kpitools.contract import (
    LOAD_ORDER,
    PROVIDER_ID_PATTERN,
    SOURCE_COLUMN,
    TABLES,
    Reference,
    Table,
)
from kpitools.errors import KpiToolsError
from kpitools.io.tables import PROBLEM_COLUMNS, RawTable
from kpitools.model import TableCount, empty_rejected

ValidatedTables = tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[str, TableCount]]


def validate_tables(raw: Mapping[str, RawTable]) -> ValidatedTables:
    """Validate every contract table of one provider's return.

    Args:
        raw: raw tables by contract name; an absent table is validated as empty.

    Returns:
        ``(tables, rejected, counts)``: accepted rows per contract table (all tables
        present, typed per ``kpitools/model.py``, with ``source``), the rejected-rows
        frame (``model.empty_rejected`` columns) and the counts per table.
    """
    tables: dict[str, pd.DataFrame] = {}
    rejected_parts: list[pd.DataFrame] = []
    counts: dict[str, TableCount] = {}
    for name in LOAD_ORDER:
        raw_table = raw.get(name) or RawTable.empty(name)
        typed, problems = check_rows(TABLES[name], raw_table, accepted=tables)
        bad_positions = np.unique(problems["position"].to_numpy(dtype=np.int64))
        keep = np.ones(len(raw_table), dtype=bool)
        keep[bad_positions] = False
        tables[name] = typed[keep].reset_index(drop=True)
        counts[name] = TableCount(name, len(raw_table), int(keep.sum()), len(bad_positions))
        rejected_parts.append(_rejected_rows(name, raw_table, problems))
    rejected = pd.concat([empty_rejected(), *rejected_parts], ignore_index=True)
    return tables, rejected, counts


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


def _rejected_rows(name: str, raw: RawTable, problems: pd.DataFrame) -> pd.DataFrame:
    """Problems as rejected-rows entries: table, source, column, value, reason, rule."""
    positions = problems["position"].to_numpy(dtype=np.int64)
    sources = [f"{raw.label}:{row}" for row in raw.rows[positions]]
    return pd.DataFrame(
        {
            "table": name,
            "source": pd.Series(sources, dtype=object),
            "column": problems["column"].to_numpy(dtype=object),
            "value": problems["value"].to_numpy(dtype=object),
            "reason": problems["reason"].to_numpy(dtype=object),
            "rule": problems["rule"].to_numpy(dtype=object),
        }
    ).astype(object)


def check_rows(
    table: Table, raw: RawTable, *, accepted: Mapping[str, pd.DataFrame] | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type every row of one table and list every problem (rows are not dropped).

    Args:
        table: the contract table.
        raw: its raw rows.
        accepted: accepted tables validated so far, for references; None skips them.

    Returns:
        ``(typed, problems)``: all rows typed (bad cells missing) with ``source``, and
        the problems as position, column, value, reason, rule.
    """
    cells = _contract_cells(table, raw)
    typed: dict[str, pd.Series] = {}
    blanks: dict[str, np.ndarray] = {}
    problems: list[pd.DataFrame] = [raw.problems]
    for column in table.columns:
        parsed = parse_column(column, cells[column.name])
        typed[column.name] = parsed.values
        blanks[column.name] = parsed.blank
        for failure in parsed.failures:
            problems.append(
                _cell_problems(cells, column.name, failure.mask, failure.reason, failure.rule)
            )
        if column.required:
            problems.append(
                _cell_problems(
                    cells, column.name, parsed.blank, "a required value is blank", "REQUIRED"
                )
            )
    frame = pd.DataFrame(typed, index=cells.index)
    frame[SOURCE_COLUMN] = raw.source().set_axis(cells.index)
    frame = _fill_defaults(table, frame)
    problems.extend(_table_problems(table, raw, cells, frame))
    if accepted is not None:
        for reference in table.references:
            problems.append(_reference_problems(table, reference, cells, frame, blanks, accepted))
    found = pd.concat([p for p in problems if len(p)] or [raw.problems], ignore_index=True)
    return frame.reset_index(drop=True), found.sort_values("position", kind="stable")


def _contract_cells(table: Table, raw: RawTable) -> pd.DataFrame:
    """Every contract column as read (text); a column absent from the file is blank."""
    index = pd.RangeIndex(len(raw))
    columns = {}
    for name in table.column_names:
        if name in raw.cells.columns:
            columns[name] = raw.cells[name].astype(object).set_axis(index)
        else:
            columns[name] = pd.Series([""] * len(raw), index=index, dtype=object)
    return pd.DataFrame(columns, index=index)


def _cell_problems(
    cells: pd.DataFrame,
    column: str,
    mask: np.ndarray | pd.Series,
    reason: str | pd.Series,
    rule: str,
) -> pd.DataFrame:
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    if isinstance(reason, pd.Series):
        reason = reason.to_numpy()[positions]
    return pd.DataFrame(
        {
            "position": positions,
            "column": column,
            "value": cells[column].to_numpy()[positions],
            "reason": reason,
            "rule": rule,
        },
        columns=list(PROBLEM_COLUMNS),
    )


def _fill_defaults(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """Contract defaults: accelerated_apprenticeship N; wants_interview Y for
    independent learners and N otherwise."""
    if table.name == "bootcamps":
        return frame.assign(
            accelerated_apprenticeship=frame["accelerated_apprenticeship"].fillna(False)
        )
    if table.name == "learners":
        independent = pd.Series(frame["learner_type"] == "independent", dtype="boolean")
        return frame.assign(wants_interview=frame["wants_interview"].fillna(independent))
    return frame


def _table_problems(
    table: Table, raw: RawTable, cells: pd.DataFrame, frame: pd.DataFrame
) -> list[pd.DataFrame]:
    """Rules about the table as a whole: duplicate keys, one provider, provider id form."""
    problems = []
    if table.name == "provider":
        provider_id = frame["provider_id"]
        bad_id = provider_id.notna() & ~provider_id.fillna("").str.fullmatch(PROVIDER_ID_PATTERN)
        reason = "a provider id is 1 to 40 letters, digits, '_' or '-'"
        problems.append(_cell_problems(cells, "provider_id", bad_id, reason, "BAD-ID"))
        extra = np.arange(len(raw)) > 0
        first = (
            f"the provider table holds one provider, already given on {raw.row_word} {raw.rows[0]}"
            if len(raw)
            else ""
        )
        problems.append(_cell_problems(cells, "provider_id", extra, first, "DUP-KEY"))
    elif table.key:
        problems.append(_duplicate_keys(table.key, raw, cells, frame))
    return problems


def _duplicate_keys(
    key: tuple[str, ...], raw: RawTable, cells: pd.DataFrame, frame: pd.DataFrame
) -> pd.DataFrame:
    """Later rows with the key of an earlier row (the first is kept)."""
    keys = frame[list(key)]
    complete = keys.notna().all(axis=1).to_numpy()
    duplicated = keys.duplicated(keep="first").to_numpy() & complete
    if not duplicated.any():
        return _cell_problems(cells, key[0], duplicated, "", "DUP-KEY")
    first_row = (
        pd.Series(raw.rows, index=keys.index).groupby([keys[c] for c in key]).transform("first")
    )
    reason = f"same {', '.join(key)} as {raw.row_word} " + first_row.astype("Int64").astype(str)
    return _cell_problems(cells, key[0], duplicated, reason, "DUP-KEY")


def _joined_keys(frame: pd.DataFrame, columns: list[str], separator: str) -> pd.Series:
    """Key columns as one text per row (blank parts as ""), for fast membership tests."""
    parts = [frame[c].astype(object).fillna("") for c in columns]
    return parts[0].str.cat(parts[1:], sep=separator) if len(parts) > 1 else parts[0]


def _reference_problems(
    table: Table,
    reference: Reference,
    cells: pd.DataFrame,
    frame: pd.DataFrame,
    blanks: Mapping[str, np.ndarray],
    accepted: Mapping[str, pd.DataFrame],
) -> pd.DataFrame:
    """Rows naming something absent from the accepted rows of the referenced table."""
    columns = list(reference.columns)
    applies = np.ones(len(cells), dtype=bool)
    if reference.when is not None:
        applies = (frame[reference.when[0]] == reference.when[1]).fillna(False).to_numpy(dtype=bool)
    blank = np.logical_or.reduce([blanks[c] for c in columns])
    target = accepted.get(reference.table)
    keys = _joined_keys(frame, columns, "\x1f")
    if target is None or not len(target):
        found = np.zeros(len(cells), dtype=bool)
    else:
        target_keys = _joined_keys(target, list(reference.target_columns), "\x1f")
        found = keys.isin(target_keys).to_numpy(dtype=bool)
    missing = applies & ~blank & ~found
    shown = _joined_keys(frame, columns, " / ")
    reason = (
        f"no {' / '.join(reference.target_columns)} '"
        + shown
        + (f"' among the accepted rows of {reference.table}")
    )
    problems = [_cell_problems(cells, columns[0], missing, reason, reference.rule)]
    already_required = all(table.column(c).required for c in columns)
    if not reference.optional and not already_required:
        why = "a required value is blank"
        if reference.when is not None:
            why = f"required when {reference.when[0]} is {reference.when[1]}"
        problems.append(_cell_problems(cells, columns[0], applies & blank, why, "REQUIRED"))
    return pd.concat(problems, ignore_index=True)


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
