"""The text of a JSON stream read in chunks: values decoded one at a time, skipped, and given their line.

Used by the JSON parser for arrays and concatenated objects, so memory does not grow with the file and
one bad element does not end the reading: its end is found by brackets and strings alone, and the next
element is read from there.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from typing import IO, Any

from eln_msc_plugin import limits

# Read 64 kB at a time, and drop the text read past once past that much: a value that fails to decode costs
# `json` a count of the lines before it in the text it was given, so that text must stay short.
CHUNK = 1 << 16

_BRACKET_RUN = re.compile(r'"|\[+|\]+|\{+|\}+')
_STRING_BODY = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)
_INVALID_BYTE = re.compile(f"[{chr(0xDC80)}-{chr(0xDCFF)}]")  # the lone surrogates of invalid bytes
_SCALAR_END = re.compile(r"[\s,\]}]")
# How far from the end of the text `json` puts the error of a value cut short there (a literal cut as `-Infinit`,
# a number as `1.5e+`, an escape as `\u12`; a string cut short is "Unterminated string" wherever it started), or
# ends a number cut short as a shorter one (`-1` of `-1.5`).
_CUT_SHORT = 16


class BadBytes(ValueError):
    """A value holding bytes that are not UTF-8 (already moved past: the next value can be read)."""


class TooLarge(ValueError):
    """A value longer than MAX_RECORD_BYTES (not decoded; moved past when its end was found)."""


def value_end(text: str, pos: int) -> int | None:
    """Where the JSON value starting at `pos` ends, by brackets and strings alone (no decoding, no recursion)."""
    end, _ = scan(text, pos, "", False)
    return end if end >= 0 else None


_OPENER = {"]": "[", "}": "{"}


def scan(text: str, pos: int, open_: str, in_string: bool) -> tuple[int, tuple[int, str, bool]]:
    """Scan a value's brackets and strings from `pos`, inside the brackets `open_` (and a string when `in_string`).

    Returns (end, state): `end` is where the value ends, or -1 when the text ends first; then `state` is
    (position, brackets, in_string) to go on from once more text follows. A closing bracket that does not
    match closes back to its opener (or the innermost one): a broken element ends where it was meant to.
    Brackets are taken in runs (`[[[`, `]]]`), so a value nested 100,000 deep is two steps, not 200,000."""
    if not open_ and not in_string and text[pos:pos + 1] not in ("[", "{"):
        match = _SCALAR_END.search(text, pos)
        return (match.start() if match else -1), (pos, "", False)
    while True:
        if in_string:
            pos = _STRING_BODY.match(text, pos).end()  # type: ignore[union-attr]  # it matches the empty string
            if pos >= len(text) or text[pos] != '"':
                return -1, (pos, open_, True)  # the string goes on (a lone backslash at the end waits too)
            pos += 1
            in_string = False
        match = _BRACKET_RUN.search(text, pos)
        if match is None:
            return -1, (len(text), open_, False)
        start, pos = match.span()
        run = match.group()
        if run == '"':
            in_string = True
        elif run[0] in "[{":
            open_ += run
        else:
            open_, end = _close(open_, run, start)
            if end >= 0:
                return end, (end, "", False)


def _close(open_: str, run: str, start: int) -> tuple[str, int]:
    """The brackets still open after the closing brackets `run` (all alike, from `start`), and where the value
    ends if they close it (else -1)."""
    opener = _OPENER[run[0]]
    done = 0
    while done < len(run):
        matching = min(len(open_) - len(open_.rstrip(opener)), len(run) - done)
        if matching:
            open_ = open_[:len(open_) - matching]
            done += matching
        else:  # closes something else: back to its opener, or the innermost bracket
            at = open_.rfind(opener)
            open_ = open_[:at] if at >= 0 else open_[:-1]
            done += 1
        if not open_:
            return "", start + done
    return open_, -1


class Buffer:
    """Decoded text of a stream, read in chunks, with the line number of any position from the read position on."""

    def __init__(self, stream: IO[bytes], decode: Callable[[str, int], tuple[Any, int]], line: int = 1) -> None:
        self.stream = stream
        self.decode = decode  # `raw_decode` of the parser's decoder
        # invalid bytes become lone surrogates, so the value holding them is refused and the next one read
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="surrogateescape")
        self.text = ""
        self.pos = 0
        self.eof = False
        self.column = 0  # column of text[0] on its line: the text before it may have been dropped
        # the line of position `_at`: the positions asked for move forward, so lines are counted once (linear)
        self._at = 0
        self._at_line = line

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK)
        self.eof = not chunk
        self.compact()
        self.text += self.decoder.decode(chunk, final=self.eof)
        return True

    def compact(self) -> None:
        """Drop the text before the read position once it is longer than a chunk (its lines counted first)."""
        if self.pos > CHUNK:
            self.line_at(self.pos)
            newline = self.text.rfind("\n", 0, self.pos)
            self.column = self.pos - newline - 1 if newline >= 0 else self.column + self.pos
            self.text, self._at, self.pos = self.text[self.pos:], self._at - self.pos, 0

    def skip_space(self) -> str:
        """The next non-blank character (reading more as needed), or '' at the end."""
        while True:
            text, pos = self.text, self.pos
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            self.pos = pos
            if pos < len(text):
                return text[pos]
            if not self.more():
                return ""

    def line_at(self, pos: int) -> int:
        if pos >= self._at:
            self._at_line += self.text.count("\n", self._at, pos)
            self._at = pos
            return self._at_line
        return self._at_line - self.text.count("\n", pos, self._at)

    def column_at(self, pos: int) -> int:
        """The 1-based column of `pos`, counted as `json` counts it, whatever text was dropped before it."""
        newline = self.text.rfind("\n", 0, pos)
        return pos - newline if newline >= 0 else self.column + pos + 1

    def skip_value(self) -> bool:
        """Move past the value at the read position, however long, holding at most a chunk or two of it;
        False when the stream ends first (its brackets never close)."""
        open_, in_string = "", False
        while True:
            end, (self.pos, open_, in_string) = scan(self.text, self.pos, open_, in_string)
            if end >= 0:
                self.pos = end
                return True
            if not self.more():
                return False

    def _read_on(self, have: int) -> bool:
        """Read until the text from the read position is twice `have` long (or the record limit is passed), so a
        long value is decoded again a few times, not once a chunk (which made a 2 MB value quadratic); False
        when the stream has ended."""
        target = min(2 * have, limits.MAX_RECORD_BYTES + CHUNK)
        read = self.more()
        while read and not self.eof and len(self.text) - self.pos < target:
            self.more()
        return read

    def value(self) -> tuple[Any, bool]:
        """Decode the JSON value at the read position, reading more until it is complete; with it, whether its
        text writes an escape that may be a lone surrogate (`\\ud800`: the value is then checked)."""
        self.compact()  # also once the stream has ended: a file read whole would otherwise stay whole
        while True:
            # self.pos, not a saved offset: more() may drop the text before it and reset it to 0
            try:
                data, end = self.decode(self.text, self.pos)
            except json.JSONDecodeError as error:
                if error.pos < len(self.text) - _CUT_SHORT and not error.msg.startswith("Unterminated string"):
                    raise  # wrong before the text read so far ends: no more of the stream can mend it
                if len(self.text) - self.pos > limits.MAX_RECORD_BYTES:
                    if self.skip_value():
                        raise TooLarge(f"longer than {limits.MAX_RECORD_BYTES:,} bytes (MAX_RECORD_BYTES)") from None
                    raise
                if not self._read_on(len(self.text) - self.pos):
                    raise
                continue
            if end > len(self.text) - _CUT_SHORT and not self.eof and self.text[end - 1] not in '"]}':
                self.more()  # a number that ends near the end of the text read so far may go on (`1` of `1.5`)
                continue
            if end - self.pos > limits.MAX_RECORD_BYTES:
                self.pos = end
                raise TooLarge(f"longer than {limits.MAX_RECORD_BYTES:,} bytes (MAX_RECORD_BYTES)")
            start, self.pos = self.pos, end
            bad = _INVALID_BYTE.search(self.text, start, end)
            if bad is not None:
                raise BadBytes(f"not valid UTF-8: byte {ord(bad.group()) - 0xDC00:#04x}")
            text = self.text  # a backslash first: one search at memchr's speed where most records have none
            return data, text.find("\\", start, end) >= 0 and (
                text.find("\\ud", start, end) >= 0 or text.find("\\uD", start, end) >= 0)
