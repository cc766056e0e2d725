"""Loading one provider's monthly return: read strictly, validate, count, keep evidence.

``load_provider`` is the one entry point packs, the CLI and notebooks use. It reads the
folder (:mod:`kpitools.returns.tables`), gathers the learners table from its sources
(:func:`_learner_sources`), checks the required tables are there, validates every row
(:mod:`kpitools.returns.validate`) and returns a :class:`~kpitools.model.ProviderReturn`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd

from kpitools.errors import FileLevelError
from kpitools.layout import PROVIDER_ID_PATTERN
from kpitools.model import ProviderReturn
from kpitools.returns.contract import TABLES
from kpitools.returns.folder import ProviderFiles, read_provider_folder
from kpitools.returns.tables import RawTable
from kpitools.returns.validate import validate_tables

log = logging.getLogger(__name__)


def load_provider(path: str | Path, *, provider_id: str | None = None) -> ProviderReturn:
    """Read and validate one provider folder (CSV tables or ``datasheet.xlsx``).

    Args:
        path: the provider folder, e.g. ``DATA/2023-03/P001``.
        provider_id: the provider's id; by default the ``provider_id`` of the accepted
            provider row, else the folder name.

    Returns:
        The accepted tables (every contract table, maybe empty), the rejected rows (one
        per reason), counts per table (read = accepted + rejected), the inputs read
        with SHA-256, and warnings.

    Raises:
        FileLevelError: a file cannot be read, both a datasheet and CSV tables are
            present, a required table (provider, bootcamps, learners) is absent, or the
            provider table has no row.
    """
    folder = Path(path)
    files = read_provider_folder(folder)
    raw_tables = _learner_sources(folder, files)
    _require_tables(folder, files, raw_tables)
    tables, rejected, counts = validate_tables(raw_tables)
    warnings = list(files.warnings)
    not_supplied = _not_supplied(files, raw_tables)
    warnings += [f"{where} not supplied: the KPIs and checks that need the {name} table are "
                 "no_data or not checked (a file with a header and no rows is an empty table)"
                 for name, where in not_supplied.items()]
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


def _learner_sources(folder: Path, files: ProviderFiles) -> dict[str, RawTable]:
    """The raw tables to validate, with the learners table taken from its source:
    learners.csv (or the learners sheet) when the folder has one, else the ILR files in
    ``ilr/`` (:func:`kpitools.ilr.mapping.ilr_raw_tables`), which also give interviews
    and outcomes when the folder has none; validation then treats them like any other
    table, each row labelled with its ILR file.
    """
    raw_tables = dict(files.tables)
    if "learners" not in raw_tables and files.ilr_files:
        log.info("%s: no learners table; %d ILR file(s) present", folder, len(files.ilr_files))
        # ILR ingestion (kpitools.ilr.mapping): learners, and interviews / outcomes when
        # the folder has none, come from ilr/*.xml (default rules: M1 = start + 7 days).
        from kpitools.ilr.mapping import ilr_raw_tables, tables_from_ilr_files
        from kpitools.rules import Rules

        ilr = tables_from_ilr_files(files.ilr_files, rules=Rules())
        for name, raw in ilr_raw_tables(ilr).items():
            raw_tables.setdefault(name, raw)
        files.inputs.extend(replace(i, path=f"ilr/{Path(i.path).name}") for i in ilr.inputs)
        files.warnings.extend(f"ILR: {note}" for note in ilr.notes)
    return raw_tables


def _form(files: ProviderFiles) -> str:
    """``datasheet.xlsx`` for a workbook return, ``folder`` for CSV files."""
    if any(f.path.lower() == "datasheet.xlsx" for f in files.inputs):
        return "datasheet.xlsx"
    return "folder"


def _expected(name: str, form: str) -> str:
    """Where a table is looked for: ``learners.csv`` or a sheet of the datasheet."""
    return f"sheet {name!r} of datasheet.xlsx" if form == "datasheet.xlsx" else f"{name}.csv"


def _not_supplied(files: ProviderFiles, raw_tables: dict[str, RawTable]) -> dict[str, str]:
    """The optional tables absent from the return, with the file each was looked for as."""
    form = _form(files)
    return {name: _expected(name, form) for name in TABLES if name not in raw_tables}


def _require_tables(folder: Path, files: ProviderFiles, raw_tables: dict[str, RawTable]) -> None:
    """provider, bootcamps and learners must be present (learners may come from ILR)."""
    form = _form(files)
    for name, table in TABLES.items():
        if not table.required_table or name in raw_tables:
            continue
        if name == "learners" and files.ilr_files:
            continue
        raise FileLevelError(f"required table {name!r} is absent (expected {_expected(name, form)})",
                             path=folder)
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
        if from_file != folder.name and re.fullmatch(PROVIDER_ID_PATTERN, folder.name):
            warnings.append(
                f"provider.csv names provider {from_file!r} but the folder is {folder.name!r}"
            )
        return from_file
    return folder.name
