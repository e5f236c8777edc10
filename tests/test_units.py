"""Counts written with a unit: every spelling of the spec becomes cells, the unit seen is kept."""

from __future__ import annotations

import math

import pytest

from eln_msc_plugin.formats import common
from eln_msc_plugin.model import BatchRecord, Document
from eln_msc_plugin.pipeline import Engine
from tests.support.records import as_json, record
from tests.support.xmlgen import to_xml

# Every spelling the spec names, with the value 4.1 and the cells it means.
SPEC_UNITS = {"cells": 4.1, "1e3 cells": 4100, "1e6 cells": 4_100_000, "1e9 cells": 4_100_000_000,
              "x10^6 cells": 4_100_000, "10^6 cells": 4_100_000, "M cells": 4_100_000}


def with_unit(value: object, unit: object) -> dict:
    data = record()
    data["passages"][0]["cells_harvested"] = {"value": value, "unit": unit}
    return data


def read(payload: bytes) -> BatchRecord:
    engine_items = list(Engine().records(Document.from_payload(payload, None, "t")))
    (item,) = engine_items
    assert isinstance(item, BatchRecord)
    return item


@pytest.mark.parametrize("unit", SPEC_UNITS, ids=SPEC_UNITS.keys())
def test_every_spec_unit_is_normalised_to_cells_in_json(unit: str) -> None:
    item = read(as_json(with_unit(4.1, unit)))
    assert item.data["passages"][0]["cells_harvested"] == pytest.approx(SPEC_UNITS[unit])
    assert item.units == {"/passages/0/cells_harvested": unit}
    assert item.read_findings == []


@pytest.mark.parametrize("unit", SPEC_UNITS, ids=SPEC_UNITS.keys())
def test_every_spec_unit_is_normalised_to_cells_in_xml(unit: str) -> None:
    xml = to_xml(record()).replace(b"<cells_harvested>4100000<",
                                   f'<cells_harvested unit="{unit}">4.1<'.encode(), 1)
    item = read(xml)
    assert item.data["passages"][0]["cells_harvested"] == pytest.approx(SPEC_UNITS[unit])
    assert item.units == {"/passages/0/cells_harvested": unit}


def test_decimal_multiples_are_exact() -> None:
    # 4.1e6 is exactly 4100000 when read as one decimal number, not 4.1 * 1e6 = 4099999.9999999995
    assert common.count_in_cells(4.1, "1e6 cells") == 4_100_000
    assert common.count_in_cells("0.7", "1e6 cells") == 700_000
    assert isinstance(common.count_in_cells(0.7, "1e6 cells"), int)
    assert common.count_in_cells(" 3", "x10^6  cells") == 3_000_000
    assert common.count_in_cells(2, "×10^6 cells") == 2_000_000


@pytest.mark.parametrize("value,unit", [
    (4.1, "cells/mL"), (4.1, "million"), (4.1, None), (4.1, 6), ("four", "1e6 cells"), (True, "cells"),
    (float("nan"), "cells"), ("1e400", "1e6 cells"),
], ids=["per-ml", "million", "no-unit", "numeric-unit", "word-value", "bool-value", "nan", "overflow"])
def test_an_unusable_count_is_a_clear_finding(engine: Engine, value: object, unit: object) -> None:
    is_nan = isinstance(value, float) and math.isnan(value)
    payload = None if is_nan else as_json(with_unit(value, unit))
    if payload is None:  # NaN cannot be written as JSON: hand the decoded record over
        document = Document.from_payload(with_unit(value, unit), None, "t")
    else:
        document = Document.from_payload(payload, None, "t")
    (report,) = engine.reports(document)
    assert report.verdict == "fail"
    (finding,) = [f for f in report.findings if f.path == "/passages/0/cells_harvested"]
    assert "cannot be read" in finding.message and "1e3/1e6/1e9 cells" in finding.message
    if not is_nan:
        assert finding.observed == {"value": value, "unit": unit}


def test_an_unknown_unit_in_xml_is_a_finding_with_its_line(engine: Engine) -> None:
    xml = to_xml(record()).replace(b"<cells_harvested>4100000<", b'<cells_harvested unit="cells/mL">4.1<', 1)
    (report,) = engine.reports(Document.from_payload(xml, None, "t"))
    assert report.verdict == "fail"
    (finding,) = [f for f in report.findings if f.path == "/passages/0/cells_harvested"]
    assert "cells/mL" in finding.message and finding.line == 2


def test_a_unit_on_something_that_is_not_a_count_is_ignored() -> None:
    xml = to_xml(record()).replace(b"<vessel_area_cm2>175<", b'<vessel_area_cm2 unit="cm2">175<', 1)
    item = read(xml)
    assert item.data["passages"][0]["vessel_area_cm2"] == 175 and item.units == {}


def test_counts_without_unit_are_left_alone() -> None:
    item = read(as_json(record()))
    assert item.units == {} and item.data["passages"][0]["cells_seeded"] == 875000
