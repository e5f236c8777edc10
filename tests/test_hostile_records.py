"""Hostile records, round two: each item of the campaign gets an answer, located, and loses nothing around it.

Every test is named after the defect it closes: no exception escapes, nothing is dropped without a word,
no impossible value passes, no record takes the memory of a run.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from eln_msc_plugin import limits, validate_document
from eln_msc_plugin.model import EMPTY_DOCUMENT, Report
from eln_msc_plugin.pipeline import Engine
from tests.support.records import BASE, as_json, record, set_path
from tests.support.xmlgen import NAMESPACE, many_to_xml, record_xml, to_xml

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


# --- resources -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("member", "limit"), [("passages", "MAX_PASSAGES"), ("cryo_events", "MAX_CRYO_EVENTS")],
                         ids=["passages", "cryo-events"])
@pytest.mark.parametrize("fmt", ["json", "xml"], ids=["json", "xml"])
def test_a_record_past_a_count_limit_is_an_error_naming_the_limit(engine: Engine, member: str, limit: str,
                                                                 fmt: str) -> None:
    item = {"number": 1} if member == "passages" else {"kind": "freeze", "at": "2026-01-01", "passage": 1}
    data = record(**{member: [item] * (getattr(limits, limit) + 1)})
    payload = as_json(data) + b"\n" + GOOD + b"\n" if fmt == "json" else many_to_xml([data, BASE])
    found = reports(engine, payload)
    assert verdicts(found) == ["error", "pass"]
    assert found[0].findings[0].path == f"/{member}" and limit in found[0].findings[0].message


def test_a_record_below_the_count_limit_but_above_the_schema_is_a_located_failure(engine: Engine) -> None:
    (report,) = reports(engine, as_json(record(passages=[{"number": 1}] * 201)))
    assert report.verdict == "fail" and any(f.path == "/passages" and f.rule == "schema" for f in report.findings)


@pytest.mark.parametrize("fmt", ["json", "xml"], ids=["json", "xml"])
def test_an_object_with_too_many_members_is_an_error_naming_the_limit(engine: Engine, fmt: str) -> None:
    many = {f"m{i}": i for i in range(limits.MAX_MEMBERS + 1)}
    data = record(notes=many)
    payload = as_json(data) + b"\n" + GOOD + b"\n" if fmt == "json" else many_to_xml([data, BASE])
    found = reports(engine, payload)
    assert verdicts(found) == ["error", "pass"] and "MAX_MEMBERS" in found[0].findings[0].message


def test_a_json_element_over_the_byte_limit_is_an_error_and_the_next_is_read(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_RECORD_BYTES", 100_000)
    big = as_json(record(notes="x" * 300_000))
    found = reports(engine, b"[" + GOOD + b",\n" + big + b",\n" + GOOD + b"]")
    assert verdicts(found) == ["pass", "error", "pass"] and "MAX_RECORD_BYTES" in found[1].findings[0].message


def test_an_xml_record_over_the_byte_limit_says_where_reading_stopped(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_RECORD_BYTES", 100_000)
    big = record_xml(BASE, declare=False).replace("</batch_record>", "<notes>" + "<a/>" * 100_000 + "</notes>"
                                                  "</batch_record>")
    body = "\n".join([record_xml(BASE, declare=False), big, record_xml(BASE, declare=False)])
    found = reports(engine, f'<batch_records xmlns="{NAMESPACE}">\n{body}\n</batch_records>'.encode())
    assert verdicts(found) == ["pass", "error"]
    message = found[1].findings[0].message
    assert found[1].findings[0].line == 3 and "MAX_RECORD_BYTES" in message and "reading stopped" in message


PROBE = textwrap.dedent("""
    import json, resource, sys
    from eln_msc_plugin.model import Document
    from eln_msc_plugin.pipeline import Engine
    engine = Engine()
    list(engine.reports(Document.from_payload(open(sys.argv[2], "rb").read(), None, "warm")))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(sys.argv[1], "rb") as stream:
        found = [(r.verdict, [f.message for f in r.findings][:1]) for r in engine.reports(
            Document.from_payload(stream, None, "big"))]
    print(json.dumps({"reports": found, "grown_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before}))
""")


def _probe(tmp_path: Path, payload: bytes) -> dict:
    big, warm = tmp_path / "big", tmp_path / "warm.json"
    big.write_bytes(payload)
    warm.write_bytes(GOOD)
    done = subprocess.run([sys.executable, "-c", PROBE, str(big), str(warm)], capture_output=True, text=True,
                          timeout=300, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


BIG = {
    # the campaign's two: 2 million children of one XML record (16 MB), 100,000 empty passages (300 kB of JSON)
    "xml-2-million-children": (b'<batch_record xmlns="' + NAMESPACE.encode() + b'" format_version="1.0"><notes>'
                               + b"<a/>" * 2_000_000 + b"</notes></batch_record>"),
    "json-100000-empty-passages": as_json(record(passages=[{}] * 100_000)),
    "xml-100000-empty-passages": to_xml(record(passages=[{}] * 100_000)),
}


@pytest.mark.parametrize("name", BIG, ids=BIG.keys())
def test_a_huge_record_is_an_error_in_bounded_memory(tmp_path: Path, name: str) -> None:
    result = _probe(tmp_path, BIG[name])
    (verdict, messages), = result["reports"]
    assert verdict == "error" and "MAX_" in messages[0]
    # the byte limit bounds what the parser holds (about 130 bytes per XML element): well under 100 MB
    assert result["grown_kb"] < 100 * 1024, result


def test_identical_findings_are_folded_and_the_report_stays_bounded(engine: Engine) -> None:
    (report,) = reports(engine, as_json(record(passages=[{"number": "x"}] * 500)))
    alike = [f for f in report.findings if f.rule == "schema" and "is not of type" in f.message]
    assert len(alike) == limits.FOLD_AFTER and alike[-1].folded == 500 - limits.FOLD_AFTER
    assert len(report.findings) <= limits.MAX_FINDINGS and report.verdict == "fail"


def test_unknown_members_alike_are_folded(engine: Engine) -> None:
    (report,) = reports(engine, as_json(record(**{f"unknown_{i}": i for i in range(300)})))
    assert report.verdict == "pass" and len(report.findings) == limits.FOLD_AFTER
    assert report.findings[-1].folded == 300 - limits.FOLD_AFTER


def test_many_different_findings_end_in_a_summary_and_every_rule_that_spoke_is_listed(engine: Engine) -> None:
    # 201 copies of one passage: a chronology and PDL finding per passage, and the schema's one about the list
    (report,) = reports(engine, as_json(record(passages=[BASE["passages"][0]] * 201)))
    assert len(report.findings) == limits.MAX_FINDINGS and report.verdict == "fail"
    last = report.findings[-1]
    assert last.rule == "report" and last.severity == "fail" and "more findings are not listed" in last.message
    assert any(f.rule == "schema" and f.path == "/passages" for f in report.findings)


def test_a_quoted_value_of_ten_megabytes_is_bounded_in_every_message(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_RECORD_BYTES", 32 * 1024 * 1024)  # let it past the reader, to the schema
    huge = "x" * 10_000_000
    (report,) = reports(engine, as_json(record(record_id=huge, lot_id=["y" * 1_000_000])))
    assert report.verdict == "fail"
    for finding in report.findings:
        assert len(finding.message) <= limits.MAX_MESSAGE_CHARS + 40
        assert len(json.dumps(finding.observed)) <= limits.MAX_QUOTED_CHARS + 40
