"""Hostile records, round two: each item of the campaign gets an answer, located, and loses nothing around it.

Every test is named after the defect it closes: no exception escapes, nothing is dropped without a word,
no impossible value passes, no record takes the memory of a run.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pluggy
import pytest

from eln_msc_plugin import validate_document
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import EMPTY_DOCUMENT, BatchRecord, Document, Report
from eln_msc_plugin.pipeline import Engine
from eln_msc_plugin.rules import rule
from tests.support.records import BASE, as_json, record, set_path
from tests.support.xmlgen import NAMESPACE, record_xml, to_xml

GOOD = as_json(BASE)


def reports(engine: Engine, payload: object, media_type: str | None = None) -> list[Report]:
    return list(engine.reports_for(payload, media_type, "t"))


def verdicts(found: list[Report]) -> list[str]:
    return [r.verdict for r in found]


def with_id(i: int) -> bytes:
    return as_json(record(record_id=f"EXP-{i:05d}"))


# --- escapes and crashes -------------------------------------------------------------------------

@pytest.mark.parametrize("unit", ["cells", "1e6 cells"], ids=["cells", "millions"])
def test_a_count_above_every_float_is_a_located_schema_failure(engine: Engine, unit: str) -> None:
    data = set_path(record(), "/passages/0/cells_seeded", {"value": 10**400, "unit": unit})
    found = reports(engine, b"\n".join([GOOD, as_json(data), GOOD]) + b"\n")
    assert verdicts(found) == ["pass", "fail", "pass"]
    (finding,) = [f for f in found[1].findings if f.path == "/passages/0/cells_seeded"]
    assert finding.rule == "schema" and "too large" in finding.message


def test_an_escaped_lone_surrogate_is_a_located_error(engine: Engine) -> None:
    bad = GOOD.replace(b"EXP-2026-0142", b"EXP-\\ud800")
    lines, array = reports(engine, b"\n".join([GOOD, bad, GOOD]) + b"\n"), reports(engine, b"[" + bad + b"]")
    for found, expected in ((lines, ["pass", "error", "pass"]), (array, ["error"])):
        assert verdicts(found) == expected
        error = next(r for r in found if r.verdict == "error")
        assert error.findings[0].path == "/record_id" and "lone surrogate" in error.findings[0].message


def test_an_escaped_surrogate_pair_is_a_character_and_passes(engine: Engine) -> None:
    (report,) = reports(engine, GOOD.replace(b"EXP-2026-0142", b"EXP-\\ud83d\\ude00"))
    assert report.verdict == "pass" and report.record_id == "EXP-\U0001F600"


def test_a_str_holding_a_lone_surrogate_is_an_error_not_an_exception() -> None:
    (report,) = validate_document(GOOD.decode().replace("EXP-2026-0142", "EXP-\ud800"))
    assert report.verdict == "error" and report.findings[0].rule == "read"


@pytest.mark.parametrize("payload", [io.StringIO(GOOD.decode()), io.TextIOWrapper(io.BytesIO(GOOD), "utf-8")],
                         ids=["string-io", "text-io-wrapper"])
def test_a_text_mode_file_object_is_read(payload: object) -> None:
    assert verdicts(validate_document(payload)) == ["pass"]


def test_an_unreadable_stream_ends_its_document_with_an_error() -> None:
    class Failing(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: object) -> int:
            raise OSError(5, "Input/output error")

    (report,) = validate_document(Failing(), "application/json")
    assert report.verdict == "error" and "Input/output error" in report.findings[0].message


def test_nan_in_a_decoded_record_is_a_located_schema_failure(engine: Engine) -> None:
    # every bound compares false with NaN: the schema says it is no number, rather than letting it through
    (report,) = reports(engine, set_path(record(), "/passages/1/viability_percent", float("nan")))
    assert report.verdict == "fail"
    assert [(f.rule, f.path) for f in report.findings if f.severity == "fail"] == [
        ("schema", "/passages/1/viability_percent")]


@pytest.mark.parametrize("payload", [42, None, object()], ids=["int", "none", "object"])
def test_a_payload_of_another_type_is_an_error_saying_what_it_is(payload: object) -> None:
    (report,) = validate_document(payload)
    assert report.verdict == "error" and f"is a {type(payload).__name__}" in report.findings[0].message


@pytest.mark.parametrize(("payload", "words"), [
    ({"a": 1}, 'a dict without "format": "msc-batch-record"'), ({}, 'a dict without "format"'),
    ({"format": "other"}, 'a dict whose "format" is "other"'), ([1, {"a": 1}], "a list of 2 items, none of them"),
], ids=["dict-without-format", "empty-dict", "dict-of-another-format", "list-of-no-record"])
def test_a_decoded_dict_that_is_not_a_batch_record_says_what_it_is_without_bytes(payload: object, words: str) -> None:
    (report,) = validate_document(payload)
    message = report.findings[0].message
    assert report.verdict == "error" and words in message
    assert "bytes" not in message and "b'" not in message  # it never had bytes: none are mentioned


def test_a_decoded_list_with_one_element_that_is_not_a_record_keeps_the_records_beside_it() -> None:
    found = validate_document([record(record_id="A"), 3, {"a": 1}, record(record_id="B")])
    assert [(r.index, r.verdict, r.record_id) for r in found] == [
        (0, "pass", "A"), (1, "error", None), (2, "error", None), (3, "pass", "B")]
    assert [(r.findings[0].path, r.findings[0].message.split(" is ")[0]) for r in found[1:3]] == [
        ("/1", "element 1 of the list"), ("/2", "element 2 of the list")]


def test_a_decoded_empty_list_is_an_empty_document() -> None:
    (report,) = validate_document([])
    assert report.verdict == "error" and report.findings[0].message == EMPTY_DOCUMENT


class _BrokenParser:
    """A parser plugin with a bug: it raises before its first record, or after `good` records."""

    def __init__(self, good: int) -> None:
        self.good = good

    @hookimpl
    def eln_msc_parse_document(self, document: Document) -> Iterator[BatchRecord]:
        if self.good == 0:
            raise KeyError("a parser's bug")
        return self._records(document)

    def _records(self, document: Document) -> Iterator[BatchRecord]:
        for i in range(self.good):
            yield BatchRecord(record(record_id=f"R-{i}"), document.source, i, "application/json")
        raise KeyError("a parser's bug")


@pytest.mark.parametrize("good", [0, 2], ids=["before-the-first-record", "after-two-records"])
def test_a_parser_plugin_that_fails_ends_its_document_with_an_error(pm: pluggy.PluginManager, good: int) -> None:
    pm.register(_BrokenParser(good))
    found = list(Engine(pm).reports_for(GOOD, None, "t"))
    assert verdicts(found) == ["pass"] * good + ["error"]
    message = found[-1].findings[0].message
    assert f"reading stopped after {good} record" in message and "KeyError" in message and "bug" not in message


def test_a_rule_that_fails_is_a_fail_finding_naming_the_rule(pm: pluggy.PluginManager) -> None:
    @rule("test.crashes", summary="divides by the passage count", severities=("warn",))
    def crashes(ctx: Any) -> Any:
        return [ctx.finding("warn", "", f"{1 / 0}")]

    class Plugin:
        @hookimpl
        def eln_msc_register_rules(self, register: Any) -> None:
            register(crashes)

    pm.register(Plugin())
    (report,) = Engine(pm).reports_for(GOOD, None, "t")
    assert report.verdict == "fail"
    assert [(f.rule, f.severity, f.message) for f in report.findings] == [
        ("test.crashes", "fail", "rule test.crashes could not run: ZeroDivisionError: division by zero")]


# --- impossible dates ------------------------------------------------------------------------------

@pytest.mark.parametrize(("date", "why"), [
    ("2020-02-30", "day is out of range"), ("2023-02-29", "day is out of range"), ("2020-13-01", "month"),
    ("2026-01-07T09:00:00+99:99", "UTC offset"), ("2026-01-07T24:00", "hour"), ("2026-01-07T09:60", "minute"),
], ids=["30-february", "29-february-2023", "month-13", "offset-99-99", "hour-24", "minute-60"])
@pytest.mark.parametrize("fmt", ["json", "xml"], ids=["json", "xml"])
def test_an_impossible_date_is_a_located_schema_failure(engine: Engine, date: str, why: str, fmt: str) -> None:
    data = set_path(record(), "/passages/2/harvested_at", date)
    (report,) = reports(engine, as_json(data) if fmt == "json" else to_xml(data))
    assert report.verdict == "fail"
    (finding,) = [f for f in report.findings if f.rule == "schema"]
    assert finding.path == "/passages/2/harvested_at" and why in finding.message and f'"{date}"' in finding.message
    assert fmt == "json" or finding.line is not None


@pytest.mark.parametrize("date", ["2024-02-29", "2026-01-07 09:00", "2026-01-07T09:00:00.5Z",
                                  "2026-01-07T09:00:00-23:59"], ids=["leap-day", "space", "fraction", "offset"])
def test_a_real_date_passes_the_schema(engine: Engine, date: str) -> None:
    (report,) = reports(engine, as_json(set_path(record(), "/released_at", date)))
    assert not [f for f in report.findings if f.rule == "schema"]


# --- silent loss -----------------------------------------------------------------------------------

def test_a_json_array_resynchronises_after_a_malformed_record_in_the_middle(engine: Engine) -> None:
    elements = [with_id(i) for i in range(10_000)]
    elements[5_000] = elements[5_000].replace(b'"lot_id":', b'"lot_id":,', 1)
    found = reports(engine, b"[" + b",\n".join(elements) + b"]")
    assert len(found) == 10_000 and verdicts(found).count("pass") == 9_999
    assert found[5_000].verdict == "error" and found[5_000].findings[0].line == 5_001
    # what is wrong with it, found where it is: not "too long" after reading 2 MB past it in search of its end
    assert found[5_000].findings[0].message == "malformed JSON at line 5001, column 109: Expecting value"
    assert [r.record_id for r in found[5_001:5_003]] == ["EXP-05001", "EXP-05002"]


@pytest.mark.parametrize("broken", [b'{"record_id": "x",, }', b'{"a": [1, 2}', b"nul", b'{"a": 1]'],
                         ids=["double-comma", "bracket-closed-by-brace", "bad-literal", "brace-closed-by-bracket"])
def test_a_json_array_reads_the_element_after_a_broken_one(engine: Engine, broken: bytes) -> None:
    assert verdicts(reports(engine, b"[" + GOOD + b",\n" + broken + b",\n" + GOOD + b"]")) == ["pass", "error", "pass"]


def test_a_json_value_that_never_ends_says_reading_stopped_there(engine: Engine) -> None:
    found = reports(engine, b"[" + GOOD + b",\n" + b'{"a": [' + b",\n" + GOOD + b"]")
    assert verdicts(found) == ["pass", "error"]
    assert "never ends" in found[1].findings[0].message and found[1].findings[0].line == 2


def test_garbage_between_elements_stops_the_reading_with_one_error_not_many(engine: Engine) -> None:
    found = reports(engine, b"[" + GOOD + b", not json at all, " + GOOD + b"]")
    assert verdicts(found) == ["pass", "error"] and "reading stopped" in found[1].findings[0].message


def test_xml_after_a_well_formedness_error_says_where_reading_stopped(engine: Engine) -> None:
    body = [record_xml(record(record_id=f"EXP-{i:05d}"), declare=False) for i in range(1_000)]
    body[500] = body[500].replace("</lot_id>", "</lot>", 1)
    xml = f'<batch_records xmlns="{NAMESPACE}">\n' + "\n".join(body) + "\n</batch_records>\n"
    found = reports(engine, xml.encode())
    assert verdicts(found) == ["pass"] * 500 + ["error"]
    message = found[-1].findings[0].message
    assert found[-1].findings[0].line == 502 and "reading stopped there" in message and "500 records" in message


def test_a_batch_record_inside_an_unknown_member_is_not_a_record(engine: Engine) -> None:
    inner = record_xml(record(record_id="INNER"), declare=False)
    outer = record_xml(BASE, declare=False).replace("</batch_record>", f"<notes>{inner}</notes></batch_record>")
    found = reports(engine, f'<batch_records xmlns="{NAMESPACE}">{outer}</batch_records>'.encode())
    assert [r.record_id for r in found] == [BASE["record_id"]]
    assert any(f.path == "/notes" and f.severity == "info" for f in found[0].findings)


def test_a_batch_record_nested_in_another_leaves_the_outer_one_whole(engine: Engine) -> None:
    inner = record_xml(record(record_id="INNER"), declare=False)
    outer = to_xml(BASE).replace(b"</batch_record>", inner.encode() + b"</batch_record>")
    (report,) = reports(engine, outer)
    assert report.record_id == BASE["record_id"] and report.verdict == "pass"
    assert [(f.path, f.severity) for f in report.findings] == [("/batch_record", "info")]  # kept, an unknown member
    assert len(report.metrics["passages"]) == len(BASE["passages"])


# --- messages ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("payload", "media_type"), [
    (b"", None), (b"  \n\t ", None), (b"", "application/json"), (b"\n\n", "application/x-ndjson"),
    (b"", "application/xml"), (b"\xef\xbb\xbf  ", "application/xml"), (b"[]", None),
], ids=["empty", "blanks", "empty-json", "blank-jsonl", "empty-xml", "bom-xml", "empty-array"])
def test_an_empty_document_has_one_wording(engine: Engine, payload: bytes, media_type: str | None) -> None:
    (report,) = reports(engine, payload, media_type)
    assert report.verdict == "error" and report.findings[0].message == EMPTY_DOCUMENT


@pytest.mark.parametrize(("payload", "media_type"), [
    (b"ghp_SECRETtoken0123456789", None), (b"ghp_SECRETtoken0123456789", "text/plain"),
    (b"\x00\x01SECRET\xff", None), (b"ghp_SECRETtoken0123456789", "application/pdf"),
], ids=["token", "token-text-plain", "binary", "foreign-media-type"])
def test_a_file_that_is_not_a_batch_record_is_not_echoed(engine: Engine, payload: bytes,
                                                         media_type: str | None) -> None:
    (report,) = reports(engine, payload, media_type)
    text = json.dumps(report.as_dict())
    assert report.verdict == "error" and "SECRET" not in text and "b'" not in text
