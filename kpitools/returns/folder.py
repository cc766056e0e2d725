"""A provider folder read as a whole: one CSV file per contract table, or
``datasheet.xlsx`` with one sheet per table (never both), every cell still text.

:mod:`kpitools.returns.tables` reads one CSV file and :mod:`kpitools.returns.workbook`
one workbook; this module finds the files, refuses ambiguous folders, and records each
input's SHA-256 (the ILR files in ``ilr/`` are not read here: :mod:`kpitools.load`).
:mod:`kpitools.returns.load` validates what it returns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kpitools.errors import FileLevelError
from kpitools.model import InputFile
from kpitools.returns.contract import TABLES
from kpitools.returns.tables import RawTable, csv_table
from kpitools.returns.workbook import read_workbook

# Files that hold a table, by lower-case name: two of them differing only in case would
# leave which one is read to the file system.
_TABLE_FILES = frozenset({"datasheet.xlsx", *(f"{name}.csv" for name in TABLES)})


@dataclass
class ProviderFiles:
    """Everything read from one provider folder, before validation.

    Attributes:
        tables: raw tables by contract name (only those found).
        inputs: every file read, with its SHA-256 (``path`` is relative to the folder).
        warnings: notes for the user (cp1252 file, unknown column, formula cell...).
    """

    tables: dict[str, RawTable]
    inputs: list[InputFile]
    warnings: list[str]


def read_provider_folder(folder: str | Path) -> ProviderFiles:
    """Read a provider folder: one CSV per table, or ``datasheet.xlsx`` (not both).

    Args:
        folder: the provider folder.

    Returns:
        The raw tables, the inputs with SHA-256, and warnings.

    Raises:
        FileLevelError: the folder is missing, holds both a datasheet and CSV tables, or
            a file cannot be read (see :func:`read_csv_table`, :func:`read_workbook`).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileLevelError(
            "not a provider folder (expected a folder of CSV files or datasheet.xlsx)", path=folder
        )
    files = _folder_files(folder)
    csv_names = [f"{name}.csv" for name in TABLES if f"{name}.csv" in files]
    warnings = [
        f"{files[n].name}: not a contract table; ignored"
        for n in files
        if n.endswith(".csv") and n[:-4] not in TABLES
    ]
    if "datasheet.xlsx" in files and csv_names:
        raise FileLevelError(
            f"ambiguous return: both datasheet.xlsx and {', '.join(csv_names)}; keep one form",
            path=folder,
        )
    try:
        tables, inputs = _read_files(files, csv_names, warnings)
    except FileLevelError as error:  # name the file with its folder: batches read many
        raise FileLevelError(
            error.message,
            path=folder / (error.path or ""),
            row=error.row,
            column=error.column,
            value=error.value,
        ) from None
    return ProviderFiles(tables, inputs, warnings)


def _folder_files(folder: Path) -> dict[str, Path]:
    """The folder's files by lower-case name (Office lock files and hidden files left out).

    Raises:
        FileLevelError: two table files whose names differ only in case; a table's name
            (``learners.csv``, ``datasheet.xlsx``) that is not a file (a folder): passed
            over, the table would be not supplied, or taken from the ILR, without a word.
    """
    by_name: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(("~$", ".")):
            continue
        if path.name.lower() in _TABLE_FILES and not path.is_file():
            raise FileLevelError(
                "is not a file (a folder?), so its table cannot be read; put the file itself there",
                path=path,
            )
        if path.is_file():
            by_name.setdefault(path.name.lower(), []).append(path)
    for name, paths in by_name.items():
        if len(paths) > 1 and name in _TABLE_FILES:
            raise FileLevelError(
                f"{' and '.join(p.name for p in paths)} are two files for one table (names "
                "differ only in case); keep one",
                path=folder,
            )
    return {name: paths[0] for name, paths in by_name.items()}


def _read_files(
    files: dict[str, Path], csv_names: list[str], warnings: list[str]
) -> tuple[dict[str, RawTable], list[InputFile]]:
    tables: dict[str, RawTable] = {}
    inputs: list[InputFile] = []
    if "datasheet.xlsx" in files:
        path = files["datasheet.xlsx"]
        tables, sheet_warnings = read_workbook(path)
        warnings += sheet_warnings
        inputs.append(_input_file(path, tables.values()))
    for name in csv_names:
        path = files[name]
        try:
            data = path.read_bytes()  # read once: parsed, then hashed
        except OSError as error:
            raise FileLevelError(
                f"cannot be read ({error.strerror or error})", path=path.name
            ) from None
        raw, file_warnings = csv_table(data, path.name, name[:-4])
        tables[raw.table] = raw
        warnings += file_warnings
        inputs.append(_input_file(path, [raw], data))
    return tables, inputs


def _input_file(path: Path, raws: Iterable[RawTable], data: bytes | None = None) -> InputFile:
    raws = list(raws)
    data = path.read_bytes() if data is None else data
    return InputFile(
        path.name,
        hashlib.sha256(data).hexdigest(),
        len(data),
        tuple(r.table for r in raws),
        sum(len(r) for r in raws),
    )
