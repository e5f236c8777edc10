"""Built-in parser for a Benchling batch: schema fields and linked result rows → v1 batch record.

The adapter hands the parser one decoded `BenchlingBatch` payload (media type `BENCHLING_BATCH`): the
batch entity or entry as the API returned it, its passage and senescence result rows, and the tenant
mapping. A mapped field the tenant's schema does not have makes the record unreadable (verdict
`error`, the finding naming the field and the mapping key); a value of the wrong kind is a `fail`
finding naming the field; everything else is left to the rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from eln_msc_plugin.benchling.mapping import Mapping, ResultsMapping
from eln_msc_plugin.formats import common
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import BatchRecord, Document, Finding, Unreadable

BENCHLING_BATCH = "application/vnd.eln-msc.benchling-batch+json"
INTEGERS = frozenset({"production_passage", "producing_passage", "number", "sample_passage", "cells_counted",
                      "positive_cells"})
NUMBERS = frozenset({"reported_cumulative_pdl", "vessel_area_cm2", "cells_seeded", "cells_harvested",
                     "viability_percent", "percent_positive", "fold_change"})
BOOLEANS = frozenset({"thawed"})
ASSAYS = ("beta_gal", "p16", "p21")


@dataclass
class BenchlingBatch:
    """What the adapter read for one batch: the resource, its result rows, and the mapping in force."""

    resource: dict[str, Any]
    mapping: Mapping
    passages: list[dict[str, Any]] = field(default_factory=list)
    senescence: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""


def missing_fields(batch: BenchlingBatch) -> list[Finding]:
    """A finding for every mapped field the tenant's schemas do not have (the mapping is wrong)."""
    found = []
    have = batch.resource.get("fields") or {}
    for member, name in batch.mapping.fields.items():
        if name not in have:
            found.append(_unknown(f"batch.fields.{member}", name, batch.mapping.schema_id))
    for key, rows, results in (("passages", batch.passages, batch.mapping.passages),
                               ("senescence", batch.senescence, batch.mapping.senescence)):
        if results is None or not rows:
            continue
        names = dict(results.fields, assay_field=results.assay_field) if results.assay_field else results.fields
        row_fields = rows[0].get("fields") or {}
        for member, name in names.items():
            if name not in row_fields:
                path = f"{key}.{member}" if member == "assay_field" else f"{key}.fields.{member}"
                found.append(_unknown(path, name, results.schema_id))
    return found


def _unknown(key: str, name: str, schema_id: str) -> Finding:
    return Finding("benchling.mapping", "fail", "", f"the Benchling schema {schema_id} has no field {name!r} "
                   f"(mapping key {key}): fix the mapping file or add the field to the schema",
                   observed=name, expected=f"a field of {schema_id}")


def _value(spec: Any) -> Any:
    """A field's value as the rules read it: a dropdown's option name, otherwise the stored value."""
    if not isinstance(spec, dict):
        return None
    if spec.get("type") == "dropdown":
        return spec.get("textValue")
    return spec.get("value")


def _convert(member: str, spec: Any, name: str, path: str, record: BatchRecord) -> Any:
    value = _value(spec)
    if value is None or value == "":
        return None
    leaf = member.rpartition(".")[2]
    unit = (spec.get("unit") or {}).get("symbol") if isinstance(spec, dict) else None
    if leaf in common.COUNT_FIELDS and unit:
        cells = common.count_in_cells(value, unit)
        if cells is None:
            record.read_findings.append(common.unit_finding(path, unit, value))
            return None
        record.units[path] = unit
        return cells
    try:
        if leaf in INTEGERS:
            number = float(value)
            if not number.is_integer() or isinstance(value, bool):
                raise ValueError
            return int(number)
        if leaf in NUMBERS:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
    except (TypeError, ValueError):
        kind = "a whole number" if leaf in INTEGERS else "a number"
        record.read_findings.append(Finding("benchling.field", "fail", path, f"Benchling field {name!r} holds "
                                            f"{value!r}, not {kind}", observed=value, expected=kind))
        return None
    if leaf in BOOLEANS:
        return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "yes", "1")
    return value if isinstance(value, str) else str(value)


def _put(target: dict[str, Any], member: str, value: Any) -> None:
    head, _, leaf = member.rpartition(".")
    if head:
        target = target.setdefault(head, {})
    target[leaf] = value


def _members(fields: dict[str, Any], names: dict[str, str], prefix: str, record: BatchRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for member, name in names.items():
        path = f"{prefix}/{member.replace('.', '/')}"
        value = _convert(member, fields.get(name), name, path, record)
        if value is not None:
            _put(out, member, value)
    return out


def _senescence(rows: list[dict[str, Any]], results: ResultsMapping, record: BatchRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, row in enumerate(rows):
        fields = row.get("fields") or {}
        assay = str(_value(fields.get(results.assay_field)) or "").strip().lower().replace("-", "_")
        if assay not in ASSAYS:
            record.read_findings.append(Finding(
                "benchling.field", "warn", f"/senescence/{i}", f"senescence row {i + 1}: field "
                f"{results.assay_field!r} is {assay or 'empty'}, not one of {', '.join(ASSAYS)}; row not read"))
            continue
        if assay in out:
            record.read_findings.append(Finding("benchling.field", "warn", f"/senescence/{assay}",
                                                f"more than one {assay} row; the newest is read"))
        out[assay] = _members(fields, results.fields, f"/senescence/{assay}", record)
    return out


def _order(row: dict[str, Any], results: ResultsMapping) -> tuple[int, float]:
    """Rows in passage order (result rows come in creation order); unnumbered rows last."""
    value = _value((row.get("fields") or {}).get(results.fields["number"]))
    try:
        return 0, float(value)
    except (TypeError, ValueError):
        return 1, 0.0


def record_from_batch(batch: BenchlingBatch) -> BatchRecord | Unreadable:
    resource, mapping = batch.resource, batch.mapping
    source = batch.source or str(resource.get("id", "benchling"))
    problems = missing_fields(batch)
    if problems:
        return Unreadable(source, 0, problems, BENCHLING_BATCH, str(resource.get("id")), resource.get("modifiedAt"))
    record = BatchRecord({}, source, 0, BENCHLING_BATCH)
    data: dict[str, Any] = {"format": common.FORMAT, "format_version": "1.0", "record_id": str(resource["id"])}
    if resource.get("modifiedAt"):
        data["revision"] = str(resource["modifiedAt"])
    data.update(_members(resource.get("fields") or {}, mapping.fields, "", record))
    passages = mapping.passages
    if passages is not None:
        rows = sorted(batch.passages, key=lambda row: _order(row, passages))
        data["passages"] = [_members(row.get("fields") or {}, passages.fields, f"/passages/{i}", record)
                            for i, row in enumerate(rows)]
    if mapping.senescence is not None and batch.senescence:
        data["senescence"] = _senescence(batch.senescence, mapping.senescence, record)
    record.data = data
    return record


@hookimpl
def eln_msc_parse_document(document: Document) -> Iterator[BatchRecord | Unreadable] | None:
    if document.media_type != BENCHLING_BATCH or not isinstance(document.payload, BenchlingBatch):
        return None
    return iter([record_from_batch(document.payload)])
