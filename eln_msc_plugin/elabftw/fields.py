"""Built-in parser for eLabFTW entries: the extra fields of an experiment or resource → v1 record.

Naming convention (the shipped template `schemas/elabftw-template-msc-batch-record.json` follows it):
a field's name is the v1 member's path with dots between levels, and the items of a list numbered
from 1 — `lot_id`, `bank.tier`, `passages.1.number`, `passages.1.cells_harvested`, `cryo_events.2.kind`,
`senescence.beta_gal.percent_positive`, `senescence.p16.reference_genes`, `ev_harvest.collected_at`.
The numbers order the items; a passage's own number is its `passages.N.number` field. Groups ("Lot",
"Passage 1", "Passage 2", …, "SA-β-gal", "p16", "p21") only arrange the form; the parser reads names.

eLabFTW stores values as strings (`"12"`): each is turned into what the v1 schema wants at that place
(integer, number — a decimal comma accepted —, boolean for a checkbox, list for a multi-value field).
A count (`cells_seeded`, `cells_harvested`) is read in the unit picked from the field's `units`
(`1e6 cells` …) and stored in cells. An empty field is absent (a template's blank item is no item);
a value that cannot be converted is kept as written so the schema rule names it; a field whose name
starts like no v1 member belongs to the lab, not to the batch record, and is left alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from eln_msc_plugin.elabftw import ANNOTATION_FIELD, ENTRY_MEDIA_TYPE
from eln_msc_plugin.formats import common
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import BatchRecord, Document, Finding, Unreadable
from eln_msc_plugin.schema import load_schema

# Fields that mark an entry as holding a batch record in its extra fields.
BATCH_KEYS = frozenset({"lot_id", "passages", "production_passage", "intended_use"})
_ORDINAL = re.compile(r"[1-9][0-9]{0,3}")
_TRUE = frozenset({"on", "true", "1", "yes", "y", "x", "checked"})
_FALSE = frozenset({"off", "false", "0", "no", "n", ""})


@cache
def member_types() -> dict[tuple[str, ...], str]:
    """The JSON type at each v1 path (`("passages", "*", "number")` → integer), read from the shipped schema."""
    schema = load_schema()
    defs = schema.get("$defs", {})
    found: dict[tuple[str, ...], str] = {}

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        if "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[1]]
        kind = node.get("type")
        found[path] = kind if isinstance(kind, str) else "string"
        for name, child in (node.get("properties") or {}).items():
            walk(child, (*path, name))
        if isinstance(node.get("items"), dict):
            walk(node["items"], (*path, "*"))

    walk(schema, ())
    return found


def metadata_of(entry: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The entry's decoded metadata, or why it cannot be read. `metadata` is the JSON text eLabFTW stores;
    `metadata_decoded` (added by the server to single reads, absent from listings) is used when it is missing."""
    text = entry.get("metadata")
    if isinstance(text, dict):
        return text, None
    if isinstance(text, str) and text.strip():
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError as error:
            return None, f"the entry's metadata is not valid JSON ({error.msg} at character {error.pos})"
        except ValueError:
            return None, "the entry's metadata is not valid JSON"
        return (decoded, None) if isinstance(decoded, dict) else (None, "the entry's metadata is not a JSON object")
    decoded = entry.get("metadata_decoded")
    return (decoded if isinstance(decoded, dict) else {}), None


def extra_fields(metadata: dict[str, Any] | None) -> dict[str, Any]:
    fields = (metadata or {}).get("extra_fields")
    return fields if isinstance(fields, dict) else {}


def names_batch_fields(metadata: dict[str, Any] | None) -> bool:
    """True when the entry has batch fields at all, filled in or not (made from the template)."""
    return any(str(name).split(".", 1)[0] in BATCH_KEYS for name in extra_fields(metadata))


def has_batch_fields(metadata: dict[str, Any] | None) -> bool:
    """True when a batch field holds a value (an entry made from the template but not filled in yet has none)."""
    return any(str(name).split(".", 1)[0] in BATCH_KEYS and isinstance(field, dict) and not _blank(field.get("value"))
               for name, field in extra_fields(metadata).items())


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def _number(text: str, integer: bool) -> Any:
    try:
        number = float(text.strip().replace(",", "."))
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    if number.is_integer() and (integer or "." not in text and "," not in text and "e" not in text.lower()):
        return int(number)
    return number


def convert(value: Any, kind: str) -> Any:
    """A field value (usually a string) as the v1 schema wants it at a place of type `kind`."""
    if kind == "array":
        items = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        return [str(v) for v in items if not _blank(v)]
    if isinstance(value, list):
        return value  # several values where one is expected: the schema rule says so
    if kind in ("integer", "number"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        return _number(str(value), kind == "integer")
    if kind == "boolean":
        text = str(value).strip().lower()
        return True if text in _TRUE else False if text in _FALSE else value
    return value if isinstance(value, str) else str(value)


class _Reader:
    """Builds the canonical record from the fields, one at a time."""

    def __init__(self, record: BatchRecord) -> None:
        self.record = record
        self.tree: dict[Any, Any] = {}
        self.types = member_types()

    def add(self, name: str, field: dict[str, Any]) -> None:
        parts = name.split(".")
        if (parts[0],) not in self.types:
            return  # the lab's own field, not part of the batch record
        value = field.get("value")
        if _blank(value):
            return
        steps = self._steps(name, parts)
        if steps is None:
            return
        node: dict[Any, Any] = self.tree
        for step in steps[:-1]:
            child = node.setdefault(step, {})  # list items are keyed by their number until `finish`
            if not isinstance(child, dict):
                self._twice(name)
                return
            node = child
        if steps[-1] in node:
            self._twice(name)
            return
        self._leaf(node, steps, self.types.get(_pattern(steps), "string"), value, field.get("unit"))

    def _steps(self, name: str, parts: list[str]) -> list[str | int] | None:
        steps: list[str | int] = []
        for part in parts:
            if (*_pattern(steps), "*") in self.types:  # a list: this part numbers one of its items
                if not _ORDINAL.fullmatch(part):
                    self._bad_name(name)
                    return None
                steps.append(int(part))
            elif part:
                steps.append(part)
            else:
                self._bad_name(name)
                return None
        return steps

    def _leaf(self, node: dict[Any, Any], steps: list[str | int], kind: str, value: Any, unit: Any) -> None:
        key = steps[-1]
        if key in common.COUNT_FIELDS and isinstance(unit, str) and unit.strip() and not isinstance(value, list):
            cells = common.count_in_cells(str(value).strip().replace(",", "."), unit)
            if cells is None:
                pointer = "/" + "/".join(str(s - 1) if isinstance(s, int) else s for s in steps)
                self.record.read_findings.append(common.unit_finding(pointer, unit, value))
                node[key] = value
                return
            node[key] = cells
            node.setdefault("__units__", {})[key] = unit
            return
        node[key] = convert(value, kind)

    def _twice(self, name: str) -> None:
        self.record.read_findings.append(Finding("schema", "fail", "", f"extra field {name!r} repeats a value "
                                                 "another field already gave", observed=name))

    def _bad_name(self, name: str) -> None:
        self.record.read_findings.append(Finding(
            "schema", "fail", "", f"extra field {name!r} does not follow the naming convention: items of a list "
            "are numbered from 1 (e.g. passages.1.number, cryo_events.2.kind)", observed=name))

    def finish(self, node: Any, path: str) -> Any:
        """Numbered items become lists in number order; units are recorded under their JSON Pointer."""
        if not isinstance(node, dict):
            return node
        units = node.pop("__units__", {})
        if node and all(isinstance(k, int) for k in node):
            return [self.finish(node[k], f"{path}/{i}") for i, k in enumerate(sorted(node))]
        for key, unit in units.items():
            self.record.units[f"{path}/{key}"] = unit
        return {k: self.finish(v, f"{path}/{k}") for k, v in node.items()}


def _pattern(steps: list[str | int]) -> tuple[str, ...]:
    return tuple("*" if isinstance(s, int) else s for s in steps)


def record_from_entry(entry: dict[str, Any], source: str, revision: str | None = None) -> BatchRecord | Unreadable:
    """The v1 record held in an eLabFTW entry's extra fields (`entry` as GET /{type}/{id} returns it)."""
    metadata, problem = metadata_of(entry)
    if problem is not None:
        return Unreadable(source, 0, [Finding("read", "fail", "", problem)], ENTRY_MEDIA_TYPE,
                          record_id=_record_id(entry), revision=revision)
    record = BatchRecord({}, source, 0, ENTRY_MEDIA_TYPE)
    reader = _Reader(record)
    for name, field in extra_fields(metadata).items():
        if name != ANNOTATION_FIELD and isinstance(field, dict):
            reader.add(str(name), field)
    members = reader.finish(reader.tree, "")
    canonical: dict[str, Any] = {"format": common.FORMAT, "format_version": "1.0", "record_id": _record_id(entry)}
    if revision is not None:
        canonical["revision"] = revision
    members.pop("record_id", None)
    members.pop("revision", None)
    canonical.update(members)
    record.data = canonical
    return record


def _record_id(entry: dict[str, Any]) -> str:
    return f"{entry.get('type') or 'experiments'}/{entry.get('id')}"


@hookimpl
def eln_msc_parse_document(document: Document) -> Iterator[BatchRecord | Unreadable] | None:
    payload = document.payload
    if document.media_type != ENTRY_MEDIA_TYPE or not isinstance(payload, dict):
        return None
    revision = payload.get("_revision")
    return iter([record_from_entry(payload, document.source, str(revision) if revision is not None else None)])
