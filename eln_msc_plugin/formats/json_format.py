"""Built-in parser: batch records as a JSON object, a JSON array, concatenated objects or JSON Lines.

Read as a stream: JSON Lines line by line, arrays element by element, so memory does not grow with
the file. Duplicate member names, NaN/Infinity and invalid UTF-8 are refused with the location.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Generator, Iterator
from typing import IO, Any

from eln_msc_plugin.formats import common
from eln_msc_plugin.formats.common import JSON, JSONL, MAX_RECORD_BYTES
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import BatchRecord, Document, Unreadable

CHUNK = 1 << 20


class _Refused(ValueError):
    """A JSON construct the format does not allow (duplicate member, NaN, Infinity)."""


class _BadBytes(_Refused):
    """A value holding bytes that are not UTF-8 (already skipped: the next value can be read)."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"duplicate member {key!r} in one object (which value is meant is ambiguous)")
            seen.add(key)
    return obj


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number in JSON")


# A number too large for a float (1e400) reads as infinity, as in `json.loads`: every number in the schema
# has bounds, so the `schema` rule fails it at its place, and the rules read only finite numbers.
DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_constant)
_raw_decode = DECODER.raw_decode
_scan = DECODER.scan_once  # type: ignore[attr-defined]  # set by JSONDecoder.__init__, not typed


def _decode(text: str) -> Any:
    """`DECODER.decode(text)`, calling its scanner directly: a backfill decodes millions of lines, and this
    skips the two Python frames and the whitespace matches around the scanner on every one of them.
    Anything unusual (leading blanks, no value, extra data) goes to `DECODER.decode` for its exact error."""
    try:
        data, end = _scan(text, 0)
    except StopIteration:
        return DECODER.decode(text)
    if end != len(text) and text[end:].strip(" \t\n\r"):
        return DECODER.decode(text)
    return data


def _record(document: Document, index: int, data: Any, media_type: str, line: int | None) -> BatchRecord | Unreadable:
    problem = None if type(data) is dict and data.get("format_version") == "1.0" else common.version_problem(data)
    if problem:
        return common.unreadable(document, index, problem, media_type=media_type, line=line,
                                 path="/format_version", observed=data.get("format_version"))
    record = BatchRecord(data, document.source, index, media_type, line=line)
    if type(data) is dict:
        common.normalise_counts(record)
    return record


def _failure(document: Document, index: int, error: Exception, media_type: str, line: int,
             column: int | None = None) -> Unreadable:
    if isinstance(error, json.JSONDecodeError):
        message = f"malformed JSON at line {line}, column {column or error.colno}: {error.msg}"
        return common.unreadable(document, index, message, media_type=media_type, line=line)
    if isinstance(error, UnicodeDecodeError):
        message = f"not valid UTF-8 (byte {error.start} of line {line}): {error.reason}"
        return common.unreadable(document, index, message, media_type=media_type, line=line)
    if isinstance(error, RecursionError):
        message = f"JSON nested too deeply near line {line}: no batch record is nested like this"
        return common.unreadable(document, index, message, media_type=media_type, line=line)
    if "integer string conversion" in str(error):
        message = f"a number with thousands of digits near line {line}: no batch record holds one"
        return common.unreadable(document, index, message, media_type=media_type, line=line)
    return common.unreadable(document, index, f"{error} (near line {line})", media_type=media_type, line=line)


def _skip_rest(stream: IO[bytes], line: bytes) -> bytes:
    """The head of a line longer than MAX_RECORD_BYTES, the rest of it read past (and dropped) in chunks."""
    while True:
        rest = stream.readline(CHUNK)
        if not rest or rest.endswith(b"\n"):
            return line[:64]


def iter_lines(document: Document, stream: IO[bytes], lines_before: int = 0,
               index: int = 0) -> Iterator[BatchRecord | Unreadable]:
    """JSON Lines: each non-blank line is a record; a bad line is an error and the next line goes on.

    `lines_before` and `index`: where `stream` starts in a larger file (a chunk read by another process)."""
    lineno = lines_before
    readline = stream.readline
    while True:
        raw = readline(MAX_RECORD_BYTES + 1)
        too_long = len(raw) > MAX_RECORD_BYTES and not raw.endswith(b"\n")
        if too_long:
            raw = _skip_rest(stream, raw)
        if not raw:
            return
        lineno += 1
        if lineno == 1 and raw.startswith(common.BOM):
            raw = raw[3:]
        if too_long:
            yield common.unreadable(document, index, f"line {lineno} is longer than {MAX_RECORD_BYTES} bytes",
                                    media_type=JSONL, line=lineno)
            index += 1
            continue
        if raw.isspace():
            continue
        try:
            data = _decode(raw.decode("utf-8"))
        except (ValueError, RecursionError) as error:
            yield _failure(document, index, error, JSONL, lineno)
        else:
            yield _record(document, index, data, JSONL, lineno)
        index += 1


_BRACKET = re.compile(r'["\[\]{}]')
_STRING_REST = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)
_INVALID_BYTE = re.compile(f"[{chr(0xDC80)}-{chr(0xDCFF)}]")  # the lone surrogates of invalid bytes
_SCALAR_END = re.compile(r"[\s,\]}]")


def _value_end(text: str, pos: int) -> int | None:
    """Where the JSON value starting at `pos` ends, by brackets and strings alone (no decoding, no recursion)."""
    if text[pos:pos + 1] not in ("[", "{"):
        match = _SCALAR_END.search(text, pos)
        return match.start() if match else None
    depth = 0
    while True:
        match = _BRACKET.search(text, pos)
        if match is None:
            return None
        pos = match.end()
        char = match.group()
        if char == '"':
            rest = _STRING_REST.match(text, pos)
            if rest is None:
                return None
            pos = rest.end()
        elif char in "[{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return pos


class _Buffer:
    """Decoded text of a stream, read in chunks, with the line number of the read position."""

    def __init__(self, stream: IO[bytes], line: int = 1) -> None:
        self.stream = stream
        # invalid bytes become lone surrogates, so the value holding them is refused and the next one read
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="surrogateescape")
        self.text = ""
        self.pos = 0
        self.line = line
        self.column = 0  # column of text[0] on its line: the text before it may have been dropped
        self.eof = False

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK)
        self.eof = not chunk
        if self.pos > CHUNK:
            self.line += self.text.count("\n", 0, self.pos)
            newline = self.text.rfind("\n", 0, self.pos)
            self.column = self.pos - newline - 1 if newline >= 0 else self.column + self.pos
            self.text, self.pos = self.text[self.pos:], 0
        self.text += self.decoder.decode(chunk, final=self.eof)
        return True

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
        return self.line + self.text.count("\n", 0, pos)

    def column_at(self, pos: int) -> int:
        """The 1-based column of `pos`, counted as `json` counts it, whatever text was dropped before it."""
        newline = self.text.rfind("\n", 0, pos)
        return pos - newline if newline >= 0 else self.column + pos + 1

    def skip_value(self) -> bool:
        """Move past the (well-formed but refused) value at the read position; False if its end is not found."""
        while True:
            end = _value_end(self.text, self.pos)
            if end is not None:
                self.pos = end
                return True
            if len(self.text) - self.pos > MAX_RECORD_BYTES or not self.more():
                return False

    def value(self) -> Any:
        """Decode the JSON value at the read position, reading more until it is complete."""
        while True:
            # self.pos, not a saved offset: more() may drop the text before it and reset it to 0
            try:
                data, end = _raw_decode(self.text, self.pos)
            except json.JSONDecodeError:
                if len(self.text) - self.pos > MAX_RECORD_BYTES or not self.more():
                    raise
                continue
            start, self.pos = self.pos, end
            bad = _INVALID_BYTE.search(self.text, start, end)
            if bad is not None:
                raise _BadBytes(f"not valid UTF-8: byte {ord(bad.group()) - 0xDC00:#04x}")
            return data


def iter_stream(document: Document, stream: IO[bytes], start: tuple[int, int] | None = None,
                partial: bool = False) -> Generator[BatchRecord | Unreadable, None, bool]:
    """A JSON array of records, or one or more JSON objects one after another.

    For a chunk of a large array read by another process: `start` (index, line) says that `stream` begins at
    that element of an array; with `partial`, the stream ends just after a ',' between two elements, and the
    generator then returns True (any other end returns False: the chunk was not cut where it should be)."""
    buf = _Buffer(stream, start[1] if start else 1)
    index = start[0] if start else 0
    after_comma = start is not None
    try:
        first = "[" if start else buf.skip_space()
        in_array = first == "["
        if in_array and not start:
            buf.pos += 1
        while True:
            char = buf.skip_space()
            if partial and after_comma and not char:
                return True
            after_comma = False
            if in_array and char == "]" and index == 0:
                buf.pos += 1
                in_array = False
                continue
            if not char:
                if in_array:
                    yield common.unreadable(document, index, "the JSON array is not closed (file cut short?)",
                                            media_type=JSON, line=buf.line_at(buf.pos))
                elif index == 0:
                    yield common.unreadable(document, 0, "the document is empty", media_type=JSON)
                return False
            if not in_array and index and first == "[":
                yield common.unreadable(document, index, "content after the end of the JSON array",
                                        media_type=JSON, line=buf.line_at(buf.pos))
                return False
            line = buf.line_at(buf.pos)
            try:
                data = buf.value()
            except (_Refused, RecursionError, ValueError) as error:
                # well-formed but refused (NaN, duplicate member, too deep): skip it, the next one goes on
                if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
                    raise
                if not isinstance(error, _BadBytes) and not buf.skip_value():
                    raise
                yield _failure(document, index, error, JSON, line)
            else:
                yield _record(document, index, data, JSON, line)
            index += 1
            if in_array:
                char = buf.skip_space()
                if char == "]":
                    buf.pos += 1
                    in_array = False
                elif char == ",":
                    buf.pos += 1
                    after_comma = True
                else:
                    message = (f"expected ',' or ']' after array element {index - 1}" if char
                               else "the JSON array is not closed (file cut short?)")
                    yield common.unreadable(document, index, message, media_type=JSON, line=buf.line_at(buf.pos))
                    return False
    except (ValueError, RecursionError) as error:
        where = error.pos if isinstance(error, json.JSONDecodeError) else buf.pos
        yield _failure(document, index, error, JSON, buf.line_at(where), buf.column_at(where))
    return False


def _looks_like_lines(document: Document) -> bool:
    """True when the first line is one JSON object on its own line (JSON Lines).

    A first line that starts with '{' and ends with '}' but does not parse is a broken JSON Lines
    record: reading line by line lets the records after it through. Anything else (an array, a
    pretty-printed object, one long line without a newline) is read as a stream of values.
    """
    head = document.head[3:] if document.head.startswith(common.BOM) else document.head
    first, newline, _ = head.lstrip().partition(b"\n")
    if not newline:
        return False
    first = first.strip()
    if not (first.startswith(b"{") and first.endswith(b"}")):
        return False
    try:
        return type(json.loads(first)) is dict
    except ValueError:
        return True
    except RecursionError:
        return True


def layout(document: Document) -> str | None:
    """How the built-in parser reads a streamed document: "lines" (JSON Lines), "values" (an array or
    objects one after another), or None when it is not JSON."""
    media_type = common.media_type_of(document)
    if media_type == JSONL:
        return "lines"
    if media_type != JSON:
        return None
    return "lines" if _looks_like_lines(document) else "values"


@hookimpl(trylast=True)
def eln_msc_parse_document(document: Document) -> Iterator[BatchRecord | Unreadable] | None:
    if document.stream is None:
        return _from_payload(document)
    how = layout(document)
    if how == "lines":
        return iter_lines(document, document.stream)
    if how == "values":
        return iter_stream(document, document.stream)
    return None


def _from_payload(document: Document) -> Iterator[BatchRecord | Unreadable] | None:
    """An already decoded canonical record (a dict with "format"), or a list of them."""
    payload = document.payload
    if isinstance(payload, dict) and payload.get("format") == common.FORMAT:
        return iter([_record(document, 0, payload, JSON, None)])
    if isinstance(payload, list) and all(isinstance(x, dict) and x.get("format") == common.FORMAT for x in payload):
        return (_record(document, i, data, JSON, None) for i, data in enumerate(payload))
    return None
