"""Validating one provider's monthly return: every row accepted or rejected, counted,
with its evidence.

:func:`validate_return` takes what :func:`kpitools.returns.folder.read_provider_folder`
read from a provider folder (its tables maybe completed from the ILR files by
:func:`kpitools.load.load_provider`, the one loader packs, the CLI and notebooks
use), checks the required tables are there, validates every row
(:mod:`kpitools.returns.validate`) and returns a :class:`~kpitools.model.ProviderReturn`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from kpitools.errors import FileLevelError
from kpitools.layout import is_provider_name
from kpitools.model import ProviderReturn, TableCount
from kpitools.returns import validate
from kpitools.returns.contract import TABLES
from kpitools.returns.folder import ProviderFiles

log = logging.getLogger(__name__)


def validate_return(
    folder: Path, files: ProviderFiles, *, provider_id: str | None = None
) -> ProviderReturn:
    """Validate the tables read from one provider folder.

    Args:
        folder: the provider folder, e.g. ``DATA/2023-03/P001``.
        files: the raw tables, inputs and warnings read from it (learners, interviews
            and outcomes maybe taken from its ILR files).
        provider_id: the provider's id; by default the ``provider_id`` of the accepted
            provider row, else the folder name.

    Returns:
        The accepted tables (every contract table, maybe empty), the rejected rows (one
        per reason), counts per table (read = accepted + rejected), the inputs read
        with SHA-256, and warnings.

    Raises:
        FileLevelError: a required table (provider, bootcamps, learners) is absent, or
            the provider table has no row.
    """
    validated = validate_returns([(folder, files, provider_id)])[0]
    if isinstance(validated, FileLevelError):
        raise validated
    return validated


def validate_returns(
    returns: Sequence[tuple[Path, ProviderFiles, str | None]],
) -> list[ProviderReturn | FileLevelError]:
    """:func:`validate_return` of several folders (a period's) at once: their rows are
    validated together (:func:`kpitools.returns.validate.validate_many`), each return
    as alone.

    Args:
        returns: per return, its folder, the files read from it and its provider id
            (None: as :func:`validate_return` finds it).

    Returns:
        Per return, in the order given, its ProviderReturn, or the FileLevelError that
        :func:`validate_return` raises for it.
    """
    errors: dict[int, FileLevelError] = {}
    for i, (folder, files, _) in enumerate(returns):
        try:
            _require_tables(folder, files)
        except FileLevelError as error:
            errors[i] = error
    valid = [i for i in range(len(returns)) if i not in errors]
    validated = dict(
        zip(valid, validate.validate_many([returns[i][1].tables for i in valid]), strict=True)
    )
    return [
        errors[i] if i in errors else _provider_return(*returns[i], *validated[i])
        for i in range(len(returns))
    ]


def _provider_return(
    folder: Path,
    files: ProviderFiles,
    provider_id: str | None,
    tables: dict[str, pd.DataFrame],
    rejected: pd.DataFrame,
    counts: dict[str, TableCount],
) -> ProviderReturn:
    """The validated return of one folder, with its warnings and provider id."""
    warnings = list(files.warnings)
    not_supplied = _not_supplied(files)
    warnings += [
        f"{where} not supplied: the KPIs and checks that need the {name} table are "
        "no_data or not checked (a file with a header and no rows is an empty table)"
        for name, where in not_supplied.items()
    ]
    warnings += [
        unlisted_warning(files.tables[name].label, count)
        for name, count in counts.items()
        if count.unlisted_reasons
    ]
    chosen_id = _provider_id(folder, tables["provider"], provider_id, warnings)
    for count in counts.values():
        log.info(
            "%s %s: read %d, accepted %d, rejected %d",
            chosen_id,
            count.table,
            count.read,
            count.accepted,
            count.rejected,
        )
    return ProviderReturn(
        provider_id=chosen_id,
        path=folder,
        tables=tables,
        rejected=rejected,
        counts=counts,
        inputs=files.inputs,
        warnings=warnings,
        not_supplied=not_supplied,
    )


def unlisted_warning(label: str, count: TableCount) -> str:
    """The warning of a table whose rejected rows are not all listed
    (:data:`~kpitools.returns.validate.MAX_REJECTED_REASONS`)."""
    listed = count.rejected - count.unlisted_rows
    return (
        f"{label}: {count.rejected:,} rows rejected; the reasons of the first {listed:,} are "
        f"listed (rejected_rows.csv, the pack, the register), the other "
        f"{count.unlisted_rows:,} rows ({count.unlisted_reasons:,} reasons) are counted, not "
        f"listed: at most {validate.MAX_REJECTED_REASONS:,} reasons are kept a table, and the checks "
        "of rejected rows (DUP-ROW, EMP-UNKNOWN) saw the listed ones only; correct the file "
        "and send it again"
    )


def _form(files: ProviderFiles) -> str:
    """``datasheet.xlsx`` for a workbook return, ``folder`` for CSV files."""
    if any(f.path.lower() == "datasheet.xlsx" for f in files.inputs):
        return "datasheet.xlsx"
    return "folder"


def _expected(name: str, form: str) -> str:
    """Where a table is looked for: ``learners.csv`` or a sheet of the datasheet."""
    return f"sheet {name!r} of datasheet.xlsx" if form == "datasheet.xlsx" else f"{name}.csv"


def _not_supplied(files: ProviderFiles) -> dict[str, str]:
    """The optional tables absent from the return, with the file each was looked for as."""
    form = _form(files)
    return {name: _expected(name, form) for name in TABLES if name not in files.tables}


def _require_tables(folder: Path, files: ProviderFiles) -> None:
    """provider, bootcamps and learners must be present (learners may come from the ILR)."""
    form = _form(files)
    raw_tables = files.tables
    for name, table in TABLES.items():
        if not table.required_table or name in raw_tables:
            continue
        raise FileLevelError(
            f"required table {name!r} is absent (expected {_expected(name, form)})", path=folder
        )
    provider = raw_tables["provider"]
    if not len(provider):
        # Without its one row the return names no provider and no UKPRN: nothing to audit.
        raise FileLevelError(
            "has a header but no provider row (provider_id, name, ukprn); add the row",
            path=folder / provider.label,
        )


def _provider_id(
    folder: Path, provider: pd.DataFrame, given: str | None, warnings: list[str]
) -> str:
    """The id to report under: given, else the accepted provider row's, else the folder."""
    from_file = str(provider["provider_id"].iloc[0]) if len(provider) else None
    if given is not None:
        if from_file is not None and from_file != given:
            warnings.append(f"provider.csv names provider {from_file!r}, loaded as {given!r}")
        return given
    if from_file is not None:
        if from_file != folder.name and is_provider_name(folder.name):
            warnings.append(
                f"provider.csv names provider {from_file!r} but the folder is {folder.name!r}"
            )
        return from_file
    return folder.name
