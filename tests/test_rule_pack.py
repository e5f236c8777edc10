"""The rule pack as a whole: the valid record passes for every use, rules survive schema-invalid records."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from eln_msc_plugin.model import BatchRecord
from eln_msc_plugin.plugins import default_ruleset, get_plugin_manager
from eln_msc_plugin.rules import USES, RuleContext
from tests.support.records import record, set_path
from tests.support.rulecheck import report

RULESET = default_ruleset(get_plugin_manager(load_entry_points=False))
PACK = ["passage.window", "passage.class", "passage.sequence", "pdl.limit", "pdl.consistency", "pdl.monotonic",
        "growth.doubling-time", "counts.plausible", "chronology", "beta-gal.limit", "beta-gal.count",
        "p16.fold-change", "p21.fold-change", "assay.required", "assay.passage-match", "ev.producing-passage"]


def test_every_rule_of_the_contract_is_registered() -> None:
    ids = {r.id for r in RULESET.rules}
    assert set(PACK) <= ids


@pytest.mark.parametrize("use", USES)
def test_valid_record_passes_for_every_use(use: str) -> None:
    r = report(record(intended_use=use))
    assert r.verdict == "pass", [f.as_dict() for f in r.findings]
    assert r.findings == []


def _run_every_rule(data: Any) -> list[Any]:
    """Call every rule directly (the engine would hide a crash behind a schema failure)."""
    found = []
    for use in USES:
        ctx = RuleContext(BatchRecord(data, "<test>", 0, "application/json"), use, RULESET)
        for rule in RULESET.rules:
            if rule.id == "schema" or not rule.applies_to(use):
                continue
            ctx.rule_id, ctx.t = rule.id, RULESET.thresholds[rule.id][use]
            found += list(rule.check(ctx))
    return found


BROKEN = [
    ("not-a-dict", None, None),
    ("passages-not-a-list", "/passages", {"a": 1}),
    ("passage-not-an-object", "/passages/1", "P2"),
    ("number-a-string", "/passages/1/number", "2"),
    ("counts-strings", "/passages/0/cells_seeded", "875000"),
    ("count-zero-harvest", "/passages/0/cells_harvested", 0),
    ("count-bool", "/passages/0/cells_harvested", True),
    ("count-nan", "/passages/0/cells_harvested", float("nan")),
    ("count-inf", "/passages/0/cells_seeded", float("inf")),
    ("area-zero", "/passages/0/vessel_area_cm2", 0),
    ("date-garbage", "/passages/0/seeded_at", "yesterday"),
    ("date-number", "/passages/0/harvested_at", 20260107),
    ("date-list", "/released_at", ["2026-01-01"]),
    ("production-passage-missing", "/production_passage", None),
    ("production-passage-float", "/production_passage", 4.5),
    ("senescence-a-list", "/senescence", [1, 2]),
    ("beta-gal-a-number", "/senescence/beta_gal", 6.0),
    ("beta-gal-percent-string", "/senescence/beta_gal/percent_positive", "6 %"),
    ("cells-counted-zero", "/senescence/beta_gal/cells_counted", 0),
    ("percent-over-100", "/senescence/beta_gal/percent_positive", 150.0),
    ("fold-change-none", "/senescence/p16/fold_change", None),
    ("ev-harvest-a-string", "/ev_harvest", "yes"),
    ("cryo-not-a-list", "/cryo_events", "none"),
    ("cryo-items-odd", "/cryo_events", [1, {"kind": "thaw"}, {"kind": "melt", "at": "x", "passage": "2"}]),
    ("reported-pdl-string", "/reported_cumulative_pdl", "8.6"),
]


@pytest.mark.parametrize(("name", "pointer", "value"), BROKEN, ids=[b[0] for b in BROKEN])
def test_rules_survive_schema_invalid_records(name: str, pointer: str | None, value: Any) -> None:
    data: Any = record() if pointer else ["not", "a", "record"]
    if pointer:
        data = copy.deepcopy(data)
        if pointer == "/cryo_events":
            data["cryo_events"] = value
        else:
            set_path(data, pointer, value)
    found = _run_every_rule(data)  # raises if a rule crashes
    assert all(f.severity in ("fail", "warn", "info") for f in found)
    r = report(data) if isinstance(data, dict) else None
    if r is not None:
        assert not any("could not run" in f.message for f in r.findings)
        assert r.metrics.get("passage_class", "x") in (None, "optimal", "borderline", "not_recommended", "unsuitable")


def test_metrics_appear_on_a_record_with_problems() -> None:
    r = report(record(production_passage=7, reported_cumulative_pdl=13.0))
    assert r.verdict == "fail"
    assert r.metrics["passage_class"] == "not_recommended"
    assert r.metrics["reported_cumulative_pdl"] == 13.0


def test_findings_carry_observed_and_expected() -> None:
    r = report(record(production_passage=5))
    (f,) = [f for f in r.findings if f.rule == "passage.window"]
    assert f.observed == 5 and f.expected == {"exclusiveMaximum": 5}


def test_the_rule_pack_is_1_1_0_and_every_report_names_it() -> None:
    from eln_msc_plugin.rulepack import VERSION

    assert VERSION == "1.1.0" and RULESET.version == "1.1.0"
    r = report(record())
    assert (r.ruleset_name, r.ruleset_version, r.ruleset_sha256) == ("msc-default", "1.1.0", RULESET.sha256)


def test_a_record_judged_under_1_0_0_is_not_unchanged_under_1_1_0() -> None:
    """The version is part of the thresholds hash that annotations and the backfill state store and compare:
    the same rules and thresholds under 1.0.0 hash differently, so a record settled then is judged again."""
    from eln_msc_plugin.backfill.runner import settled

    old = dataclasses.replace(RULESET, version="1.0.0", sha256="")
    assert (old.rules, old.thresholds, old.policy) == (RULESET.rules, RULESET.thresholds, RULESET.policy)
    assert old.sha256 == old.fingerprint() and old.sha256 != RULESET.sha256
    from eln_msc_plugin.eln.base import RecordRef

    item = RecordRef("7", modified_at="2026-03-05T10:00:00Z")
    row = {"status": "annotated", "ruleset_sha256": old.sha256, "settled_modified": item.modified_at}
    assert not settled(row, item, RULESET.sha256)
    assert settled(row, item, old.sha256)  # the same state under the same rules is settled: the check can pass
