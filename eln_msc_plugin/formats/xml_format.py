"""Built-in parser: batch records as XML (`batch_record`, or many in a `batch_records` root).

Hardened: no entity is resolved, no DTD loaded, no network touched, huge trees refused, and a
document with any DOCTYPE is refused outright. Read with `iterparse`, each record cleared once read,
so memory does not grow with the file. Types come from the JSON Schema, so both formats agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import IO, Any

from lxml import etree

from eln_msc_plugin import schema
from eln_msc_plugin.formats import common
from eln_msc_plugin.formats.common import NAMESPACE, XML
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import BatchRecord, Document, Finding, Unreadable

RECORD, RECORDS = "batch_record", "batch_records"
_TAGS = [f"{{{NAMESPACE}}}{RECORD}", RECORD, f"{{{NAMESPACE}}}{RECORDS}", RECORDS]
_TRUE, _FALSE = {"true", "1"}, {"false", "0"}
# The element of each item of an array (spec: arrays become a wrapper holding one element per item).
ITEM = {"passages": "passage", "cryo_events": "cryo_event", "vial_ids": "vial_id", "reference_genes": "gene"}


def _local(tag: Any) -> str | None:
    """The element's name without our namespace; None for a comment, entity or foreign namespace."""
    if type(tag) is not str:
        return None
    try:
        return _LOCAL[tag]
    except KeyError:
        pass
    name: str | None = tag
    if tag.startswith("{"):
        uri, _, name = tag[1:].partition("}")
        name = name if uri == NAMESPACE else None
    if len(_LOCAL) < 10_000:  # names seen, memoised: a document cannot grow this without bound
        _LOCAL[tag] = name
    return name


_LOCAL: dict[str, str | None] = {}


def _scalar(text: str, kind: str | None) -> Any:
    """Text typed as the schema says; left as text when it does not fit (the schema rule says so)."""
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            pass
    if kind in ("number", "integer"):
        try:
            number = int(text) if text.lstrip("+-").isdigit() else float(text)
        except ValueError:
            return text
        return number if math.isfinite(number) else text
    if kind == "boolean":
        return True if text in _TRUE else False if text in _FALSE else text
    return text


class _Converter:
    """Builds the canonical dict of one `batch_record` element, with a line for every JSON Pointer."""

    def __init__(self, record: BatchRecord) -> None:
        self.record = record
        self.root = schema.load_schema()
        self.lines: dict[str, int] = {}

    def node(self, sub: dict[str, Any] | None) -> dict[str, Any] | None:
        while sub is not None and "$ref" in sub:
            sub = self.root["$defs"][sub["$ref"].split("/")[-1]]
        return sub

    def convert(self, elem: Any, sub: dict[str, Any] | None, path: str) -> Any:
        self.lines[path] = elem.sourceline
        sub = self.node(sub)
        kind = sub.get("type") if sub else None
        if kind != "array" and kind != "object" and len(elem) == 0:
            return self.value(elem, kind, path)  # a leaf: most elements, so the short way
        children = list(elem)  # comments and processing instructions are removed while parsing
        if any(type(c.tag) is not str for c in children):
            if any(isinstance(c, etree._Entity) for c in children):
                self.problem(path, "entity references are not accepted in a batch record", elem.sourceline)
                return None
            children = [c for c in children if type(c.tag) is str]
        name = path.rpartition("/")[2]
        if kind in ("array", "object") and (elem.text or "").strip():
            self.problem(path, f"<{name}> holds text where the format has elements", elem.sourceline)
            return (elem.text or "").strip()
        if kind == "array" or (sub is None and children and len({c.tag for c in children}) == 1 and len(children) > 1):
            return self.items(children, sub, path)
        if kind == "object" or (sub is None and children):
            return self.members(elem, children, sub, path)
        if children:
            self.problem(path, f"<{name}> holds elements where the format has a value", elem.sourceline)
            return None
        return self.value(elem, kind, path)

    def value(self, elem: Any, kind: str | None, path: str) -> Any:
        """The typed value of a leaf element; a count with a unit in cells."""
        text = (elem.text or "").strip()
        unit = elem.get("unit")
        if unit is not None and path.rpartition("/")[2] in common.COUNT_FIELDS:
            cells = common.count_in_cells(text, unit)
            if cells is None:
                self.record.read_findings.append(common.unit_finding(path, unit, text, elem.sourceline))
                return text
            self.record.units[path] = unit
            return cells
        return _scalar(text, kind)

    def items(self, children: list[Any], sub: dict[str, Any] | None, path: str) -> list[Any]:
        """An array: one element per item, each named as the spec says (`passages/passage`, ...)."""
        expected = ITEM.get(path.rpartition("/")[2])
        out: list[Any] = []
        for child in children:
            name = _local(child.tag)
            if name is None or (expected is not None and name != expected):
                self.problem(f"{path}/{len(out)}", f"element {child.tag!r} in <{path.rpartition('/')[2]}>: "
                             f"expected <{expected or 'item'}> in namespace {NAMESPACE!r}", child.sourceline)
                continue
            out.append(self.convert(child, sub.get("items") if sub else None, f"{path}/{len(out)}"))
        return out

    def members(self, elem: Any, children: list[Any], sub: dict[str, Any] | None, path: str) -> dict[str, Any]:
        props = (sub or {}).get("properties", {})
        obj: dict[str, Any] = {}
        for child in children:
            name = _local(child.tag)
            if name is None:
                self.problem(path, f"element {child.tag!r} is not in the batch-record namespace", child.sourceline)
                continue
            if name in obj:
                self.problem(f"{path}/{name}", f"element <{name}> appears twice (which value is meant is ambiguous)",
                             child.sourceline)
                continue
            obj[name] = self.convert(child, props.get(name), f"{path}/{name}")
        return obj

    def problem(self, path: str, message: str, line: int | None) -> None:
        self.record.read_findings.append(Finding("schema", "fail", path, message, line=line))


def _to_record(document: Document, elem: Any, index: int) -> BatchRecord | Unreadable:
    record = BatchRecord({}, document.source, index, XML, line=elem.sourceline)
    converter = _Converter(record)
    data = converter.members(elem, list(elem), converter.root, "")
    converter.lines[""] = elem.sourceline
    record.lines = converter.lines
    data = {"format": common.FORMAT, "format_version": elem.get("format_version"), **data}
    if data["format_version"] is None:
        del data["format_version"]
    record.data = data
    problem = common.version_problem(data)
    if problem:
        return common.unreadable(document, index, problem, media_type=XML, line=elem.sourceline,
                                 path="/format_version", observed=data.get("format_version"))
    return record


def iter_xml(document: Document, stream: IO[bytes]) -> Iterator[BatchRecord | Unreadable]:
    events = etree.iterparse(
        stream, events=("start", "end"), tag=_TAGS, resolve_entities=False, load_dtd=False,
        no_network=True, huge_tree=False, remove_comments=True, remove_pis=True,
    )
    index = 0
    checked = False
    try:
        for event, elem in events:
            if not checked:
                checked = True
                docinfo = elem.getroottree().docinfo
                if docinfo.doctype or docinfo.internalDTD is not None or docinfo.system_url:
                    yield common.unreadable(document, 0, "the XML document has a DOCTYPE declaration; batch records "
                                            "never need one and it can define entities, so it is refused",
                                            media_type=XML, line=1)
                    return
                root = elem.getroottree().getroot()
                if root.tag.rpartition("}")[2] not in (RECORD, RECORDS) or _local(root.tag) is None:
                    break
            if event != "end" or _local(elem.tag) != RECORD:
                continue
            yield _to_record(document, elem, index)
            index += 1
            elem.clear(keep_tail=False)
            parent = elem.getparent()
            while parent is not None and elem.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as error:
        # iterparse may raise a generic "no element found" at line 0; the log holds the real first error
        fatal = next((e for e in error.error_log if e.level_name == "FATAL"), None)
        line = error.lineno or (fatal.line if fatal is not None else None) or None
        text = fatal.message if fatal is not None and not error.lineno else error.msg
        message = f"malformed XML at line {line}: {text}"
        yield common.unreadable(document, index, message, media_type=XML, line=line)
        return
    if index == 0:
        yield common.unreadable(document, 0, f"no <batch_record> element in namespace {NAMESPACE!r} was found",
                                media_type=XML, line=1)


@hookimpl(trylast=True)
def eln_msc_parse_document(document: Document) -> Iterator[BatchRecord | Unreadable] | None:
    if document.stream is None or common.media_type_of(document) != XML:
        return None
    return iter_xml(document, document.stream)
