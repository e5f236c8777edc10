"""Report writers: what a person reads (JUnit lines, rounded text) and what a program reads (full precision)."""

from __future__ import annotations

import io
import json
import math
import re

import pytest
from lxml import etree

from eln_msc_plugin.model import Finding
from eln_msc_plugin.output import WRITERS, finding_line
from eln_msc_plugin.pipeline import Engine
from tests.support.mixed import mixed
from tests.support.records import record, set_path
from tests.support.rulecheck import lot, passage

ENGINE = Engine()
LINES = [
    (Finding("schema", "fail", "/passages/1/viability_percent",
             "/passages/1/viability_percent: 103 is greater than the maximum of 100."),
     "fail: [schema] /passages/1/viability_percent: 103 is greater than the maximum of 100."),
    (Finding("schema", "fail", "", "the record: \"lot_id\" is a required property."),
     "fail: [schema] the record: \"lot_id\" is a required property."),
    (Finding("passage.window", "warn", "/production_passage", "Production passage P5 is borderline.", line=7),
     "warn: [passage.window] /production_passage: Production passage P5 is borderline. (line 7)"),
]


@pytest.mark.parametrize(("finding", "line"), LINES, ids=["schema-path-once", "whole-record-one-space", "rule-path"])
def test_finding_line_names_the_place_once(finding: Finding, line: str) -> None:
    assert finding_line(finding) == line


def _write(fmt: str, data: list[dict]) -> str:
    out = io.StringIO()
    WRITERS[fmt](out, ENGINE.ruleset).write_all(r for d in data for r in ENGINE.reports_for(d, None, "t.json"))
    return out.getvalue()


def test_junit_neither_doubles_the_path_nor_the_spacing() -> None:
    bad = set_path(record(), "/passages/1/viability_percent", 103)
    text = _write("junit", [bad, record(lot_id=None), record(production_passage=5)])
    etree.fromstring(text.encode())  # well-formed
    assert "/passages/1/viability_percent /passages/1/viability_percent" not in text
    assert "fail: [schema] /passages/1/viability_percent: 103 is greater than the maximum of 100." in text
    assert "]  " not in text and "fail: [schema] the record: " in text
    assert "fail: [passage.window] /production_passage: Production passage P5 " in text


def _irrational() -> dict:
    return lot([passage(1, 875_000, 4_100_000, 1), passage(2, 875_000, 3_900_000, 6, days=6)])


def test_json_keeps_full_precision_in_the_metrics() -> None:
    doc = json.loads(_write("json", [_irrational()]))
    metrics = doc["records"][0]["metrics"]
    assert metrics["passages"][0]["pd"] == math.log2(4_100_000 / 875_000)  # bit for bit, not rounded
    assert metrics["cumulative_pdl"] == math.log2(4_100_000 / 875_000) + math.log2(3_900_000 / 875_000)
    assert metrics["passages"][1]["doubling_time_h"] == 144 / math.log2(3_900_000 / 875_000)


# an unrounded number: five decimals or more (messages show two, or four significant digits for a tiny density)
LONG_DECIMAL = re.compile(r"\d\.\d{5,}")


def test_text_for_people_rounds() -> None:
    data = _irrational()
    data["passages"][1]["reported_cumulative_pdl"] = 2.0  # far from the recomputed 4.38…: a consistency finding
    data["senescence"]["beta_gal"].update(percent_positive=12.3456, cells_counted=150, positive_cells=40)
    text = _write("text", [data])
    messages = [f["message"] for r in json.loads(_write("json", [data]))["records"] for f in r["findings"]]
    assert any("4.38" in m for m in messages) and any("12.35 %" in m for m in messages)
    assert not [m for m in messages if LONG_DECIMAL.search(m)]
    assert not LONG_DECIMAL.search(text)


def test_rule_messages_round_on_records_of_every_kind() -> None:
    """Across thousands of mixed records, no rule message carries an unrounded number (schema messages quote the
    record's own value as written, so they are left out)."""
    reports = [r for d in mixed(1500) for r in ENGINE.reports_for(d, None, "t")]
    messages = [f.message for r in reports for f in r.findings if f.rule != "schema"]
    assert len(messages) > 500
    assert not [m for m in messages if LONG_DECIMAL.search(m)]
