"""The tenant mapping: which Benchling schemas and fields hold the MSC batch record (a TOML file).

`load_mapping(path)` reads the file and checks it against `schemas/benchling-mapping-v1.schema.json`,
raising `ConfigError` that names the key at fault. The file also names the app as installed (app id,
canvas feature) and, for `eln-msc serve benchling`, the receiver's queue. See docs/benchling-install.md.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from eln_msc_plugin.errors import ConfigError
from eln_msc_plugin.schema import schema_text

MAPPING_SCHEMA = "benchling-mapping-v1.schema.json"
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ResultsMapping:
    """A results schema whose rows belong to the batch through `batch_field` (an entity-link field)."""

    schema_id: str
    batch_field: str
    fields: dict[str, str]
    assay_field: str = ""


@dataclass(frozen=True)
class Mapping:
    """A checked mapping file (see the schema for what each part means)."""

    app_id: str
    app_definition_id: str
    canvas_feature_id: str
    kind: str
    schema_id: str
    fields: dict[str, str]
    verdict_field: str
    findings_field: str
    record_field: str
    report_field: str = ""
    entry_link_field: str = ""
    passages: ResultsMapping | None = None
    senescence: ResultsMapping | None = None
    read_files: bool = True
    max_bytes: int = DEFAULT_MAX_BYTES
    session_timeout: int = 3600
    tenant_url: str = ""
    receiver: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def own_fields(self) -> frozenset[str]:
        """The fields the app writes: an update touching only these is the app's own."""
        return frozenset(f for f in (self.verdict_field, self.findings_field, self.record_field,
                                     self.report_field) if f)

    def batch_fields(self) -> dict[str, str]:
        """Every field of the batch schema the mapping reads or writes, by role (for doctor)."""
        roles = {f"batch.fields.{member}": name for member, name in self.fields.items()}
        roles |= {"annotation.verdict_field": self.verdict_field, "annotation.findings_field": self.findings_field,
                  "annotation.record_field": self.record_field}
        if self.report_field:
            roles["annotation.report_field"] = self.report_field
        if self.entry_link_field:
            roles["batch.entry_link_field"] = self.entry_link_field
        return roles


@cache
def mapping_schema() -> dict[str, Any]:
    schema = json.loads(schema_text(MAPPING_SCHEMA))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def check_mapping(raw: Any, label: str = "mapping") -> None:
    """Refuse a mapping that does not fit the schema: `ConfigError` naming the first key at fault."""
    validator = jsonschema.Draft202012Validator(mapping_schema())
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        first = errors[0]
        where = ".".join(map(str, first.absolute_path)) or "(top level)"
        raise ConfigError(f"{label}: {where}: {first.message}")
    if raw["batch"]["kind"] == "custom_entity" and "entry_link_field" not in raw["batch"]:
        raise ConfigError(f"{label}: batch.entry_link_field: a custom-entity batch needs the entry-link "
                          "field that names its notebook entry (where the canvas and the files are)")


def load_mapping(path: str | Path) -> Mapping:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path.name}: cannot be read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path.name}: not valid TOML: {error}") from None
    return mapping_from_dict(raw, path)


def mapping_from_dict(raw: dict[str, Any], path: Path | None = None) -> Mapping:
    check_mapping(raw, path.name if path else "mapping")
    app, batch, annotation = raw["app"], raw["batch"], raw["annotation"]
    files = raw.get("files", {})
    return Mapping(
        app_id=app["app_id"], app_definition_id=app["app_definition_id"],
        canvas_feature_id=app["canvas_feature_id"], session_timeout=app.get("session_timeout_seconds", 3600),
        tenant_url=app.get("tenant_url", ""),
        kind=batch["kind"], schema_id=batch["schema_id"], fields=dict(batch["fields"]),
        entry_link_field=batch.get("entry_link_field", ""),
        verdict_field=annotation["verdict_field"], findings_field=annotation["findings_field"],
        record_field=annotation["record_field"], report_field=annotation.get("report_field", ""),
        passages=_results(raw.get("passages")), senescence=_results(raw.get("senescence")),
        read_files=files.get("read_entry_attachments", True), max_bytes=files.get("max_bytes", DEFAULT_MAX_BYTES),
        receiver=dict(raw.get("receiver", {})), path=path)


def _results(raw: dict[str, Any] | None) -> ResultsMapping | None:
    if raw is None:
        return None
    return ResultsMapping(raw["schema_id"], raw["batch_field"], dict(raw["fields"]), raw.get("assay_field", ""))
