"""The QC card's HTML (no Kadi needed): every state says what it means, and every value is escaped."""

from __future__ import annotations

import pytest

from eln_msc_plugin.kadi.overview import STATES, CardView, live_box, render

ANNOTATION = {"verdict": "fail", "judged_revision": 12, "evaluated_at": "2026-01-02T03:04:05+00:00",
              "rule_pack": "msc-default 1.0.0", "ruleset_sha256": "ab" * 32, "engine": "eln-msc-plugin 0.1.0",
              "report_file": "msc-qc-report-r12.json", "findings": ["fail: [passage.window] P7 <script>x</script>"]}


def test_verdict_card_escapes_findings_and_names_what_it_judged() -> None:
    html = render(CardView(ANNOTATION))
    assert 'data-verdict="fail" data-judged-revision="12"' in html and "MSC batch QC: FAIL" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
    assert "Judged revision 12" in html and "thresholds abababababab" in html


@pytest.mark.parametrize(("view", "says", "never"), [
    (CardView(ANNOTATION, "current"), "MSC batch QC: FAIL", "on its way"),
    (CardView(ANNOTATION, "pending"), "a new check is on its way", "MSC batch QC: checking"),
    (CardView({}, "pending"), "MSC batch QC: checking", "Judged revision"),
    (CardView(ANNOTATION, "stale"), "The record has changed since this check.", "on its way"),
    (CardView({}, "unavailable"), "no verdict is shown", "FAIL"),
    (CardView(ANNOTATION, "pending", "changed by Eve (eve) in revision 13"),
     "changed by Eve (eve) in revision 13, not by the QC check", "PASS"),
    (CardView(dict(ANNOTATION, altered="changed by Eve (eve) in revision 13")),
     "put the true verdict back after it was changed by Eve (eve) in revision 13", "not by the QC check"),
], ids=["current", "pending-with-verdict", "pending-first-check", "stale", "unavailable", "altered",
        "restored"])
def test_each_state_says_what_it_means(view: CardView, says: str, never: str) -> None:
    assert view.state in STATES
    html = render(view)
    assert says in html and never not in html


def test_live_box_is_left_alone_by_vue_and_names_its_endpoint() -> None:
    html = live_box(CardView(ANNOTATION, "pending"), '/eln-msc/records/5/qc?"x"')
    assert html.startswith('<div class="eln-msc-qc-live" v-pre data-state="pending" '
                           'data-endpoint="/eln-msc/records/5/qc?&quot;x&quot;">')
