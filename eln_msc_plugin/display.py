"""How values are shown to people: without control characters, bounded, quoted the same way everywhere.

A record id, a file name or a server's text can hold anything: an escape sequence that recolours a
terminal, a carriage return that forges a line, a lone surrogate that no encoder accepts, ten megabytes.
Whatever reaches a person goes through `printable`, and a value quoted in a message through `quoted`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from eln_msc_plugin.limits import MAX_QUOTED_CHARS

# C0 and C1 controls, DEL, line and paragraph separators, bidirectional overrides and isolates, surrogates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str) -> str:
    """`text` with every control, separator, bidi and surrogate character written as an escape (`\\n`, `\\x1b`,
    `\\u202e`)."""
    return _UNPRINTABLE.sub(_escape, text) if _UNPRINTABLE.search(text) else text


def bounded(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters and saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def quoted(value: Any, limit: int = MAX_QUOTED_CHARS) -> str:
    """A value as a message quotes it: text in double quotes, numbers as written, `null`, `true`, `false`;
    never longer than about `limit` characters and never holding a control character."""
    if isinstance(value, str):
        text = json.dumps(value[:limit], ensure_ascii=False)
        if len(value) > limit:
            text = f"{text[:-1]}…\" ({len(value):,} characters)"
    elif isinstance(value, bool) or value is None:
        text = json.dumps(value)
    elif isinstance(value, int):
        digits = value.bit_length() * 0.30103
        text = str(value) if digits < limit else f"an integer of about {digits:,.0f} digits"
    elif isinstance(value, float):
        text = repr(value)  # inf and nan as Python writes them: JSON has no spelling for them
    else:
        text = bounded(json.dumps(value, ensure_ascii=False, default=str), limit)
    return printable(text)
