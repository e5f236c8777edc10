"""Writing one check's annotation to Benchling, in the order that leaves no verdict without its support.

The report blob first (so the record field can name it), then the app session with its messages, then
the canvas on the entry (showing the session), and last one PATCH of the app's own fields: verdict,
findings, record, report link. Only the app's fields are written, so a person's concurrent edit of any
other field is never overwritten; if the batch changed while it was judged, the outcome says "stale"
(the newer save has its own event and is judged on its own). A failure after the first write is a
"partial" outcome: the record field is not written, so the next check writes everything again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eln_msc_plugin.benchling import annotation as shape
from eln_msc_plugin.benchling.content import BatchState, value
from eln_msc_plugin.eln.base import Annotation, Content, WriteOutcome, WriteStatus, metadata_digest
from eln_msc_plugin.errors import ElnError

if TYPE_CHECKING:
    from eln_msc_plugin.benchling.adapter import BenchlingAdapter


def fields_digest(resource: dict[str, Any], own: frozenset[str]) -> str:
    return metadata_digest({k: v for k, v in (resource.get("fields") or {}).items() if k not in own})


def planned(adapter: BenchlingAdapter, content: Content, annotation: Annotation) -> dict[str, Any]:
    """What a check writes (shown by a dry run)."""
    mapping, state = adapter.mapping, content.state
    plan: dict[str, Any] = {"fields": {mapping.verdict_field: annotation.verdict,
                                       mapping.findings_field: shape.findings_text(annotation),
                                       mapping.record_field: "(the audit record, JSON)"},
                            "session_messages": len(shape.session_messages(annotation, content.ref.id))}
    if mapping.report_field:
        plan["report"] = annotation.report_file
    if isinstance(state, BatchState) and state.entry_id:
        plan["canvas_on"] = state.entry_id
    return plan


def write_annotation(adapter: BenchlingAdapter, content: Content, annotation: Annotation, *,
                     dry_run: bool = False) -> WriteOutcome:
    state = content.state
    assert isinstance(state, BatchState), "annotate takes the content read by this adapter"
    before = adapter.tally.snapshot()
    if dry_run:
        return WriteOutcome("dry-run", would_write=planned(adapter, content, annotation))
    links: dict[str, Any] = {}
    try:
        after = _write(adapter, content, annotation, state, links)
    except ElnError as error:
        reads, writes = _spent(adapter, before)
        if writes == 0 or not links:
            raise
        return WriteOutcome("partial", reads, writes, detail=f"{error}; written so far: {', '.join(links)}")
    reads, writes = _spent(adapter, before)
    changed = fields_digest(after, adapter.mapping.own_fields) != fields_digest(state.resource,
                                                                                adapter.mapping.own_fields)
    status: WriteStatus = "stale" if changed else "annotated"
    detail = "the batch changed while it was judged; the newer save is judged on its own" if changed else ""
    return WriteOutcome(status, reads, writes, detail=detail, modified_at=after.get("modifiedAt"))


def _write(adapter: BenchlingAdapter, content: Content, annotation: Annotation, state: BatchState,
           links: dict[str, Any]) -> dict[str, Any]:
    mapping, client = adapter.mapping, adapter.client
    resource_id = content.ref.id
    label = str(value(state.resource, mapping.fields["lot_id"]) or state.resource.get("name") or resource_id)
    if mapping.report_field and annotation.report:
        links["report_blob"] = client.upload(annotation.report_file, annotation.report)
    links["session_id"] = client.session(mapping.app_id, shape.session_name(label), mapping.session_timeout,
                                         shape.session_messages(annotation, resource_id))
    if state.entry_id:
        markdown = shape.canvas_markdown(annotation, label)
        links["canvas_id"] = _canvas(adapter, state, markdown, links["session_id"])
    judged = {"fields_digest": fields_digest(state.resource, mapping.own_fields)}  # what a listing compares
    values = {mapping.verdict_field: annotation.verdict, mapping.findings_field: shape.findings_text(annotation),
              mapping.record_field: shape.record_text(annotation, links | judged)}
    if "report_blob" in links:
        values[mapping.report_field] = links["report_blob"]
    after = client.set_fields(mapping.kind, resource_id, values)
    changed = frozenset(name for name, new in values.items() if value(state.resource, name) != new)
    adapter.own_writes.note(resource_id, frozenset(values), changed)  # its event is then known without a read
    return after


def _canvas(adapter: BenchlingAdapter, state: BatchState, markdown: str, session_id: str) -> str:
    mapping, client = adapter.mapping, adapter.client
    assert state.entry_id is not None
    known = state.record.get("canvas_id")
    if known:
        try:
            return client.canvas(str(known), mapping.app_id, mapping.canvas_feature_id, state.entry_id, markdown,
                                 session_id)
        except ElnError as error:
            if error.status != 404:  # a canvas someone removed is made again; anything else is a failure
                raise
    return client.canvas(None, mapping.app_id, mapping.canvas_feature_id, state.entry_id, markdown, session_id)


def _spent(adapter: BenchlingAdapter, before: tuple[int, int]) -> tuple[int, int]:
    reads, writes = adapter.tally.snapshot()
    return reads - before[0], writes - before[1]
