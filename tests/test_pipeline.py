"""The engine's reports equal those of a plain rule-by-rule evaluation, on thousands of mixed records.

`Engine.evaluate` looks its rules up once per intended use (and per "is a record") and skips empty
results; the rule pack shares derived data and the schema rule answers most records with the compiled
check. The reference below runs every rule as the rule set describes it, one after the other, and the
report dicts must be identical.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pluggy
import pytest

from eln_msc_plugin.formats.common import JSONL
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import BatchRecord, Document, Report, sort_findings, verdict_of
from eln_msc_plugin.pipeline import Engine
from eln_msc_plugin.plugins import default_ruleset
from eln_msc_plugin.rules import RuleContext, rule
from tests.support.mixed import mixed
from tests.support.records import as_json, record, set_path
from tests.support.xmlgen import many_to_xml


def reference_evaluate(engine: Engine, record: BatchRecord) -> Report:
    """Every rule in force, in order, with the thresholds the rule set gives for the record's use."""
    ruleset = engine.ruleset
    use, is_record = ruleset.triage(record.data)
    ctx = RuleContext(record, use, ruleset)
    ctx.metrics = ruleset.metrics(ctx)
    findings = list(record.read_findings)
    for one in ruleset.rules:
        thresholds = ruleset.thresholds_for(one.id, ctx.use)
        if one.id in ruleset.disabled or thresholds is None or not (is_record or one.scope == "document"):
            continue
        ctx.t, ctx.rule_id = thresholds, one.id
        findings += list(one.check(ctx))
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


# The pipeline only orchestrates: which specification applies, whether a document is a record, and the metrics
# come from the rule set (the rule pack), not from pipeline.py.
PIPELINE_SOURCE = (Path(__file__).resolve().parent.parent / "eln_msc_plugin" / "pipeline.py").read_text("utf-8")


@pytest.mark.parametrize("word", ["production", "banking", "research", "intended_use", '"schema"', "passage", "pdl"])
def test_the_pipeline_holds_no_domain_knowledge(word: str) -> None:
    assert word not in PIPELINE_SOURCE


def _engine(pm: pluggy.PluginManager, **parts: Any) -> Engine:
    return Engine(pm, dataclasses.replace(default_ruleset(pm), sha256="", **parts))


def _findings(engine: Engine, data: Any) -> list[Any]:
    (report,) = engine.reports_for(json.dumps(data).encode(), None, "t.json")
    return report.findings


def test_the_rule_set_says_which_specification_applies(pm: pluggy.PluginManager) -> None:
    data = record(production_passage=5, intended_use="production")
    assert [f.severity for f in _findings(Engine(pm), data) if f.rule == "passage.window"] == ["fail"]
    research = _engine(pm, triage=lambda d: ("research", True))
    assert [f.severity for f in _findings(research, data) if f.rule == "passage.window"] == ["warn"]


def test_only_document_rules_run_on_what_is_not_a_record(pm: pluggy.PluginManager) -> None:
    engine = _engine(pm, triage=lambda d: ("production", False))
    data = set_path(record(production_passage=9), "/passages/0/viability_percent", 103)
    assert {f.rule for f in _findings(engine, data)} == {"schema"}


def test_metrics_come_from_the_rule_set_and_their_failure_is_a_finding(pm: pluggy.PluginManager) -> None:
    (report,) = _engine(pm, metrics=lambda ctx: {"lots": 1}).reports_for(as_json(record()), None, "t")
    assert report.metrics == {"lots": 1} and report.verdict == "pass"

    def broken(ctx: Any) -> dict[str, Any]:
        raise KeyError("lot")

    (report,) = _engine(pm, metrics=broken).reports_for(as_json(record()), None, "t")
    assert report.verdict == "fail" and report.metrics == {}
    assert [(f.rule, f.message) for f in report.findings] == [
        ("metrics", "the report metrics could not be computed: KeyError: 'lot'")]


def test_a_crash_that_the_document_rules_explain_is_not_news(pm: pluggy.PluginManager) -> None:
    @rule("test.crashes", summary="crashes on a number that is not one", severities=("fail",))
    def crashes(ctx: Any) -> Any:
        return [ctx.finding("warn", "", "fine")] if ctx.data["production_passage"] + 1 else []

    pm.register(_Plugin(crashes))
    engine = Engine(pm)
    bad = _findings(engine, record(production_passage="four"))
    assert "schema" in {f.rule for f in bad} and not [f for f in bad if "could not run" in f.message]
    crashed = _findings(engine, record(production_passage=None) | {"production_passage": [4]})
    assert not [f for f in crashed if "could not run" in f.message]
    (report,) = engine.reports_for(as_json(record()), None, "t")
    assert [f.message for f in report.findings if f.rule == "test.crashes"] == ["fine"]


class _Plugin:
    def __init__(self, *rules: Any) -> None:
        self.rules = rules

    @hookimpl
    def eln_msc_register_rules(self, register: Any) -> None:
        for r in self.rules:
            register(r)
