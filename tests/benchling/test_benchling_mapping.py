"""The Benchling mapping file and the parser that turns a tenant's batch into a v1 batch record."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from eln_msc_plugin.benchling.mapping import Mapping, load_mapping, mapping_from_dict
from eln_msc_plugin.benchling.native import BENCHLING_BATCH, BenchlingBatch
from eln_msc_plugin.errors import ConfigError
from eln_msc_plugin.pipeline import validate_document
from tests.support.benchling_world import EXAMPLE_MAPPING, add_batch, example_mapping, seed_schemas
from tests.support.fake_benchling import FakeBenchling
from tests.support.records import BASE


def test_example_mapping_loads() -> None:
    mapping = load_mapping(EXAMPLE_MAPPING)
    assert mapping.kind == "custom_entity" and mapping.fields["lot_id"] == "Lot"
    assert mapping.own_fields == {"QC verdict", "QC findings", "QC record", "QC report"}
    assert mapping.passages is not None and mapping.passages.fields["number"] == "passage_number"


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m["batch"]["fields"].update(lot_number="Lot"), "batch.fields: Additional properties"),
    (lambda m: m["batch"].pop("entry_link_field"), "batch.entry_link_field"),
    (lambda m: m["app"].update(app_id="12"), "app.app_id"),
    (lambda m: m["annotation"].pop("verdict_field"), "'verdict_field' is a required property"),
    (lambda m: m["senescence"].pop("assay_field"), "'assay_field' is a required property"),
], ids=["unknown-member", "entity-without-entry-link", "bad-app-id", "no-verdict-field", "no-assay-field"])
def test_mapping_refused_naming_the_key(change, message: str) -> None:  # type: ignore[no-untyped-def]
    raw = example_mapping()
    change(raw)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        mapping_from_dict(raw)


def test_mapping_file_that_is_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text("mapping_version = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="m.toml: not valid TOML"):
        load_mapping(path)


def _batch(fake: FakeBenchling, record: dict, mapping: Mapping | None = None) -> BenchlingBatch:  # type: ignore[type-arg]
    entity_id, _ = add_batch(fake, record)
    tenant, mapping = fake.tenant, mapping or load_mapping(EXAMPLE_MAPPING)
    linked = [r for r in tenant.results if r["fields"]["batch"]["value"] == entity_id]
    return BenchlingBatch(tenant.entities[entity_id], mapping,
                          [r for r in linked if r["schema"]["id"] == mapping.passages.schema_id],  # type: ignore[union-attr]
                          [r for r in linked if r["schema"]["id"] == mapping.senescence.schema_id])  # type: ignore[union-attr]


@pytest.fixture
def tenant() -> FakeBenchling:
    fake = FakeBenchling(validate=False)  # not started: the parser reads the tenant's objects directly
    seed_schemas(fake)
    return fake


def test_a_batch_judges_as_its_v1_record(tenant: FakeBenchling) -> None:
    (direct,) = validate_document(copy.deepcopy(BASE))
    (via,) = validate_document(_batch(tenant, BASE), BENCHLING_BATCH)
    assert via.verdict == direct.verdict == "pass"
    assert via.metrics == direct.metrics


def test_a_failing_batch_fails_the_same_way(tenant: FakeBenchling) -> None:
    record = copy.deepcopy(BASE)
    record["production_passage"] = 6
    (direct,) = validate_document(copy.deepcopy(record))
    (via,) = validate_document(_batch(tenant, record), BENCHLING_BATCH)
    assert via.verdict == direct.verdict == "fail"
    assert {f.rule for f in via.findings} == {f.rule for f in direct.findings}


def test_a_field_missing_from_the_schema_is_an_error_naming_it(tenant: FakeBenchling) -> None:
    raw = example_mapping()
    raw["batch"]["fields"]["donor_id"] = "Donor code"
    (report,) = validate_document(_batch(tenant, BASE, mapping_from_dict(raw)), BENCHLING_BATCH)
    assert report.verdict == "error"
    assert "no field 'Donor code' (mapping key batch.fields.donor_id)" in report.findings[0].message


def test_a_result_field_missing_is_an_error_naming_it(tenant: FakeBenchling) -> None:
    raw = example_mapping()
    raw["passages"]["fields"]["viability_percent"] = "viability"
    (report,) = validate_document(_batch(tenant, BASE, mapping_from_dict(raw)), BENCHLING_BATCH)
    assert report.verdict == "error"
    assert "'viability' (mapping key passages.fields.viability_percent)" in report.findings[0].message


def test_a_value_of_the_wrong_kind_fails_naming_the_field(tenant: FakeBenchling) -> None:
    batch = _batch(tenant, BASE)
    batch.resource["fields"]["Production passage"]["value"] = "four"
    (report,) = validate_document(batch, BENCHLING_BATCH)
    assert report.verdict == "fail"
    assert any("'Production passage' holds 'four', not a whole number" in f.message for f in report.findings)


def test_counts_with_a_unit_are_read_in_cells(tenant: FakeBenchling) -> None:
    batch = _batch(tenant, BASE)
    for row in batch.passages:
        spec = row["fields"]["cells_seeded"]
        spec["value"] = spec["value"] / 1e6
        spec["unit"] = {"symbol": "1e6 cells", "name": "million cells"}
    (via,) = validate_document(batch, BENCHLING_BATCH)
    (direct,) = validate_document(copy.deepcopy(BASE))
    assert via.verdict == direct.verdict and via.metrics == direct.metrics
