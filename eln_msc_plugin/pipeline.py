"""The pipeline: read → parse → rules → adjust findings → report. It only orchestrates.

Every host (command line, Kadi4Mat plugin, backfill) calls `validate_document` / `iter_reports`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pluggy

from eln_msc_plugin.display import printable
from eln_msc_plugin.folding import fold_findings
from eln_msc_plugin.model import (
    EMPTY_DOCUMENT,
    BatchRecord,
    Document,
    Finding,
    Report,
    Unreadable,
    sort_findings,
    verdict_of,
)
from eln_msc_plugin.plugins import default_ruleset, get_plugin_manager
from eln_msc_plugin.rules import USES, Check, RuleContext, RuleSet

Plan = list[tuple[str, Check, dict[str, Any]]]


class Engine:
    """A plugin manager and the rule set in force; build one per host and reuse it."""

    def __init__(self, pm: pluggy.PluginManager | None = None, ruleset: RuleSet | None = None) -> None:
        self.pm = pm if pm is not None else get_plugin_manager()
        self.ruleset = ruleset if ruleset is not None else default_ruleset(self.pm)
        rules = [r for r in self.ruleset.rules if r.id not in self.ruleset.disabled]
        # per (intended use, is a record), the rules that apply with their thresholds (looked up once, not per record)
        self._plans: dict[tuple[str, bool], Plan] = {
            (use, is_record): [(r.id, r.check, t) for r in rules
                               if (is_record or r.scope == "document")
                               and (t := self.ruleset.thresholds.get(r.id, {}).get(use)) is not None]
            for use in USES for is_record in (True, False)}
        self._document_rules = frozenset(r.id for r in rules if r.scope == "document")
        self._triage = self.ruleset.triage
        self._metrics = self.ruleset.metrics
        self._adjust = self.pm.hook.eln_msc_adjust_findings
        self._observe = self.pm.hook.eln_msc_report_finished

    def records(self, document: Document) -> Iterator[BatchRecord | Unreadable]:
        try:
            items = self.pm.hook.eln_msc_parse_document(document=document)
            message = _not_read(document) if items is None else ""
        except Exception as error:  # a parser that fails before its first record, or a stream that cannot be read
            message = _stopped(0, error)
        if message:
            return iter([Unreadable(document.source, 0, [Finding("read", "fail", "", message)])])
        return _guarded(items, document.source)

    def evaluate(self, record: BatchRecord) -> Report:
        """Run every rule in force on one record and take the verdict; the rule set says which specification
        applies and whether the document is a record at all (if not, only its document rules run)."""
        use, is_record = self._triage(record.data)
        plan = self._plans.get((use, is_record))
        if plan is None:  # a triage that names no known intended use: the first one's specification
            use = USES[0]
            plan = self._plans[(use, is_record)]
        ctx = RuleContext(record, use, self.ruleset)
        findings = list(record.read_findings)
        try:
            ctx.metrics = self._metrics(ctx)
        except Exception as error:  # metrics must not end the run either
            findings.append(Finding("metrics", "fail", "", f"the report metrics could not be computed: "
                                    f"{type(error).__name__}: {printable(str(error))}"))
        crashed: list[Finding] = []
        for rule_id, check, thresholds in plan:
            ctx.t = thresholds
            ctx.rule_id = rule_id
            try:
                found = check(ctx)
                if found:  # most rules find nothing and return an empty sequence
                    findings.extend(found)
            except Exception as error:  # a rule must not end the run
                message = f"rule {rule_id} could not run: {type(error).__name__}: {printable(str(error))}"
                crashed.append(ctx.finding("fail", "", message))
        if crashed and not self._explained(findings):  # asked once every rule ran, whatever their order
            findings += crashed
        if findings and self._adjust.get_hookimpls():
            self._adjust(record=record, findings=findings, ruleset=self.ruleset)
        verdict = verdict_of(findings)  # of every finding, before a long list is folded
        return self._report(record.source, record.index, record.record_id, record.revision,
                            verdict, ctx.metrics, fold_findings(sort_findings(findings)) if findings else findings,
                            record.lot_id)

    def _explained(self, findings: list[Finding]) -> bool:
        """A rule that crashes on a document its document rules already failed is not news: they say why."""
        return any(f.severity == "fail" and f.rule in self._document_rules for f in findings)

    def _report(self, source: str, index: int, record_id: str | None, revision: str | None,
                verdict: str, metrics: dict[str, Any], findings: list[Finding], lot_id: str | None = None) -> Report:
        rs = self.ruleset
        report = Report(source, index, record_id, revision, verdict, metrics, findings, rs.name, rs.version, rs.sha256,
                        lot_id)
        if self._observe.get_hookimpls():
            self._observe(report=report)
        return report

    def reports_for(self, payload: Any, media_type: str | None, source: str) -> Iterator[Report]:
        return self.reports(Document.from_payload(payload, media_type, source))

    def unreadable_report(self, source: str, message: str) -> Report:
        return self._report(source, 0, None, None, "error", {}, [Finding("read", "fail", "", message)])

    def reports(self, document: Document) -> Iterator[Report]:
        return self.judge(self.records(document))

    def judge(self, items: Iterable[BatchRecord | Unreadable]) -> Iterator[Report]:
        """A report for each record read (an unreadable one's verdict is `error`)."""
        for item in items:
            if isinstance(item, Unreadable):
                yield self._report(item.source, item.index, item.record_id, item.revision, "error", {}, item.findings)
            else:
                yield self.evaluate(item)


def _guarded(items: Iterator[BatchRecord | Unreadable], source: str) -> Iterator[BatchRecord | Unreadable]:
    """The parser's records; a parser that fails (a stream that cannot be read, a parser plugin's bug) ends the
    document with an error that says so, and the run goes on with the next document."""
    index = 0
    try:
        for item in items:
            index = item.index + 1
            yield item
    except Exception as error:  # no exception of a parser escapes the public API
        yield Unreadable(source, index, [Finding("read", "fail", "", _stopped(index, error))])


def _stopped(index: int, error: Exception) -> str:
    """Reading stopped after `index` records; the cause in words (an OSError's) or by kind, not its text."""
    cause = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
    return f"reading stopped after {index} record{'s' if index != 1 else ''} ({cause}): the rest was not read"


def _not_read(document: Document) -> str:
    """Why no parser took the document, without showing its content (it may be a token file, not a record)."""
    if document.stream is None:
        return (f"the payload is a {type(document.payload).__name__}, not a batch record: give bytes, text, a "
                f"binary file or a decoded record (a dict with \"format\": \"msc-batch-record\")")
    if _only_blanks(document):
        return EMPTY_DOCUMENT
    given = (document.media_type or "").split(";")[0].strip()
    if given and given.lower() not in ("application/octet-stream", "text/plain"):
        return f"the media type {printable(given)} is not one this plugin reads (JSON, JSON Lines or XML)"
    return "the document is neither batch-record JSON nor XML: it does not start with '{', '[' or '<'"


def _only_blanks(document: Document) -> bool:
    """Whether the document holds nothing but white space (read to its end only while that is so)."""
    assert document.stream is not None
    head = document.head.removeprefix(b"\xef\xbb\xbf")
    if head.strip():
        return False
    while chunk := document.stream.read(1 << 16):
        if chunk.removeprefix(b"\xef\xbb\xbf").strip():
            return False
    return True


def build_engine(policy_path: str | None = None) -> Engine:
    """An engine with installed plugins and, when given, a site policy file applied."""
    pm = get_plugin_manager()
    ruleset = default_ruleset(pm)
    if policy_path:
        from eln_msc_plugin.policy import load_policy, ruleset_with_policy

        ruleset = ruleset_with_policy(ruleset, load_policy(policy_path), pm)
    return Engine(pm, ruleset)


_default: Engine | None = None


def default_engine() -> Engine:
    global _default
    if _default is None:
        _default = Engine()
    return _default


def iter_reports(payload: Any, media_type: str | None = None, *, source: str = "<input>",
                 engine: Engine | None = None) -> Iterator[Report]:
    """Reports for every record in `payload` (bytes, text, a binary file object, or a decoded record), as read."""
    document = Document.from_payload(payload, media_type, source)
    return (engine or default_engine()).reports(document)


def validate_document(payload: Any, media_type: str | None = None, *, source: str = "<input>",
                      engine: Engine | None = None) -> list[Report]:
    """Reports for every record in `payload`; see `iter_reports` for a stream of them."""
    return list(iter_reports(payload, media_type, source=source, engine=engine))
