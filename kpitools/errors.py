"""One small error hierarchy, with structured fields, for everything kpitools refuses.

The CLI turns any :class:`KpiToolsError` into one line on stderr and a non-zero exit;
no traceback is shown for bad input.
"""

from __future__ import annotations

from pathlib import Path


class KpiToolsError(Exception):
    """Base class: a problem the user can fix, described in one line.

    Args:
        message: what was expected, what was found and how to fix it.
        path: the file concerned, when there is one.
        row: the row number a person sees (CSV line or Excel row).
        column: the column concerned.
        value: the offending value, as read.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.row = row
        self.column = column
        self.value = value
        super().__init__(self.one_line())

    def one_line(self, *, path: str | None = None) -> str:
        """The message prefixed by where it happened, e.g. ``learners.csv line 14: ...``
        (``path``: the file as the reader should see it, instead of ``self.path``)."""
        where = ""
        if self.path:
            where = path or self.path
            if self.row is not None:
                where += f" line {self.row}"
            where += ": "
        return f"{where}{self.message}"


class FileLevelError(KpiToolsError):
    """A file that cannot be read at all: not CSV/XML, no header, duplicated or missing
    required columns, a DOCTYPE in an ILR file. Stops that provider, not a batch."""


class ParameterError(KpiToolsError):
    """A parameter file or rules override that does not fit its schema."""


class TooLargeError(KpiToolsError):
    """A provider whose audit would need more memory than the limit allows, refused
    before loading (:mod:`kpitools.io.memory`). Stops that provider, not a batch."""


class PackError(KpiToolsError):
    """A pack that could not be executed or rendered."""


class StoreError(KpiToolsError):
    """The audit store (``OUT/kpitools.duckdb``, :mod:`kpitools.store`) cannot be used: written
    by a newer kpitools, not a store, or held by another program for too long."""


class ProviderFailure(KpiToolsError):
    """One provider of a batch stopped by an unexpected error (a fault in kpitools, not
    bad input): the one line names the step and the error; ``detail`` keeps the
    traceback for ``error.txt``, after that line. Other providers go on."""

    def __init__(self, message: str, *, path: str | Path | None = None, detail: str = "") -> None:
        super().__init__(message, path=path)
        self.detail = detail

    @classmethod
    def during(
        cls, step: str, error: BaseException, *, path: str | Path | None = None
    ) -> ProviderFailure:
        """The failure of ``step`` (e.g. ``"audit"``) on ``error``, with its traceback."""
        import traceback

        first = (str(error).splitlines() or [""])[0]
        failure = cls(
            f"{step} failed on an unexpected error ({type(error).__name__}: {first}); "
            "the other providers were not affected",
            path=path,
            detail="".join(traceback.format_exception(error)),
        )
        failure.__cause__ = error  # a run on one provider raises it again, traceback and all
        return failure
