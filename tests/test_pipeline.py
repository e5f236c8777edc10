"""The engine's reports equal those of a plain rule-by-rule evaluation, on thousands of mixed records.

`Engine.evaluate` looks its rules up once per intended use (and per "is a record") and skips empty
results; the rule pack shares derived data and the schema rule answers most records with the compiled
check. The reference below runs every rule as the rule set describes it, one after the other, and the
report dicts must be identical.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from eln_msc_plugin.formats.common import JSONL
from eln_msc_plugin.model import BatchRecord, Document, Report, sort_findings, verdict_of
from eln_msc_plugin.pipeline import Engine
from eln_msc_plugin.rules import RuleContext
from tests.support.mixed import mixed
from tests.support.xmlgen import many_to_xml


def reference_evaluate(engine: Engine, record: BatchRecord) -> Report:
    """Every rule in force, in order, with the thresholds the rule set gives for the record's use."""
    ruleset = engine.ruleset
    use, is_record = ruleset.triage(record.data)
    ctx = RuleContext(record, use, ruleset)
    ctx.metrics = ruleset.metrics(ctx)
    findings = list(record.read_findings)
    for rule in ruleset.rules:
        thresholds = ruleset.thresholds_for(rule.id, ctx.use)
        if rule.id in ruleset.disabled or thresholds is None or not (is_record or rule.scope == "document"):
            continue
        ctx.t, ctx.rule_id = thresholds, rule.id
        findings += list(rule.check(ctx))
    return Report(record.source, record.index, record.record_id, record.revision, verdict_of(findings), ctx.metrics,
                  sort_findings(findings), ruleset.name, ruleset.version, ruleset.sha256)


def both(engine: Engine, document: Document) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    optimised, reference = [], []
    for item in engine.records(document):
        if not isinstance(item, BatchRecord):
            continue  # not evaluated: its report is the reader's finding
        # the engine first: evaluation must not depend on what ran before on the same record
        optimised.append(engine.evaluate(copy.deepcopy(item)).as_dict())
        reference.append(reference_evaluate(engine, item).as_dict())
    return optimised, reference


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return mixed(3000)


def test_the_mix_has_every_verdict_and_unknown_members(records: list[dict[str, Any]]) -> None:
    engine = Engine()
    verdicts = {r.verdict for r in engine.reports(Document.from_payload(_lines(records), JSONL, "t"))}
    assert verdicts >= {"pass", "warn", "fail"}
    infos = [f for r in engine.reports(Document.from_payload(_lines(records), JSONL, "t")) for f in r.findings
             if f.rule == "schema" and f.severity == "info"]
    assert {f.path for f in infos} >= {"/lab_note", "/passages/0/operator", "/senescence/p16/operator"}


def _lines(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def test_json_lines_reports_equal_the_reference(records: list[dict[str, Any]]) -> None:
    optimised, reference = both(Engine(), Document.from_payload(_lines(records), JSONL, "t"))
    assert len(optimised) > 2900
    for mine, theirs in zip(optimised, reference, strict=True):
        assert mine == theirs, mine["record_id"]


def test_xml_reports_equal_the_reference(records: list[dict[str, Any]]) -> None:
    engine = Engine()
    for start in range(0, 1000, 250):
        document = Document.from_payload(many_to_xml(records[start:start + 250]), "application/xml", "t")
        optimised, reference = both(engine, document)
        assert optimised == reference
