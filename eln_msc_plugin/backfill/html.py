"""The backfill report as one self-contained HTML page: no scripts, fonts, images or links it must load."""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Any

from eln_msc_plugin.backfill.plots import all_plots
from eln_msc_plugin.backfill.svg import bars

VERDICTS = ("pass", "warn", "fail", "error")
STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1340px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}\
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
.pass{color:#2e7d32}.warn{color:#ef6c00}.fail{color:#c62828}.error{color:#6a1b9a}
.plots{display:flex;flex-wrap:wrap;gap:16px}.title{font-size:14px;font-weight:600}.small{font-size:11px}
svg text{fill:#222;font-family:system-ui,sans-serif}ul{margin:0;padding-left:16px}
"""


def _rule_table(rows: list[dict[str, Any]]) -> str:
    per_rule: dict[str, Counter[str]] = {}
    for row in rows:
        for rule, severity in (row.get("rules") or {}).items():
            per_rule.setdefault(rule, Counter())[severity] += 1
    lines = [f"<tr><td>{escape(rule)}</td><td class='fail'>{c['fail']}</td><td class='warn'>{c['warn']}</td></tr>"
             for rule, c in sorted(per_rule.items(), key=lambda kv: (-kv[1]["fail"], -kv[1]["warn"], kv[0]))]
    head = "<tr><th>rule</th><th>records failing</th><th>records warned</th></tr>"
    return f"<table class='rules'>{head}{''.join(lines)}</table>" if lines else "<p>No rule raised a warning.</p>"


def _record_table(rows: list[dict[str, Any]], css: str) -> str:
    if not rows:
        return "<p>None.</p>"
    out = [f"<table class='{css}'><tr><th>record</th><th>lot</th><th>verdict</th><th>status</th><th>findings</th></tr>"]
    for row in rows:
        link = f"<a href='{escape(str(row.get('url', '')), quote=True)}'>{escape(str(row.get('identifier')))}</a>"
        findings = "".join(f"<li class='{escape(f['severity'])}'>[{escape(f['rule'])}] {escape(f['message'])}</li>"
                           for f in row.get("findings") or [] if f.get("severity") != "info")
        verdict = escape(str(row.get("verdict")))
        out.append(f"<tr><td>{link}</td><td>{escape(str(row.get('lot_id')))}</td><td class='{verdict}'>{verdict}</td>"
                   f"<td>{_status(row)}</td><td><ul>{findings}</ul></td></tr>")
    return "".join(out) + "</table>"


def _status(row: dict[str, Any]) -> str:
    """The status, and for a verdict put back, who had set the one it replaced."""
    altered = f"<br><small>verdict {escape(str(row['altered']))}</small>" if row.get("altered") else ""
    return escape(str(row.get("status"))) + altered


def _failed_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>None: every record was judged.</p>"
    lines = "".join(f"<tr><td>{row['id']}</td><td>{row.get('attempts')}</td>"
                    f"<td>{escape(str(row.get('error')))}</td></tr>"
                    for row in rows)
    return f"<table class='failed'><tr><th>record id</th><th>attempts</th><th>error</th></tr>{lines}</table>"


def _fact(value: Any) -> str:
    """A run fact for people: counts read "5 pass, 2 warn", not as a Python dict."""
    if isinstance(value, dict):
        return ", ".join(f"{n} {k}" for k, n in value.items()) or "none"
    return str(value)


def page(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """The whole report page."""
    judged = [r for r in rows if r.get("status") != "failed" and r.get("verdict")]
    counts = {v: sum(1 for r in judged if r["verdict"] == v) for v in VERDICTS}
    failed = [r for r in rows if r.get("status") == "failed"]
    facts = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(_fact(v))}</td></tr>" for k, v in meta.items())
    return "\n".join([
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>MSC QC backfill report</title><style>{STYLE}</style></head><body>",
        "<h1>MSC batch-record QC: backfill report</h1>",
        f"<table class='meta'>{facts}</table>",
        "<h2>Verdicts</h2>", bars("Records by verdict", counts),
        f"<p class='totals'>{len(rows)} records: " + ", ".join(f"{n} {v}" for v, n in counts.items())
        + f", {len(failed)} could not be judged.</p>",
        "<h2>Findings by rule</h2>", _rule_table(judged),
        "<h2>Plots</h2><p class='legend'>One line (or point) per lot, coloured by verdict: <span class='pass'>pass"
        "</span>, <span class='warn'>warn</span>, <span class='fail'>fail</span>; shaded: the production window "
        "P2–P4.</p><div class='plots'>", *all_plots(judged), "</div>",
        "<h2>Failing records</h2>", _record_table([r for r in judged if r["verdict"] in ("fail", "error")], "failing"),
        "<h2>Records with warnings</h2>", _record_table([r for r in judged if r["verdict"] == "warn"], "warning"),
        "<h2>Records that could not be judged</h2>", _failed_table(failed),
        "</body></html>",
    ])
