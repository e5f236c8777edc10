"""How a verdict appears in Benchling: fields on the batch, a canvas on its entry, app-session messages.

- the verdict field (`pass`, `warn`, `fail`, `error`) and the findings field (plain words, one a line);
- the record field: what was judged (revision, content hash), with which rule pack, thresholds and
  engine, when, what it supersedes, and where the report, canvas and session are (JSON);
- an App Canvas on the entry: the verdict and findings in plain words (Markdown), replaced on each check;
- an app session per check, one message per finding (at most 200 characters, styled by severity);
- the full report as a blob in the report field, where the mapping names one (a new blob each check,
  never overwritten).
"""

from __future__ import annotations

import json
from typing import Any

from eln_msc_plugin.eln.base import Annotation

STYLE = {"pass": "SUCCESS", "warn": "WARNING", "fail": "ERROR", "error": "ERROR"}
SEVERITY_STYLE = {"fail": "ERROR", "warn": "WARNING", "info": "INFO"}
MAX_MESSAGE = 200  # Benchling's limit on one app-session message
MAX_MESSAGES = 10  # an update takes at most 10 messages; a check sends no more than that
HEADLINE = {"pass": "passes", "warn": "passes with warnings", "fail": "FAILS", "error": "could not be judged"}


def findings_text(annotation: Annotation) -> str:
    if not annotation.findings:
        return "No findings: every rule passed."
    return "\n".join(annotation.findings)


def record_text(annotation: Annotation, links: dict[str, Any]) -> str:
    """The record field: the audit facts of this check and where its parts are (compact JSON)."""
    body = {"verdict": annotation.verdict, "judged_revision": annotation.judged_revision,
            "content_hash": annotation.content_hash, "rule_pack": annotation.rule_pack,
            "ruleset_sha256": annotation.ruleset_sha256, "engine": annotation.engine,
            "evaluated_at": annotation.evaluated_at, "report_file": annotation.report_file,
            "counts": annotation.counts, "sources": annotation.sources, "supersedes": annotation.supersedes,
            "findings_text": findings_text(annotation)} | links
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def canvas_markdown(annotation: Annotation, label: str) -> str:
    lines = [f"## MSC batch QC: {annotation.verdict.upper()}",
             f"{label} {HEADLINE.get(annotation.verdict, annotation.verdict)}.", ""]
    lines += [f"- {finding}" for finding in annotation.findings] or ["- Every rule passed."]
    lines += ["", f"Judged revision {annotation.judged_revision} with {annotation.rule_pack} (thresholds sha256 "
              f"{annotation.ruleset_sha256[:12]}), {annotation.engine}, at {annotation.evaluated_at}."]
    if annotation.report_file:
        lines.append(f"Full report: {annotation.report_file}.")
    if annotation.supersedes:
        lines.append(f"Supersedes {annotation.supersedes}.")
    return "\n".join(lines)


def session_messages(annotation: Annotation, resource_id: str) -> list[tuple[str, str]]:
    """(style, text) pairs: the verdict first, then one per finding, each within Benchling's limit."""
    counts = annotation.counts
    head = (f"{{id:{resource_id}}} {HEADLINE.get(annotation.verdict, annotation.verdict)} "
            f"({counts.get('fail', 0)} fail, {counts.get('warn', 0)} warn)")
    messages = [(STYLE.get(annotation.verdict, "INFO"), head)]
    for finding in annotation.findings[:MAX_MESSAGES - 1]:
        severity = finding.partition(":")[0]
        # braces mark item chips in a message ("{id:...}"); a finding's own braces are escaped
        messages.append((SEVERITY_STYLE.get(severity, "INFO"), finding.replace("{", "\\{").replace("}", "\\}")))
    return [(style, _fit(text)) for style, text in messages]


def _fit(text: str) -> str:
    text = " ".join(text.split())
    if len(text) < 3:
        text = f"{text} ."
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"


def session_name(label: str) -> str:
    name = f"MSC QC of {label}"
    return name if len(name) <= 100 else name[:99] + "…"
