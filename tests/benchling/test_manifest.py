"""The shipped Benchling App manifest: Benchling's published manifest schema, and the same names as the
mapping and the receiver (subscriptions, canvas feature, configured fields)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import yaml
from benchling_sdk.apps.helpers.manifest_helpers import manifest_from_file
from openapi_schema_validator import OAS30Validator

from eln_msc_plugin.benchling.receiver import JUDGED
from tests.support import benchling_spec
from tests.support.benchling_world import example_mapping

MANIFEST = Path(str(files("eln_msc_plugin.benchling") / "manifest.yaml"))


def _manifest() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_manifest_fits_benchlings_published_schema() -> None:
    document = benchling_spec.load_document("v2/beta/openapi.yaml")
    benchling_spec.close_all_of(document)
    benchling_spec.allow_null_in_one_of(document)
    schema = dict(document["components"]["schemas"]["BenchlingAppManifest"], components=document["components"])
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in OAS30Validator(schema).iter_errors(_manifest())]
    assert errors == []


def test_the_sdk_reads_the_manifest() -> None:
    manifest = manifest_from_file(MANIFEST)
    assert manifest.manifest_version == 1 and manifest.info.name == "MSC batch QC"


def test_subscriptions_are_what_the_receiver_judges() -> None:
    subscribed = {m["type"] for m in _manifest()["subscriptions"]["messages"]}
    assert subscribed <= set(JUDGED) and {"v2.entry.updated.fields", "v3.customEntity.updated"} <= subscribed


def test_configuration_names_the_mapped_fields() -> None:
    mapping, manifest = example_mapping(), _manifest()
    assert mapping["app"]["canvas_feature_id"] in {f["id"] for f in manifest["features"] if f["type"] == "CANVAS"}
    configured = {item["name"]: {f["name"] for f in item.get("fieldDefinitions", [])}
                  for item in manifest["configuration"]}
    batch = set(mapping["batch"]["fields"].values()) | set(mapping["annotation"].values())
    assert batch | {mapping["batch"]["entry_link_field"]} == configured["MSC batch schema"]
    for key, item in (("passages", "Passage results schema"), ("senescence", "Senescence results schema")):
        section = mapping[key]
        names = set(section["fields"].values()) | {section["batch_field"], section.get("assay_field")} - {None}
        assert names == configured[item]


def test_the_schema_check_can_fail() -> None:
    document = benchling_spec.load_document("v2/beta/openapi.yaml")
    benchling_spec.close_all_of(document)
    schema = dict(document["components"]["schemas"]["BenchlingAppManifest"], components=document["components"])
    broken = _manifest()
    broken["features"][0]["type"] = "WIDGET"
    broken["subscriptions"]["messages"].append({"type": "v2.entry.deleted"})
    errors = list(OAS30Validator(schema).iter_errors(broken))
    assert len(errors) == 2
