"""Judge one record through any ELN adapter and annotate it: the flow every host (on-save, watch,
webhook, backfill) shares.

read (is it unchanged? then stop without a write) → prepare (the revision judged, fresh state) → load the
sources and judge them into one report → build the annotation → the adapter writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eln_msc_plugin.eln.base import Annotation, Content, ElnAdapter, RecordRef
from eln_msc_plugin.eln.verdict import build_annotation, engine_name, evaluate
from eln_msc_plugin.model import Report
from eln_msc_plugin.pipeline import Engine


@dataclass
class Outcome:
    """What happened to one record, with the requests it cost."""

    ref: RecordRef
    status: str  # annotated | unchanged | stale | skipped | dry-run | partial
    verdict: str | None = None
    judged_revision: str | None = None
    report: Report | None = None
    reads: int = 0
    writes: int = 0
    detail: str = ""
    would_write: dict[str, Any] = field(default_factory=dict)
    modified_at: str | None = None
    annotation: Annotation | None = None


def candidate_key(content: Content, engine: Engine) -> tuple[str, str, str]:
    """What a new judgement of this content would be keyed by: content hash, thresholds, engine."""
    return content.content_hash, engine.ruleset.sha256, engine_name()


def is_unchanged(content: Content, engine: Engine) -> bool:
    """The annotation in place judged exactly this content with these rules and engine, and is whole."""
    current = content.current
    return (current is not None and content.complete
            and (current.content_hash, current.ruleset_sha256, current.engine) == candidate_key(content, engine))


def judge_and_annotate(adapter: ElnAdapter, engine: Engine, ref: RecordRef, *, dry_run: bool = False,
                       want_report: bool = False) -> Outcome:
    """Judge the record `ref` names and write the annotation, unless it already says this.

    With `want_report`, an unchanged record is judged too when that costs no request (its sources are in
    hand), so a host that reports on every record gets the report without writing.
    """
    before = adapter.tally.snapshot()
    content = adapter.read(ref)
    if content.status == "judge" and not is_unchanged(content, engine):
        content = adapter.prepare(content)  # the fresh state may show it annotated meanwhile (a lost answer)
    if content.status == "judge" and is_unchanged(content, engine):
        current = content.current
        assert current is not None
        report = evaluate(engine, content) if want_report and _free(content) else None
        return _counted(adapter, before, Outcome(ref, "unchanged", current.verdict, current.judged_revision, report,
                                                 annotation=current))
    if content.status != "judge":
        return _counted(adapter, before, Outcome(ref, content.status, judged_revision=content.judged_revision or None,
                                                 detail=content.detail))
    report = evaluate(engine, content)
    annotation = build_annotation(report, content, engine.ruleset)
    written = adapter.annotate(content, annotation, dry_run=dry_run)
    outcome = Outcome(ref, written.status, report.verdict, content.judged_revision, report, detail=written.detail,
                      would_write=written.would_write, modified_at=written.modified_at, annotation=annotation)
    return _counted(adapter, before, outcome)


def _free(content: Content) -> bool:
    """Every source is native metadata already read (judging it sends no request)."""
    return all(source.native for source in content.sources)


def _counted(adapter: ElnAdapter, before: tuple[int, int], outcome: Outcome) -> Outcome:
    reads, writes = adapter.tally.snapshot()
    outcome.reads, outcome.writes = reads - before[0], writes - before[1]
    return outcome
