"""Which parser reads a document: the media type when given, else the first bytes."""

from __future__ import annotations

import pytest

from eln_msc_plugin.formats import common
from eln_msc_plugin.model import Document
from eln_msc_plugin.pipeline import Engine
from tests.support.records import BASE, as_json
from tests.support.xmlgen import many_to_xml, to_xml

LINES = as_json(BASE) + b"\n" + as_json(BASE) + b"\n"


def doc(payload: bytes, media_type: str | None = None) -> Document:
    return Document.from_payload(payload, media_type, "t")


@pytest.mark.parametrize("payload,media_type,expected", [
    (as_json(BASE), None, common.JSON),
    (b"  \n\t" + as_json(BASE), None, common.JSON),
    (b"[" + as_json(BASE) + b"]", None, common.JSON),
    (to_xml(BASE), None, common.XML),
    (b"\n  " + to_xml(BASE), None, common.XML),
    (common.BOM + as_json(BASE), None, common.JSON),
    (common.BOM + to_xml(BASE), None, common.XML),
    (LINES, "application/x-ndjson", common.JSONL),
    (LINES, "application/jsonl; charset=utf-8", common.JSONL),
    (as_json(BASE), "Application/JSON; charset=utf-8", common.JSON),
    (to_xml(BASE), "text/xml", common.XML),
    (to_xml(BASE), "application/vnd.eln-msc.batch-record+xml", common.XML),
    (as_json(BASE), "application/octet-stream", common.JSON),
    (to_xml(BASE), "text/plain", common.XML),
    (b"hello", None, None),
    (as_json(BASE), "image/png", None),
], ids=["json", "json-leading-space", "json-array", "xml", "xml-leading-space", "json-bom", "xml-bom",
        "ndjson", "jsonl-params", "json-case-params", "text-xml", "vendor-xml", "octet-stream-sniffed",
        "text-plain-sniffed", "not-a-record", "foreign-type"])
def test_media_type_of(payload: bytes, media_type: str | None, expected: str | None) -> None:
    assert common.media_type_of(doc(payload, media_type)) == expected


@pytest.mark.parametrize("payload,media_type,count", [
    (as_json(BASE), None, 1),
    (common.BOM + as_json(BASE), None, 1),
    (common.BOM + LINES, None, 2),
    (common.BOM + LINES, "application/x-ndjson", 2),
    (LINES, "application/x-ndjson", 2),
    (LINES, None, 2),
    (common.BOM + to_xml(BASE), None, 1),
    (many_to_xml([BASE, BASE]), None, 2),
    (many_to_xml([BASE, BASE]).decode().replace("UTF-8", "UTF-16").encode("utf-16"), None, 2),
], ids=["json", "json-bom", "jsonl-bom", "jsonl-bom-typed", "jsonl-typed", "jsonl-sniffed", "xml-bom",
        "xml-many", "xml-utf16-declared"])
def test_documents_are_read_whole(engine: Engine, payload: bytes, media_type: str | None, count: int) -> None:
    assert [r.verdict for r in engine.reports(doc(payload, media_type))] == ["pass"] * count


def test_jsonl_media_type_reads_a_pretty_object_as_broken_lines(engine: Engine) -> None:
    # the media type says one record a line: a pretty-printed object is not that, and each line says so
    payload = b'{\n"record_id": "x"\n}\n'
    verdicts = [r.verdict for r in engine.reports(doc(payload, "application/x-ndjson"))]
    assert verdicts and set(verdicts) == {"error"}


@pytest.mark.parametrize("payload,media_type,message", [
    (b"hello", None, "neither batch-record JSON nor XML"), (b"", None, "the document is empty"),
    (as_json(BASE), "image/png", "media type image/png is not one this plugin reads"),
], ids=["text", "empty", "foreign-type"])
def test_a_document_no_parser_takes_is_an_error(engine: Engine, payload: bytes, media_type: str | None,
                                                message: str) -> None:
    (report,) = engine.reports(doc(payload, media_type))
    assert report.verdict == "error" and message in report.findings[0].message


def test_json_declared_but_xml_given_is_an_error(engine: Engine) -> None:
    (report,) = engine.reports(doc(to_xml(BASE), "application/json"))
    assert report.verdict == "error"
