"""The plugin manager: built-in plugins, third-party plugins from entry points, and the rule set."""

from __future__ import annotations

import importlib
from typing import Any

import pluggy

from eln_msc_plugin import hookspecs
from eln_msc_plugin.errors import ConfigError
from eln_msc_plugin.rules import Rule, RuleSet, check_rule

ENTRY_POINT_GROUP = "eln_msc_plugin"

# Built-ins are ordinary plugins; a third-party plugin can replace any of them (see docs/hooks.md).
# ELN adapters (Kadi4Mat included) register through the entry-point group, exactly like third-party ones.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "eln_msc_plugin.formats.json_format",
    "eln_msc_plugin.formats.xml_format",
    "eln_msc_plugin.rulepack.schema_rule",
    "eln_msc_plugin.rulepack.passage",
    "eln_msc_plugin.rulepack.pdl",
    "eln_msc_plugin.rulepack.growth",
    "eln_msc_plugin.rulepack.chronology",
    "eln_msc_plugin.rulepack.senescence",
    "eln_msc_plugin.rulepack.assays",
    "eln_msc_plugin.policy",
)


def get_plugin_manager(*, load_entry_points: bool = True, extra: tuple[Any, ...] = ()) -> pluggy.PluginManager:
    """A plugin manager with the hook set, the built-in plugins and (by default) installed plugins."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    for plugin in extra:
        pm.register(plugin)
    if load_entry_points:
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as error:  # a broken third-party plugin is a configuration problem
            raise ConfigError(f"a plugin in entry-point group {ENTRY_POINT_GROUP!r} failed to load: {error}") from error
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as error:
        raise ConfigError(str(error)) from error
    return pm


def collect_rules(pm: pluggy.PluginManager) -> list[Rule]:
    """Every rule the plugins register, each checked as it is registered; rules of scope "document" first."""
    rules: dict[str, Rule] = {}

    def register(candidate: Rule) -> None:
        checked = check_rule(candidate, rules)
        rules[checked.id] = checked

    pm.hook.eln_msc_register_rules(register=register)
    # document rules first: what is wrong with the document is read before what the rules make of its content
    return sorted(rules.values(), key=lambda r: r.scope != "document")


def default_ruleset(pm: pluggy.PluginManager) -> RuleSet:
    """The rule set with every rule's default thresholds and no policy."""
    from eln_msc_plugin.rulepack import NAME, VERSION, triage
    from eln_msc_plugin.rulepack.metrics import report_metrics

    rules = collect_rules(pm)
    thresholds = {r.id: {use: dict(values) for use, values in r.thresholds.items()} for r in rules}
    return RuleSet(NAME, VERSION, rules, thresholds, triage=triage, metrics=report_metrics)
