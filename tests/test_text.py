"""Control characters shown as \\xNN escapes, the same in every output."""

from __future__ import annotations

import pytest

from kpitools.text import TERMINAL_CONTROLS, control_characters, visible_text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Acme\x07 Ltd", "Acme\\x07 Ltd"),  # BEL
        ("a\x0bb\x0cc", "a\\x0bb\\x0cc"),  # VT and FF (text pasted from Word or a PDF)
        ("\x1b[2Jcls", "\\x1b[2Jcls"),  # ESC
        ("nul\x00 del\x7f nel\x85", "nul\\x00 del\\x7f nel\\x85"),
        ("tab\tline\nreturn\r", "tab\tline\nreturn\r"),  # kept: every format holds them
        ("Zoë \u202e", "Zoë \u202e"),
    ],
)
def test_control_characters_are_escaped(text: str, shown: str) -> None:
    assert visible_text(text) == shown
    assert visible_text(shown) == shown  # an escape is plain text: shown as it is


def test_the_terminal_escapes_carriage_returns_and_bidi_overrides_too() -> None:
    assert visible_text("a\rb\u202ec\x07", TERMINAL_CONTROLS) == "a\\rb\\u202ec\\x07"


def test_control_characters_are_named_once_each_in_order() -> None:
    assert control_characters("a\x0bb\x07c\x0b") == ["\\x0b", "\\x07"]
    assert control_characters("plain\ttext") == []
