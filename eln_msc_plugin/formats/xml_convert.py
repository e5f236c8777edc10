"""Turning one `batch_record` element into the canonical record: typed as the JSON Schema says, each member
with its source line, each problem a located finding, and a record past the size limits refused whole.
"""

from __future__ import annotations

import math
from functools import cache
from operator import attrgetter
from typing import Any

from lxml import etree

from eln_msc_plugin import limits, schema
from eln_msc_plugin.display import quoted
from eln_msc_plugin.formats import common
from eln_msc_plugin.formats.common import NAMESPACE, XML
from eln_msc_plugin.model import BatchRecord, Document, Finding, Unreadable

_TRUE, _FALSE = {"true", "1"}, {"false", "0"}
# The element of each item of an array (spec: arrays become a wrapper holding one element per item).
ITEM = {"passages": "passage", "cryo_events": "cryo_event", "vial_ids": "vial_id", "reference_genes": "gene"}


def local(tag: Any) -> str | None:
    """The element's name without our namespace; None for a comment, entity or foreign namespace."""
    if type(tag) is not str:
        return None
    try:
        return LOCAL_NAMES[tag]
    except KeyError:
        pass
    name: str | None = tag
    if tag.startswith("{"):
        uri, _, name = tag[1:].partition("}")
        name = name if uri == NAMESPACE else None
    if len(LOCAL_NAMES) < 10_000:  # names seen, memoised: a document cannot grow this without bound
        LOCAL_NAMES[tag] = name
    return name


LOCAL_NAMES: dict[str, str | None] = {}
_COUNTS = frozenset(common.COUNT_FIELDS)
_TAG = attrgetter("tag")
_ALL_STR = {str}.issuperset  # every child is an element (not an entity reference), tested in C


class TooLarge(Exception):
    """A record past a size limit: it is refused whole (its message names the limit)."""


def _shown(tag: Any) -> str:
    """An element's name as a message shows it: `<name>`, with its namespace when it is not ours."""
    if type(tag) is not str:
        return "an entity or comment"
    if tag.startswith("{"):
        uri, _, name = tag[1:].partition("}")
        return f"<{name}>" if uri == NAMESPACE else f"<{name}> of namespace {quoted(uri)}"
    return f"<{tag}> without a namespace"


def _too_many(elem: Any, count: int) -> TooLarge:
    return TooLarge(f"{_shown(elem.tag)} at line {elem.sourceline} has {count:,} child elements, more than the "
                     f"limit of {limits.MAX_MEMBERS:,} (MAX_MEMBERS); no real batch record has as many")


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
        if len(children) > limits.MAX_MEMBERS:
            raise _too_many(elem, len(children))
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
            name = local(child.tag)
            if name is None or (expected is not None and name != expected):
                self.problem(f"{path}/{len(out)}", f"element {_shown(child.tag)} in <{path.rpartition('/')[2]}>: "
                             f"expected <{expected or 'item'}> in namespace {quoted(NAMESPACE)}", child.sourceline)
                continue
            out.append(self.convert(child, item, f"{path}/{len(out)}"))
        return out

    def members(self, elem: Any, children: list[Any], plan: _Plan | None, path: str) -> dict[str, Any]:
        props = plan.props if plan is not None else {}
        obj: dict[str, Any] = {}
        lines = self.lines
        for child in children:
            tag = child.tag
            name = LOCAL_NAMES[tag] if tag in LOCAL_NAMES else local(tag)
            if name is None:
                self.problem(path, f"element {_shown(child.tag)} is not in the batch-record namespace",
                             child.sourceline)
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


def to_record(document: Document, elem: Any, index: int) -> BatchRecord | Unreadable:
    record = BatchRecord({}, document.source, index, XML, line=elem.sourceline)
    converter = _Converter(record)
    try:
        children = list(elem)
        if len(children) > limits.MAX_MEMBERS:
            raise _too_many(elem, len(children))
        data = converter.members(elem, children, _root_plan(), "")
    except TooLarge as error:
        return common.unreadable(document, index, str(error), media_type=XML, line=elem.sourceline)
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
    refused = common.size_problem(data)
    if refused is not None:
        return common.unreadable(document, index, refused[1], media_type=XML, line=elem.sourceline, path=refused[0])
    return record
