"""The XML parser and the XSD: roots, namespaces, line numbers, duplicates, JSON/XML agreement."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from eln_msc_plugin import schema
from eln_msc_plugin.formats import xml_convert, xml_format
from eln_msc_plugin.model import BatchRecord, Document, Unreadable
from eln_msc_plugin.pipeline import Engine
from tests.support.records import BASE, as_json, record, set_path
from tests.support.xmlgen import NAMESPACE, many_to_xml, to_xml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def parse(payload: bytes | str, media_type: str | None = None) -> list[BatchRecord | Unreadable]:
    items = xml_format.eln_msc_parse_document(document=Document.from_payload(payload, media_type, "t"))
    assert items is not None
    return list(items)


def reports(engine: Engine, payload: bytes | str, media_type: str | None = None) -> list:
    return list(engine.reports(Document.from_payload(payload, media_type, "t")))


@pytest.fixture(scope="module")
def xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(schema.schema_text(schema.XSD_FILE)))


def test_single_record_reads_as_the_canonical_record() -> None:
    (item,) = parse(to_xml(BASE))
    assert isinstance(item, BatchRecord) and item.data == BASE and item.media_type == "application/xml"


def test_batch_records_root_gives_every_record(engine: Engine) -> None:
    records = [record(record_id=f"R-{i}") for i in range(5)]
    items = parse(many_to_xml(records))
    assert [i.data for i in items] == records and [i.index for i in items] == list(range(5))
    assert [r.verdict for r in reports(engine, many_to_xml(records))] == ["pass"] * 5


def test_empty_batch_records_root_is_an_error() -> None:
    (item,) = parse(many_to_xml([]))
    assert isinstance(item, Unreadable) and "no <batch_record>" in item.findings[0].message


@pytest.mark.parametrize("namespace,verdict", [(NAMESPACE, "pass"), (None, "pass"), ("urn:other:1", "error")],
                         ids=["right-namespace", "no-namespace", "wrong-namespace"])
def test_namespaces(engine: Engine, namespace: str | None, verdict: str) -> None:
    assert [r.verdict for r in reports(engine, to_xml(BASE, namespace=namespace))] == [verdict]
    assert [r.verdict for r in reports(engine, many_to_xml([BASE], namespace=namespace))] == [verdict]


def test_a_member_in_a_foreign_namespace_is_a_finding(engine: Engine) -> None:
    xml = to_xml(BASE).replace(b"<donor_id>", b'<x:donor_id xmlns:x="urn:other">').replace(
        b"</donor_id>", b"</x:donor_id>")
    (report,) = reports(engine, xml)
    assert report.verdict == "fail"
    assert any("not in the batch-record namespace" in f.message for f in report.findings)


def test_findings_carry_the_xml_line(engine: Engine) -> None:
    data = set_path(record(), "/passages/2/viability_percent", 130)
    xml = to_xml(data).replace(b"><", b">\n<")
    lines = xml.decode().splitlines()
    (report,) = reports(engine, xml)
    (finding,) = [f for f in report.findings if f.path == "/passages/2/viability_percent"]
    assert lines[finding.line - 1] == "<viability_percent>130</viability_percent>"
    assert finding.line == 1 + [i for i, line in enumerate(lines) if "viability_percent" in line][2]


def test_records_in_a_batch_carry_their_own_lines() -> None:
    items = parse(many_to_xml([BASE, BASE, BASE]))
    assert [i.line for i in items] == [3, 4, 5]
    assert items[1].line_of("/passages/3/cells_seeded") == 4


def test_duplicate_element_is_a_finding_with_its_line(engine: Engine) -> None:
    xml = to_xml(BASE).replace(b"<lot_id>", b"<lot_id>OTHER</lot_id>\n<lot_id>", 1)
    (report,) = reports(engine, xml)
    assert report.verdict == "fail"
    (finding,) = [f for f in report.findings if "appears twice" in f.message]
    assert finding.path == "/lot_id" and finding.line == 3


def test_format_version_2_is_refused_with_error(engine: Engine) -> None:
    xml = many_to_xml([record(format_version="2.0"), BASE])
    assert [r.verdict for r in reports(engine, xml)] == ["error", "pass"]
    finding = reports(engine, xml)[0].findings[0]
    assert finding.path == "/format_version" and finding.line == 3


def test_missing_format_version_is_a_schema_failure(engine: Engine) -> None:
    (report,) = reports(engine, to_xml(record(format_version=None)))
    assert report.verdict == "fail" and any("format_version" in f.message for f in report.findings)


@pytest.mark.parametrize("mutate", [
    lambda x: x.replace(b"<bank>", b"<bank>WCB", 1),
    lambda x: x.replace(b"<record_id>EXP-2026-0142", b"<record_id><b>EXP</b>", 1),
    lambda x: x.replace(b"<passage>", b"<step>", 1).replace(b"</passage>", b"</step>", 1),
    lambda x: x.replace(b"<number>1</number>", b"<number>one</number>", 1),
    lambda x: x.replace(b"<viability_percent>95.1<", b"<viability_percent>NaN<", 1),
    lambda x: x.replace(b"<vessel_area_cm2>175<", b"<vessel_area_cm2>1e400<", 1),
], ids=["text-in-object", "element-in-value", "wrong-item-name", "not-a-number", "nan", "overflow"])
def test_misshapen_members_fail_where_they_are(engine: Engine, mutate) -> None:  # type: ignore[no-untyped-def]
    (report,) = reports(engine, mutate(to_xml(BASE)))
    assert report.verdict == "fail"
    assert all(f.line is not None for f in report.findings if f.severity == "fail")
    assert any(f.path.startswith(("/bank", "/record_id", "/passages/0")) for f in report.findings)


def test_booleans() -> None:
    data = set_path(record(), "/passages/0/thawed", True)
    assert parse(to_xml(data))[0].data["passages"][0]["thawed"] is True
    xml = to_xml(data).replace(b"<thawed>true<", b"<thawed>0<")
    assert parse(xml)[0].data["passages"][0]["thawed"] is False


def _variants() -> dict[str, dict]:
    bad_number = set_path(record(), "/passages/1/number", "two")
    unknown = record(lab_note="kept")
    wrong = set_path(record(), "/senescence/beta_gal/percent_positive", 130)
    return {"valid": record(), "unknown-member": unknown, "out-of-range": wrong, "not-an-integer": bad_number,
            "missing-lot": record(lot_id=None), "research": record(intended_use="research"),
            "thawed": set_path(record(), "/passages/0/thawed", False)}


@pytest.mark.parametrize("name", _variants().keys(), ids=_variants().keys())
def test_json_and_xml_of_the_same_record_agree(engine: Engine, name: str) -> None:
    data = _variants()[name]
    (from_json,) = reports(engine, as_json(data))
    (from_xml,) = reports(engine, to_xml(data))
    assert from_xml.verdict == from_json.verdict
    assert [(f.rule, f.severity, f.path) for f in from_xml.findings] == \
        [(f.rule, f.severity, f.path) for f in from_json.findings]
    if name != "not-an-integer":
        assert parse(to_xml(data))[0].data == data


def test_json_and_xml_examples_agree(engine: Engine) -> None:
    with open(EXAMPLES / "production-p4-pass.json", "rb") as a, open(EXAMPLES / "production-p4-pass.xml", "rb") as b:
        (ja,), (xb,) = reports(engine, a.read()), reports(engine, b.read())
    assert (ja.verdict, ja.record_id, ja.metrics) == (xb.verdict, xb.record_id, xb.metrics)


# --- the XSD -----------------------------------------------------------------------------------

XML_EXAMPLES = sorted(p.name for p in EXAMPLES.glob("*.xml"))


@pytest.mark.parametrize("name", XML_EXAMPLES, ids=XML_EXAMPLES)
def test_every_xml_example_is_valid_against_the_xsd(xsd: etree.XMLSchema, name: str) -> None:
    document = etree.parse(str(EXAMPLES / name))
    assert xsd.validate(document), xsd.error_log


def test_generated_documents_are_valid_against_the_xsd(xsd: etree.XMLSchema) -> None:
    units = {"/passages/0/cells_seeded": "M cells", "/passages/1/cells_harvested": "x10^6 cells"}
    assert xsd.validate(etree.fromstring(to_xml(BASE, units=units))), xsd.error_log
    assert xsd.validate(etree.fromstring(many_to_xml([BASE, record(intended_use="banking")]))), xsd.error_log


INVALID = {
    "missing-lot": to_xml(record(lot_id=None)),
    "percent-over-100": to_xml(set_path(record(), "/passages/0/viability_percent", 101)),
    "passage-not-integer": to_xml(set_path(record(), "/production_passage", 4.5)),
    "bad-enum": to_xml(record(intended_use="clinical")),
    "bad-date": to_xml(record(released_at="05/03/2026")),
    "version-2": to_xml(record(format_version="2.0")),
    "no-version": to_xml(record(format_version=None)),
    "unknown-unit": to_xml(BASE, units={"/passages/0/cells_seeded": "cells/mL"}),
    "infinite": to_xml(BASE).replace(b"<vessel_area_cm2>175<", b"<vessel_area_cm2>INF<", 1),
    "duplicate": to_xml(BASE).replace(b"<lot_id>", b"<lot_id>X</lot_id><lot_id>", 1),
    "no-namespace": to_xml(BASE, namespace=None),
    "wrong-item": to_xml(BASE).replace(b"<gene>", b"<g>", 1).replace(b"</gene>", b"</g>", 1),
}


@pytest.mark.parametrize("name", INVALID.keys(), ids=INVALID.keys())
def test_the_xsd_rejects_invalid_documents(xsd: etree.XMLSchema, name: str) -> None:
    assert not xsd.validate(etree.fromstring(INVALID[name]))


def test_the_xsd_has_every_member_of_the_json_schema() -> None:
    """Same members as the JSON Schema: every property name is an element name in the XSD."""
    xsd = etree.fromstring(schema.schema_text(schema.XSD_FILE))
    names = {e.get("name") for e in xsd.iter("{http://www.w3.org/2001/XMLSchema}element")}
    members: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            members.update(node.get("properties", {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(copy.deepcopy(schema.load_schema()))
    assert members - {"format_version"} <= names
    assert {"batch_record", "batch_records", "passage", "cryo_event", "vial_id", "gene"} <= names


def test_the_xsd_namespace_and_form() -> None:
    xsd = etree.fromstring(schema.schema_text(schema.XSD_FILE))
    assert xsd.get("targetNamespace") == NAMESPACE and xsd.get("elementFormDefault") == "qualified"


EXPECTED = {"production-p4-pass.xml": "pass", "thawed-from-wcb.xml": "pass", "production-p6-fails.xml": "fail"}
NEEDS_RULES = {"production-p6-fails.xml": {"passage.window", "pdl.limit"}}


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_xml_examples_give_the_verdicts_of_the_readme(engine: Engine, name: str) -> None:
    (report,) = reports(engine, (EXAMPLES / name).read_bytes())
    missing = NEEDS_RULES.get(name, set()) - {r.id for r in engine.ruleset.rules}
    if missing:
        assert report.verdict == "pass"
        pytest.skip(f"rules {sorted(missing)} not registered yet")
    assert report.verdict == EXPECTED[name]
    if name == "production-p6-fails.xml":
        assert {"passage.window", "pdl.limit"} <= {f.rule for f in report.findings if f.severity == "fail"}


def test_thawed_example_keeps_the_units_it_saw() -> None:
    (item,) = parse((EXAMPLES / "thawed-from-wcb.xml").read_bytes())
    assert isinstance(item, BatchRecord)
    assert item.units["/passages/0/cells_seeded"] == "1e6 cells"
    assert item.data["passages"][0]["cells_seeded"] == 700_000


class _PlainConverter(xml_convert._Converter):
    """The reference: every member through `convert`, without the inline handling of leaves."""

    def members(self, elem: Any, children: list[Any], plan: Any, path: str) -> dict[str, Any]:
        props = plan.props if plan is not None else {}
        obj: dict[str, Any] = {}
        for child in children:
            name = xml_convert.local(child.tag)
            if name is None:
                self.problem(path, f"element {xml_convert._shown(child.tag)} is not in the batch-record namespace",
                             child.sourceline)
            elif name in obj:
                self.problem(f"{path}/{name}", f"element <{name}> appears twice (which value is meant is ambiguous)",
                             child.sourceline)
            else:
                obj[name] = self.convert(child, props.get(name), f"{path}/{name}")
        return obj


def test_leaves_read_inline_equal_the_plain_conversion(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.mixed import mixed

    records = mixed(600, seed=5)
    extra = (many_to_xml([BASE]).replace(b"<lot_id>", b'<cells_seeded unit="M cells">2</cells_seeded><lot_id>')
             .replace(b"<record_id>", b"<record_id>\n  ").replace(b"</production_passage>", b" </production_passage>"))
    documents = [many_to_xml(records[i:i + 100]) for i in range(0, 600, 100)] + [extra]
    fast = [[_as_tuple(item) for item in parse(doc)] for doc in documents]
    monkeypatch.setattr(xml_convert, "_Converter", _PlainConverter)
    plain = [[_as_tuple(item) for item in parse(doc)] for doc in documents]
    assert fast == plain
    assert sum(len(doc) for doc in fast) == 601


def _as_tuple(item: BatchRecord | Unreadable) -> tuple:
    if isinstance(item, Unreadable):
        return ("unreadable", item.index, item.findings)
    return (json.dumps(item.data, sort_keys=False, default=repr), item.lines, item.units, item.read_findings, item.line)
