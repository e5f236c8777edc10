"""Reading a Benchling batch: the resource, its result rows and entry files, and the annotation in place.

A batch's native source is its mapped fields plus its passage and senescence rows (results change
without touching the batch's modification stamp, so they are read every time); batch-record files
attached to its notebook entry are sources too, identified by their external-file id (a new upload
is a new id), downloaded only when judged. The annotation in place is the app's record field; it is
"incomplete" when the verdict or findings field no longer says what the record field says (a person
edited them: a verdict the app did not write never stands).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from eln_msc_plugin.benchling.client import BenchlingClient
from eln_msc_plugin.benchling.mapping import Mapping
from eln_msc_plugin.benchling.native import BENCHLING_BATCH, BenchlingBatch
from eln_msc_plugin.eln.base import Annotation, Source, metadata_digest
from eln_msc_plugin.formats import common

FILE_SUFFIXES = tuple(common.EXTENSIONS)
ANNOTATION_KEYS = ("verdict", "judged_revision", "content_hash", "rule_pack", "ruleset_sha256", "engine",
                   "evaluated_at", "report_file", "counts", "sources", "supersedes")


@dataclass
class BatchState:
    """What `annotate` needs without reading again (the adapter's `Content.state`)."""

    resource: dict[str, Any]
    entry_id: str | None
    record: dict[str, Any] = field(default_factory=dict)  # the app's record field as last written
    native_digest: str = ""


def value(resource: dict[str, Any], name: str) -> Any:
    spec = (resource.get("fields") or {}).get(name)
    return spec.get("value") if isinstance(spec, dict) else None


def entry_of(resource: dict[str, Any], mapping: Mapping) -> str | None:
    if mapping.kind == "entry":
        return str(resource["id"])
    linked = value(resource, mapping.entry_link_field)
    return linked if isinstance(linked, str) and linked else None


def rows(client: BenchlingClient, mapping: Mapping, resource: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The batch's passage and senescence rows (one listing each)."""
    found: list[list[Any]] = []
    for results in (mapping.passages, mapping.senescence):
        if results is None:
            found.append([])
        elif mapping.kind == "custom_entity":
            found.append(client.results(results.schema_id, [str(resource["id"])]))
        else:
            found.append(client.results_in_entry(results.schema_id, str(resource["id"]),
                                                 str(resource.get("createdAt") or "")))
    return found[0], found[1]


def native_source(batch: BenchlingBatch) -> Source | None:
    """The mapped fields and rows as one source; None when the batch holds no batch data of its own."""
    own = batch.mapping.own_fields
    fields = {k: v for k, v in (batch.resource.get("fields") or {}).items() if k not in own}
    mapped = [fields.get(name) for name in batch.mapping.fields.values()]
    if not batch.passages and not batch.senescence and all(_empty(spec) for spec in mapped):
        return None
    digest = metadata_digest({"fields": fields, "passages": [r.get("fields") for r in batch.passages],
                              "senescence": [r.get("fields") for r in batch.senescence]})
    return Source(f"benchling:{batch.resource['id']}", BENCHLING_BATCH, digest, lambda: batch, native=True)


def _empty(spec: Any) -> bool:
    return not isinstance(spec, dict) or spec.get("value") in (None, "", [])


def file_sources(client: BenchlingClient, entry: dict[str, Any], limit: int) -> list[Source]:
    """Batch-record files (.json, .jsonl, .xml) attached to the entry, loaded only when judged."""
    found = []
    for day in entry.get("days") or []:
        for note in day.get("notes") or []:
            name = str(note.get("text") or "")
            file_id = note.get("externalFileId")
            if note.get("type") == "external_file" and file_id and name.lower().endswith(FILE_SUFFIXES):
                media = common.EXTENSIONS[name[name.rfind("."):].lower()]
                found.append(Source(name, media, f"exf:{file_id}", _loader(client, str(entry["id"]), file_id, limit)))
    return found


def _loader(client: BenchlingClient, entry_id: str, file_id: str, limit: int) -> Any:
    return lambda: client.external_file(entry_id, file_id, limit)


def annotation_in_place(resource: dict[str, Any], mapping: Mapping) -> tuple[Annotation | None, dict[str, Any], bool]:
    """(the annotation the record field holds, the record field itself, whether the fields still agree)."""
    raw = value(resource, mapping.record_field)
    try:
        record = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        record = {}
    if not isinstance(record, dict) or not all(k in record for k in ANNOTATION_KEYS[:7]):
        return None, {}, True
    annotation = Annotation(**{k: record[k] for k in ANNOTATION_KEYS if k in record})
    whole = (value(resource, mapping.verdict_field) == annotation.verdict
             and value(resource, mapping.findings_field) == record.get("findings_text")
             and (not mapping.report_field or not record.get("report_blob")
                  or value(resource, mapping.report_field) == record.get("report_blob")))
    return annotation, record, whole
