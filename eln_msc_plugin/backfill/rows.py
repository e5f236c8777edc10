"""A record's line in the report (kept in the state file, so a re-run's report needs no new judging)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from eln_msc_plugin.eln.base import Annotation, RecordRef
from eln_msc_plugin.eln.judge import Outcome
from eln_msc_plugin.model import Report, severity_counts, shown_findings, worst_severity

MAX_FINDINGS = 20
_LISTED = re.compile(r"^(?P<severity>fail|warn|info): \[(?P<rule>[^\]]+)\] (?P<message>.*)$", re.S)


def worst_per_rule(findings: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each rule that warned or failed, with its worst severity."""
    by_rule: dict[str, list[str]] = {}
    for rule, severity in findings:
        by_rule.setdefault(rule, []).append(severity)
    worst = {rule: worst_severity(severities) for rule, severities in by_rule.items()}
    return {rule: severity for rule, severity in worst.items() if severity in ("warn", "fail")}


def report_row(report: Report, *, record_id: int | str, identifier: str, title: str, lot_id: str | None,
               url: str) -> dict[str, Any]:
    """Verdict, counts, the worst severity per rule, the first findings and the metrics of one record."""
    shown = shown_findings(report)
    return {
        "id": record_id,
        "identifier": identifier,
        "title": title,
        "lot_id": lot_id or identifier,
        "url": url,
        "verdict": report.verdict,
        "counts": severity_counts(report.findings),
        "rules": worst_per_rule((f.rule, f.severity) for f in report.findings),
        "findings": [{"rule": f.rule, "severity": f.severity, "path": f.path, "message": f.message}
                     for f in shown[:MAX_FINDINGS]],
        "metrics": report.metrics,
    }


def outcome_row(ref: RecordRef, outcome: Outcome) -> dict[str, Any] | None:
    """The report row of an ELN record: from the report when it was judged now, else from the annotation in
    place (verdict, counts and findings as written; no metrics), else None (the state keeps the last row)."""
    if outcome.report is not None:
        row = report_row(outcome.report, record_id=ref.id, identifier=ref.label or ref.id, title=ref.title,
                         lot_id=outcome.report.lot_id, url=ref.url)
    elif outcome.annotation is not None:
        row = annotation_row(ref, outcome.annotation)
    else:
        return None
    if outcome.annotation is not None and outcome.annotation.altered and outcome.status in ("annotated", "dry-run"):
        row["altered"] = outcome.annotation.altered  # the verdict this judgement put back: who had set it
    if outcome.would_write:
        row["would_write"] = {"tags": outcome.would_write.get("tags"), "file": outcome.would_write.get("file")}
    return row


def annotation_row(ref: RecordRef, annotation: Annotation) -> dict[str, Any]:
    """A row from an annotation read back (its findings are `severity: [rule] message` lines)."""
    findings = []
    for text in annotation.findings:
        match = _LISTED.match(text)
        if match:
            findings.append({"rule": match["rule"], "severity": match["severity"], "path": "",
                             "message": match["message"]})
    rules = worst_per_rule((f["rule"], f["severity"]) for f in findings)
    return {"id": ref.id, "identifier": ref.label or ref.id, "title": ref.title, "lot_id": ref.label or ref.id,
            "url": ref.url, "verdict": annotation.verdict, "counts": dict(annotation.counts), "rules": rules,
            "findings": findings[:MAX_FINDINGS], "metrics": {}}
