"""The plugin manager: built-ins, rule registration checks, and a real entry-point plugin."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pluggy
import pytest

from eln_msc_plugin import pipeline
from eln_msc_plugin.errors import ConfigError
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.plugins import DEFAULT_PLUGINS, collect_rules, get_plugin_manager
from eln_msc_plugin.rules import Rule, rule, same_for
from tests.support.records import as_json, record


def _noop(ctx: Any) -> Any:
    return iter(())


def _plugin_registering(*rules: Any) -> Any:
    class Plugin:
        @hookimpl
        def eln_msc_register_rules(self, register: Any) -> None:
            for r in rules:
                register(r)

    return Plugin()


def test_default_plugins_are_registered(pm: pluggy.PluginManager) -> None:
    names = {pm.get_name(p) for p in pm.get_plugins()}
    assert set(DEFAULT_PLUGINS) <= names
    assert "schema" in [r.id for r in collect_rules(pm)]


def test_document_rules_come_first(pm: pluggy.PluginManager) -> None:
    pm.register(_plugin_registering(Rule("x.document", "s", _noop, ("warn",), same_for(), scope="document")))
    scopes = [r.scope for r in collect_rules(pm)]
    assert scopes[:2] == ["document", "document"] and set(scopes[2:]) == {"record"}


@pytest.mark.parametrize(
    "bad, message",
    [
        (Rule("", "s", _noop, ("warn",), {}), "not of the form"),
        (Rule("Upper.Case", "s", _noop, ("warn",), {}), "not of the form"),
        (Rule("schema", "s", _noop, ("warn",), {}), "registered twice"),
        (Rule("x.bad-severity", "s", _noop, ("critical",), {}), "severities"),
        (Rule("x.bad-threshold", "s", _noop, ("warn",), same_for(limit="ten")), "not a number"),
        (Rule("x.nan-threshold", "s", _noop, ("warn",), same_for(limit=float("nan"))), "nan is not a finite number"),
        (Rule("x.inf-threshold", "s", _noop, ("warn",), same_for(limit=float("inf"))), "inf is not a finite number"),
        (Rule("x.huge-threshold", "s", _noop, ("warn",), same_for(limit=10**400)), "400 digits is not a finite"),
        (Rule("x.bad-use", "s", _noop, ("warn",), {"clinical": {}}), "unknown intended use"),
        (Rule("x.bad-scope", "s", _noop, ("warn",), {}, scope="file"), "scope"),
        ("not a rule", "takes a Rule"),
    ],
    ids=["empty-id", "upper-case-id", "duplicate-id", "unknown-severity", "text-threshold", "nan-threshold",
         "inf-threshold", "huge-int-threshold", "unknown-use", "unknown-scope", "not-a-rule"],
)
def test_bad_rule_fails_at_registration(pm: pluggy.PluginManager, bad: Any, message: str) -> None:
    pm.register(_plugin_registering(bad))
    with pytest.raises(ConfigError, match=message):
        collect_rules(pm)


def test_misspelled_hook_fails_loudly() -> None:
    class Typo:
        @hookimpl
        def eln_msc_register_rule(self, register: Any) -> None:  # missing "s"
            pass

    with pytest.raises(ConfigError, match="eln_msc_register_rule"):
        get_plugin_manager(load_entry_points=False, extra=(Typo(),))


def test_third_party_plugin_loads_from_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real distribution on sys.path with an `eln_msc_plugin` entry point adds a rule to every run."""
    (tmp_path / "acme_rules.py").write_text(textwrap.dedent('''
        from eln_msc_plugin.hookspecs import hookimpl
        from eln_msc_plugin.rules import rule, same_for

        @rule("acme.donor-age", summary="donor age at most the limit", severities=("warn",),
              thresholds=same_for(warn_above=60))
        def donor_age(ctx):
            age = ctx.data.get("donor_age_years")
            if isinstance(age, int) and age > ctx.t["warn_above"]:
                yield ctx.finding("warn", "/donor_age_years", f"donor age {age} above {ctx.t['warn_above']}", age)

        @hookimpl
        def eln_msc_register_rules(register):
            register(donor_age)
    '''))
    dist = tmp_path / "acme_rules-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-rules\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[eln_msc_plugin]\nacme = acme_rules\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "acme_rules", raising=False)

    engine = pipeline.Engine(get_plugin_manager())
    assert "acme.donor-age" in [r.id for r in engine.ruleset.rules]
    [report] = engine.reports_for(as_json(record(donor_age_years=71)), None, "r.json")
    assert any(f.rule == "acme.donor-age" and f.observed == 71 for f in report.findings)


def test_broken_entry_point_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "broken-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[eln_msc_plugin]\nbroken = no_such_module_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="failed to load"):
        get_plugin_manager()


def test_rule_crash_becomes_a_finding_not_a_traceback(pm: pluggy.PluginManager) -> None:
    @rule("test.crashes", summary="always crashes", severities=("fail",))
    def crashes(ctx: Any) -> Any:
        raise ZeroDivisionError("boom")
        yield  # pragma: no cover

    pm.register(_plugin_registering(crashes))
    [report] = pipeline.Engine(pm).reports_for(as_json(record()), None, "r.json")
    assert report.verdict == "fail"
    assert any(f.rule == "test.crashes" and "ZeroDivisionError" in f.message for f in report.findings)
