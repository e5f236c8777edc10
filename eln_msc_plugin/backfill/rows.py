"""A record's line in the report (kept in the state file, so a re-run's report needs no new judging)."""

from __future__ import annotations

from typing import Any

from eln_msc_plugin.model import Report

MAX_FINDINGS = 20
_RANK = {"info": 0, "warn": 1, "fail": 2}


def extra_value(extras: list[dict[str, Any]] | None, key: str) -> Any:
    for extra in extras or []:
        if isinstance(extra, dict) and extra.get("key") == key:
            return extra.get("value")
    return None


def report_row(report: Report, *, record_id: int, identifier: str, title: str, lot_id: str | None,
               url: str) -> dict[str, Any]:
    """Verdict, counts, the worst severity per rule, the first findings and the metrics of one record."""
    rules: dict[str, str] = {}
    for finding in report.findings:
        if (finding.severity in ("warn", "fail")
                and _RANK[finding.severity] > _RANK.get(rules.get(finding.rule, "info"), 0)):
            rules[finding.rule] = finding.severity
    shown = [f for f in report.findings if f.severity != "info"] or (
        report.findings if report.verdict == "error" else [])
    return {
        "id": record_id,
        "identifier": identifier,
        "title": title,
        "lot_id": lot_id or identifier,
        "url": url,
        "verdict": report.verdict,
        "counts": {s: sum(1 for f in report.findings if f.severity == s) for s in ("fail", "warn", "info")},
        "rules": rules,
        "findings": [{"rule": f.rule, "severity": f.severity, "path": f.path, "message": f.message}
                     for f in shown[:MAX_FINDINGS]],
        "metrics": report.metrics,
    }


def listing_row(item: dict[str, Any], report: Report, url: str) -> dict[str, Any]:
    """The report row of a Kadi record, named from its listing JSON."""
    lot = extra_value(item.get("extras"), "lot_id")
    return report_row(report, record_id=int(item["id"]), identifier=str(item.get("identifier", item["id"])),
                      title=str(item.get("title", "")), lot_id=lot if isinstance(lot, str) else None, url=url)
