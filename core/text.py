"""Cleaning what people type before it is stored.

Control characters (C0 except tab/newline, DEL, C1) are stripped: an ESC in a note could
otherwise reach the terminal as OSC 52 or CSI 2J. Everything else, emoji, RTL text and
markup-looking brackets included, is kept exactly as typed.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_text(value: str) -> str:
    """Multi-line text (notes): keep tab and newline, drop other control characters."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def clean_line(value: str) -> str:
    """A one-line field (names, emails): no control characters at all, trimmed."""
    return _CONTROL_ONE_LINE.sub(" ", value).strip()
