"""Where things are on disk: the one description of a period's folder layout.

Inputs and outputs follow data-contract.md::

    DATA/2023-03/P001/...           a provider's return for a period (YYYY-MM)
    DATA/2023-03/P001/ilr/*.xml     its ILR files, if any
    DATA/2023-02/P001/...           the same provider's previous month
    OUT/2023-03/P001/...            its outputs; OUT/2023-03/index.html the portfolio

Every command, the batch and the notebooks find a period, its provider folders, the
previous month's folder of a provider, its ILR files and the output folders through these functions;
nothing else in the package builds those paths. The ``YYYY-MM`` pattern itself lives in
:func:`kpitools.calendar.parse_period`.
"""

from __future__ import annotations

import re
from pathlib import Path

from kpitools.calendar import parse_period, previous_period

PROVIDER_ID_PATTERN = r"[A-Za-z0-9_-]{1,40}"
"""A provider id, which is also its folder's name (data contract: ``provider.provider_id``):
the one statement of its form, without anchors (a provider id is the whole of a name,
:func:`is_provider_name`; a scoped identifier starts with one,
:mod:`kpitools.returns.period`)."""
_PROVIDER_ID = re.compile(PROVIDER_ID_PATTERN)


def is_period_name(name: str) -> bool:
    """True for a period folder's name, ``YYYY-MM`` with a month 01-12."""
    try:
        parse_period(name)
    except ValueError:
        return False
    return True


def is_provider_name(name: str) -> bool:
    """True for a name that can be a provider id, and so a provider folder
    (:data:`PROVIDER_ID_PATTERN`, the whole name)."""
    return _PROVIDER_ID.fullmatch(name) is not None


def provider_period(provider_dir: str | Path) -> str | None:
    """The period of ``DATA/<period>/<provider>``: the parent folder's name when it is
    ``YYYY-MM``, else None."""
    parent = Path(provider_dir).resolve().parent.name
    return parent if is_period_name(parent) else None


def provider_folders(period_dir: str | Path) -> list[Path]:
    """The sub-folders of ``DATA/PERIOD`` whose names are provider ids, sorted by name."""
    period_dir = Path(period_dir)
    return sorted(p for p in period_dir.iterdir() if p.is_dir() and is_provider_name(p.name))


def skipped_folders(period_dir: str | Path) -> dict[str, str]:
    """The sub-folders of ``DATA/PERIOD`` that are not provider folders, with the reason:
    a batch lists them in the index and on the terminal rather than pass over them."""
    period_dir = Path(period_dir)
    return {
        p.name: "not audited: the folder name is not a provider id (letters, digits, _ and - only, "
        "at most 40); rename it to the provider's id to audit it"
        for p in sorted(period_dir.iterdir())
        if p.is_dir() and not is_provider_name(p.name)
    }


def previous_period_dir(period_dir: str | Path) -> Path | None:
    """``DATA/<previous month>`` beside ``DATA/<period>``, when the folder is named
    ``YYYY-MM`` and that sibling exists; else None."""
    period_dir = Path(period_dir)
    if not is_period_name(period_dir.name):
        return None
    candidate = period_dir.parent / previous_period(period_dir.name)
    return candidate if candidate.is_dir() else None


def previous_provider_dir(provider_dir: str | Path, period: str | None = None) -> Path | None:
    """``DATA/<previous month>/<provider>`` for ``DATA/<period>/<provider>``, if it exists.

    Args:
        provider_dir: the provider's folder for the period.
        period: the period when the parent folder is not named after it (default: the
            parent folder's name).

    Returns:
        The previous month's folder of the same provider, or None when there is none
        (the caller notes that restatements were not checked).
    """
    provider_dir = Path(provider_dir).resolve()
    period = period or provider_period(provider_dir)
    if period is None:
        return None
    candidate = _same_provider_in(provider_dir, previous_period(period))
    return candidate if candidate.is_dir() else None


def _same_provider_in(provider_dir: Path, period: str) -> Path:
    """``DATA/<period>/<provider>`` for ``DATA/<any period>/<provider>`` (not checked)."""
    return provider_dir.parent.parent / period / provider_dir.name


def earlier_provider_dirs(
    provider_dir: str | Path, period: str, count: int
) -> list[tuple[str, Path]]:
    """The provider's folders of the ``count`` periods before ``period`` that exist
    beside it (``DATA/<earlier period>/<provider>``; a missing month is skipped), oldest
    first, each with its period."""
    provider_dir = Path(provider_dir).resolve()
    found = []
    earlier = period
    for _ in range(max(count, 0)):
        earlier = previous_period(earlier)
        candidate = _same_provider_in(provider_dir, earlier)
        if candidate.is_dir():
            found.append((earlier, candidate))
    return found[::-1]


def ilr_files(provider_dir: str | Path) -> list[Path]:
    """The ILR files of a provider folder, ``<provider>/ilr/*.xml`` (the extension in any
    case: ``.XML`` too), sorted by path; none when there is no ``ilr/`` folder. The loader
    and the ILR review both find them here."""
    folder = Path(provider_dir) / "ilr"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xml" and p.is_file())


def charts_path(audit_path: str | Path) -> Path:
    """Where the charts drawn for a saved audit go: beside it (``P001.audit.charts.json``;
    here, not beside ``save_charts``, so that a pack worker that leaves the charts to
    its kernel clears a stale file without importing pandas)."""
    return Path(audit_path).with_suffix(".charts.json")


def period_out_dir(out_root: str | Path, period: str) -> Path:
    """``OUT/PERIOD``: where a period's provider folders and its index page go."""
    return Path(out_root) / period


def provider_out_dir(out_root: str | Path, period: str, provider_id: str) -> Path:
    """``OUT/PERIOD/<provider>``: where one provider's outputs and pack go."""
    return period_out_dir(out_root, period) / provider_id


def default_out_root(provider_dir: str | Path) -> Path:
    """The output root used when none is given (a notebook whose ``out_dir`` is blank):
    ``out/<DATA name>`` beside the data folder, so ``data/demo/2023-03/P001`` writes to
    ``data/out/demo/2023-03/P001`` and never inside DATA itself."""
    data_root = Path(provider_dir).resolve().parent.parent
    return data_root.parent / "out" / data_root.name


def default_provider_out_dir(provider_dir: str | Path, period: str | None = None) -> Path:
    """``OUT/PERIOD/<provider>`` under :func:`default_out_root` for a provider folder.

    Raises:
        ValueError: the period is not given and the parent folder is not ``YYYY-MM``.
    """
    provider_dir = Path(provider_dir)
    period = period or provider_period(provider_dir)
    if period is None:
        raise ValueError(f"{provider_dir.as_posix()} is not inside a YYYY-MM period folder")
    return provider_out_dir(default_out_root(provider_dir), period, provider_dir.resolve().name)


REGISTER_FILE = "exceptions.xlsx"
REGISTER_SAVED_AS = (".xlsm", ".csv")
"""The other forms an auditor's Excel may save the register in (``exceptions.xlsm``, a
workbook with macros; ``exceptions.csv``, its active sheet): read back like
``exceptions.xlsx`` (:func:`register_files`) and kept under ``.history`` like it."""
EVIDENCE_WORKBOOK = "evidence_request.xlsx"
"""The evidence request sent to a provider (``OUT/<period>/<provider>/``) and, returned
with its replies, read back from the provider's next return (``DATA/<next
period>/<provider>/``): never a table of the return (:mod:`kpitools.returns.folder`
reads only ``datasheet.xlsx`` and the contract's CSV files)."""


def evidence_reply(provider_dir: str | Path) -> Path | None:
    """The evidence request a provider returned with this return: ``evidence_request.xlsx``
    in its folder (any case of the name), or None."""
    folder = Path(provider_dir)
    if not folder.is_dir():
        return None
    found = [p for p in folder.iterdir() if p.name.lower() == EVIDENCE_WORKBOOK and p.is_file()]
    return sorted(found)[0] if found else None


HISTORY_FOLDER = ".history"
"""``OUT/<period>/<provider>/.history/``: every register a run replaced, kept whole under
a UTC timestamp (:func:`history_register`)."""


CASES_FOLDER = "cases"
"""``OUT/<period>/<provider>/cases/``: the provider's case files (``kpitools case``),
carried into each new set of the provider's outputs like the register's history."""


def cases_dir(out_root: str | Path, period: str, provider_id: str) -> Path:
    """``OUT/PERIOD/<provider>/cases``: where a provider's case files go."""
    return provider_out_dir(out_root, period, provider_id) / CASES_FOLDER


def history_register(provider_out_dir: str | Path, stamp: str, suffix: str = "") -> Path:
    """Where the register replaced at ``stamp`` (``YYYYMMDDTHHMMSSZ``) is kept:
    ``OUT/<period>/<provider>/.history/exceptions-<stamp>.xlsx`` (or the ``suffix`` it
    was saved with, :data:`REGISTER_SAVED_AS`)."""
    name = Path(REGISTER_FILE)
    return Path(provider_out_dir) / HISTORY_FOLDER / f"{name.stem}-{stamp}{suffix or name.suffix}"


def register_files(provider_out_dir: str | Path) -> list[Path]:
    """The registers of a provider's output folder as it stands, newest first:
    ``exceptions.xlsx`` and the forms an auditor may have saved it in
    (:data:`REGISTER_SAVED_AS`), those that are files. ``exceptions.csv`` is one only
    when its first line names an ``exception_id`` column: kpitools writes the findings
    under that name too (no ``exception_id``), which an auditor's Excel replaces when it
    saves the register's Exceptions sheet as CSV."""
    folder = Path(provider_out_dir)
    stem = Path(REGISTER_FILE).stem
    found = [
        folder / f"{stem}{suffix}"
        for suffix in (Path(REGISTER_FILE).suffix, *REGISTER_SAVED_AS)
        if (folder / f"{stem}{suffix}").is_file()
    ]
    found = [path for path in found if path.suffix != ".csv" or _names_exception_id(path)]
    return sorted(found, key=lambda path: -path.stat().st_mtime)


def _names_exception_id(path: Path) -> bool:
    """True when the first line of the CSV file at ``path`` names ``exception_id``."""
    try:
        with path.open("rb") as file:
            first = file.readline(65_536)
    except OSError:
        return False
    return b"exception_id" in first


def register_of(provider_out_dir: str | Path) -> Path | None:
    """The register of a provider's output folder as it stands: the newest of its
    :func:`register_files` (an auditor's ``exceptions.xlsm`` saved after kpitools's
    ``exceptions.xlsx``) or, when the last run left none there (the provider FAILED: its
    set is ``error.txt``), the newest register kept in its ``.history`` folder; None
    when there is neither."""
    folder = Path(provider_out_dir)
    files = register_files(folder)
    if files:
        return files[0]
    kept = sorted(
        path
        for suffix in (Path(REGISTER_FILE).suffix, *REGISTER_SAVED_AS)
        for path in (folder / HISTORY_FOLDER).glob(f"{Path(REGISTER_FILE).stem}-*{suffix}")
    )
    return kept[-1] if kept else None


def previous_register(provider_out_dir: str | Path, period: str | None) -> Path | None:
    """Last month's register of a provider, ``OUT/<previous period>/<provider>/
    exceptions.xlsx`` beside its output folder ``OUT/<period>/<provider>``, when that
    folder exists (the file itself may not)."""
    folder = previous_provider_dir(provider_out_dir, period) if period else None
    return None if folder is None else folder / REGISTER_FILE


def expected_previous_register(period: str | None, provider_id: str) -> str:
    """Where last month's register would be, named in the pack and register when it is
    not there: ``<previous period>/<provider>/exceptions.xlsx`` with the real period,
    relative to the output folder (so the text is the same wherever OUT is); blank
    without a period (none is looked for)."""
    if not period:
        return ""
    return f"{previous_period(period)}/{provider_id}/{REGISTER_FILE}"


def shown_path(path: str | Path) -> str:
    """A path of the data or output folder as a circulated file names it: from its
    period folder on (``2023-02/P001``, ``2023-02/P001/exceptions.xlsx``), relative to
    DATA or OUT, so that no pack, register or index carries the folders of the machine
    that built it; a path with no ``YYYY-MM`` folder is named by its last part."""
    parts = Path(path).parts
    for at in range(len(parts) - 1, -1, -1):
        if is_period_name(parts[at]):
            return "/".join(parts[at:])
    return Path(path).name
