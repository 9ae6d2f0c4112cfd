"""Partner strings made safe to print: control characters shown as escapes, never obeyed.

A supplier's product name travels into comments, terminals and logs. A newline in it would start
a new line of YAML (or forge a line of output); an ANSI escape would repaint the terminal. Each
control character (and Unicode's line and paragraph separators) is written as its escape.
"""

from __future__ import annotations

import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` with every control/format/separator character escaped ('a\\nb' -> 'a\\\\nb')."""
    s = str(text)
    if s.isprintable():
        return s
    return "".join(
        _escape(ch) if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co")
        else ch
        for ch in s
    )  # fmt: skip
