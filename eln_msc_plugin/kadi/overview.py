"""The verdict and findings in plain words, for the record's overview page in Kadi4Mat."""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = {"pass": "success", "warn": "warning", "fail": "danger", "error": "secondary"}
_SAYS = {
    "pass": "meets the specification",
    "warn": "meets the specification, with points to look at",
    "fail": "does not meet the specification",
    "error": "could not be checked",
}


def render(annotation: dict[str, Any], current_revision: int | None = None) -> str:
    """HTML for one `msc_qc` annotation (every value escaped)."""
    verdict = str(annotation.get("verdict", "error"))
    findings = annotation.get("findings") or []
    items = "".join(f"<li>{escape(str(text))}</li>" for text in findings)
    stale = ""
    if current_revision is not None and annotation.get("judged_revision") not in (None, current_revision):
        stale = ('<p class="text-muted mb-1"><em>The record has changed since this check; '
                 "a new check is on its way.</em></p>")
    return (
        f'<div class="card mt-3 eln-msc-qc" data-verdict="{escape(verdict)}">'
        f'<div class="card-header bg-{_STYLE.get(verdict, "secondary")} text-white">'
        f"<strong>MSC batch QC: {escape(verdict.upper())}</strong> — this batch record {_SAYS.get(verdict, '')}"
        f"</div><div class=\"card-body\">{stale}"
        + (f"<ul class=\"mb-2\">{items}</ul>" if items else "<p class=\"mb-2\">No findings.</p>")
        + '<p class="small text-muted mb-0">'
        f"Judged revision {escape(str(annotation.get('judged_revision')))} at "
        f"{escape(str(annotation.get('evaluated_at')))} with rule pack {escape(str(annotation.get('rule_pack')))} "
        f"(thresholds {escape(str(annotation.get('ruleset_sha256', ''))[:12])}), "
        f"{escape(str(annotation.get('engine')))}. Full report: {escape(str(annotation.get('report_file')))}."
        "</p></div></div>"
    )
