"""Writing files safely: atomic writes, and text cells a spreadsheet cannot run.

Every output file goes through :func:`write_atomic` (a temporary name in the same folder,
then renamed over the old file), so a reader never sees half a file and an interrupted
run leaves the previous one whole. Every text cell of a CSV or workbook is checked
against :data:`FORMULA_STARTS` (OWASP "CSV injection") and shows its control characters
as ``\\xNN`` (:func:`kpitools.text.visible_text`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from kpitools.text import visible_text

if TYPE_CHECKING:  # pandas only where frames are written: a pack worker's write_atomic
    import pandas as pd  # of the HTML would otherwise import it (~0.25 s a worker)

# OWASP "CSV injection": a cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, made inert.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab, CR or LF gets a leading single
    quote (the OWASP CSV-injection advice). Anything that is not text (numbers,
    including negative ones, dates, missing values) is returned unchanged.

    >>> neutralise_cell('=HYPERLINK("http://example.invalid","x")')
    '\\'=HYPERLINK("http://example.invalid","x")'
    >>> neutralise_cell(-3.5)
    -3.5
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_cell(value: object) -> object:
    """A cell as a CSV file may hold it: text with its control characters escaped
    (:func:`~kpitools.text.visible_text`), then :func:`neutralise_cell`.

    >>> safe_cell("=1+1\\x07")
    "'=1+1\\\\x07"
    """
    if isinstance(value, str):
        return neutralise_cell(visible_text(value))
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell passed through :func:`safe_cell`."""
    import pandas as pd

    text_columns = [
        c
        for c in frame.columns
        if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])
    ]
    return frame.assign(**{c: frame[c].map(safe_cell) for c in text_columns})


def csv_bytes(frame: pd.DataFrame, columns: tuple[str, ...]) -> bytes:
    """``frame`` as UTF-8 CSV bytes with exactly ``columns``, text cells made safe
    (:func:`safe_cell`).

    This is the one writer of every CSV file kpitools writes. Records end in CRLF (RFC
    4180): Python's csv writer before 3.13 quotes a cell holding a line break only when
    the break is in its line terminator, so with ``\n`` alone a cell ``x\r=1+1`` went
    out unquoted and a spreadsheet, splitting the record at the bare CR, read ``=1+1`` as
    the first cell of a new row: a formula again.
    """
    safe = neutralise_frame(frame.reindex(columns=list(columns)))
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def _process_umask() -> int:
    mask = os.umask(0o077)  # reading the umask means setting it: done once, at import
    os.umask(mask)
    return mask


_UMASK = _process_umask()


def write_atomic(path: Path, data: bytes, *, private: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    Args:
        path: the file to write (its folder is created if needed).
        data: the bytes.
        private: readable by the owner only (0600), for files holding personal data;
            otherwise the usual mode for new files (0666 less the umask).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False)
    try:
        with handle:  # created 0600 (mkstemp): never readable by others while written
            handle.write(data)
            if not private:
                os.chmod(handle.name, 0o666 & ~_UMASK)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return path
