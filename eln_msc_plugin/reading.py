"""Reading and judging one task (a whole file or a chunk of one), in whichever process runs it.

A whole file is read exactly as `--jobs 1` reads it, through the parser hook. A chunk is read by the built-in
parser of its format, started where the chunk starts (its line, its record index), which says whether the
chunk ended where it was cut.
"""

from __future__ import annotations

import io
import itertools
import sys
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from typing import IO, Any, Protocol

from eln_msc_plugin.chunks import Task
from eln_msc_plugin.formats import json_format, xml_format
from eln_msc_plugin.model import BatchRecord, Document, Finding, Report, Unreadable
from eln_msc_plugin.pipeline import Engine

BLOCK = 256  # reports rendered and written together
Item = BatchRecord | Unreadable
Emit = Callable[[Any, Counter[str], int, int], None]  # payload, count per verdict, reports, bytes read


class Renderer(Protocol):
    """Turns reports into what the run writes (text of an output format, or report rows)."""

    def block(self, reports: list[Report]) -> Any: ...

    def join(self, payloads: list[Any]) -> Any: ...


def unreadable(task: Task, message: str, index: int = 0) -> Unreadable:
    return Unreadable(task.source, index, [Finding("read", "fail", "", message)])


class _Reading:
    """The records of one task; after they are read, `clean` says whether a chunk ended where it was cut."""

    def __init__(self, task: Task, engine: Engine) -> None:
        self.task, self.engine = task, engine
        self.clean = False
        self.stream: IO[bytes] | None = None

    def __iter__(self) -> Iterator[Item]:
        self.clean = yield from self._items()

    def position(self) -> int:
        """Bytes of the input read so far (for progress)."""
        try:
            return self.stream.tell() - self.task.offset if self.stream is not None else 0
        except (OSError, ValueError):
            return 0

    def _items(self) -> Generator[Item, None, bool]:
        task = self.task
        if task.problem is not None:
            yield unreadable(task, task.problem)
            return True
        if task.kind == "file":
            return (yield from self._whole())
        with self._open() as stream:
            document = Document(task.source, task.media_type, stream=stream)
            if task.kind == "lines":
                yield from json_format.iter_lines(document, stream, task.lines_before, task.index)
                return True
            if task.kind == "values":
                start = (task.index, task.lines_before + 1) if task.offset else None
                return (yield from json_format.iter_stream(document, stream, start, partial=not task.last))
            return (yield from xml_format.iter_xml(document, stream, task.index))

    def _whole(self) -> Generator[Item, None, bool]:
        task = self.task
        if task.path is None:
            stream: IO[bytes] = sys.stdin.buffer
        else:
            try:
                stream = open(task.path, "rb")  # noqa: SIM115 - closed below, after the records are read
            except OSError as error:
                yield unreadable(task, f"cannot open the file: {error.strerror}")
                return True
        self.stream = stream
        try:
            records = self.engine.records(Document.from_payload(stream, task.media_type, task.source))
            yield from itertools.islice(records, task.skip, None)
        finally:
            if task.path is not None:
                stream.close()
        return True

    def _open(self) -> IO[bytes]:
        """The chunk's bytes as a stream; an XML chunk inside the root's start and end tags."""
        task = self.task
        stream = open(task.path or "", "rb")  # noqa: SIM115 - returned: the caller closes it
        stream.seek(task.offset)
        parts: list[bytes] = []
        if task.kind == "xml" and task.offset:
            parts += [task.head, b"\n" * (task.lines_before - task.head.count(b"\n"))]
        if task.length is None:  # the rest of the file, read as it comes
            self.stream = stream
            return io.BufferedReader(_Chain(parts, stream)) if parts else stream
        with stream:
            parts.append(stream.read(task.length))
        if task.kind == "xml" and not task.last:
            parts.append(b"</" + xml_format.RECORDS.encode() + b">")
        return io.BytesIO(b"".join(parts))


class _Chain(io.RawIOBase):
    """Some bytes, then a file to its end, as one stream (an XML chunk's root tag, then the rest of the file)."""

    def __init__(self, parts: list[bytes], rest: IO[bytes]) -> None:
        super().__init__()
        self.parts = io.BytesIO(b"".join(parts))
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.parts.readinto(buffer) or self.rest.readinto(buffer)  # type: ignore[attr-defined]
        return int(count or 0)

    def tell(self) -> int:
        return self.rest.tell()

    def close(self) -> None:
        self.rest.close()
        super().close()


def run_task(task: Task, engine: Engine, renderer: Renderer, emit: Emit, progress: bool = False) -> tuple[int, bool]:
    """Judge a task's records and hand them to `emit` in rendered blocks; (reports, ended where it was cut)."""
    reading = _Reading(task, engine)
    done = read = 0
    block: list[Report] = []
    for report in engine.judge(reading):
        block.append(report)
        if len(block) == BLOCK:
            now = reading.position() if progress else 0
            emit(renderer.block(block), Counter(r.verdict for r in block), len(block), now - read)
            done, read, block = done + len(block), now, []
    emit(renderer.block(block), Counter(r.verdict for r in block), len(block), max(task.size - read, 0))
    return done + len(block), reading.clean
