"""Site policies: loading, refusing bad ones with the key named, and changing outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eln_msc_plugin import validate_document
from eln_msc_plugin.errors import ConfigError
from eln_msc_plugin.pipeline import Engine
from eln_msc_plugin.plugins import default_ruleset, get_plugin_manager
from eln_msc_plugin.policy import load_policy, ruleset_with_policy
from tests.support.records import record

PM = get_plugin_manager()
BASE_RULES = default_ruleset(PM)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"
HEAD = '[policy]\nname = "Test site"\nversion = "1"\n'


def engine_for(tmp_path: Path, text: str) -> Engine:
    path = tmp_path / "policy.toml"
    path.write_text(HEAD + text, encoding="utf-8")
    return Engine(PM, ruleset_with_policy(default_ruleset(PM), load_policy(path, PM), PM))


def findings(engine: Engine, data: dict[str, Any], rule_id: str) -> list[Any]:
    return [f for f in validate_document(data, engine=engine)[0].findings if f.rule == rule_id]


@pytest.mark.parametrize("name", ["gmp-strict", "research-permissive"])
def test_example_policies_load_and_apply(name: str) -> None:
    policy = load_policy(EXAMPLES / f"{name}.toml", PM)
    rs = ruleset_with_policy(BASE_RULES, policy, PM)
    assert rs.name == BASE_RULES.name and rs.version == BASE_RULES.version
    assert rs.sha256 != BASE_RULES.sha256
    assert rs.policy["name"] == policy["policy"]["name"]


def test_gmp_example_fails_a_pdl_the_defaults_only_warn(tmp_path: Path) -> None:
    rs = ruleset_with_policy(BASE_RULES, load_policy(EXAMPLES / "gmp-strict.toml", PM), PM)
    data = record(reported_cumulative_pdl=11.0)
    assert [f.severity for f in findings(Engine(PM, BASE_RULES), data, "pdl.limit")] == ["warn"]
    got = findings(Engine(PM, rs), data, "pdl.limit")
    assert [f.severity for f in got] == ["fail"]
    assert "limit of 10" in got[0].message


THRESHOLDS = [
    ('[rules."pdl.limit".production]\nfail_above = 10\n', 10.5, "fail"),
    ('[rules."pdl.limit".production]\nfail_above = 14\n', 12.5, "warn"),
    ('[rules."pdl.limit".production]\nwarn_above = "off"\n', 11.0, None),
]


@pytest.mark.parametrize(("text", "pdl", "expected"), THRESHOLDS,
                         ids=["lower-fail-line", "higher-fail-line", "warn-off"])
def test_threshold_override_changes_the_outcome(tmp_path: Path, text: str, pdl: float, expected: str | None) -> None:
    engine = engine_for(tmp_path, text)
    got = findings(engine, record(reported_cumulative_pdl=pdl), "pdl.limit")
    assert [f.severity for f in got] == ([expected] if expected else [])


def test_threshold_override_is_per_use(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, '[rules."passage.window".research]\nwarn_from = 8\n')
    assert findings(engine, record(intended_use="research", production_passage=7), "passage.window") == []
    assert [f.severity for f in findings(engine, record(production_passage=7), "passage.window")] == ["fail"]


def test_disable_a_rule(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, '[rules."beta-gal.limit"]\nenabled = false\n')
    data = record()
    data["senescence"]["beta_gal"].update(percent_positive=30.0, positive_cells=90)
    assert findings(engine, data, "beta-gal.limit") == []
    assert "beta-gal.limit" in engine.ruleset.disabled
    report = validate_document(data, engine=engine)[0]
    assert report.metrics["beta_gal"]["percent_positive"] == 30.0  # metrics stay


SEVERITY = [
    ('[severity."chronology"]\nproduction = "warn"\n', "warn"),
    ('[severity."chronology"]\nproduction = { fail = "info" }\n', "info"),
    ('[severity."chronology"]\nresearch = "warn"\n', "fail"),
]


@pytest.mark.parametrize(("text", "expected"), SEVERITY, ids=["chronology-warns", "chronology-info", "other-use-only"])
def test_severity_override(tmp_path: Path, text: str, expected: str) -> None:
    engine = engine_for(tmp_path, text)
    got = findings(engine, record(released_at="2026-01-20"), "chronology")
    assert got and {f.severity for f in got} == {expected}


def test_escalate_a_warn_to_fail(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, '[severity."assay.passage-match"]\nproduction = "fail"\n')
    data = record()
    data["senescence"]["p16"]["sample_passage"] = 3
    report = validate_document(data, engine=engine)[0]
    assert report.verdict == "fail"
    assert [f.severity for f in report.findings if f.rule == "assay.passage-match"] == ["fail"]


WAIVERS = [
    ('lot = "MSC-BM-042"\n', "info"),
    ('lot = "MSC-BM-999"\n', "fail"),
    ('lot = "MSC-BM-042"\nexpires = 2020-01-01\n', "fail"),
    ('lot = "MSC-BM-042"\nexpires = 2999-12-31\napproved_by = "QA"\n', "info"),
]


@pytest.mark.parametrize(("text", "expected"), WAIVERS, ids=["waived", "other-lot", "expired", "not-yet-expired"])
def test_waiver(tmp_path: Path, text: str, expected: str) -> None:
    engine = engine_for(tmp_path, '[[waivers]]\nrule = "passage.window"\nreason = "DEV-2026-031"\n' + text)
    report = validate_document(record(production_passage=5), engine=engine)[0]
    (got,) = [f for f in report.findings if f.rule == "passage.window"]
    assert got.severity == expected
    assert got.message.startswith("Waived (DEV-2026-031): Production passage P5") == (expected == "info")


def test_policy_changes_the_fingerprint(tmp_path: Path) -> None:
    a = engine_for(tmp_path, '[[waivers]]\nrule = "passage.window"\nlot = "A"\nreason = "r"\n').ruleset
    b = engine_for(tmp_path, '[[waivers]]\nrule = "passage.window"\nlot = "B"\nreason = "r"\n').ruleset
    assert a.sha256 != b.sha256 != BASE_RULES.sha256


BAD = [
    ("negative", '[rules."pdl.limit".production]\nfail_above = -1\n',
     'policy.toml: rules."pdl.limit".production.fail_above: -1 is not ≥ 0'),
    ("unknown-rule", '[rules."pdl.limt".production]\nfail_above = 10\n',
     'policy.toml: rules."pdl.limt": unknown rule id "pdl.limt" (did you mean "pdl.limit"?)'),
    ("unknown-threshold", '[rules."pdl.limit".production]\nfail_over = 10\n',
     'policy.toml: rules."pdl.limit".production.fail_over: unknown threshold of pdl.limit'),
    ("warn-above-fail", '[rules."pdl.limit".production]\nwarn_above = 14\n',
     'policy.toml: rules."pdl.limit".production.warn_above: 14 is above fail_above = 12'),
    ("fail-below-warn", '[rules."beta-gal.limit".production]\nfail_from = 5\n',
     'policy.toml: rules."beta-gal.limit".production.fail_from: 5 is below warn_from = 10'),
    ("percent-over-100", '[rules."beta-gal.limit".production]\nfail_from = 120\n',
     'policy.toml: rules."beta-gal.limit".production.fail_from: 120 is not ≤ 100'),
    ("not-a-severity", '[severity."chronology"]\nproduction = "error"\n',
     'policy.toml: severity.chronology.production: "error" is not a severity'),
    ("severity-threshold", '[rules."assay.required".production]\nmissing = "fatal"\n',
     'policy.toml: rules."assay.required".production.missing: "fatal"'),
    ("string-threshold", '[rules."pdl.limit".production]\nfail_above = "twelve"\n',
     'policy.toml: rules."pdl.limit".production.fail_above: "twelve" is not a number'),
    ("use-not-applying", '[rules."assay.required".research]\nmissing = "warn"\n',
     'policy.toml: rules."assay.required".research: rule assay.required does not apply to research lots'),
    ("unknown-use", '[rules."pdl.limit".clinical]\nfail_above = 10\n',
     'policy.toml: rules."pdl.limit".clinical: unknown key'),
    ("unknown-section", '[rule."pdl.limit".production]\nfail_above = 10\n', "policy.toml: rule: unknown key"),
    ("waiver-without-reason", '[[waivers]]\nrule = "chronology"\nlot = "L"\n',
     "policy.toml: waivers[0]: 'reason' is required here"),
    ("waiver-unknown-rule", '[[waivers]]\nrule = "chronologie"\nlot = "L"\nreason = "r"\n',
     'policy.toml: waivers[0].rule: unknown rule id "chronologie"'),
    ("disable-the-document-rule", '[rules.schema]\nenabled = false\n',
     'policy.toml: rules.schema.enabled: cannot be false: schema is the check that runs on every document'),
    ("bad-toml", "[rules\n", "policy.toml: not valid TOML"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_policy_is_refused_naming_the_key(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(HEAD + text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_policy(path, PM)
    # the file is named as it was given (here a full path), not cut to its name
    assert str(caught.value).startswith(str(tmp_path / message)), str(caught.value)


def test_missing_policy_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[rules."pdl.limit".production]\nfail_above = 10\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="policy.toml: the policy: 'policy' is required"):
        load_policy(path, PM)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the policy file .*nope.toml: No such file"):
        load_policy(tmp_path / "nope.toml", PM)


def test_ruleset_with_policy_checks_a_policy_built_in_code() -> None:
    with pytest.raises(ConfigError, match="fail_above: -2 is not ≥ 0"):
        ruleset_with_policy(BASE_RULES, {"policy": {"name": "x", "version": "1"},
                                         "rules": {"pdl.limit": {"production": {"fail_above": -2}}}}, PM)


def test_the_passage_class_rule_may_be_off_and_the_metric_stays(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, '[rules."passage.class"]\nenabled = false\n[rules."passage.class".production]\n'
                                  'borderline_from = 4\n')
    report = validate_document(record(production_passage=4), engine=engine)[0]
    assert not [f for f in report.findings if f.rule == "passage.class"]
    assert report.metrics["passage_class"] == "borderline"  # the policy's class line, though the rule is off
    assert report.metrics["cumulative_pdl"] is not None
    assert engine.ruleset.triage is BASE_RULES.triage and engine.ruleset.metrics is BASE_RULES.metrics
