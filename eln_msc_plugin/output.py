"""Report writers for the command line: text for people, one JSON document, JUnit XML for CI."""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from eln_msc_plugin import __version__
from eln_msc_plugin.display import bounded, printable, quoted
from eln_msc_plugin.limits import MAX_QUOTED_CHARS
from eln_msc_plugin.model import VERDICTS, Finding, Report, shown_findings
from eln_msc_plugin.rules import RuleSet

TOOL = {"name": "eln-msc-plugin", "version": __version__}
_COLOURS = {"pass": "32", "warn": "33", "fail": "31", "error": "35"}
MAX_FINDINGS_SHOWN = 3
SPOOL_IN_MEMORY = 8 << 20  # JUnit cases kept in memory up to this many characters, then in a file


def _encoder() -> Callable[[Any], str]:
    """One encoder for every report (`json.dumps` with an argument builds a new one per call), strict: no NaN.
    Where the C encoder is there it is called directly: `JSONEncoder.encode` builds one per call as well."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(default=str, check_circular=False, allow_nan=False).encode
    encode = make(None, str, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, False)
    return lambda value: "".join(encode(value, 0))


_encode = _encoder()
_SURROGATE = re.compile("[\ud800-\udfff]")
# A lone surrogate as the encoder escapes it: a high one without a low one after it, or a low one alone.
_LONE_SURROGATE = re.compile(r"\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}")


def strict_json(value: Any, **options: Any) -> str:
    """`value` as strict JSON (RFC 8259 and I-JSON): no NaN or Infinity (a count of 5e-324 makes an infinite
    doubling), no lone surrogate, no integer of thousands of digits; such values are written as text."""
    try:
        text = json.dumps(value, allow_nan=False, default=str, **options) if options else _encode(value)
    except ValueError:
        return json.dumps(_plain(value), allow_nan=False, default=str, **options)
    if "\\ud" in text and _LONE_SURROGATE.search(text):
        return json.dumps(_plain(value), allow_nan=False, default=str, **options)
    return text


def _plain(value: Any) -> Any:
    """`value` with what strict JSON cannot hold written as text: `inf`, `nan`, a surrogate as `\\ud800`."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 13_000:  # ~4,000 digits
        return quoted(value)
    if isinstance(value, str):
        return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    if isinstance(value, dict):
        return {_plain(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def use_colour(stream: IO[str]) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


class Writer:
    """Receives reports one at a time and closes with a summary; returns the count per verdict.

    `render` turns one report into its text; `emit` writes rendered reports (one, or a block of them joined
    by `separator`, rendered in another process), so the output is the same however the work was shared.
    """

    separator = ""  # written between two rendered reports

    def __init__(self, out: IO[str], ruleset: RuleSet, *, colour: bool | None = None) -> None:
        self.out = out
        self.ruleset = ruleset
        self.counts: Counter[str] = Counter({v: 0 for v in VERDICTS})
        self.colour = use_colour(out) if colour is None else colour

    def write_all(self, reports: Iterable[Report]) -> Counter[str]:
        self.open()
        for report in reports:
            self.write(report)
        self.close()
        return self.counts

    def open(self) -> None:
        """Write what comes before the first report."""

    def write(self, report: Report) -> None:
        self.counts[report.verdict] += 1
        self.emit(self.render(report))

    def add(self, block: str, counts: Mapping[str, int], reports: int = 0) -> None:
        """Reports rendered elsewhere: their texts joined by `separator`, and their count per verdict."""
        self.counts.update(counts)
        if block:
            self.emit(block)

    def render(self, report: Report) -> str:
        raise NotImplementedError

    def emit(self, block: str) -> None:
        self.out.write(block)

    def close(self) -> None:
        raise NotImplementedError


class TextWriter(Writer):
    def paint(self, verdict: str, text: str) -> str:
        return f"\033[{_COLOURS[verdict]}m{text}\033[0m" if self.colour else text

    def render(self, report: Report) -> str:
        # every text from the record or the file system goes through `printable`: no escape sequence, no forged line
        label = self.paint(report.verdict, f"{report.verdict.upper():5}")
        name = _shown(report.record_id) if report.record_id else "(no record id)"
        revision = f" rev {_shown(report.revision)}" if report.revision else ""
        lines = [f"{label} {printable(report.source)}#{report.index}  {name}{revision}\n"]
        shown = shown_findings(report)
        for finding in shown[:MAX_FINDINGS_SHOWN]:
            lines.append(f"      {finding_line(finding, path=False)}\n")
        if len(shown) > MAX_FINDINGS_SHOWN:
            lines.append(f"      … and {len(shown) - MAX_FINDINGS_SHOWN} more (use --format json for all)\n")
        return "".join(lines)

    def close(self) -> None:
        total = sum(self.counts.values())
        parts = ", ".join(self.paint(v, f"{self.counts[v]} {v}") for v in VERDICTS)
        rs = self.ruleset
        self.out.write(f"{total} record{'s' if total != 1 else ''}: {parts}  "
                       f"(rule pack {rs.name} {rs.version}, thresholds {rs.sha256[:12]})\n")


def _shown(text: str) -> str:
    return printable(bounded(text, MAX_QUOTED_CHARS))


class JsonWriter(Writer):
    """Streams exactly one strict JSON document, so memory does not grow with the number of records."""

    separator = ",\n  "

    def open(self) -> None:
        head = {"tool": TOOL, "ruleset": self.ruleset.as_dict()}
        self.out.write(strict_json(head)[:-1] + ', "records": [')
        self.first = True

    def render(self, report: Report) -> str:
        return strict_json(report.as_dict())

    def emit(self, block: str) -> None:
        self.out.write(("\n  " if self.first else ",\n  ") + block)
        self.first = False

    def close(self) -> None:
        self.out.write('\n], "summary": ' + json.dumps(dict(self.counts)) + "}\n")


class JunitWriter(Writer):
    """JUnit XML: one test case per record; fail and error verdicts are failures and errors.

    The suite's counts come first in the document, so the cases wait in a spool file (in memory while
    small) until the last one is judged, rather than in a list that grows with the run.
    """

    def open(self) -> None:
        self.spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close(), after the last case
            max_size=SPOOL_IN_MEMORY, mode="w+", encoding="utf-8",
            newline="")

    def render(self, report: Report) -> str:
        # `printable` first: XML 1.0 cannot hold most control characters, not even escaped
        name = quoteattr(f"{_shown(report.record_id) if report.record_id else '(no record id)'} #{report.index}")
        body = "\n".join(finding_line(f) for f in report.findings)
        case = f'  <testcase classname={quoteattr(printable(report.source))} name={name}>'
        if report.verdict in ("fail", "error"):
            tag = "failure" if report.verdict == "fail" else "error"
            first = next((f.message for f in report.findings if f.severity == "fail"), report.verdict)
            case += f"\n    <{tag} message={quoteattr(printable(first))}>{escape(body)}</{tag}>"
        elif body:
            case += f"\n    <system-out>{escape(body)}</system-out>"
        return case + "\n  </testcase>\n"

    def emit(self, block: str) -> None:
        self.spool.write(block)

    def close(self) -> None:
        c = self.counts
        self.out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        self.out.write(f'<testsuite name="eln-msc" tests="{sum(c.values())}" failures="{c["fail"]}" '
                       f'errors="{c["error"]}" skipped="0">\n')
        rs = self.ruleset
        self.out.write(f'  <properties><property name="ruleset" value={quoteattr(f"{rs.name} {rs.version}")}/>'
                       f'<property name="ruleset_sha256" value="{rs.sha256}"/></properties>\n')
        with self.spool:
            self.spool.seek(0)
            shutil.copyfileobj(self.spool, self.out)
        self.out.write("</testsuite>\n")


def finding_line(finding: Finding, path: bool = True) -> str:
    """`severity: [rule] path: message (line N) (and K more like it)`, printable; the path is left out when the
    message already begins with it (schema messages name their place), when the finding is about the whole
    record, and when `path` is false."""
    where = f"{finding.path}: " if path and finding.path and not finding.message.startswith(finding.path) else ""
    line = f" (line {finding.line})" if finding.line else ""
    folded = f" (and {finding.folded:,} more like it)" if finding.folded else ""
    return printable(f"{finding.severity}: [{finding.rule}] {where}{finding.message}{line}{folded}")


WRITERS: dict[str, type[Writer]] = {"text": TextWriter, "json": JsonWriter, "junit": JunitWriter}


class Blocks:
    """Reports rendered as the writer of `format` renders them, in blocks joined by its separator: what a
    worker process sends back to the writer (`Writer.add`)."""

    def __init__(self, ruleset: RuleSet, format: str, colour: bool) -> None:
        writer = WRITERS[format](io.StringIO(), ruleset, colour=colour)
        self.render, self.separator = writer.render, writer.separator

    def block(self, reports: list[Report]) -> str:
        return self.separator.join([self.render(report) for report in reports])

    def join(self, payloads: list[str]) -> str:
        return self.separator.join(payloads)


def report_json(report: Report, ruleset: RuleSet) -> dict[str, Any]:
    """One report as a stand-alone JSON document (the shape `--format json` uses for each record)."""
    return {"tool": TOOL, "ruleset": ruleset.as_dict(), **report.as_dict()}
