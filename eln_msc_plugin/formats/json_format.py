"""Built-in parser: batch records as a JSON object, a JSON array, concatenated objects or JSON Lines.

Read as a stream: JSON Lines line by line, arrays element by element, so memory does not grow with
the file. Duplicate member names, NaN/Infinity and invalid UTF-8 are refused with the location.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from typing import IO, Any

from eln_msc_plugin import limits
from eln_msc_plugin.display import quoted
from eln_msc_plugin.formats import common
from eln_msc_plugin.formats.common import JSON, JSONL
from eln_msc_plugin.formats.json_stream import CHUNK, BadBytes, Buffer, TooLarge
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import BatchRecord, Document, Unreadable


class _Refused(ValueError):
    """A JSON construct the format does not allow (duplicate member, NaN, Infinity, too many members)."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(pairs) > limits.MAX_MEMBERS:
        raise _Refused(f"an object with {len(pairs):,} members, more than the limit of {limits.MAX_MEMBERS:,} "
                       "(MAX_MEMBERS)")
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"duplicate member {quoted(key)} in one object (which value is meant is ambiguous)")
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


def _record(document: Document, index: int, data: Any, media_type: str, line: int | None,
            escapes: bool = False) -> BatchRecord | Unreadable:
    """The record `data` decoded to; an `Unreadable` when its version, size or text refuses it.
    `escapes`: its text wrote an escape that may be a lone surrogate, or it was decoded by someone else."""
    problem = None if type(data) is dict and data.get("format_version") == "1.0" else common.version_problem(data)
    if problem:
        return common.unreadable(document, index, problem, media_type=media_type, line=line,
                                 path="/format_version", observed=data.get("format_version"))
    refused = common.size_problem(data)
    if refused is None and escapes:
        refused = common.unwritable(data)
    if refused is not None:
        return common.unreadable(document, index, refused[1], media_type=media_type, line=line, path=refused[0])
    record = BatchRecord(data, document.source, index, media_type, line=line)
    if type(data) is dict:
        common.normalise_counts(record)
    return record


def _failure(document: Document, index: int, error: Exception, media_type: str, line: int,
             stopped: str = "", column: int | None = None) -> Unreadable:
    """The record at `line` that could not be decoded, and why; `stopped` says what of the rest was not read."""
    if isinstance(error, json.JSONDecodeError):
        message = f"malformed JSON at line {line}, column {column or error.colno}: {error.msg}"
    elif isinstance(error, UnicodeDecodeError):
        message = f"not valid UTF-8 (byte {error.start} of line {line}): {error.reason}"
    elif isinstance(error, RecursionError):
        message = f"JSON nested too deeply near line {line}: no batch record is nested like this"
    elif isinstance(error, TooLarge):
        message = f"the record at line {line} is {error}: no batch record is this large"
    elif "integer string conversion" in str(error):
        message = f"a number with thousands of digits near line {line}: no batch record holds one"
    else:
        message = f"{error} (near line {line})"
    return common.unreadable(document, index, message + stopped, media_type=media_type, line=line)


def _skip_rest(stream: IO[bytes]) -> None:
    """Read past (and drop) the rest of a line longer than MAX_RECORD_BYTES, in chunks."""
    while True:
        rest = stream.readline(CHUNK)
        if not rest or rest.endswith(b"\n"):
            return


def iter_lines(document: Document, stream: IO[bytes], lines_before: int = 0,
               index: int = 0) -> Iterator[BatchRecord | Unreadable]:
    """JSON Lines: each non-blank line is a record; a bad line is an error and the next line goes on.

    `lines_before` and `index`: where `stream` starts in a larger file (a chunk read by another process)."""
    lineno = lines_before
    readline = stream.readline
    limit = limits.MAX_RECORD_BYTES
    while True:
        raw = readline(limit + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            _skip_rest(stream)
            yield common.unreadable(document, index, f"line {lineno} is longer than {limit:,} bytes "
                                    "(MAX_RECORD_BYTES): no batch record is this large", media_type=JSONL, line=lineno)
            index += 1
            continue
        if lineno == 1 and raw.startswith(common.BOM):
            raw = raw[3:]
        if raw.isspace():
            continue
        try:
            text = raw.decode("utf-8")
            data = _decode(text)
        except (ValueError, RecursionError) as error:
            yield _failure(document, index, error, JSONL, lineno)
        else:
            yield _record(document, index, data, JSONL, lineno, "\\" in text and ("\\ud" in text or "\\uD" in text))
        index += 1


_STOPPED = "; reading stopped there: nothing after it was read"


def _element(document: Document, buf: Buffer, index: int, in_array: bool) -> tuple[BatchRecord | Unreadable, bool]:
    """The value at the read position as a record or an error, and whether reading can go on after it: after a
    bad value only when its end is found and (in an array) a ',' or ']' follows, so garbage does not cascade."""
    line = buf.line_at(buf.pos)
    opened = buf.text[buf.pos] in "[{"
    try:
        data, escapes = buf.value()
    except (BadBytes, TooLarge) as error:  # moved past already
        return _failure(document, index, error, JSON, line), True
    except (ValueError, RecursionError) as error:  # malformed, or well-formed but refused: find its end
        at, column = line, None
        if isinstance(error, json.JSONDecodeError):
            at, column = buf.line_at(error.pos), buf.column_at(error.pos)
        if (opened or in_array) and buf.skip_value() and (not in_array or buf.skip_space() in (",", "]")):
            return _failure(document, index, error, JSON, at, column=column), True
        if buf.eof and buf.pos >= len(buf.text) and opened:
            stopped = f"; the value from line {line} on never ends (the file is cut short, or a bracket is missing)"
        else:
            stopped = _STOPPED
        return _failure(document, index, error, JSON, at, stopped, column), False
    return _record(document, index, data, JSON, line, escapes), True


def iter_stream(document: Document, stream: IO[bytes], start: tuple[int, int] | None = None,
                partial: bool = False) -> Generator[BatchRecord | Unreadable, None, bool]:
    """A JSON array of records, or one or more JSON objects one after another. A bad element is an error and
    the next one is read from where it ends; where no end is found, the error says reading stopped there.

    For a chunk of a large array read by another process: `start` (index, line) says that `stream` begins at
    that element of an array; with `partial`, the stream ends just after a ',' between two elements, and the
    generator then returns True (any other end returns False: the chunk was not cut where it should be)."""
    buf = Buffer(stream, _raw_decode, start[1] if start else 1)
    index = start[0] if start else 0
    after_comma = start is not None
    was_array = in_array = start is not None or buf.skip_space() == "["
    buf.pos += in_array and not start
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
                yield common.unreadable(document, 0, common.EMPTY, media_type=JSON)
            return False
        if was_array and not in_array:
            line = buf.line_at(buf.pos)
            yield common.unreadable(document, index, f"content after the end of the JSON array, at line {line}"
                                    + _STOPPED, media_type=JSON, line=line)
            return False
        item, readable = _element(document, buf, index, in_array)
        yield item
        index += 1
        if not readable:
            return False
        if in_array:
            char = buf.skip_space()
            if char in ("]", ","):
                buf.pos += 1
                in_array = after_comma = char == ","
                continue
            message = ("the JSON array is not closed (file cut short?)" if not char
                       else f"expected ',' or ']' after array element {index - 1}")
            readable = char in ("{", "[")  # the next element follows without a comma: read it
            yield common.unreadable(document, index, message + ("" if readable or not char else _STOPPED),
                                    media_type=JSON, line=buf.line_at(buf.pos))
            index += 1
            if not readable:
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
    except (ValueError, RecursionError):
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
        return _not_empty(document, iter_lines(document, document.stream))
    if how == "values":
        return iter_stream(document, document.stream)
    return None


def _not_empty(document: Document, items: Iterator[BatchRecord | Unreadable]) -> Iterator[BatchRecord | Unreadable]:
    """`items`, or the one error of an empty document when there are none (a whole file, not a chunk of one)."""
    empty = True
    for item in items:
        empty = False
        yield item
    if empty:
        yield common.unreadable(document, 0, common.EMPTY, media_type=JSONL)


def _from_payload(document: Document) -> Iterator[BatchRecord | Unreadable] | None:
    """An already decoded canonical record (a dict with "format"), or a list holding them (an element that is
    not one is an error of its own, so one bad element does not cost the records beside it)."""
    payload = document.payload
    if _is_decoded_record(payload):
        return iter([_record(document, 0, payload, JSON, None, True)])
    if isinstance(payload, list) and any(_is_decoded_record(x) for x in payload):
        return (_record(document, i, data, JSON, None, True) if _is_decoded_record(data) else
                common.unreadable(document, i, f"element {i} of the list is {common.not_a_record(data)}",
                                  media_type=JSON, path=f"/{i}") for i, data in enumerate(payload))
    if isinstance(payload, (dict, list)):  # said here, where the format is known (this parser is asked last)
        message = f"the payload is {common.not_a_record(payload)}" if payload != [] else common.EMPTY
        return iter([common.unreadable(document, 0, message, media_type=JSON)])
    return None


def _is_decoded_record(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == common.FORMAT
