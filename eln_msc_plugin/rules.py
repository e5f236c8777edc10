"""Rule machinery: the `Rule` object, the `@rule` decorator, the per-record context and the `RuleSet`.

A rule is a small generator function that reads a canonical record through a `RuleContext` and
yields `Finding`s. It declares its id, what it reads, the severities it can give and its default
thresholds per intended use, so the rule reference is produced from the same objects.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eln_msc_plugin.display import quoted
from eln_msc_plugin.errors import ConfigError
from eln_msc_plugin.model import SEVERITIES, BatchRecord, Finding

USES: tuple[str, ...] = ("production", "banking", "research")
RULE_ID = re.compile(r"^[a-z][a-z0-9]*(?:[.-][a-z0-9]+)*$")

Check = Callable[["RuleContext"], Iterable[Finding]]
# What a rule set (not the pipeline) decides about a document before its rules run: the intended use whose
# thresholds apply, and whether it is a record of the rule pack's format at all. Only rules of scope
# "document" run on a document that is not: it gets the finding that says so, not every rule's echo of it.
Triage = Callable[[Any], tuple[str, bool]]
# The report metrics a rule set computes for every record it judges (data: JSON-serialisable, unrounded).
Metrics = Callable[["RuleContext"], dict[str, Any]]
SCOPES: tuple[str, ...] = ("record", "document")

# What a rule returns when it has nothing to say (most records are fine, and a generator costs more to
# start than a check that finds nothing: rules that give at most a few findings return a sequence).
NO_FINDINGS: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One check, with the defaults a site may override in a policy file."""

    id: str
    summary: str
    check: Check
    severities: tuple[str, ...]
    thresholds: Mapping[str, Mapping[str, Any]]
    reads: tuple[str, ...] = ()
    source: str = ""
    description: str = ""
    scope: str = "record"  # "document": runs on every document, also on one that is not a record of the pack

    def applies_to(self, use: str) -> bool:
        return use in self.thresholds


def same_for(uses: Iterable[str] = USES, **values: Any) -> dict[str, dict[str, Any]]:
    """Thresholds that are the same for each of `uses`."""
    return {use: dict(values) for use in uses}


def rule(
    id: str,
    *,
    summary: str,
    severities: Iterable[str],
    thresholds: Mapping[str, Mapping[str, Any]] | None = None,
    reads: Iterable[str] = (),
    source: str = "",
    scope: str = "record",
) -> Callable[[Check], Rule]:
    """Turn a generator function ``check(ctx)`` into a `Rule` (its docstring becomes the description)."""

    def wrap(check: Check) -> Rule:
        return Rule(
            id=id,
            summary=summary,
            check=check,
            severities=tuple(severities),
            thresholds=thresholds if thresholds is not None else same_for(),
            reads=tuple(reads),
            source=source,
            description=(check.__doc__ or "").strip(),
            scope=scope,
        )

    return wrap


def check_rule(candidate: object, known: Mapping[str, Rule]) -> Rule:
    """Refuse a rule that would misbehave later: bad id, duplicate id, bad severities or thresholds."""
    if not isinstance(candidate, Rule):
        raise ConfigError(f"register() takes a Rule, got {type(candidate).__name__}")
    if not isinstance(candidate.id, str) or not RULE_ID.match(candidate.id):
        raise ConfigError(f"rule id {quoted(candidate.id)} is not of the form 'group.name' (lower case)")
    if candidate.id in known:
        raise ConfigError(f"rule id {quoted(candidate.id)} is registered twice")
    if not callable(candidate.check):
        raise ConfigError(f"rule {candidate.id}: check is not callable")
    if candidate.scope not in SCOPES:
        raise ConfigError(f"rule {candidate.id}: scope {candidate.scope!r} is not one of {SCOPES}")
    bad = [s for s in candidate.severities if s not in SEVERITIES]
    if bad or not candidate.severities:
        raise ConfigError(f"rule {candidate.id}: severities {bad or '()'} not among {SEVERITIES}")
    for use, values in candidate.thresholds.items():
        if use not in USES:
            raise ConfigError(f"rule {candidate.id}: unknown intended use {quoted(use)} in thresholds")
        for name, value in values.items():
            check_threshold(candidate.id, use, name, value)
    return candidate


def finite_number(value: Any) -> bool:
    """A number a threshold can be: not a bool, not NaN, not infinite, and not an integer beyond every float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def check_threshold(rule_id: str, use: str, name: str, value: Any) -> None:
    """A threshold is a finite number, a severity name or `None` (off)."""
    if value is None or (isinstance(value, str) and value in SEVERITIES):
        return
    if not finite_number(value):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        raise ConfigError(f"rule {rule_id}: threshold {use}.{name} = {quoted(value)} is not a "
                          f"{'finite ' if number else ''}number")


def every_document(data: Any) -> tuple[str, bool]:
    """The triage of a rule set that knows no record format: every document is a record, of the first use."""
    return USES[0], True


def no_metrics(ctx: RuleContext) -> dict[str, Any]:
    """The metrics of a rule set that computes none."""
    return {}


@dataclass
class RuleSet:
    """The rules in force, with their thresholds per intended use and the policy that set them.

    `triage` and `metrics` come from the rule pack: what the pipeline must ask of a record without knowing
    its domain (which specification applies, whether it is a record at all, what to report about it).
    """

    name: str
    version: str
    rules: list[Rule]
    thresholds: dict[str, dict[str, dict[str, Any]]]
    disabled: frozenset[str] = frozenset()
    policy: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""
    triage: Triage = field(default=every_document, compare=False, repr=False)
    metrics: Metrics = field(default=no_metrics, compare=False, repr=False)

    def __post_init__(self) -> None:
        # every threshold that reaches the rules passes here, whether a rule, a policy or a host set it
        for rule_id, uses in self.thresholds.items():
            for use, values in uses.items():
                for name, value in values.items():
                    check_threshold(rule_id, use, name, value)
        if not self.sha256:
            self.sha256 = self.fingerprint()

    def fingerprint(self) -> str:
        """A hash of everything that decides a verdict: the rule pack and its version (what its rules and triage
        do), the rules, thresholds, disabled rules and policy. An annotation or a backfill state made under
        another hash is not "unchanged": the record is judged again."""
        content = {
            "name": self.name,
            "version": self.version,
            "rules": sorted(r.id for r in self.rules),
            "thresholds": self.thresholds,
            "disabled": sorted(self.disabled),
            "policy": self.policy,
        }
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def use_of(self, data: Any) -> str:
        """The intended use whose thresholds apply to a record (its own when known, else the pack's default)."""
        return self.triage(data)[0]

    def thresholds_for(self, rule_id: str, use: str) -> dict[str, Any] | None:
        return self.thresholds.get(rule_id, {}).get(use)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256}


class RuleContext:
    """What a rule sees of one record: the data, the intended use, its thresholds, shared results."""

    __slots__ = ("record", "data", "use", "rule_id", "t", "metrics", "cache", "ruleset")

    def __init__(self, record: BatchRecord, use: str, ruleset: RuleSet) -> None:
        self.record = record
        self.data: Any = record.data
        self.use = use
        self.ruleset = ruleset
        self.rule_id = ""
        self.t: dict[str, Any] = {}
        self.metrics: dict[str, Any] = {}
        self.cache: dict[str, Any] = {}

    def finding(
        self, severity: str, path: str, message: str, observed: Any = None, expected: Any = None
    ) -> Finding:
        """A finding of the rule that is running, located at `path` (a JSON Pointer)."""
        return Finding(self.rule_id, severity, path, message, observed, expected, self.record.line_of(path))

    def shared(self, key: str, compute: Callable[[RuleContext], Any]) -> Any:
        """A value computed once per record and shared between rules (for example the PD per passage)."""
        try:
            return self.cache[key]
        except KeyError:
            value = self.cache[key] = compute(self)
            return value
