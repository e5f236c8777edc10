"""The `schema` rule: a document that is not a batch record says so first and alone; messages quote JSON."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from eln_msc_plugin import validate_document
from eln_msc_plugin.output import WRITERS
from tests.support.records import as_json, record, set_path
from tests.support.rulecheck import ENGINE

NOT_A_RECORD = [
    ("hello", {"hello": 1}, "", 'This document is not an MSC batch record: it has no "format"'),
    ("another-format", {"format": "other", "record_id": "x"}, "/format",
     'This document is not an MSC batch record: it has "format": "other"'),
    ("format-null", {"format": None}, "/format", 'it has "format": null,'),
    ("a-whole-record-without-format", record(format=None), "", 'it has no "format"'),
    ("a-whole-record-of-another-format", record(format="msc-batch-record-v2"), "/format",
     'it has "format": "msc-batch-record-v2"'),
]


def _report(data: Any) -> Any:
    (report,) = validate_document(as_json(data), engine=ENGINE)
    return report


@pytest.mark.parametrize(("name", "data", "path", "says"), NOT_A_RECORD, ids=[c[0] for c in NOT_A_RECORD])
def test_a_document_that_is_not_a_batch_record(name: str, data: dict, path: str, says: str) -> None:
    report = _report(data)
    assert report.verdict == "fail"
    first = report.findings[0]
    assert (first.rule, first.severity, first.path) == ("schema", "fail", path)
    assert says in first.message and "msc-batch-record" in first.message
    assert first.expected == {"const": "msc-batch-record"}
    assert {f.rule for f in report.findings} == {"schema"}  # no assay, PDL, ... echo of it


def test_hello_reads_well_on_the_command_line() -> None:
    out = io_text([{"hello": 1}])
    lines = out.splitlines()
    assert lines[0].startswith("FAIL ") and "This document is not an MSC batch record" in lines[1]
    assert "No SA-β-gal" not in out and "more (use --format json" not in out


def io_text(data: list[Any]) -> str:
    import io

    out = io.StringIO()
    WRITERS["text"](out, ENGINE.ruleset).write_all(r for d in data for r in validate_document(as_json(d),
                                                                                              engine=ENGINE))
    return out.getvalue()


def test_a_batch_record_still_gets_every_rule_and_what_is_wrong_with_it_first() -> None:
    report = _report(set_path(record(production_passage=5, senescence=None), "/passages/1/viability_percent", 103))
    assert {"passage.window", "passage.class", "assay.required"} <= {f.rule for f in report.findings}
    assert report.findings[0].rule == "schema"  # before the assay and passage failures


MESSAGES = [
    ("null-record", [None], "", 'the record: null is not of type "object".'),
    ("list-record", [[1, 2]], "", 'the record: [1, 2] is not of type "object".'),
    ("null-passages", record(passages=None) | {"passages": None}, "/passages",
     '/passages: null is not of type "array".'),
    ("true-number", set_path(record(), "/passages/0/number", True), "/passages/0/number",
     '/passages/0/number: true is not of type "integer".'),
    ("string-count", set_path(record(), "/passages/0/cells_seeded", "875000"), "/passages/0/cells_seeded",
     '/passages/0/cells_seeded: "875000" is not of type '),
    ("object-for-a-string", set_path(record(), "/lot_id", {"id": None}), "/lot_id",
     '/lot_id: {"id": null} is not of type "string".'),
    ("missing-members", record(lot_id=None, intended_use=None), "",
     'the record: "lot_id" and "intended_use" are missing (the batch-record format requires them).'),
    ("enum", record(intended_use="clinical"), "/intended_use",
     '/intended_use: "clinical" is not one of the allowed values "production", "banking" or "research".'),
    ("maximum", set_path(record(), "/passages/1/viability_percent", 103), "/passages/1/viability_percent",
     "/passages/1/viability_percent: 103 is greater than the maximum of 100."),
    ("pattern", set_path(record(), "/passages/0/seeded_at", "yesterday"), "/passages/0/seeded_at",
     '/passages/0/seeded_at: "yesterday" does not match the pattern "^[0-9]{4}-'),
    ("empty-string", record(record_id=""), "/record_id", '/record_id: "" is empty.'),
]


@pytest.mark.parametrize(("name", "data", "path", "message"), MESSAGES, ids=[m[0] for m in MESSAGES])
def test_schema_messages_quote_json_not_python(name: str, data: Any, path: str, message: str) -> None:
    found = [f for f in _report(data).findings if f.rule == "schema" and f.severity == "fail"]
    assert found, name
    f = found[0]
    assert f.path == path and f.message.startswith(message)
    # no Python reprs: None/True/False and single-quoted strings are what JSON writes as null/true/false and "…"
    assert not re.search(r"\b(None|True|False)\b|'", f.message), f.message


def test_a_large_value_is_quoted_as_the_head_of_its_json() -> None:
    data = set_path(record(), "/lot_id", {f"k{i}": [None, True] for i in range(100)})
    (f,) = [f for f in _report(data).findings if f.path == "/lot_id"]
    head = f.message.removeprefix("/lot_id: ").split(" is not of type")[0]
    assert head.endswith("…") and len(head) == 201
    assert json.dumps(data["lot_id"]).startswith(head[:-1])
