"""Every hook is documented with its real signature, and each one is exercised by a test plugin."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pluggy
import pytest

from eln_msc_plugin import hookspecs
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import Document, Finding, Report
from eln_msc_plugin.pipeline import Engine
from eln_msc_plugin.rules import rule
from tests.support.records import as_json, record

DOCS = Path(__file__).resolve().parent.parent / "docs" / "hooks.md"
HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("eln_msc_")]


def test_hook_set_is_not_empty() -> None:
    assert set(HOOKS) >= {"eln_msc_parse_document", "eln_msc_register_rules", "eln_msc_adjust_findings",
                          "eln_msc_report_finished", "eln_msc_register_adapters"}


@pytest.mark.parametrize("name", HOOKS, ids=HOOKS)
def test_hook_documented_with_its_signature(name: str) -> None:
    signature = str(inspect.signature(getattr(hookspecs, name))).replace("'", "")
    text = DOCS.read_text(encoding="utf-8")
    assert f"## {name}\n" in text
    assert f"{name}{signature}" in text


@pytest.mark.parametrize("name", HOOKS, ids=HOOKS)
def test_hook_has_docstring_with_params(name: str) -> None:
    function = getattr(hookspecs, name)
    doc = inspect.getdoc(function) or ""
    for param in inspect.signature(function).parameters:
        assert f":param {param}:" in doc


def test_firstresult_hooks_say_so() -> None:
    for name in HOOKS:
        opts = getattr(hookspecs, name).eln_msc_plugin_spec
        if opts.get("firstresult"):
            assert "firstresult" in (getattr(hookspecs, name).__doc__ or "")


def test_parse_hook_a_custom_parser_is_asked_first(pm: pluggy.PluginManager) -> None:
    class CsvLike:
        @hookimpl
        def eln_msc_parse_document(self, document: Document) -> Any:
            if document.media_type != "text/x-lot":
                return None
            from eln_msc_plugin.model import BatchRecord

            return iter([BatchRecord(record(lot_id=document.head.decode()), document.source, 0, "text/x-lot")])

    pm.register(CsvLike())
    reports = Engine(pm).reports_for(b"LOT-FROM-CSV", "text/x-lot", "lot.txt")
    [report] = list(reports)
    assert report.verdict != "error" and report.source == "lot.txt"
    # the built-in JSON parser still answers for JSON
    [json_report] = list(Engine(pm).reports_for(as_json(record()), None, "r.json"))
    assert json_report.record_id == "EXP-2026-0142"


def test_register_rules_and_report_finished_hooks(pm: pluggy.PluginManager) -> None:
    seen: list[Report] = []

    @rule("test.lot-prefix", summary="lot ids start with MSC-", severities=("warn",))
    def lot_prefix(ctx: Any) -> Any:
        if not str(ctx.data.get("lot_id", "")).startswith("MSC-"):
            yield ctx.finding("warn", "/lot_id", "lot id should start with MSC-", ctx.data.get("lot_id"), "MSC-…")

    class Plugin:
        @hookimpl
        def eln_msc_register_rules(self, register: Any) -> None:
            register(lot_prefix)

        @hookimpl
        def eln_msc_report_finished(self, report: Report) -> None:
            seen.append(report)

    pm.register(Plugin())
    engine = Engine(pm)
    assert "test.lot-prefix" in [r.id for r in engine.ruleset.rules]
    [report] = engine.reports_for(as_json(record(lot_id="X-1")), None, "r.json")
    assert [f.rule for f in report.findings if f.severity == "warn"] == ["test.lot-prefix"]
    assert seen == [report]


def test_adjust_findings_hook_can_waive(pm: pluggy.PluginManager) -> None:
    class Waiver:
        @hookimpl
        def eln_msc_adjust_findings(self, record: Any, findings: list[Finding], ruleset: Any) -> None:
            for finding in findings:
                finding.severity = "info"

    pm.register(Waiver())
    [report] = Engine(pm).reports_for(as_json(record(production_passage="four")), None, "r.json")
    assert report.findings and all(f.severity == "info" for f in report.findings)
    assert report.verdict == "pass"


def test_register_adapters_hook(pm: pluggy.PluginManager) -> None:
    from eln_msc_plugin.eln.registry import adapter_specs
    from eln_msc_plugin.eln.spec import AdapterSpec

    class Plugin:
        @hookimpl
        def eln_msc_register_adapters(self, register: Any) -> None:
            register(AdapterSpec("toy", "Toy ELN", create=lambda config: None))

    pm.register(Plugin())
    assert adapter_specs(pm)["toy"].title == "Toy ELN"
