"""The eLabFTW extra-fields parser and the shipped template: names, strings to numbers, units, lists, groups."""

from __future__ import annotations

import copy
import json
from typing import Any

import pluggy
import pytest

from eln_msc_plugin.elabftw import ENTRY_MEDIA_TYPE
from eln_msc_plugin.elabftw import plugin as elabftw_plugin
from eln_msc_plugin.elabftw.fields import convert, has_batch_fields, member_types, metadata_of, record_from_entry
from eln_msc_plugin.model import BatchRecord, Unreadable
from eln_msc_plugin.pipeline import Engine
from tests.support.elabftw import TEMPLATE, fields_from_record, flatten
from tests.support.records import BASE, record


@pytest.fixture
def engine(pm: pluggy.PluginManager) -> Engine:
    """An engine whose plugins include the eLabFTW plugin (installed through its entry point)."""
    pm.register(elabftw_plugin)
    return Engine(pm)


def entry(fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": 42, "type": "experiments", "metadata": json.dumps({"extra_fields": fields}), **extra}


def parsed(fields: dict[str, Any]) -> BatchRecord:
    found = record_from_entry(entry(fields), "extra fields", "2026-08-01 10:00:00")
    assert isinstance(found, BatchRecord)
    return found


def members(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("record_id", "revision")}


@pytest.mark.parametrize("unit", [None, "1e6 cells", "1e3 cells"], ids=["cells", "1e6", "1e3"])
def test_a_record_written_as_fields_reads_back_as_that_record(unit: str | None) -> None:
    got = parsed(fields_from_record(BASE, unit))
    assert members(got.data) == members(BASE)
    assert got.data["record_id"] == "experiments/42" and got.data["revision"] == "2026-08-01 10:00:00"
    assert not got.read_findings
    assert (got.units.get("/passages/2/cells_harvested") == unit) if unit else not got.units


def test_the_engine_judges_an_entry_through_the_parser(engine: Engine) -> None:
    [report] = engine.reports_for(entry(fields_from_record(BASE, "1e6 cells")), ENTRY_MEDIA_TYPE, "extra fields")
    assert report.verdict == "pass", [f.message for f in report.findings]
    bad = record(production_passage=6, passages=BASE["passages"])
    [report] = engine.reports_for(entry(fields_from_record(bad)), ENTRY_MEDIA_TYPE, "extra fields")
    assert report.verdict == "fail" and "passage.window" in {f.rule for f in report.findings}


@pytest.mark.parametrize(
    "value, kind, expected",
    [("12", "integer", 12), ("12.0", "integer", 12), ("12.5", "integer", 12.5), ("4,5", "number", 4.5),
     ("875000", "number", 875000), ("6.0", "number", 6.0), ("twelve", "integer", "twelve"),
     ("on", "boolean", True), ("", "boolean", False), ("perhaps", "boolean", "perhaps"),
     (["PPIA", "YWHAZ"], "array", ["PPIA", "YWHAZ"]), ("PPIA, YWHAZ", "array", ["PPIA", "YWHAZ"]),
     (7, "string", "7"), (["a", "b"], "string", ["a", "b"])],
    ids=["int", "int-dot-zero", "int-fraction-kept", "decimal-comma", "count", "float", "word-kept", "checkbox-on",
         "checkbox-off", "checkbox-other", "multi-value", "comma-list", "number-as-text", "list-where-one"],
)
def test_values_are_converted_to_what_the_schema_wants(value: Any, kind: str, expected: Any) -> None:
    assert convert(value, kind) == expected and type(convert(value, kind)) is type(expected)


def test_blank_template_items_are_absent_and_items_are_ordered_by_their_number() -> None:
    fields = fields_from_record(BASE)
    for name in [n for n in fields if n.startswith("passages.4.")]:
        fields[name.replace("passages.4.", "passages.6.")] = fields.pop(name)  # a gap: item 6, no item 4 or 5
    fields["passages.5.number"] = {"type": "number", "value": ""}
    fields["passages.5.seeded_at"] = {"type": "date", "value": "  "}
    got = parsed(fields)
    assert [p["number"] for p in got.data["passages"]] == [1, 2, 3, 4]


def test_the_labs_own_fields_and_the_annotation_are_not_part_of_the_record() -> None:
    fields = fields_from_record(BASE)
    fields["Incubator"] = {"type": "text", "value": "B2"}
    fields["msc_qc"] = {"type": "text", "value": json.dumps({"verdict": "pass"})}
    assert members(parsed(fields).data) == members(BASE)


def test_an_unknown_member_of_a_known_object_is_kept_for_the_schema_rule(engine: Engine) -> None:
    fields = fields_from_record(BASE)
    fields["passages.2.colour"] = {"type": "text", "value": "pink"}
    assert parsed(fields).data["passages"][1]["colour"] == "pink"
    [report] = engine.reports_for(entry(fields), ENTRY_MEDIA_TYPE, "extra fields")
    assert any(f.rule == "schema" and f.severity == "info" and "colour" in f.path for f in report.findings)


@pytest.mark.parametrize("name", ["passages.x.number", "passages.0.number", "passages.number", "bank..tier"],
                         ids=["letter", "zero", "no-number", "empty-part"])
def test_a_name_off_the_convention_is_a_clear_finding(name: str) -> None:
    fields = fields_from_record(BASE)
    fields[name] = {"type": "number", "value": "3"}
    findings = parsed(fields).read_findings
    assert len(findings) == 1 and findings[0].severity == "fail" and name in findings[0].message


def test_a_value_given_twice_is_a_finding() -> None:
    fields = fields_from_record(BASE)
    fields["senescence.p16.reference_genes.1"] = {"type": "text", "value": "GAPDH"}
    assert any("repeats" in f.message for f in parsed(fields).read_findings)


def test_a_count_in_an_unknown_unit_is_a_finding_and_kept_as_written(engine: Engine) -> None:
    fields = fields_from_record(BASE)
    fields["passages.2.cells_harvested"].update(value="3.9", unit="cells/mL")
    got = parsed(fields)
    assert got.data["passages"][1]["cells_harvested"] == "3.9"
    assert [f.path for f in got.read_findings] == ["/passages/1/cells_harvested"]
    [report] = engine.reports_for(entry(fields), ENTRY_MEDIA_TYPE, "extra fields")
    assert report.verdict == "fail"


@pytest.mark.parametrize(
    "metadata, problem",
    [('{"extra_fields": {"lot_id": ', "not valid JSON"), ("[1, 2]", "not a JSON object")],
    ids=["truncated", "array"],
)
def test_malformed_metadata_makes_the_entry_unreadable_with_a_reason(metadata: str, problem: str) -> None:
    found = record_from_entry({"id": 3, "type": "items", "metadata": metadata}, "extra fields")
    assert isinstance(found, Unreadable) and problem in found.findings[0].message
    assert found.record_id == "items/3"


def test_metadata_decoded_is_used_when_the_text_is_missing() -> None:
    decoded = {"extra_fields": fields_from_record(BASE)}
    assert metadata_of({"metadata_decoded": decoded}) == (decoded, None)
    assert metadata_of({"metadata": json.dumps(decoded), "metadata_decoded": None}) == (decoded, None)
    assert metadata_of({"metadata": None}) == ({}, None)


def test_batch_fields_are_recognised_once_one_holds_a_value() -> None:
    assert has_batch_fields({"extra_fields": {"passages.1.number": {"value": "1"}}})
    assert not has_batch_fields({"extra_fields": {"Incubator": {"value": "B2"}}})
    assert not has_batch_fields(template()["metadata"])  # made from the template, nothing entered yet
    assert not has_batch_fields(None)


# --- the shipped template -------------------------------------------------------------------------------

def template() -> dict[str, Any]:
    return json.loads(TEMPLATE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_every_template_field_names_a_v1_member() -> None:
    types = member_types()
    for name in template()["metadata"]["extra_fields"]:
        pattern = tuple("*" if part.isdigit() else part for part in name.split("."))
        assert pattern in types, name


def test_template_fields_use_elabftws_own_properties() -> None:
    body = template()
    fields, groups = body["metadata"]["extra_fields"], body["metadata"]["elabftw"]["extra_fields_groups"]
    group_ids = {g["id"] for g in groups}
    assert {"Lot", "Passage 1", "Passage 6", "SA-β-gal", "p16", "p21"} <= {g["name"] for g in groups}
    assert all(f["group_id"] in group_ids for f in fields.values())
    assert {n for n, f in fields.items() if f.get("required")} >= {"lot_id", "intended_use", "production_passage"}
    assert fields["passages.1.cells_seeded"]["units"] == ["cells", "1e3 cells", "1e6 cells", "1e9 cells"]
    assert fields["intended_use"]["options"] == ["production", "banking", "research"]
    assert sorted(f["position"] for f in fields.values()) == list(range(1, len(fields) + 1))


def test_template_groups_follow_the_naming_convention() -> None:
    body = template()
    names = {g["id"]: g["name"] for g in body["metadata"]["elabftw"]["extra_fields_groups"]}
    for name, field in body["metadata"]["extra_fields"].items():
        if name.startswith("passages."):
            assert names[field["group_id"]] == f"Passage {name.split('.')[1]}", name


def test_template_filled_in_reads_back_as_the_record() -> None:
    body = template()
    fields = copy.deepcopy(body["metadata"]["extra_fields"])
    filled = flatten({k: v for k, v in BASE.items() if k not in ("format", "format_version", "record_id",
                                                                     "revision")})
    for name, value in filled.items():
        if name not in fields:
            fields[name] = {"type": "text"}  # the template has 2 reference genes fields' worth, not every member
        field = fields[name]
        if name.rsplit(".", 1)[-1] in ("cells_seeded", "cells_harvested"):
            value = value / 1e6  # the template's default unit is 1e6 cells
        field["value"] = value if isinstance(value, list) else ("on" if value is True else str(value))
    got = parsed(fields)
    assert members(got.data) == members(BASE)
    assert not got.read_findings


def test_template_is_the_body_eLabFTW_takes_for_a_template(engine: Engine) -> None:
    from openapi_core.contrib.requests import RequestsOpenAPIRequest
    from requests import Request

    from tests.support.fake_elabftw import spec

    openapi = spec.load("https://eln.example.org/api/v2")
    for path in ("experiments_templates", "items_types"):
        request = Request("POST", f"https://eln.example.org/api/v2/{path}", json=template(),
                          headers={"Authorization": "key"})
        assert list(openapi.iter_request_errors(RequestsOpenAPIRequest(request))) == [], path
