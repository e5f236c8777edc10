"""A Benchling tenant set up as the example mapping describes, with MSC batches made from v1 records.

`seed_schemas` creates the batch, passage and senescence schemas the example mapping names (same ids);
`add_batch` writes a canonical v1 record into the tenant the way scientists would: a batch entity with
its fields, its notebook entry, one result row per passage and per senescence assay.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from tests.support.fake_benchling import FakeBenchling

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_MAPPING = REPO / "examples" / "benchling" / "mapping.toml"

TYPES = {"production_passage": "integer", "ev_harvest.producing_passage": "integer", "number": "integer",
         "sample_passage": "integer", "cells_counted": "integer", "positive_cells": "integer",
         "reported_cumulative_pdl": "float", "vessel_area_cm2": "float", "cells_seeded": "float",
         "cells_harvested": "float", "viability_percent": "float", "percent_positive": "float",
         "fold_change": "float", "thawed": "boolean", "intended_use": "dropdown", "product_type": "dropdown",
         "bank.tier": "dropdown", "seeded_at": "date", "harvested_at": "date", "tested_at": "date",
         "ev_harvest.collected_at": "date", "released_at": "date"}


def example_mapping() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE_MAPPING.read_text(encoding="utf-8"))


def write_mapping(directory: Path, fake: FakeBenchling, **changes: Any) -> Path:
    """The example mapping with the fake's app ids (and `changes` per section) written as TOML."""
    raw = example_mapping()
    raw["app"].update(app_id=fake.app_id, app_definition_id=fake.app_definition_id)
    raw["receiver"].pop("public_url")  # the example's is not reachable from a test; tests give their own
    for section, values in changes.items():
        raw[section].update(values)
        raw[section] = {k: v for k, v in raw[section].items() if v is not None}  # None removes a key
    path = directory / "mapping.toml"
    path.write_text(_toml(raw), encoding="utf-8")
    return path


def _toml(raw: dict[str, Any], prefix: str = "") -> str:
    plain = [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in raw.items() if not isinstance(v, dict)]
    lines = ([f"[{prefix}]"] if prefix and plain else []) + plain
    for key, value in raw.items():
        if isinstance(value, dict):
            lines.append(_toml(value, f"{prefix}.{key}" if prefix else key))
    return "\n".join(lines) + "\n"


def seed_schemas(fake: FakeBenchling, mapping: dict[str, Any] | None = None) -> dict[str, Any]:
    """The three schemas of `mapping` (default: the example) in the fake tenant; returns the mapping."""
    raw = mapping or example_mapping()
    tenant, batch = fake.tenant, raw["batch"]
    fields = {name: TYPES.get(member, "text") for member, name in batch["fields"].items()}
    notes = raw["annotation"]
    fields |= {notes["verdict_field"]: "text", notes["findings_field"]: "long_text",
               notes["record_field"]: "long_text", notes["report_field"]: "blob_link",
               batch["entry_link_field"]: "entry_link"}
    tenant.add_schema("custom_entity", "MSC batch", fields, batch["schema_id"])
    for key in ("passages", "senescence"):
        section = raw[key]
        row = {name: TYPES.get(member, "text") for member, name in section["fields"].items()}
        row[section["batch_field"]] = "custom_entity_link"
        if "assay_field" in section:
            row[section["assay_field"]] = "text"
        tenant.add_schema("assay_result", f"MSC {key}", row, section["schema_id"])
    return raw


def add_batch(fake: FakeBenchling, record: dict[str, Any], mapping: dict[str, Any] | None = None,
              files: dict[str, bytes] | None = None) -> tuple[str, str]:
    """A batch entity (with its entry, passages and assays) holding `record`; returns (entity id, entry id)."""
    raw = mapping or example_mapping()
    tenant, batch = fake.tenant, raw["batch"]
    entry_id = tenant.create_entry(None, f"Batch record {record.get('lot_id')}", files=files)
    values = {name: _get(record, member) for member, name in batch["fields"].items()}
    values[batch["entry_link_field"]] = entry_id
    entity_id = tenant.create_entity(batch["schema_id"], str(record.get("lot_id")), values)
    _add_rows(fake, entity_id, record, raw)
    return entity_id, entry_id


def _add_rows(fake: FakeBenchling, entity_id: str, record: dict[str, Any], raw: dict[str, Any]) -> None:
    rows, assays = raw["passages"], raw["senescence"]
    for passage in record.get("passages", []):
        values = {name: passage.get(member) for member, name in rows["fields"].items()}
        fake.tenant.add_result(rows["schema_id"], values | {rows["batch_field"]: entity_id})
    for assay, result in (record.get("senescence") or {}).items():
        values = {name: result.get(member) for member, name in assays["fields"].items()}
        fake.tenant.add_result(assays["schema_id"], values | {assays["batch_field"]: entity_id,
                                                              assays["assay_field"]: assay})


def edit_batch(fake: FakeBenchling, entity_id: str, record: dict[str, Any],
               mapping: dict[str, Any] | None = None) -> None:
    """A scientist saves new batch data: the batch's fields, and its result rows replaced."""
    raw = mapping or example_mapping()
    tenant = fake.tenant
    with tenant.lock:
        tenant.user_update(entity_id, {name: _get(record, member) for member, name in raw["batch"]["fields"].items()})
        tenant.results[:] = [r for r in tenant.results if r["fields"].get("batch", {}).get("value") != entity_id]
        _add_rows(fake, entity_id, record, raw)


def add_entry_batch(fake: FakeBenchling, record: dict[str, Any], schema_id: str,
                    mapping: dict[str, Any] | None = None) -> str:
    """A batch kept as a notebook entry of `schema_id` with results tables in it; returns the entry id."""
    raw = mapping or example_mapping()
    tenant = fake.tenant
    values = {name: _get(record, member) for member, name in raw["batch"]["fields"].items()}
    entry_id = tenant.create_entry(schema_id, f"Batch record {record.get('lot_id')}", values)
    rows = raw["passages"]
    for passage in record.get("passages", []):
        values = {name: passage.get(member) for member, name in rows["fields"].items()}
        tenant.add_result(rows["schema_id"], values, entry_id=entry_id)
    return entry_id


def _get(record: dict[str, Any], member: str) -> Any:
    value: Any = record
    for part in member.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
