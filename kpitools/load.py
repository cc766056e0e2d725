"""Step 1 of the pipeline: loading a provider's monthly return, its datasheet (or CSV
tables) and, when the folder has no learners table, its ILR files.

``load_provider`` (``load_providers`` for several folders) is the one loader the audit
engine, the CLI, notebooks and the trends use. It reads the folder
(:func:`kpitools.returns.folder.read_provider_folder`), takes the learners table, and
the interviews and outcomes when the folder has none, from the ILR files in ``ilr/``
(:func:`kpitools.layout.ilr_files`, mapped by :mod:`kpitools.ilr.mapping` with the
run's rules) and validates it all (:func:`kpitools.returns.load.validate_return`). It
sits above ``returns/`` and ``ilr/``, which it combines, so that reading a return never
needs the ILR.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from kpitools.errors import KpiToolsError, ProviderFailure
from kpitools.ilr.mapping import IlrReads, IlrTables, ilr_raw_tables, tables_from_ilr_files
from kpitools.layout import ilr_files
from kpitools.model import ProviderReturn
from kpitools.returns.folder import ProviderFiles, read_provider_folder
from kpitools.returns.load import validate_return, validate_returns
from kpitools.rules import Rules

log = logging.getLogger(__name__)


def load_provider(
    path: str | Path, *, provider_id: str | None = None, rules: Rules | None = None
) -> ProviderReturn:
    """Read and validate one provider folder (CSV tables or ``datasheet.xlsx``, and
    ``ilr/*.xml`` when there is no learners table).

    Args:
        path: the provider folder, e.g. ``DATA/2023-03/P001``.
        provider_id: the provider's id; by default the ``provider_id`` of the accepted
            provider row, else the folder name.
        rules: the rules in force (the ILR's M1 and its event indicator table); the
            spec's defaults when None.

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
    return validate_return(folder, _read(folder, rules, IlrReads()), provider_id=provider_id)


def load_providers(
    paths: Sequence[str | Path], *, rules: Rules | None = None, reads: IlrReads | None = None
) -> list[ProviderReturn | KpiToolsError]:
    """:func:`load_provider` of several folders (a period's, this month's and last):
    each folder read on its own, then the returns validated together, a batch at a time
    (:func:`kpitools.returns.load.validate_returns`), the same result for each. ``reads``:
    the ILR files the run has parsed (:class:`~kpitools.ilr.mapping.IlrReads`, which the
    audit engine owns for a run); None: this call's own.

    Returns:
        Per folder, in the order given, its return or the KpiToolsError that
        :func:`load_provider` raises for it; a folder whose reading fails on an
        unexpected error (a fault of kpitools) gets a ProviderFailure with the traceback,
        the others go on. Validating the batch together is one step: an unexpected
        error there is raised.
    """
    reads = reads or IlrReads()
    results: list[ProviderReturn | KpiToolsError] = []
    for start in range(0, len(paths), VALIDATED_TOGETHER):
        read: list[tuple[Path, ProviderFiles, None] | KpiToolsError] = []
        for path in paths[start : start + VALIDATED_TOGETHER]:
            try:
                read.append((Path(path), _read(Path(path), rules, reads), None))
            except KpiToolsError as error:
                read.append(error)
            except Exception as error:  # a fault of kpitools on this folder: it fails alone
                read.append(ProviderFailure.during("loading", error, path=path))
        found = [entry for entry in read if not isinstance(entry, KpiToolsError)]
        validated = iter(validate_returns(found))
        results += [
            entry if isinstance(entry, KpiToolsError) else next(validated) for entry in read
        ]
    return results


VALIDATED_TOGETHER = 50
"""Returns validated in one pass by :func:`load_providers`: enough to share the fixed
cost of a pass (a period's 400 returns: 8 passes, not 400), few enough that the text
of the files held at once stays small (all 400 at once doubled the peak memory)."""


def _read(folder: Path, rules: Rules | None, reads: IlrReads) -> ProviderFiles:
    """The files of one provider folder, learners (and maybe interviews and outcomes)
    from its ILR files when it has no learners table.

    Raises:
        KpiToolsError: a file of the folder, or one of its ILR files, cannot be read.
    """
    files = read_provider_folder(folder)
    paths = ilr_files(folder)
    if "learners" not in files.tables and paths:
        log.info("%s: no learners table; %d ILR file(s) present", folder, len(paths))
        ilr = tables_from_ilr_files({folder: paths}, rules=rules or Rules(), reads=reads)[folder]
        if isinstance(ilr, KpiToolsError):
            raise ilr
        _take_from_ilr(files, ilr)
    return files


def _take_from_ilr(files: ProviderFiles, ilr: IlrTables) -> None:
    """Learners, and interviews / outcomes when the folder has none, from the ILR files:
    validation then treats them like any other table, each row labelled with its ILR
    file; the files join the inputs and the mapping's notes the warnings."""
    for name, raw in ilr_raw_tables(ilr).items():
        files.tables.setdefault(name, raw)
    files.inputs.extend(replace(i, path=f"ilr/{Path(i.path).name}") for i in ilr.inputs)
    files.warnings.extend(f"ILR: {note}" for note in ilr.notes)
