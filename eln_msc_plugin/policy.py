"""Site policies: a TOML file that sets thresholds, severities, disabled rules and waivers for the rule pack.

`load_policy(path)` reads and checks a policy (shape against `schemas/policy-v1.schema.json`, then every rule
id, threshold name and value against the registered rules) and raises `ConfigError` naming the key at fault.
`ruleset_with_policy(base, policy, pm)` returns the rule set with the policy applied; severity overrides and
waivers are applied to each record's findings by this module's `eln_msc_adjust_findings` hook.
See docs/policies.md for the file format.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import json
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pluggy

from eln_msc_plugin.display import quoted
from eln_msc_plugin.errors import ConfigError
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.limits import MAX_POLICY_BYTES, read_small_text
from eln_msc_plugin.model import SEVERITIES, BatchRecord, Finding
from eln_msc_plugin.rules import USES, Rule, RuleSet, finite_number

POLICY_SCHEMA = "policy-v1.schema.json"
OFF = "off"
# Thresholds in percent (or percentage points): no value above 100 makes sense.
PERCENT: frozenset[tuple[str, str]] = frozenset({
    ("beta-gal.limit", "warn_from"), ("beta-gal.limit", "fail_from"), ("beta-gal.count", "max_disagreement_points"),
})
# (lower line, upper line): the lower may not be above the upper once the policy is applied.
LINE_PAIRS = (("warn_above", "fail_above"), ("warn_from", "fail_from"),
              ("min_density_per_cm2", "max_density_per_cm2"))
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@cache
def _validator() -> jsonschema.Draft202012Validator:
    from eln_msc_plugin.schema import schema_text

    schema = json.loads(schema_text(POLICY_SCHEMA))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def key(parts: Iterable[Any]) -> str:
    """A TOML-style key path: rules."pdl.limit".production.fail_above, waivers[0].reason."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _BARE_KEY.match(part) else json.dumps(part, ensure_ascii=False)
            out += ("." if out else "") + text
    return out


def load_policy(path: str | Path, pm: pluggy.PluginManager | None = None) -> dict[str, Any]:
    """Read a policy TOML file and check it against the schema and the registered rules (of `pm`, or the
    default plugin manager's). Raises `ConfigError` naming the file (as given) and the key at fault.
    Anything but a regular file of at most MAX_POLICY_BYTES is refused before it is read."""
    from eln_msc_plugin.plugins import collect_rules, get_plugin_manager

    label = os.fspath(path)
    text = read_small_text(path, MAX_POLICY_BYTES, "policy file")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{label}: not valid TOML: {error}") from None
    policy = _plain(raw)
    rules = collect_rules(pm if pm is not None else get_plugin_manager())
    check_policy(policy, rules, label)
    return policy


def _plain(value: Any) -> Any:
    """TOML dates become ISO strings, so the policy is JSON (and hashes the same everywhere)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def check_policy(policy: Any, rules: Iterable[Rule], label: str = "policy") -> None:
    """Refuse a policy that does not fit the schema or the rules: ConfigError naming the first key at fault."""
    _check_shape(policy, label)
    known = {r.id: r for r in rules}
    for rule_id, entry in policy.get("rules", {}).items():
        rule = _known_rule(known, rule_id, label, ["rules", rule_id])
        if entry.get("enabled") is False and rule.scope == "document":
            raise ConfigError(f"{label}: {key(['rules', rule_id, 'enabled'])}: cannot be false: {rule_id} is the "
                              f"check that runs on every document, and without it a document that is not a batch "
                              f"record would pass; give it a severity override instead")
        for use in USES:
            if use in entry:
                _check_thresholds(rule, use, entry[use], label)
    for rule_id, entry in policy.get("severity", {}).items():
        rule = _known_rule(known, rule_id, label, ["severity", rule_id])
        for use in entry:
            if not rule.applies_to(use):
                raise ConfigError(f"{label}: {key(['severity', rule_id, use])}: rule {rule_id} does not apply to "
                                  f"{use} lots (it applies to {', '.join(rule.thresholds)})")
    for i, waiver in enumerate(policy.get("waivers", [])):
        _known_rule(known, waiver["rule"], label, ["waivers", i, "rule"])
        for name in ("lot", "reason"):
            if _blank(waiver[name]):
                raise ConfigError(f"{label}: {key(['waivers', i, name])}: is blank; a waiver names its lot and says "
                                  "why the lot may pass (an audit reads it)")
        if "expires" in waiver:
            try:
                date.fromisoformat(waiver["expires"])
            except ValueError as error:
                raise ConfigError(f"{label}: {key(['waivers', i, 'expires'])}: {quoted(waiver['expires'])} is not "
                                  f"a date (YYYY-MM-DD)") from error


def _check_shape(policy: Any, label: str) -> None:
    errors = sorted(_validator().iter_errors(policy), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return
    error = errors[0]
    where = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        extra = [k for k in error.instance if k not in allowed]
        raise ConfigError(f"{label}: {key(where + extra[:1])}: unknown key (allowed here: {', '.join(allowed)})")
    if error.validator == "anyOf" and where[:1] == ["rules"]:
        message = f"{quoted(error.instance)} is not a number (or \"off\" to turn the line off, or a severity)"
    elif error.validator == "anyOf":
        message = (f"{quoted(error.instance)} is not a severity ({', '.join(SEVERITIES)}) nor a table mapping "
                   f"severities to severities")
    elif error.validator == "required":
        message = error.message.replace("is a required property", "is required here")
    else:
        message = error.message
    raise ConfigError(f"{label}: {key(where) or 'the policy'}: {message}")


def _known_rule(known: Mapping[str, Rule], rule_id: str, label: str, where: list[Any]) -> Rule:
    if rule_id in known:
        return known[rule_id]
    close = difflib.get_close_matches(rule_id, list(known), n=1)
    hint = f" (did you mean {quoted(close[0])}?)" if close else f" (known: {', '.join(sorted(known))})"
    raise ConfigError(f"{label}: {key(where)}: unknown rule id {quoted(rule_id)}{hint}")


def _threshold_kinds(rule: Rule) -> dict[str, str]:
    """Each threshold name of a rule and whether it holds a number or a severity."""
    kinds: dict[str, str] = {}
    for values in rule.thresholds.values():
        for name, value in values.items():
            if isinstance(value, str):
                kinds[name] = "severity"
            else:
                kinds.setdefault(name, "number")
    return kinds


def _check_thresholds(rule: Rule, use: str, values: Mapping[str, Any], label: str) -> None:
    where = ["rules", rule.id, use]
    if not rule.applies_to(use):
        raise ConfigError(f"{label}: {key(where)}: rule {rule.id} does not apply to {use} lots "
                          f"(it applies to {', '.join(rule.thresholds) or 'none'})")
    kinds = _threshold_kinds(rule)
    for name, value in values.items():
        at = f"{label}: {key(where + [name])}"
        if name not in kinds:
            names = ", ".join(sorted(kinds)) or "none"
            raise ConfigError(f"{at}: unknown threshold of {rule.id} (its thresholds: {names})")
        if kinds[name] == "severity":
            if value not in SEVERITIES:
                raise ConfigError(f"{at}: {quoted(value)} is not a severity ({', '.join(SEVERITIES)})")
            continue
        if value == OFF:
            continue
        if isinstance(value, str):
            raise ConfigError(f"{at}: {quoted(value)} is not a number (or \"off\")")
        if not finite_number(value):  # nan compares false with everything: it would turn the line off unseen
            raise ConfigError(f"{at}: {quoted(value)} is not a finite number (give a number, or \"off\")")
        if value < 0:
            raise ConfigError(f"{at}: {value} is not ≥ 0")
        if (rule.id, name) in PERCENT and value > 100:
            raise ConfigError(f"{at}: {value} is not ≤ 100 (a percentage)")
    merged = dict(rule.thresholds[use])
    merged.update({k: None if v == OFF else v for k, v in values.items()})
    for low, high in LINE_PAIRS:
        lo, hi = merged.get(low), merged.get(high)
        if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo > hi:
            if low in values:
                raise ConfigError(f"{label}: {key(where + [low])}: {lo} is above {high} = {hi}")
            raise ConfigError(f"{label}: {key(where + [high])}: {hi} is below {low} = {lo}")


def ruleset_with_policy(base: RuleSet, policy: Mapping[str, Any], pm: pluggy.PluginManager | None = None) -> RuleSet:
    """A new rule set: the pack's name and version, the policy's thresholds merged over the base, its disabled
    rules, and (in `RuleSet.policy`, so they count in the sha256) its name, version, severity overrides and
    waivers. `pm` is the plugin manager the base rule set came from; its rules are those in `base`."""
    check_policy(policy, base.rules, str(policy.get("policy", {}).get("name", "policy")))
    thresholds = copy.deepcopy(base.thresholds)
    disabled = set(base.disabled)
    for rule_id, entry in policy.get("rules", {}).items():
        if entry.get("enabled") is False:
            disabled.add(rule_id)
        elif entry.get("enabled") is True:
            disabled.discard(rule_id)
        for use in USES:
            if use in entry:
                thresholds[rule_id][use].update({k: None if v == OFF else v for k, v in entry[use].items()})
    meta = policy.get("policy", {})
    applied = {
        "name": meta.get("name"),
        "version": meta.get("version"),
        "severity": copy.deepcopy(dict(policy.get("severity", {}))),
        "waivers": copy.deepcopy(list(policy.get("waivers", []))),
    }
    return dataclasses.replace(base, rules=list(base.rules), thresholds=thresholds, disabled=frozenset(disabled),
                               policy=applied, sha256="")  # the pack's triage and metrics carry over


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


@hookimpl
def eln_msc_adjust_findings(record: BatchRecord, findings: list[Finding], ruleset: RuleSet) -> None:
    """Apply the policy's severity overrides, then its waivers for the record's lot (waived findings stay, as
    `info`, their message prefixed "Waived (reason): "). An expired waiver (after its `expires` day) is ignored."""
    policy = ruleset.policy
    if not policy:
        return
    overrides, waivers = policy.get("severity"), policy.get("waivers")
    if not overrides and not waivers:
        return
    data = record.data if isinstance(record.data, dict) else {}
    use = ruleset.use_of(record.data)
    if overrides:
        for finding in findings:
            override = overrides.get(finding.rule, {}).get(use)
            if isinstance(override, str):
                if finding.severity in ("warn", "fail"):
                    finding.severity = override
            elif override:
                finding.severity = override.get(finding.severity, finding.severity)
    lot = data.get("lot_id")
    if waivers and isinstance(lot, str):
        today = _today()
        active = {w["rule"]: w for w in waivers if w["lot"] == lot and w.get("expires", today) >= today}
        for finding in findings:
            waiver = active.get(finding.rule)
            if waiver is not None:
                finding.severity = "info"
                finding.message = f"Waived ({waiver['reason']}): {finding.message}"


def _blank(text: str) -> bool:
    """Nothing a reader can see: white space, and invisible characters (a zero-width space, a byte-order mark)."""
    return all(char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp") for char in text)
