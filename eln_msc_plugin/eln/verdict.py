"""One report per record from all its sources, and the host-neutral annotation built from it."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from eln_msc_plugin import __version__
from eln_msc_plugin.eln.base import REPORT_PREFIX, Annotation, Content, Source
from eln_msc_plugin.model import Document, Finding, Report, severity_counts, shown_findings, verdict_of, worst_verdict
from eln_msc_plugin.output import strict_json
from eln_msc_plugin.pipeline import Engine
from eln_msc_plugin.rules import RuleSet

MAX_LISTED = 50  # findings listed on the record; the report file has them all
NO_BATCH_DATA = ("No batch record found: the record holds no MSC batch-record metadata (lot_id, passages, …) "
                 "and no attached batch-record .json/.jsonl/.xml file.")


def engine_name() -> str:
    return f"eln-msc-plugin {__version__}"


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _reports(engine: Engine, source: Source) -> list[tuple[str, Report]]:
    """The source's reports, each with the label its findings get when a record has several."""
    payload = source.load()
    if source.native:
        document = Document(source=source.name, media_type=source.media_type, payload=payload)
        return [(source.name, report) for report in engine.reports(document)]
    return [(f"{source.name}#{r.index}", r) for r in engine.reports_for(payload, source.media_type, source.name)]


def evaluate(engine: Engine, content: Content) -> Report:
    """One report over every source: the worst verdict, findings labelled with their source when there
    are several."""
    labelled = [pair for source in content.sources for pair in _reports(engine, source)]
    return combine(labelled, engine.ruleset, content.ref.name, content.judged_revision or None)


def combine(labelled: list[tuple[str, Report]], rs: RuleSet, record_id: str, revision: str | None) -> Report:
    reports = [report for _, report in labelled]
    if not reports:
        finding = Finding("read", "fail", "", NO_BATCH_DATA)
        return Report("record", 0, record_id, revision, "error", {}, [finding], rs.name, rs.version, rs.sha256)
    if len(reports) == 1:
        only = reports[0]
        return Report(only.source, 0, record_id, revision, only.verdict, only.metrics, only.findings,
                      rs.name, rs.version, rs.sha256, only.lot_id)
    findings: list[Finding] = []
    for label, report in labelled:
        findings += [Finding(f.rule, f.severity, f.path, f"[{label}] {f.message}", f.observed, f.expected, f.line)
                     for f in report.findings]
    verdict: str = worst_verdict(r.verdict for r in reports)
    if verdict != "error":
        verdict = worst_verdict([verdict, verdict_of(findings)])
    main = reports[0]
    return Report("record", 0, record_id, revision, verdict, main.metrics, findings, rs.name, rs.version,
                  rs.sha256, main.lot_id)


def report_file_name(judged_revision: str, key: str) -> str:
    """`msc-qc-report-r<revision>-<key>.json`: a new check of the same revision with other sources, rules or
    engine gets its own name, so a report file is never overwritten."""
    revision = re.sub(r"[^A-Za-z0-9]+", "", judged_revision)[:24] or "0"
    return f"{REPORT_PREFIX}-r{revision}-{key[:10]}.json"


def judgement_key(content_sha: str, ruleset_sha: str, engine: str) -> str:
    return hashlib.sha256(f"{content_sha}:{ruleset_sha}:{engine}".encode()).hexdigest()


def listed_findings(report: Report) -> list[str]:
    """The findings in plain words, as listed on the record (most severe first, info left out)."""
    return [f"{f.severity}: [{f.rule}] {f.message}" for f in shown_findings(report)][:MAX_LISTED]


def supersedes(previous: Annotation | None) -> str:
    if previous is None:
        return ""
    return (f"{previous.verdict} of revision {previous.judged_revision} at {previous.evaluated_at}"
            + (f" (report {previous.report_file})" if previous.report_file else ""))


def build_annotation(report: Report, content: Content, rs: RuleSet, evaluated_at: str | None = None) -> Annotation:
    """The annotation of `report`, with its full report document."""
    digest, engine = content.content_hash, engine_name()
    annotation = Annotation(
        verdict=report.verdict, judged_revision=content.judged_revision, content_hash=digest,
        rule_pack=f"{rs.name} {rs.version}", ruleset_sha256=rs.sha256, engine=engine,
        evaluated_at=evaluated_at or utcnow(),
        report_file=report_file_name(content.judged_revision, judgement_key(digest, rs.sha256, engine)),
        findings=listed_findings(report),
        counts={str(k): n for k, n in severity_counts(report.findings).items()},
        sources=", ".join(s.fingerprint for s in sorted(content.sources, key=lambda s: s.name)),
        supersedes=supersedes(content.current or content.previous))
    annotation.report = report_document(report, rs, annotation, content.ref.url)
    return annotation


def report_document(report: Report, rs: RuleSet, annotation: Annotation, record_url: str) -> bytes:
    body = {
        "tool": {"name": "eln-msc-plugin", "version": __version__},
        "ruleset": {**rs.as_dict(), "thresholds": rs.thresholds, "disabled": sorted(rs.disabled), "policy": rs.policy},
        "judged_revision": _as_int(annotation.judged_revision),
        "content_hash": annotation.content_hash,
        "sources": annotation.sources,
        "evaluated_at": annotation.evaluated_at,
        "record_url": record_url,
        "supersedes": annotation.supersedes or None,
        "report": report.as_dict(),
    }
    return strict_json(body, indent=2).encode("utf-8")


def _as_int(value: str) -> int | str:
    """A numeric revision id as a number (as Kadi writes it), any other stamp as it is."""
    return int(value) if value.isdigit() else value
