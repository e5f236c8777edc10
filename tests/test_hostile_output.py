"""Output that cannot break its readers: whatever record comes in, `validate_document` answers with reports
whose verdicts are known, and every writer writes what its reader parses (strict JSON, well-formed JUnit XML,
text without a control character). Properties over mutated records, then the campaign's cases by name."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from eln_msc_plugin import validate_document
from eln_msc_plugin.cli import main
from eln_msc_plugin.model import VERDICTS, Report
from eln_msc_plugin.output import WRITERS, strict_json
from eln_msc_plugin.pipeline import Engine
from tests.support.records import BASE, as_json, record, set_path
from tests.support.xmlgen import record_xml

ENGINE = Engine()
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def places(node: Any, prefix: str = "") -> Iterator[str]:
    """Every JSON Pointer of the base record below its root."""
    if isinstance(node, dict):
        items: Any = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, value in items:
        yield f"{prefix}/{key}"
        yield from places(value, f"{prefix}/{key}")


PLACES = [p for p in places(BASE) if p not in ("/format", "/format_version")]
TEXT = st.text(st.characters(exclude_categories=()), max_size=12)  # control characters and lone surrogates too
SCALARS = st.one_of(
    TEXT, st.booleans(), st.none(),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([5e-324, -1e308, 1e308, 10**309, 0, -1, "2020-02-30", "2026-01-07T09:00:00+99:99",
                     "\x1b[31mRED\r\nFAIL  forged", "\ud800", "x" * 5000, {"value": 10**400, "unit": "cells"},
                     {"value": "4.1", "unit": "M cells"}, {"value": 1, "unit": "\x00"}]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                      max_leaves=6)
# numbers where the engine computes with them (doublings, densities, intervals): where overflow and NaN are born
COUNTED = [p for p in PLACES if p.rpartition("/")[2] in (
    "cells_seeded", "cells_harvested", "vessel_area_cm2", "viability_percent", "reported_cumulative_pdl",
    "percent_positive", "cells_counted", "positive_cells", "fold_change")]
NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**400), 10**400),
                    st.sampled_from([5e-324, -5e-324, 1e-300, -1e308, 1e308, 10**309, 0, 0.0, -0.0]))


@st.composite
def mutated_records(draw: st.DrawFn) -> dict[str, Any]:
    """The valid record with one to four places set to a hostile value, removed, or a hostile member added."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["set", "remove", "add"]))
        if how == "add":
            data[draw(TEXT)] = draw(VALUES)
            continue
        counted = how == "set" and draw(st.booleans())
        place = draw(st.sampled_from(COUNTED if counted else PLACES))
        value = (draw(NUMBERS) if counted else draw(VALUES)) if how == "set" else None
        # an earlier change moved or removed the place
        with contextlib.suppress(KeyError, IndexError, TypeError, ValueError, AttributeError):
            set_path(data, place, value)
    return data


def encodings(data: dict[str, Any]) -> list[tuple[Any, str | None]]:
    """The same record handed over as a decoded object, JSON (NaN as written by Python), JSON Lines, XML, text."""
    text = json.dumps(data, default=str)
    xml = record_xml(data).encode("utf-8", "surrogatepass") if all(isinstance(k, str) for k in data) else b"<x/>"
    return [(data, None), (text.encode("utf-8", "surrogatepass"), None), (text, "application/x-ndjson"),
            (io.StringIO(text), None), (xml, None)]


def parses_as_strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not strict JSON")

    assert not re.search(r"(?<!\\)\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])", text), "a lone surrogate escape"
    return json.loads(text, parse_constant=refuse)


def check_writers(found: list[Report]) -> None:
    for name, writer in WRITERS.items():
        out = io.StringIO()
        writer(out, ENGINE.ruleset).write_all(found)
        text = out.getvalue()
        text.encode("utf-8")  # no lone surrogate reaches any output
        if name == "json":
            assert len(parses_as_strict_json(text)["records"]) == len(found)
        elif name == "junit":
            assert len(etree.fromstring(text.encode("utf-8")).findall("testcase")) == len(found)
        else:
            assert not CONTROL.search(text), CONTROL.search(text)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(mutated_records())
def test_mutated_records_get_reports_with_known_verdicts(data: dict[str, Any]) -> None:
    for payload, media_type in encodings(data):
        found = validate_document(payload, media_type, engine=ENGINE)
        assert found and all(r.verdict in VERDICTS for r in found)


@SETTINGS
@given(mutated_records())
def test_every_writer_writes_what_its_reader_parses(data: dict[str, Any]) -> None:
    found = [r for payload, media_type in encodings(data) for r in validate_document(payload, media_type,
                                                                                       engine=ENGINE)]
    check_writers(found)


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from([None, "application/json", "application/x-ndjson",
                                                 "application/xml", "text/plain"]))
def test_any_bytes_get_reports_every_writer_can_write(payload: bytes, media_type: str | None) -> None:
    found = validate_document(payload, media_type, engine=ENGINE)
    assert found and all(r.verdict in VERDICTS for r in found)
    check_writers(found)


# --- the campaign's cases, by name -------------------------------------------------------------------------

def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("count", [5e-324, -1e308], ids=["tiny-count", "negative-huge-count"])
def test_json_output_is_strict_json_without_infinity(count: float, tmp_path: Any,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(as_json(set_path(record(), "/passages/1/cells_seeded", count)))
    code, out, _ = _cli(capsys, "validate", "--format", "json", str(path))
    assert code == 1 and "Infinity" not in out and "NaN" not in out
    assert parses_as_strict_json(out)["records"][0]["verdict"] == "fail"


def test_strict_json_writes_what_json_cannot_hold_as_text() -> None:
    text = strict_json({"a": float("inf"), "b": [float("nan"), -float("inf")], "c": "\ud800x", "d": 10**5000})
    parsed = parses_as_strict_json(text)
    assert parsed["a"] == "inf" and parsed["b"] == ["nan", "-inf"] and parsed["c"] == "\\ud800x"
    assert "5,000 digits" in parsed["d"]


@pytest.mark.parametrize("where", ["record-id", "file-name"], ids=["record-id", "file-name"])
def test_control_characters_do_not_forge_lines_in_text_output(where: str, tmp_path: Any,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    forged = "X\x1b[32m\rPASS  forged.json#0  EXP-OK\nPASS"
    name = f"r{forged if where == 'file-name' else ''}.json".replace("/", "_")
    path = tmp_path / name
    path.write_bytes(as_json(record(record_id=forged if where == "record-id" else "EXP-1", lot_id=None)))
    code, out, _ = _cli(capsys, "validate", str(path))
    assert code == 1 and not CONTROL.search(out)
    assert out.count("\n") == 3 and "\\x1b[32m\\rPASS" in out  # the record's line, its finding, the summary


@pytest.mark.parametrize("forged", ["EXP-\u202eGP.1-TOL", "EXP-\u2066X\u2069", "EXP\u2028PASS", "EXP\x85PASS"],
                         ids=["right-to-left-override", "isolate", "line-separator", "next-line"])
def test_bidirectional_overrides_and_unicode_line_breaks_are_escaped_in_text_output(
        forged: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(as_json(record(record_id=forged)))
    code, out, _ = _cli(capsys, "validate", str(path))
    assert code == 0 and not CONTROL.search(out) and out.count("\n") == 2
    assert forged.encode("ascii", "backslashreplace").decode() in out  # written as its escape, readable


def test_junit_output_stays_well_formed_with_control_characters_and_surrogates(
        tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(as_json(record(record_id="A\x1b\x00B", lot_id="\x07")).replace(b"A", b"\\ud800", 1))
    other = tmp_path / "s.json"
    other.write_bytes(as_json(record(record_id="C\x1b\x0cD", lot_id=None)))
    code, out, _ = _cli(capsys, "validate", "--format", "junit", str(path), str(other))
    cases = etree.fromstring(out.encode("utf-8")).findall("testcase")
    assert code == 1 and len(cases) == 2 and cases[1].get("name").startswith("C\\x1b\\x0cD")


def test_a_record_id_of_a_megabyte_is_shown_cut_short(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(as_json(record(record_id="x" * 1_000_000)))
    _, out, _ = _cli(capsys, "validate", str(path))
    assert len(out) < 3_000 and "1,000,000 characters" in out


def test_a_file_that_is_not_a_batch_record_is_not_echoed_on_the_command_line(
        tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    token = tmp_path / "token.txt"
    token.write_text("pat_0123456789SECRET\n")
    code, out, err = _cli(capsys, "validate", str(token))
    assert code == 1 and "SECRET" not in out + err and "neither batch-record JSON nor XML" in out


def test_empty_standard_input_says_the_document_is_empty(capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"")))
    code, out, _ = _cli(capsys, "validate", "-")
    assert code == 1 and "the document is empty" in out and "b''" not in out


def test_an_empty_xml_file_says_the_document_is_empty(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.xml"
    path.write_bytes(b"")
    _, out, _ = _cli(capsys, "validate", str(path))
    assert "the document is empty" in out and "line None" not in out
