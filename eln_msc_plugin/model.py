"""The values every part of the plugin passes around: records, findings, reports.

A problem in a record is a `Finding`, never an exception; a document that cannot be read at all
becomes an `Unreadable` carrying the findings that say why.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from eln_msc_plugin import limits

# The one vocabulary of severities and verdicts: every host ranks, counts and shows findings with these.
Severity = Literal["fail", "warn", "info"]
Verdict = Literal["pass", "warn", "fail", "error"]

SEVERITIES: tuple[Severity, ...] = ("fail", "warn", "info")  # most severe first
VERDICTS: tuple[Verdict, ...] = ("pass", "warn", "fail", "error")  # best first
SEVERITY_RANK: dict[str, int] = {"info": 0, "warn": 1, "fail": 2}
VERDICT_RANK: dict[str, int] = {"pass": 0, "warn": 1, "fail": 2, "error": 3}
_BY_RANK: dict[int, Severity] = {SEVERITY_RANK[s]: s for s in SEVERITIES}
# One wording for a document with nothing in it, whatever its format or where it came from.
EMPTY_DOCUMENT = "the document is empty: it holds no batch record"


@dataclass(slots=True)
class Finding:
    """One problem (or note) about one place in a record."""

    rule: str
    severity: str
    path: str
    message: str
    observed: Any = None
    expected: Any = None
    line: int | None = None
    folded: int = 0  # findings alike but for their place, left out of the report after this one

    def __post_init__(self) -> None:
        # every message and quoted value is bounded where it is made, whoever makes it
        limit = limits.MAX_MESSAGE_CHARS
        if len(self.message) > limit:
            self.message = f"{self.message[:limit]}… (cut at {limit:,} characters)"
        if type(self.observed) is str and len(self.observed) > limits.MAX_QUOTED_CHARS:
            self.observed = f"{self.observed[:limits.MAX_QUOTED_CHARS]}… ({len(self.observed):,} characters)"

    def as_dict(self) -> dict[str, Any]:
        found = {
            "rule": self.rule,
            "severity": self.severity,
            "path": self.path,
            "line": self.line,
            "message": self.message,
            "observed": self.observed,
            "expected": self.expected,
        }
        if self.folded:
            found["folded"] = self.folded
        return found


@dataclass(slots=True)
class BatchRecord:
    """A batch record in canonical form (the JSON shape of the v1 spec, counts in cells).

    `units` maps the JSON Pointer of each count that carried a unit to the unit as written;
    `lines` maps JSON Pointers to source lines where the format knows them (XML);
    `read_findings` are problems noticed while reading that did not stop the reading.
    """

    data: Any
    source: str
    index: int
    media_type: str
    units: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] | None = None
    read_findings: list[Finding] = field(default_factory=list)
    line: int | None = None

    @property
    def record_id(self) -> str | None:
        value = self.data.get("record_id") if isinstance(self.data, dict) else None
        return value if isinstance(value, str) else None

    @property
    def lot_id(self) -> str | None:
        value = self.data.get("lot_id") if isinstance(self.data, dict) else None
        return value if isinstance(value, str) else None

    @property
    def revision(self) -> str | None:
        value = self.data.get("revision") if isinstance(self.data, dict) else None
        return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None

    def line_of(self, path: str) -> int | None:
        """The source line of `path`, or of its nearest ancestor that has one."""
        if not self.lines:
            return self.line
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path.rpartition("/")[0]
        return self.lines.get("", self.line)


@dataclass(slots=True)
class Unreadable:
    """A record (or the rest of a document) that could not be read; its report's verdict is `error`."""

    source: str
    index: int
    findings: list[Finding]
    media_type: str = "application/octet-stream"
    record_id: str | None = None
    revision: str | None = None


@dataclass(slots=True)
class Report:
    """The judgement of one record."""

    source: str
    index: int
    record_id: str | None
    revision: str | None
    verdict: str
    metrics: dict[str, Any]
    findings: list[Finding]
    ruleset_name: str
    ruleset_version: str
    ruleset_sha256: str
    lot_id: str | None = None  # for reports that group by lot; not part of the JSON record shape

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "index": self.index,
            "record_id": self.record_id,
            "revision": self.revision,
            "verdict": self.verdict,
            "metrics": self.metrics,
            "findings": [f.as_dict() for f in self.findings],
        }


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    """`fail` if any finding fails, else `warn` if any warns, else `pass`."""
    worst = 0
    for finding in findings:
        rank = SEVERITY_RANK.get(finding.severity, 0)
        if rank > worst:
            worst = rank
            if worst == 2:
                break
    return VERDICTS[worst]


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then in record order."""
    return sorted(findings, key=lambda f: -SEVERITY_RANK.get(f.severity, 0))


def worst_verdict(verdicts: Iterable[str]) -> Verdict:
    """The worst of `verdicts` (`error`, then `fail`, `warn`, `pass`); `pass` when there are none."""
    worst = max((VERDICT_RANK[v] for v in verdicts), default=0)
    return VERDICTS[worst]


def worst_severity(severities: Iterable[str]) -> Severity | None:
    """The most severe of `severities` (`fail`, then `warn`, `info`), or `None` when there are none."""
    worst = max((SEVERITY_RANK[s] for s in severities), default=None)
    return None if worst is None else _BY_RANK[worst]


def verdict_counts(verdicts: Iterable[str]) -> dict[Verdict, int]:
    """How many of each verdict (every verdict present, best first)."""
    counts: dict[Verdict, int] = {v: 0 for v in VERDICTS}
    for verdict in verdicts:
        counts[verdict] += 1  # type: ignore[index]
    return counts


def severity_counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    """How many findings there are of each severity (every severity present, most severe first)."""
    counts: dict[Severity, int] = {s: 0 for s in SEVERITIES}
    for finding in findings:
        counts[finding.severity] += 1  # type: ignore[index]
    return counts


def shown_findings(report: Report) -> list[Finding]:
    """The findings a person is shown first: those that warn or fail (most severe first, as in the report);
    for a record that could not be read (verdict `error`), every finding, since they say why."""
    shown = [f for f in report.findings if f.severity != "info"]
    if not shown and report.verdict == "error":
        return list(report.findings)
    return shown


HEAD_SIZE = 4096

Payload = bytes | str | IO[bytes] | dict | list


@dataclass
class Document:
    """Something handed to the parsers: bytes or a byte stream, or an already decoded object.

    `head` holds the first bytes (for sniffing) and `stream` the whole content including them.
    """

    source: str
    media_type: str | None = None
    stream: IO[bytes] | None = None
    payload: Any = None
    head: bytes = b""

    @classmethod
    def from_payload(cls, payload: Any, media_type: str | None, source: str) -> Document:
        if isinstance(payload, str):
            # a lone surrogate stays in, as bytes that are not UTF-8: the parser refuses it where it is
            payload = payload.encode("utf-8", "surrogatepass")
        if isinstance(payload, (bytes, bytearray, memoryview)):
            data = bytes(payload)
            return cls(source, media_type, stream=io.BytesIO(data), head=data[:HEAD_SIZE])
        if hasattr(payload, "read"):
            if _is_text(payload):
                payload = _TextAsBytes(payload)
            stream = payload if hasattr(payload, "peek") else io.BufferedReader(payload)
            try:
                head = stream.peek(HEAD_SIZE)[:HEAD_SIZE]
            except (OSError, ValueError):  # the parser reading it says so (a closed or broken stream)
                head = b""
            return cls(source, media_type, stream=stream, head=head)
        return cls(source=source, media_type=media_type, payload=payload)


def _is_text(stream: Any) -> bool:
    if isinstance(stream, io.TextIOBase):
        return True
    try:
        return isinstance(stream.read(0), str)
    except (OSError, ValueError):
        return False


class _TextAsBytes(io.RawIOBase):
    """A text stream read as the UTF-8 bytes of its text (a lone surrogate kept, as bytes that are not UTF-8)."""

    def __init__(self, text: IO[str]) -> None:
        super().__init__()
        self.text = text
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            chunk = self.text.read(1 << 16)
            if not chunk:
                return 0
            self.pending = chunk.encode("utf-8", "surrogatepass")
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size
