"""Built-in parser: batch records as XML (`batch_record`, or many in a `batch_records` root).

Hardened: no entity is resolved, no DTD loaded, no network touched, huge trees refused, and a
document with any DOCTYPE is refused outright. Read with `iterparse`, each record cleared once read,
so memory does not grow with the file. Types come from the JSON Schema, so both formats agree.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import IO, Any

from lxml import etree

from eln_msc_plugin import limits
from eln_msc_plugin.display import quoted
from eln_msc_plugin.formats import common, xml_convert
from eln_msc_plugin.formats.common import NAMESPACE, XML
from eln_msc_plugin.formats.xml_convert import TooLarge, local
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import BatchRecord, Document, Unreadable

RECORD, RECORDS = "batch_record", "batch_records"
_TAGS = [f"{{{NAMESPACE}}}{RECORD}", RECORD, f"{{{NAMESPACE}}}{RECORDS}", RECORDS]


class _Counted:
    """The stream as lxml reads it, counting the bytes: past MAX_RECORD_BYTES since the last record ended,
    reading stops (lxml builds every element it reads, and a record is cleared only once it ends)."""

    SLACK = 1 << 16  # lxml reads ahead of the record it parses, 32 kB at a time

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.total = 0
        self.mark = 0
        self.blank = True  # nothing but white space read so far

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.total += len(chunk)
        if self.blank and chunk.removeprefix(common.BOM).strip():
            self.blank = False
        if self.total - self.mark > limits.MAX_RECORD_BYTES + self.SLACK:
            raise TooLarge(f"more than {limits.MAX_RECORD_BYTES:,} bytes (MAX_RECORD_BYTES) without the end of a "
                            "<batch_record>: no batch record is this large")
        return chunk


def _is_record(elem: Any) -> bool:
    """A `batch_record` at the root, or directly under a `batch_records` root: one nested deeper is a member."""
    if local(elem.tag) != RECORD:
        return False
    parent = elem.getparent()
    return parent is None or (parent.getparent() is None and local(parent.tag) == RECORDS)


def _refused_doctype(elem: Any) -> bool:
    docinfo = elem.getroottree().docinfo
    return bool(docinfo.doctype or docinfo.internalDTD is not None or docinfo.system_url)


def iter_xml(document: Document, stream: IO[bytes], index: int = 0) -> Generator[BatchRecord | Unreadable, None, bool]:
    """The records of an XML document; returns True when the whole document was read.

    `index`: the number of records before `stream` (a chunk of a larger `batch_records` read by another
    process, wrapped in the root's start and end tags)."""
    counted = _Counted(stream)
    events = etree.iterparse(
        counted, events=("start", "end"), tag=_TAGS, resolve_entities=False, load_dtd=False,
        no_network=True, huge_tree=False, remove_comments=True, remove_pis=True,
    )
    first = index
    checked = False
    line = 1  # where the record being read starts (or the last one ended)
    try:
        for event, elem in events:
            if not checked:
                checked = True
                if _refused_doctype(elem):
                    yield common.unreadable(document, 0, "the XML document has a DOCTYPE declaration; batch records "
                                            "never need one and it can define entities, so it is refused",
                                            media_type=XML, line=1)
                    return False
                root = elem.getroottree().getroot()
                if root.tag.rpartition("}")[2] not in (RECORD, RECORDS) or local(root.tag) is None:
                    break
            if event == "start":
                line = elem.sourceline  # where the record being read starts (nested or not: a place to point at)
                continue
            if not _is_record(elem):
                continue
            yield xml_convert.to_record(document, elem, index)
            index += 1
            counted.mark = counted.total
            elem.clear(keep_tail=False)
            parent = elem.getparent()
            while parent is not None and elem.getprevious() is not None:
                del parent[0]
    except (etree.XMLSyntaxError, TooLarge) as error:
        yield _stopped(document, index, error, line, counted.blank and index == first == 0)
        return False
    if index == 0:
        yield common.unreadable(document, 0, f"no <batch_record> element in namespace {quoted(NAMESPACE)} was found",
                                media_type=XML, line=1)
    return index > first


def _stopped(document: Document, index: int, error: Exception, line: int, blank: bool) -> Unreadable:
    """The error that ends the reading of an XML document, saying where it stopped and what was not read;
    `blank`: the document held nothing but white space."""
    if isinstance(error, TooLarge):
        return common.unreadable(document, index, f"from line {line} on, {error}; reading stopped there: nothing "
                                 "after it was read", media_type=XML, line=line)
    if blank:
        return common.unreadable(document, 0, common.EMPTY, media_type=XML)
    assert isinstance(error, etree.XMLSyntaxError)
    # iterparse may raise a generic "no element found" at line 0; the log holds the real first error
    fatal = next((e for e in error.error_log if e.level_name == "FATAL"), None)
    at = error.lineno or (fatal.line if fatal is not None else None) or line
    text = fatal.message if fatal is not None and not error.lineno else error.msg
    read = f"{index:,} record{'s' if index != 1 else ''} before it" if index else "no record before it"
    return common.unreadable(document, index, f"malformed XML at line {at}: {text}; reading stopped there ({read} "
                             "read): an XML parser cannot go on after such an error, so nothing after it was read",
                             media_type=XML, line=at)


@hookimpl(trylast=True)
def eln_msc_parse_document(document: Document) -> Iterator[BatchRecord | Unreadable] | None:
    if document.stream is None or common.media_type_of(document) != XML:
        return None
    return iter_xml(document, document.stream)
