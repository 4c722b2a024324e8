"""Strings from collected systems, HR files and arguments are data: shown literally, never obeyed.

A terminal obeys control characters (ESC starts colour, cursor and OSC 8 hyperlink sequences, BEL
ends them, CR overwrites a line), a bidirectional override reorders what follows it, and a
spreadsheet evaluates a cell that starts with `=`. `literal` replaces every C0 control (newline
and tab included: a cell or log line must not be able to forge another), DEL, every C1 control and
the Unicode bidi, line and paragraph separator controls by the Python escape that names them:
`\\x1b`, `\\x7f`, `\\x9b`, `\\u202e`, the notation the key=value logs already use (they repr()
their values). Backslashes are kept as they are, so a Windows path still reads as one. Rich
markup in data is a separate matter, handled in `agent.cli.render` by never parsing data as markup.
"""

from __future__ import annotations

import re

_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
# OWASP CSV injection: a spreadsheet treats a cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def literal(value: object) -> str:
    """`value` as text a terminal shows and never interprets."""
    return _CONTROLS.sub(_escape, str(value))


def spreadsheet_cell(value: str) -> str:
    """A text cell for CSV or XLSX: shown literally, and quoted with `'` when it could start a formula."""
    return ("'" if value.startswith(FORMULA_START) else "") + literal(value)
