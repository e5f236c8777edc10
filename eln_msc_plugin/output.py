"""Report writers for the command line: text for people, one JSON document, JUnit XML for CI."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from eln_msc_plugin import __version__
from eln_msc_plugin.model import VERDICTS, Finding, Report, shown_findings
from eln_msc_plugin.rules import RuleSet

TOOL = {"name": "eln-msc-plugin", "version": __version__}
_COLOURS = {"pass": "32", "warn": "33", "fail": "31", "error": "35"}
MAX_FINDINGS_SHOWN = 3


def use_colour(stream: IO[str]) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


class Writer:
    """Receives reports one at a time and closes with a summary; returns the count per verdict."""

    def __init__(self, out: IO[str], ruleset: RuleSet) -> None:
        self.out = out
        self.ruleset = ruleset
        self.counts: Counter[str] = Counter({v: 0 for v in VERDICTS})

    def write_all(self, reports: Iterable[Report]) -> Counter[str]:
        for report in reports:
            self.counts[report.verdict] += 1
            self.write(report)
        self.close()
        return self.counts

    def write(self, report: Report) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class TextWriter(Writer):
    def __init__(self, out: IO[str], ruleset: RuleSet) -> None:
        super().__init__(out, ruleset)
        self.colour = use_colour(out)

    def paint(self, verdict: str, text: str) -> str:
        return f"\033[{_COLOURS[verdict]}m{text}\033[0m" if self.colour else text

    def write(self, report: Report) -> None:
        label = self.paint(report.verdict, f"{report.verdict.upper():5}")
        name = report.record_id or "(no record id)"
        revision = f" rev {report.revision}" if report.revision else ""
        self.out.write(f"{label} {report.source}#{report.index}  {name}{revision}\n")
        shown = shown_findings(report)
        for finding in shown[:MAX_FINDINGS_SHOWN]:
            where = f" (line {finding.line})" if finding.line else ""
            self.out.write(f"      {finding.severity}: [{finding.rule}] {finding.message}{where}\n")
        if len(shown) > MAX_FINDINGS_SHOWN:
            self.out.write(f"      … and {len(shown) - MAX_FINDINGS_SHOWN} more (use --format json for all)\n")

    def close(self) -> None:
        total = sum(self.counts.values())
        parts = ", ".join(self.paint(v, f"{self.counts[v]} {v}") for v in VERDICTS)
        rs = self.ruleset
        self.out.write(f"{total} record{'s' if total != 1 else ''}: {parts}  "
                       f"(rule pack {rs.name} {rs.version}, thresholds {rs.sha256[:12]})\n")


class JsonWriter(Writer):
    """Streams exactly one JSON document, so memory does not grow with the number of records."""

    def __init__(self, out: IO[str], ruleset: RuleSet) -> None:
        super().__init__(out, ruleset)
        head = {"tool": TOOL, "ruleset": ruleset.as_dict()}
        self.out.write(json.dumps(head)[:-1] + ', "records": [')
        self.first = True

    def write(self, report: Report) -> None:
        self.out.write(("\n  " if self.first else ",\n  ") + json.dumps(report.as_dict(), default=str))
        self.first = False

    def close(self) -> None:
        self.out.write('\n], "summary": ' + json.dumps(dict(self.counts)) + "}\n")


class JunitWriter(Writer):
    """JUnit XML: one test case per record; fail and error verdicts are failures and errors."""

    def __init__(self, out: IO[str], ruleset: RuleSet) -> None:
        super().__init__(out, ruleset)
        self.cases: list[str] = []

    def write(self, report: Report) -> None:
        name = quoteattr(f"{report.record_id or '(no record id)'} #{report.index}")
        body = "\n".join(finding_line(f) for f in report.findings)
        case = f'  <testcase classname={quoteattr(report.source)} name={name}>'
        if report.verdict in ("fail", "error"):
            tag = "failure" if report.verdict == "fail" else "error"
            first = next((f.message for f in report.findings if f.severity == "fail"), report.verdict)
            case += f"\n    <{tag} message={quoteattr(first)}>{escape(body)}</{tag}>"
        elif body:
            case += f"\n    <system-out>{escape(body)}</system-out>"
        self.cases.append(case + "\n  </testcase>")

    def close(self) -> None:
        c = self.counts
        self.out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        self.out.write(f'<testsuite name="eln-msc" tests="{sum(c.values())}" failures="{c["fail"]}" '
                       f'errors="{c["error"]}" skipped="0">\n')
        rs = self.ruleset
        self.out.write(f'  <properties><property name="ruleset" value={quoteattr(f"{rs.name} {rs.version}")}/>'
                       f'<property name="ruleset_sha256" value="{rs.sha256}"/></properties>\n')
        for case in self.cases:
            self.out.write(case + "\n")
        self.out.write("</testsuite>\n")


def finding_line(finding: Finding) -> str:
    """`severity: [rule] path: message (line N)`; the path is left out when the message already begins with it
    (schema messages name their place) and when the finding is about the whole record."""
    where = f"{finding.path}: " if finding.path and not finding.message.startswith(finding.path) else ""
    line = f" (line {finding.line})" if finding.line else ""
    return f"{finding.severity}: [{finding.rule}] {where}{finding.message}{line}"


WRITERS: dict[str, type[Writer]] = {"text": TextWriter, "json": JsonWriter, "junit": JunitWriter}


def report_json(report: Report, ruleset: RuleSet) -> dict[str, Any]:
    """One report as a stand-alone JSON document (the shape `--format json` uses for each record)."""
    return {"tool": TOOL, "ruleset": ruleset.as_dict(), **report.as_dict()}
