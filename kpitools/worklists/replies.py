"""The evidence request returned by a provider, read back: its replies, by exception id.

The provider answers the lines of ``evidence_request.xlsx``
(:mod:`kpitools.worklists.evidence_request`) in its reply columns and returns the
workbook with its next return (``DATA/<next period>/<provider>/evidence_request.xlsx``,
:func:`kpitools.layout.evidence_reply`, or a file given with ``evidence_reply``). It is
untrusted input, like a return: the workbook's size, parts, strings and extent are checked
against the datasheet's limits (:func:`kpitools.returns.workbook.check_workbook_limits`)
before openpyxl opens it; cells are read as typed, formulas as their text (never
evaluated); ids that are not exception ids are passed over, texts longer than
:data:`REPLY_LIMIT` are cut, with a note. A file that cannot be read is not used, with a
note: never a failed provider (:func:`kpitools.worklists.followup.provider_followup`).
Each reply goes into the ``response``, ``evidence_ref`` and ``response_date`` of the same
exception in that month's register, marked as the provider's words
(:func:`kpitools.worklists.followup.provider_words`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Any

from kpitools import layout
from kpitools.errors import KpiToolsError, PackError
from kpitools.worklists.followup import (
    REFERENCE_LIMIT,
    REPLY_LIMIT,
    RepliesRead,
    Reply,
    cell_text,
    to_date,
)

log = logging.getLogger(__name__)

_HEADER_ROWS = 40  # the lines' header is looked for in the first rows (a header block above)
_EXCEPTION_ID = re.compile(r"EX-[0-9A-F]{12}")


def read_replies(path: str | Path) -> RepliesRead:
    """The replies of a returned evidence request.

    Raises:
        PackError: past the workbook limits, not a readable workbook, or no line table
            (a header row with ``exception_ids`` and ``response``).
    """
    from kpitools.returns.workbook import check_workbook_limits

    path = Path(path)
    try:
        data = path.read_bytes()
        check_workbook_limits(path)
    except KpiToolsError as error:
        raise PackError(error.message, path=path) from None
    except OSError as error:
        raise PackError(f"cannot be read ({error.strerror or error})", path=path) from None
    rows = _rows(path)
    header_at = next(
        (
            i
            for i, row in enumerate(rows[:_HEADER_ROWS])
            if {"exception_ids", "response"} <= {_text(v) for v in row}
        ),
        None,
    )
    if header_at is None:
        raise PackError(
            "no table of request lines (a header row with exception_ids and response)", path=path
        )
    header = [_text(v) for v in rows[header_at]]
    lines = [dict(zip(header, row, strict=False)) for row in rows[header_at + 1 :] if any(row)]
    replies, notes = _replies(lines)
    return RepliesRead(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        lines=len(lines),
        replies=replies,
        notes=tuple(notes),
    )


def _rows(path: Path) -> list[tuple[Any, ...]]:
    """Every row of the request's sheet (the first sheet), cells as typed; formulas as
    their text (the workbook is opened without computed values, so nothing is
    evaluated)."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many types for a broken file
        raise PackError(
            f"not a readable Excel workbook ({type(error).__name__})", path=path
        ) from None
    try:
        return [tuple(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    except Exception as error:  # a damaged sheet part
        raise PackError(f"its sheet cannot be read ({type(error).__name__})", path=path) from None
    finally:
        book.close()


def _text(value: object) -> str:
    return cell_text(value)


def _replies(lines: list[dict[str, Any]]) -> tuple[dict[str, Reply], list[str]]:
    """The replies by exception id, and notes on what was passed over or cut."""
    replies: dict[str, Reply] = {}
    cut = unknown = 0
    for position, line in enumerate(lines, start=1):
        response, reference = _text(line.get("response")), _text(line.get("evidence_reference"))
        given = line.get("reply_date")
        if not (response or reference or _text(given)):
            continue
        cut += len(response) > REPLY_LIMIT or len(reference) > REFERENCE_LIMIT
        number = _text(line.get("line"))
        reply = Reply(
            line=int(number) if number.isdigit() else position,
            response=response[:REPLY_LIMIT],
            evidence_reference=reference[:REFERENCE_LIMIT],
            reply_date=to_date(given),
        )
        ids = [i.strip() for i in _text(line.get("exception_ids")).split(",") if i.strip()]
        good = [i for i in ids if _EXCEPTION_ID.fullmatch(i)]
        unknown += not good
        replies.update(dict.fromkeys(good, reply))
    notes = []
    if unknown:
        notes.append(f"{unknown} answered line(s) name no exception id: not used")
    if cut:
        notes.append(
            f"{cut} reply(ies) longer than {REPLY_LIMIT:,} characters (response) or "
            f"{REFERENCE_LIMIT} (evidence_reference): cut"
        )
    return replies, notes


def returned_replies(path: Path | None, provider_id: str) -> RepliesRead | None:
    """The replies of the evidence request a provider returned (None without one); a
    file that cannot be used gives no reply and a note saying why, never an error: the
    provider is audited all the same."""
    if path is None:
        return None
    try:
        return read_replies(path)
    except PackError as error:
        log.warning("%s: evidence reply not used: %s", provider_id, error.one_line())
        return RepliesRead(
            path=path,
            sha256="",
            size_bytes=0,
            lines=0,
            notes=(
                f"the provider's evidence reply {layout.shown_path(path)} not used: "
                f"{error.message}",
            ),
        )
