"""The pipeline: read → parse → rules → adjust findings → report. It only orchestrates.

Every host (command line, Kadi4Mat plugin, backfill) calls `validate_document` / `iter_reports`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pluggy

from eln_msc_plugin.model import BatchRecord, Document, Finding, Report, Unreadable, sort_findings, verdict_of
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
        items = self.pm.hook.eln_msc_parse_document(document=document)
        if items is None:
            finding = Finding("read", "fail", "", "the document is neither batch-record JSON nor XML "
                              f"(media type {document.media_type or 'unknown'}, first bytes {document.head[:16]!r})")
            return iter([Unreadable(document.source, 0, [finding])])
        return items  # type: ignore[no-any-return,unused-ignore]

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
                                    f"{type(error).__name__}: {error}"))
        for rule_id, check, thresholds in plan:
            ctx.t = thresholds
            ctx.rule_id = rule_id
            try:
                found = check(ctx)
                if found:  # most rules find nothing and return an empty sequence
                    findings.extend(found)
            except Exception as error:  # a rule must not end the run
                if not self._explained(findings):
                    message = f"rule {rule_id} could not run: {type(error).__name__}: {error}"
                    findings.append(ctx.finding("fail", "", message))
        if findings and self._adjust.get_hookimpls():
            self._adjust(record=record, findings=findings, ruleset=self.ruleset)
        return self._report(record.source, record.index, record.record_id, record.revision,
                            verdict_of(findings), ctx.metrics, sort_findings(findings) if findings else findings,
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
