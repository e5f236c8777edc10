"""The Kadi extras parser: the shipped template, typed values, units, nesting, wrong types."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from eln_msc_plugin import validate_document
from eln_msc_plugin.kadi import KADI_RECORD
from eln_msc_plugin.kadi.extras import has_batch_extras, record_from_kadi
from tests.support.kadi import TEMPLATE, batch_extras, extra, fill_template
from tests.support.records import BASE, record


def kadi_record(extras: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": 7, "identifier": "exp-2026-0142", "type": "msc_batch", "extras": extras}


def canonical_without_ids(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("record_id", "revision")}


def _dates_as_kadi(data: Any) -> Any:
    """Kadi returns date extras as ISO datetimes; the canonical record keeps what Kadi gives."""
    return data


def test_template_filled_with_a_record_reads_back_as_that_record() -> None:
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    extras = fill_template(template["data"]["extras"], BASE)
    parsed = record_from_kadi(kadi_record(extras), "extras", 12)
    expected = canonical_without_ids(copy.deepcopy(BASE))
    got = canonical_without_ids(parsed.data)
    assert set(got) == set(expected)
    assert got["passages"][2]["cells_harvested"] == 3800000
    assert got["passages"][0]["seeded_at"] == "2026-01-02T00:00:00+00:00"
    assert parsed.data["record_id"] == "exp-2026-0142" and parsed.data["revision"] == "12"
    [report] = validate_document(kadi_record(extras) | {"_revision": 12}, KADI_RECORD)
    assert report.verdict == "pass", [f.message for f in report.findings]


def test_template_is_a_kadi_record_template() -> None:
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    assert template["type"] == "record" and template["data"]["type"] == "msc_batch"
    keys = {e["key"] for e in template["data"]["extras"]}
    assert {"lot_id", "intended_use", "passages", "production_passage", "senescence", "cryo_events"} <= keys


@pytest.mark.parametrize(
    "unit, value, cells",
    [("1e6 cells", 3.6, 3600000), ("x10^6 cells", 3.6, 3600000), ("M cells", 3.6, 3600000),
     ("cells", 3600000, 3600000), ("1e3 cells", 3600, 3600000)],
    ids=["1e6", "x10^6", "M", "cells", "1e3"],
)
def test_count_units_are_normalised_and_kept(unit: str, value: float, cells: int) -> None:
    data = record()
    extras = batch_extras(data)
    passages = next(e for e in extras if e["key"] == "passages")
    last = passages["value"][3]["value"]
    harvested = next(e for e in last if e["key"] == "cells_harvested")
    harvested.update(value=value, unit=unit)
    parsed = record_from_kadi(kadi_record(extras), "extras")
    assert parsed.data["passages"][3]["cells_harvested"] == cells
    assert parsed.units == {"/passages/3/cells_harvested": unit}


def test_unknown_count_unit_is_a_finding_at_its_path() -> None:
    extras = batch_extras(record())
    passages = next(e for e in extras if e["key"] == "passages")
    seeded = next(e for e in passages["value"][1]["value"] if e["key"] == "cells_seeded")
    seeded.update(value=0.875, unit="flasks")
    [report] = validate_document(kadi_record(extras), KADI_RECORD)
    assert report.verdict == "fail"
    [finding] = [f for f in report.findings if f.path == "/passages/1/cells_seeded" and f.rule == "schema"]
    assert finding.rule == "schema" and "flasks" in finding.message


def test_wrong_types_are_schema_failures_not_crashes() -> None:
    extras = [e for e in batch_extras(record()) if e["key"] != "production_passage"]
    extras.append(extra("production_passage", "four"))
    extras.append(extra("reported_cumulative_pdl", True))
    [report] = validate_document(kadi_record(extras), KADI_RECORD)
    assert report.verdict == "fail"
    paths = {f.path for f in report.findings if f.rule == "schema" and f.severity == "fail"}
    assert {"/production_passage", "/reported_cumulative_pdl"} <= paths


def test_annotation_extra_is_not_part_of_the_record() -> None:
    extras = batch_extras(record()) + [{"type": "dict", "key": "msc_qc", "value": [extra("verdict", "fail")]}]
    parsed = record_from_kadi(kadi_record(extras), "extras")
    assert "msc_qc" not in parsed.data


def test_duplicate_extra_keys_are_reported() -> None:
    extras = batch_extras(record()) + [extra("lot_id", "OTHER")]
    [report] = validate_document(kadi_record(extras), KADI_RECORD)
    assert any(f.path == "/lot_id" and "twice" in f.message for f in report.findings)


def test_batch_extras_detection() -> None:
    assert has_batch_extras(batch_extras(record()))
    assert not has_batch_extras([extra("note", "hello")])
    assert not has_batch_extras("not a list")
