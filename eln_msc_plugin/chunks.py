"""Cutting the inputs into units of work for other processes, at record boundaries.

- JSON Lines: at line ends. The records of each chunk (its non-blank lines) are counted here, exactly.
- A JSON array: at the start of a line that begins an element, so an array written one element per line or
  indented is cut, and one written on a single line is read whole. Elements are found by counting brackets,
  without reading strings: a bracket inside a string can mislead the count, which the check below catches.
- `<batch_records>` XML: at the start of a line that begins a `<batch_record>`. Each chunk is parsed inside
  the root's own start tag (and, but for the last, an end tag), after as many line breaks as the file has
  before it, so lines and messages are those of the whole file.
- Anything else (one object, objects one after another, a third-party parser, a pipe): the file whole.

Each chunk says how many records it holds and its parser says whether it ended where it was cut; the
driver (`jobs.py`) checks both before writing a chunk, and otherwise reads the rest of that file in order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import IO

from eln_msc_plugin.formats import common, json_format
from eln_msc_plugin.model import HEAD_SIZE, Document
from eln_msc_plugin.sources import Input

RECORDS_PER_CHUNK = 1000  # enough work to outweigh a chunk's cost, little enough to share out evenly
FILES_PER_UNIT = 200


@dataclass(frozen=True)
class Task:
    """One piece of a run: a whole file, a chunk of one, or an input that could not be read (`problem`)."""

    source: str
    path: str | None  # None: standard input
    media_type: str | None = None
    kind: str = "file"  # file | lines | values | xml
    offset: int = 0
    length: int | None = None  # bytes from `offset`; None: to the end of the file
    lines_before: int = 0
    index: int = 0  # records of the file before this chunk
    expected: int | None = None  # records the chunk holds if it was cut where it should be; None: not checked
    last: bool = True  # the chunk ends its file
    head: bytes = b""  # XML: the file up to the end of the root's start tag
    skip: int = 0  # whole file: records already written (read past, not judged again)
    problem: str | None = None
    size: int = 0  # bytes of input, for progress


@dataclass(frozen=True)
class Unit:
    """What one process does at a time: a chunk, or several small files (`remote`: in a worker)."""

    tasks: tuple[Task, ...]
    remote: bool
    file: str | None = None  # the file a chunk belongs to


def plan(inputs: list[Input], split: bool, chunk_bytes: int, abandoned: set[str]) -> Iterator[Unit]:
    """Units in output order. Small files go together; large ones are cut when `split` (built-in parsers
    only) and their format allows; a file named in `abandoned` is cut no further."""
    small: list[Task] = []
    held = 0
    for item in inputs:
        whole = Task(item.source, item.path, item.media_type, problem=item.problem, size=item.size or 0)
        if item.problem is None and not item.regular:
            yield from _flush(small)
            yield Unit((whole,), remote=False)  # standard input or a pipe: read here, as it comes
        elif item.problem is not None or (item.size or 0) <= chunk_bytes:
            small.append(whole)
            held += whole.size
            if held >= chunk_bytes or len(small) >= FILES_PER_UNIT:
                yield from _flush(small)
                held = 0
        else:
            yield from _flush(small)
            held = 0
            yield from _large(whole, split, chunk_bytes, abandoned)
    yield from _flush(small)


def _flush(small: list[Task]) -> Iterator[Unit]:
    if small:
        yield Unit(tuple(small), remote=True)
        small.clear()


def _large(whole: Task, split: bool, chunk_bytes: int, abandoned: set[str]) -> Iterator[Unit]:
    try:
        stream = open(whole.path or "", "rb")  # noqa: SIM115 - closed below, when the file is planned
    except OSError:
        yield Unit((whole,), remote=False)  # its report says why it cannot be read
        return
    with stream:
        cutter = _CUTTERS.get(_layout(whole, stream) or "") if split else None
        if cutter is None:
            yield Unit((whole,), remote=False)
            return
        stream.seek(0)
        for task in cutter(whole, stream, chunk_bytes):
            if whole.path in abandoned:
                return
            if task.offset == 0 and task.length is None:
                task = whole  # not cut at all: read it as a whole file
            yield Unit((task,), remote=task.length is not None, file=whole.path)


def _layout(whole: Task, stream: IO[bytes]) -> str | None:
    """How the built-in parsers read this file: "lines", "values" (a JSON array), "xml", or None."""
    head = stream.read(HEAD_SIZE)
    stream.seek(0)
    document = Document(whole.source, whole.media_type, stream=stream, head=head)
    media_type = common.media_type_of(document)
    if media_type == common.XML:
        return "xml"
    how = json_format.layout(document) if media_type in (common.JSON, common.JSONL) else None
    if how == "values":
        body = head[3:] if head.startswith(common.BOM) else head
        return "values" if body.lstrip()[:1] == b"[" else None
    return how


class _Reader:
    """The bytes of a file from a position on, read in blocks, at most `limit` held at a time."""

    def __init__(self, stream: IO[bytes], chunk_bytes: int) -> None:
        self.stream = stream
        self.block = chunk_bytes
        self.limit = 4 * chunk_bytes + 2 * HEAD_SIZE  # no boundary within this many bytes: read the rest whole
        self.buf = bytearray()  # dropping its head moves a pointer, not the bytes
        self.offset = 0  # of buf[0] in the file
        self.lines = 0  # line breaks before buf[0]
        self.index = 0  # records before buf[0]
        self.eof = False
        self.per_record = 0.0  # bytes per record so far

    def fill(self, wanted: int) -> bool:
        """Hold at least `wanted` bytes if the file has them; False at the end of the file or past the limit."""
        while len(self.buf) < wanted and not self.eof and len(self.buf) <= self.limit:
            data = self.stream.read(self.block)
            self.eof = not data
            self.buf += data
        return len(self.buf) >= wanted

    def target(self) -> int:
        """How many bytes the next chunk should hold: about RECORDS_PER_CHUNK records, at most a block."""
        if not self.per_record:
            return self.block
        return max(min(int(self.per_record * RECORDS_PER_CHUNK), self.block), min(HEAD_SIZE, self.block))

    def take(self, base: Task, end: int, records: int, lines: int | None = None) -> Task:
        """The chunk buf[:end], holding `records` records (and `lines` line breaks); moves past it."""
        task = replace(base, offset=self.offset, length=end, lines_before=self.lines, index=self.index,
                       expected=records, last=self.eof and end == len(self.buf), size=end)
        self.offset += end
        self.lines += self.buf.count(b"\n", 0, end) if lines is None else lines
        self.index += records or 0
        del self.buf[:end]
        if records:
            self.per_record = self.offset / max(self.index, 1)
        return task

    def rest(self, base: Task) -> Task:
        """Everything from here to the end: the last chunk when it is all held, else unbounded (`length` None)."""
        held = len(self.buf) if self.eof else None
        return replace(base, offset=self.offset, length=held, lines_before=self.lines, index=self.index,
                       expected=None, last=True, size=base.size - self.offset if held is None else held)


_BLANK = re.compile(rb"\n[ \t\r\x0b\x0c]*(?=\n)")  # a blank line after another line
_BLANK_FIRST = re.compile(rb"[ \t\r\x0b\x0c]*\n")


def _line_records(buf: bytes | bytearray, end: int, first_line: bool) -> tuple[int, int]:
    """The line breaks in buf[:end], and how many records `iter_lines` reads from those lines (all but the
    blank ones)."""
    bom = 3 if first_line and buf.startswith(common.BOM) else 0  # the parser drops it before looking
    breaks = lines = buf.count(b"\n", 0, end)
    blank = len(_BLANK.findall(buf, 0, end)) + (1 if _BLANK_FIRST.match(buf, bom, end) else 0)
    tail = buf.rfind(b"\n", 0, end) + 1
    if tail < end:  # the file's last line, without a line break
        lines += 1
        blank += buf[max(tail, bom):end].isspace()
    return breaks, lines - blank


def _cut_lines(base: Task, stream: IO[bytes], chunk_bytes: int) -> Iterator[Task]:
    reader = _Reader(stream, chunk_bytes)
    base = replace(base, kind="lines")
    while True:
        reader.fill(reader.target())
        if not reader.buf:
            return
        target = reader.target()
        end = reader.buf.rfind(b"\n", 0, target) + 1 or reader.buf.find(b"\n", target) + 1
        while not end and not reader.eof and reader.fill(len(reader.buf) + 1):
            end = reader.buf.find(b"\n") + 1  # one line longer than a chunk: read on to its end
        if not end and not reader.eof:
            yield reader.rest(base)  # a line longer than the limit: its parser reports it
            return
        end = end or len(reader.buf)
        breaks, records = _line_records(reader.buf, end, reader.offset == 0)
        yield reader.take(base, end, records, breaks)


_ELEMENT_LINE = re.compile(rb",[ \t\r]*\n[ \t\r\n]*")  # a comma that ends a line (and the blank lines after)
_STRUCTURE = bytes(range(256)).translate(None, b"[]{},")  # the bytes that are not brackets or commas
_PAIR = re.compile(rb"\{[^\[\]{}]*+\}|\[[^\[\]{}]*+\]")


def _reduced(piece: bytes | bytearray) -> bytes:
    """The brackets and commas of `piece`, each pair of brackets removed with what it holds (strings not
    read): what is left of an array's elements is their separating commas, and any bracket left open."""
    rest = bytes(piece).translate(None, _STRUCTURE)
    while True:
        shorter = _PAIR.sub(b"", rest)
        if len(shorter) == len(rest):
            return rest
        rest = shorter


def _elements(piece: bytes | bytearray) -> int | None:
    """The number of commas between the elements of an array in `piece`; None when its brackets do not pair."""
    rest = _reduced(piece)
    return len(rest) if not rest.strip(b",") else None


def _depth(structure: bytes) -> int:
    return structure.count(b"{") + structure.count(b"[") - structure.count(b"}") - structure.count(b"]")


def _cut_values(base: Task, stream: IO[bytes], chunk_bytes: int) -> Iterator[Task]:
    reader = _Reader(stream, chunk_bytes)
    base = replace(base, kind="values")
    reader.fill(HEAD_SIZE)
    start = reader.buf.index(b"[") + 1  # the elements of the first chunk begin after the bracket
    while reader.fill(reader.target() + HEAD_SIZE):
        target = reader.target()
        before = _reduced(reader.buf[start:target])  # read once; only the lines after it are searched
        end = _element_line(reader.buf, before, target)
        while end is None and reader.fill(len(reader.buf) + chunk_bytes):
            end = _element_line(reader.buf, before, target)
        records = _elements(before + reader.buf[target:end]) if end else None
        if end is None or not records:
            break
        yield reader.take(base, end, records)
        start = 0
    yield reader.rest(base)


def _element_line(buf: bytes | bytearray, before: bytes, target: int) -> int | None:
    """The start of the first line after `target` that begins an element of the array, or None; `before` is
    what is left of the chunk's brackets up to `target`."""
    depth = _depth(before)
    at = target
    for match in _ELEMENT_LINE.finditer(buf, target):
        depth += _depth(bytes(buf[at:match.start()]))
        at = match.start()
        if depth == 0 and match.end() < len(buf):
            return buf.rfind(b"\n", match.start(), match.end()) + 1
    return None


_XML_HEAD = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:<\?xml(?P<declaration>[^?]*)\?>)?"
    rb"(?:\s|<!--(?:[^-]|-(?!->))*-->|<\?(?!xml)[^?]*\?>)*"
    rb"<batch_records(?=[\s>])[^>]*(?<!/)>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)""")
_RECORD_LINE = re.compile(rb"\n[ \t]*<batch_record[\s>/]")
_RECORD = re.compile(rb"<batch_record[\s>/]")


def _cut_xml(base: Task, stream: IO[bytes], chunk_bytes: int) -> Iterator[Task]:
    reader = _Reader(stream, chunk_bytes)
    reader.fill(HEAD_SIZE)
    found = _XML_HEAD.match(reader.buf)
    encoding = _ENCODING.search(found.group("declaration") or b"") if found else None
    if found is None or (encoding and encoding.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii")):
        yield reader.rest(base)  # a DOCTYPE, another encoding or another root: the parser decides
        return
    base = replace(base, kind="xml", head=bytes(reader.buf[:found.end()]))
    while reader.fill(reader.target() + HEAD_SIZE):
        match = _RECORD_LINE.search(reader.buf, reader.target())
        while match is None and reader.fill(len(reader.buf) + chunk_bytes):
            match = _RECORD_LINE.search(reader.buf, reader.target())
        if match is None:
            break
        end = match.start() + 1
        records = len(_RECORD.findall(reader.buf, 0, end))
        if not records:
            break
        yield reader.take(base, end, records)
    yield reader.rest(base)


_CUTTERS = {"lines": _cut_lines, "values": _cut_values, "xml": _cut_xml}
