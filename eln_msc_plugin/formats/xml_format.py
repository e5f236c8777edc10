"""Built-in parser: batch records as XML (`batch_record`, or many in a `batch_records` root).

Hardened: no entity is resolved, no DTD loaded, no network touched, huge trees refused, and a
document with any DOCTYPE is refused outright. Read with `iterparse`, each record cleared once read,
so memory does not grow with the file. Types come from the JSON Schema, so both formats agree.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from functools import cache
from operator import attrgetter
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
_COUNTS = frozenset(common.COUNT_FIELDS)
_TAG = attrgetter("tag")
_ALL_STR = {str}.issuperset  # every child is an element (not an entity reference), tested in C


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


class _Plan:
    """A schema node resolved once: its type, the plans of its members and of its items."""

    __slots__ = ("items", "kind", "leaf", "props")

    def __init__(self) -> None:
        self.kind: str | None = None
        self.leaf = True  # neither an object nor an array: an element without children is a value
        self.props: dict[str, _Plan] = {}
        self.items: _Plan | None = None


@cache
def _root_plan() -> _Plan:
    root = schema.load_schema()
    plans: dict[int, _Plan] = {}

    def plan(node: dict[str, Any]) -> _Plan:
        while "$ref" in node:
            node = root["$defs"][node["$ref"].split("/")[-1]]
        if id(node) in plans:
            return plans[id(node)]
        made = plans[id(node)] = _Plan()
        made.kind = node.get("type") if node else None
        made.leaf = made.kind != "array" and made.kind != "object"
        made.props = {key: plan(sub) for key, sub in node.get("properties", {}).items()}
        made.items = plan(node["items"]) if node and "items" in node else None
        return made

    return plan(root)


class _Converter:
    """Builds the canonical dict of one `batch_record` element, with a line for every JSON Pointer."""

    def __init__(self, record: BatchRecord) -> None:
        self.record = record
        self.lines: dict[str, int] = {}

    def convert(self, elem: Any, plan: _Plan | None, path: str) -> Any:
        self.lines[path] = elem.sourceline
        kind = plan.kind if plan is not None else None
        if kind != "array" and kind != "object" and len(elem) == 0:
            return self.value(elem, kind, path, path.rpartition("/")[2])  # a leaf: most elements, the short way
        children = list(elem)  # comments and processing instructions are removed while parsing
        if not _ALL_STR(map(type, map(_TAG, children))):
            if any(isinstance(c, etree._Entity) for c in children):
                self.problem(path, "entity references are not accepted in a batch record", elem.sourceline)
                return None
            children = [c for c in children if type(c.tag) is str]
        name = path.rpartition("/")[2]
        if kind in ("array", "object") and (elem.text or "").strip():
            self.problem(path, f"<{name}> holds text where the format has elements", elem.sourceline)
            return (elem.text or "").strip()
        if kind == "array" or (plan is None and children and len({c.tag for c in children}) == 1 and len(children) > 1):
            return self.items(children, plan, path)
        if kind == "object" or (plan is None and children):
            return self.members(elem, children, plan, path)
        if children:
            self.problem(path, f"<{name}> holds elements where the format has a value", elem.sourceline)
            return None
        return self.value(elem, kind, path, name)

    def value(self, elem: Any, kind: str | None, path: str, name: str) -> Any:
        """The typed value of leaf element `name`; a count with a unit in cells."""
        text = (elem.text or "").strip()
        if name in _COUNTS:
            unit = elem.get("unit")
            if unit is not None:
                cells = common.count_in_cells(text, unit)
                if cells is None:
                    self.record.read_findings.append(common.unit_finding(path, unit, text, elem.sourceline))
                    return text
                self.record.units[path] = unit
                return cells
        return text if kind is None or kind == "string" else _scalar(text, kind)

    def items(self, children: list[Any], plan: _Plan | None, path: str) -> list[Any]:
        """An array: one element per item, each named as the spec says (`passages/passage`, ...)."""
        expected = ITEM.get(path.rpartition("/")[2])
        item = plan.items if plan is not None else None
        out: list[Any] = []
        for child in children:
            name = _local(child.tag)
            if name is None or (expected is not None and name != expected):
                self.problem(f"{path}/{len(out)}", f"element {child.tag!r} in <{path.rpartition('/')[2]}>: "
                             f"expected <{expected or 'item'}> in namespace {NAMESPACE!r}", child.sourceline)
                continue
            out.append(self.convert(child, item, f"{path}/{len(out)}"))
        return out

    def members(self, elem: Any, children: list[Any], plan: _Plan | None, path: str) -> dict[str, Any]:
        props = plan.props if plan is not None else {}
        obj: dict[str, Any] = {}
        lines = self.lines
        for child in children:
            tag = child.tag
            name = _LOCAL[tag] if tag in _LOCAL else _local(tag)
            if name is None:
                self.problem(path, f"element {child.tag!r} is not in the batch-record namespace", child.sourceline)
                continue
            if name in obj:
                self.problem(f"{path}/{name}", f"element <{name}> appears twice (which value is meant is ambiguous)",
                             child.sourceline)
                continue
            sub = props.get(name)
            where = f"{path}/{name}"
            if sub is not None and sub.leaf and len(child) == 0:  # what `convert` and `value` do for a leaf, inline
                lines[where] = child.sourceline
                kind = sub.kind
                if name in _COUNTS:
                    obj[name] = self.value(child, kind, where, name)
                else:
                    text = child.text
                    text = text.strip() if text else ""
                    obj[name] = text if kind is None or kind == "string" else _scalar(text, kind)
            else:
                obj[name] = self.convert(child, sub, where)
        return obj

    def problem(self, path: str, message: str, line: int | None) -> None:
        self.record.read_findings.append(Finding("schema", "fail", path, message, line=line))


def _to_record(document: Document, elem: Any, index: int) -> BatchRecord | Unreadable:
    record = BatchRecord({}, document.source, index, XML, line=elem.sourceline)
    converter = _Converter(record)
    data = converter.members(elem, list(elem), _root_plan(), "")
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


def iter_xml(document: Document, stream: IO[bytes], index: int = 0) -> Generator[BatchRecord | Unreadable, None, bool]:
    """The records of an XML document; returns True when the whole document was read.

    `index`: the number of records before `stream` (a chunk of a larger `batch_records` read by another
    process, wrapped in the root's start and end tags)."""
    events = etree.iterparse(
        stream, events=("start", "end"), tag=_TAGS, resolve_entities=False, load_dtd=False,
        no_network=True, huge_tree=False, remove_comments=True, remove_pis=True,
    )
    first = index
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
                    return False
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
        return False
    if index == 0:
        yield common.unreadable(document, 0, f"no <batch_record> element in namespace {NAMESPACE!r} was found",
                                media_type=XML, line=1)
    return index > first


@hookimpl(trylast=True)
def eln_msc_parse_document(document: Document) -> Iterator[BatchRecord | Unreadable] | None:
    if document.stream is None or common.media_type_of(document) != XML:
        return None
    return iter_xml(document, document.stream)
