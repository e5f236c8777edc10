"""Judge one Kadi record: find the revision to judge, read its batch data, validate, annotate.

Host-neutral: the on-save Celery task and the backfill both call `judge_and_annotate`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from eln_msc_plugin.eln.kadi import KadiClient
from eln_msc_plugin.formats.common import EXTENSIONS
from eln_msc_plugin.kadi import KADI_RECORD, REPORT_PREFIX, annotation_only
from eln_msc_plugin.kadi.extras import has_batch_extras
from eln_msc_plugin.model import Document, Finding, Report, verdict_of
from eln_msc_plugin.pipeline import Engine

_RANK = {"pass": 0, "warn": 1, "fail": 2, "error": 3}
RECENT = 4  # revisions read per page: the newest few nearly always hold the one to judge


@dataclass
class KadiTarget:
    """Where an annotation goes: one Kadi record, judged at one revision."""

    client: KadiClient
    record_id: int
    revision_id: int
    service_user_id: int | None = None
    dry_run: bool = False
    record_url: str = ""
    before_write: Any = None  # called just before the PATCH (lets a test make a concurrent edit)
    files_judged: str = ""
    existing_files: set[str] = field(default_factory=set)  # names of every file attached when judged


@dataclass
class Outcome:
    """What happened to one record."""

    record_id: int
    status: str  # annotated | unchanged | stale | skipped | dry-run
    verdict: str | None = None
    revision_id: int | None = None
    report: Report | None = None
    writes: int = 0
    detail: str = ""
    would_write: dict[str, Any] = field(default_factory=dict)


def is_batch_file(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in EXTENSIONS and not name.startswith(REPORT_PREFIX)


def is_annotation_revision(revision: dict[str, Any]) -> bool:
    """A revision (as the revisions API lists it) that only wrote an annotation."""
    diff = revision.get("diff") or {}
    return annotation_only(diff, revision.get("data") or {}, diff)


def newest_revision(client: KadiClient, record_id: int,
                    first_page: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """The newest revision that is more than an annotation write: the one a verdict must judge."""
    for page in range(1, 101):
        items = first_page if page == 1 and first_page is not None else client.revisions(
            record_id, per_page=RECENT, page=page)
        for revision in items:
            if not is_annotation_revision(revision):
                return revision
        if len(items) < RECENT:
            return None
    return None


def evaluate_record(client: KadiClient, engine: Engine, record_id: int, revision: dict[str, Any],
                    snapshot: dict[str, Any], files: list[dict[str, Any]]) -> Report:
    """One combined report over the revision's extras and every batch-record file attached."""
    reports: list[Report] = []
    if has_batch_extras(snapshot.get("extras")):
        document = Document(source="extras", media_type=KADI_RECORD, payload={**snapshot, "_revision": revision["id"]})
        reports += engine.reports(document)
    for file in files:
        data = client.download(record_id, file["id"])
        reports += engine.reports_for(data, EXTENSIONS[PurePosixPath(file["name"]).suffix.lower()], file["name"])
    return combine(reports, engine, str(snapshot.get("identifier") or record_id), str(revision["id"]))


def batch_files(attached: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The attached batch-record files (not the plugin's own reports), by name."""
    files = [f for f in attached if is_batch_file(str(f.get("name", "")))]
    return sorted(files, key=lambda f: str(f["name"]))


def files_fingerprint(files: list[dict[str, Any]]) -> str:
    """Which file contents a judgement read: `name@checksum` of each batch-record file."""
    return ", ".join(f"{f['name']}@{f.get('checksum') or f.get('size')}" for f in files)


def combine(reports: list[Report], engine: Engine, record_id: str, revision: str) -> Report:
    """The worst verdict of all sources, their findings labelled with the source when there are several."""
    rs = engine.ruleset
    if not reports:
        finding = Finding("read", "fail", "", "No batch record found: the record has no MSC batch extras "
                          "(lot_id, passages, …) and no attached batch-record .json/.jsonl/.xml file.")
        return Report("kadi", 0, record_id, revision, "error", {}, [finding], rs.name, rs.version, rs.sha256)
    if len(reports) == 1:
        only = reports[0]
        return Report(only.source, 0, record_id, revision, only.verdict, only.metrics, only.findings,
                      rs.name, rs.version, rs.sha256, only.lot_id)
    findings: list[Finding] = []
    for report in reports:
        label = report.source if report.source == "extras" else f"{report.source}#{report.index}"
        for f in report.findings:
            findings.append(Finding(f.rule, f.severity, f.path, f"[{label}] {f.message}", f.observed, f.expected,
                                    f.line))
    verdict = max((r.verdict for r in reports), key=_RANK.__getitem__)
    if verdict != "error":
        verdict = max(verdict, verdict_of(findings), key=_RANK.__getitem__)
    main = next((r for r in reports if r.source == "extras"), reports[0])
    return Report("kadi", 0, record_id, revision, verdict, main.metrics, findings, rs.name, rs.version, rs.sha256,
                  main.lot_id)


def judge_and_annotate(client: KadiClient, engine: Engine, record_id: int, revision_id: int | None = None, *,
                       service_user_id: int | None = None, dry_run: bool = False, before_write: Any = None) -> Outcome:
    """Judge the newest (non-annotation) revision of a record (or stop when `revision_id` is no longer it)
    and annotate."""
    recent = client.revisions(record_id, per_page=RECENT)
    newest = newest_revision(client, record_id, recent)
    if newest is None:
        return Outcome(record_id, "skipped", detail="the record has no revision to judge")
    if revision_id is not None and newest["id"] != revision_id:
        return Outcome(record_id, "stale", revision_id=revision_id,
                       detail=f"revision {revision_id} is no longer the newest ({newest['id']} is)")
    snapshot = newest.get("data") or client.revision(record_id, newest["id"]).get("data") or {}
    attached = client.files(record_id)
    files = batch_files(attached)
    report = evaluate_record(client, engine, record_id, newest, snapshot, files)
    target = KadiTarget(client, record_id, int(newest["id"]), service_user_id, dry_run, client.record_url(record_id),
                        before_write, files_fingerprint(files), {str(f.get("name")) for f in attached})
    outcome = engine.pm.hook.eln_msc_post_annotation(target=target, report=report, ruleset=engine.ruleset)
    if outcome is None:
        return Outcome(record_id, "skipped", report.verdict, int(newest["id"]), report, detail="no annotation sink")
    outcome.report = report
    return outcome


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
