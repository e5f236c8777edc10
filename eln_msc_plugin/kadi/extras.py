"""Built-in parser for Kadi4Mat records: typed extras (with units, nested dicts and lists) → v1 record.

The "MSC batch record" template (schemas/kadi-template-msc-batch-record.json) names each extra after
the v1 member it holds, so the mapping is by name: `passages` is a list extra of dict extras, a count
such as `cells_harvested` may carry a unit like `1e6 cells`, dates are Kadi date extras.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from eln_msc_plugin.formats import common
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.kadi import ANNOTATION_KEY, KADI_RECORD
from eln_msc_plugin.model import BatchRecord, Document, Finding

# Extras that mark a record as holding a batch record in its metadata.
BATCH_KEYS = frozenset({"lot_id", "passages", "production_passage", "intended_use"})


def has_batch_extras(extras: Any) -> bool:
    return isinstance(extras, list) and any(isinstance(e, dict) and e.get("key") in BATCH_KEYS for e in extras)


def _value(extra: dict[str, Any], path: str, record: BatchRecord) -> Any:
    kind, value = extra.get("type"), extra.get("value")
    if kind == "dict":
        return _members(value if isinstance(value, list) else [], path, record)
    if kind == "list":
        items = value if isinstance(value, list) else []
        return [_value(item, f"{path}/{i}", record) if isinstance(item, dict) else item for i, item in enumerate(items)]
    unit = extra.get("unit")
    if unit and path.rpartition("/")[2] in common.COUNT_FIELDS:
        cells = common.count_in_cells(value, unit)
        if cells is None:
            record.read_findings.append(common.unit_finding(path, unit, value))
            return value
        record.units[path] = unit
        return cells
    if kind == "float" and isinstance(value, float) and value != value:
        return "NaN"  # a NaN is not a number the rules can use; the schema rule reports it
    return value


def _members(extras: list[Any], path: str, record: BatchRecord) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for extra in extras:
        if not isinstance(extra, dict) or not isinstance(extra.get("key"), str):
            continue
        key = extra["key"]
        if not path and key == ANNOTATION_KEY:
            continue  # our own annotation is not part of the batch record
        if key in obj:
            record.read_findings.append(Finding("schema", "fail", f"{path}/{key}",
                                                f"extra {key!r} appears twice", line=None))
            continue
        obj[key] = _value(extra, f"{path}/{key}", record)
    return obj


def record_from_kadi(data: dict[str, Any], source: str, revision: Any = None) -> BatchRecord:
    """The v1 record held in a Kadi record's (or revision snapshot's) extras."""
    record = BatchRecord({}, source, 0, KADI_RECORD)
    members = _members(data.get("extras") or [], "", record)
    canonical: dict[str, Any] = {"format": common.FORMAT, "format_version": "1.0"}
    canonical["record_id"] = str(data.get("identifier") or data.get("id") or "")
    if revision is not None:
        canonical["revision"] = str(revision)
    members.pop("record_id", None)
    members.pop("revision", None)
    canonical.update(members)
    record.data = canonical
    return record


@hookimpl
def eln_msc_parse_document(document: Document) -> Iterator[BatchRecord] | None:
    payload = document.payload
    if document.media_type != KADI_RECORD or not isinstance(payload, dict):
        return None
    return iter([record_from_kadi(payload, document.source, payload.get("_revision"))])
