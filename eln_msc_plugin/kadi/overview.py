"""The verdict and findings in plain words, for the record's overview page in Kadi4Mat.

The card only ever shows an annotation the plugin wrote itself (the caller finds it in the record's
revisions); when the verdict on the record was changed by someone else, the card says so. The card sits in
a box that the page script (static/eln-msc-live.js) refreshes while a check is on its way. The box is
`v-pre`: Kadi mounts the page as a Vue template, and a finding that quotes a record value such as `{$ … $}`
must stay text, never become a template expression.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

_STYLE = {"pass": "success", "warn": "warning", "fail": "danger", "error": "secondary"}
_SAYS = {
    "pass": "meets the specification",
    "warn": "meets the specification, with points to look at",
    "fail": "does not meet the specification",
    "error": "could not be checked",
}
STATES = ("current", "pending", "stale", "unavailable")


@dataclass(frozen=True)
class CardView:
    """What the card shows: the plugin's own newest annotation ({} before the first) and how it stands.

    `state`: current (it judges the record as it is now), pending (a check is on its way), stale (the record
    changed, and its type is not checked on save), unavailable (the plugin cannot tell: misconfigured).
    `altered` says who changed the verdict on the record ("changed by … in revision …"), when not the plugin.
    """

    annotation: Mapping[str, Any] = field(default_factory=dict)
    state: str = "current"
    altered: str = ""


def _note(text: str, kind: str = "text-muted") -> str:
    return f'<p class="{kind} mb-1 eln-msc-qc-note"><em>{escape(text)}</em></p>'


def _notes(view: CardView) -> str:
    notes = ""
    if view.altered:
        notes += _note(f"The verdict on this record was {view.altered}, not by the QC check. "
                       "This card shows the check's own verdict.", "text-danger")
    elif view.annotation.get("altered"):
        notes += _note(f"This check put the true verdict back after it was {view.annotation['altered']}.",
                       "text-danger")
    if view.state == "pending" and view.annotation:
        notes += _note("The record has changed since this check; a new check is on its way.")
    elif view.state == "stale" and view.annotation:
        notes += _note("The record has changed since this check.")
    return notes


def _footer(annotation: Mapping[str, Any]) -> str:
    return ('<p class="small text-muted mb-0">'
            f"Judged revision {escape(str(annotation.get('judged_revision')))} at "
            f"{escape(str(annotation.get('evaluated_at')))} with rule pack {escape(str(annotation.get('rule_pack')))} "
            f"(thresholds {escape(str(annotation.get('ruleset_sha256', ''))[:12])}), "
            f"{escape(str(annotation.get('engine')))}. Full report: {escape(str(annotation.get('report_file')))}.</p>")


def _waiting(view: CardView) -> str:
    """The card before the plugin's first verdict (or when the plugin cannot say which one is its own)."""
    if view.state == "unavailable":
        header, body = "MSC batch QC: unavailable", (
            "The QC plugin cannot tell which verdict it wrote (its configuration or service token could not be "
            "read), so no verdict is shown. Ask your Kadi admin to run eln-msc doctor.")
    elif view.state == "stale":
        header, body = "MSC batch QC: no verdict", "No verdict of the QC check is on this record."
    else:
        header, body = "MSC batch QC: checking", "A check of this batch record is on its way."
    return ('<div class="card mt-3 eln-msc-qc" data-verdict="none" data-judged-revision="">'
            f'<div class="card-header bg-info text-white"><strong>{escape(header)}</strong></div>'
            f'<div class="card-body">{_notes(view)}<p class="mb-0">{escape(body)}</p></div></div>')


def render(view: CardView) -> str:
    """HTML of the card (every value escaped)."""
    annotation = view.annotation
    if not annotation:
        return _waiting(view)
    verdict = str(annotation.get("verdict", "error"))
    findings = annotation.get("findings") or []
    items = "".join(f"<li>{escape(str(text))}</li>" for text in findings)
    return (
        f'<div class="card mt-3 eln-msc-qc" data-verdict="{escape(verdict)}" '
        f'data-judged-revision="{escape(str(annotation.get("judged_revision")))}">'
        f'<div class="card-header bg-{_STYLE.get(verdict, "secondary")} text-white">'
        f"<strong>MSC batch QC: {escape(verdict.upper())}</strong> — this batch record {_SAYS.get(verdict, '')}"
        f'</div><div class="card-body">{_notes(view)}'
        + (f'<ul class="mb-2">{items}</ul>' if items else '<p class="mb-2">No findings.</p>')
        + _footer(annotation) + "</div></div>"
    )


def live_box(view: CardView, endpoint: str) -> str:
    """The card inside the box the page script keeps current (it polls `endpoint` while pending)."""
    return (f'<div class="eln-msc-qc-live" v-pre data-state="{escape(view.state)}" '
            f'data-endpoint="{escape(endpoint)}">{render(view)}</div>')
