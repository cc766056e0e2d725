"""Text as kpitools shows it: control characters as ``\\xNN`` escapes, the same everywhere.

A provider's cell, an auditor's note pasted from Word or a PDF (vertical tab, form feed)
or a file name may hold control characters. None goes out raw: openpyxl refuses BEL,
VT, FF and ESC in a workbook (one would fail the provider's register), a terminal obeys
ESC, and no reader can see them. Every text written to a CSV file, a workbook, a pack's
HTML or ``error.txt`` passes :func:`visible_text`, which shows each as ``\\x07``,
``\\x1b`` ...; the terminal escapes a few more (:data:`TERMINAL_CONTROLS`). Reading a
return notes the cells that hold any (:func:`kpitools.returns.tables.control_warnings`).
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""C0 control characters but tab, line feed and carriage return (which every format
kpitools writes holds), DEL and the C1 controls."""
TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""On a terminal, also carriage return (it rewrites the line) and the bidirectional
overrides (they reorder it)."""


MAX_CELL_CHARS = 32_767
"""The longest text one cell of a workbook holds: Excel's own limit (openpyxl would cut a
longer one without a word)."""
CUT_MARK = " … [cut at Excel's limit: {length:,} characters; the full text is in the audit store]"


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def visible_text(text: str, pattern: re.Pattern[str] = CONTROL_CHARACTERS) -> str:
    """``text`` with every character ``pattern`` finds shown as its escape.

    >>> visible_text("Acme\\x07 Ltd\\x1b[2J")
    'Acme\\\\x07 Ltd\\\\x1b[2J'
    >>> visible_text("line one\\nline two\\ttab")
    'line one\\nline two\\ttab'
    """
    return pattern.sub(_escape, text)


def control_characters(text: str) -> list[str]:
    """The control characters of ``text`` as escapes, each once, in order.

    >>> control_characters("a\\x0bb\\x0cc\\x0b")
    ['\\\\x0b', '\\\\x0c']
    """
    return list(dict.fromkeys(_escape(m) for m in CONTROL_CHARACTERS.finditer(text)))


def cell_fit(text: str) -> str:
    """``text`` as one workbook cell can hold it: a text over :data:`MAX_CELL_CHARS` cut,
    ending with :data:`CUT_MARK` (the audit store keeps the whole of what a register
    carries: its working columns and an auditor's edits).

    >>> cell_fit("short")
    'short'
    >>> len(cell_fit("x" * 40_000)), cell_fit("x" * 40_000)[-24:]
    (32767, 't is in the audit store]')
    """
    if len(text) <= MAX_CELL_CHARS:
        return text
    mark = CUT_MARK.format(length=len(text))
    return text[: MAX_CELL_CHARS - len(mark)] + mark
