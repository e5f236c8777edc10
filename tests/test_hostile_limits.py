"""Hostile records against the resource limits: a record past one is an error naming it, reached in bounded
memory, and what a report says of a record stays bounded however much is wrong with it."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from eln_msc_plugin import limits
from eln_msc_plugin.model import Report
from eln_msc_plugin.output import WRITERS
from eln_msc_plugin.pipeline import Engine
from tests.support.records import BASE, as_json, record
from tests.support.xmlgen import NAMESPACE, many_to_xml, record_xml, to_xml
from tests.test_hostile import probe

GOOD = as_json(BASE)


def reports(engine: Engine, payload: object, media_type: str | None = None) -> list[Report]:
    return list(engine.reports_for(payload, media_type, "t"))


def verdicts(found: list[Report]) -> list[str]:
    return [r.verdict for r in found]


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


BIG = {
    # the campaign's two: 2 million children of one XML record (16 MB), 100,000 empty passages (300 kB of JSON)
    "xml-2-million-children": (b'<batch_record xmlns="' + NAMESPACE.encode() + b'" format_version="1.0"><notes>'
                               + b"<a/>" * 2_000_000 + b"</notes></batch_record>"),
    "json-100000-empty-passages": as_json(record(passages=[{}] * 100_000)),
    "xml-100000-empty-passages": to_xml(record(passages=[{}] * 100_000)),
}


@pytest.mark.parametrize("name", BIG, ids=BIG.keys())
def test_a_huge_record_is_an_error_in_bounded_memory(engine: Engine, tmp_path: Path, name: str) -> None:
    (report,) = reports(engine, BIG[name])
    assert report.verdict == "error" and "MAX_" in report.findings[0].message
    result = probe(tmp_path, BIG[name])  # measured again in a fresh interpreter
    assert result["verdicts"] == ["error"]
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


def empty_records(n: int) -> bytes:
    return (f'<batch_records xmlns="{NAMESPACE}">\n'.encode() + b"<batch_record/>\n" * n + b"</batch_records>\n")


def json_output(engine: Engine, payload: bytes) -> str:
    out = io.StringIO()
    WRITERS["json"](out, engine.ruleset).write_all(reports(engine, payload))
    return out.getvalue()


def test_a_file_of_many_empty_records_gives_bounded_output_per_record(engine: Engine) -> None:
    """The campaign's 3 MB of 200,000 `<batch_record/>` (344 MB of JSON): each record's report is as long as
    the first one's, whatever the number of records, and every record is still listed."""
    one = len(json_output(engine, empty_records(1)))
    many = json_output(engine, empty_records(5_000))
    records = json.loads(many)["records"]
    assert len(records) == 5_000 and {r["verdict"] for r in records} == {"fail"}
    # the same report for each, but for its index and line numbers: nothing accumulates from one to the next
    assert len({re.sub(r"\d+", "#", json.dumps(r)) for r in records}) == 1
    assert len(many) < 5_000 * one  # bounded per record: no record's report grows with the file
    assert max(len(r["findings"]) for r in records) <= limits.MAX_FINDINGS


def test_reading_a_stream_of_many_records_takes_memory_that_does_not_grow_with_it(tmp_path: Path) -> None:
    few, many = (probe(tmp_path, b"".join(as_json(record(record_id=f"R-{i}")) + b"\n" for i in range(n)))
                 for n in (500, 10_000))
    assert few["verdicts"] == ["pass"] * 500 and many["verdicts"] == ["pass"] * 10_000
    # twenty times the records (tens of MB, had their records or reports been kept): a few MB more at most
    assert many["grown_kb"] - few["grown_kb"] < 8 * 1024, (few, many)
