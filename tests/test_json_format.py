"""The JSON parser: every container shape, line numbers, refused constructs, the examples."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eln_msc_plugin.formats import json_format
from eln_msc_plugin.formats.json_stream import Buffer, scan, value_end
from eln_msc_plugin.model import BatchRecord, Document, Unreadable
from eln_msc_plugin.pipeline import Engine
from tests.support.records import BASE, as_json, record

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GOOD = as_json(BASE)


def parse(payload: bytes | str, media_type: str | None = None) -> list[BatchRecord | Unreadable]:
    document = Document.from_payload(payload, media_type, "t")
    items = json_format.eln_msc_parse_document(document=document)
    assert items is not None
    return list(items)


def verdicts(engine: Engine, payload: bytes | str | io.BufferedIOBase, media_type: str | None = None) -> list[str]:
    document = Document.from_payload(payload, media_type, "t")
    return [r.verdict for r in engine.reports(document)]


def two(n: int = 2) -> list[dict]:
    return [record(record_id=f"R-{i}") for i in range(n)]


SHAPES = {
    "single-object": (GOOD, 1),
    "pretty-object": (json.dumps(BASE, indent=2), 1),
    "pretty-object-crlf": (json.dumps(BASE, indent=2).replace("\n", "\r\n"), 1),
    "array": (json.dumps(two(3)), 3),
    "pretty-array": (json.dumps(two(3), indent=2), 3),
    "array-one-line-long": (json.dumps(two(40)), 40),
    "concatenated": (b"".join(as_json(r) for r in two(3)), 3),
    "concatenated-pretty": ("\n".join(json.dumps(r, indent=1) for r in two(3)), 3),
    "json-lines": (b"\n".join(as_json(r) for r in two(3)) + b"\n", 3),
    "json-lines-blank-lines": (b"\n\n".join(as_json(r) for r in two(3)) + b"\n\n   \n", 3),
    "json-lines-no-final-newline": (b"\n".join(as_json(r) for r in two(3)), 3),
}


@pytest.mark.parametrize("payload,count", SHAPES.values(), ids=SHAPES.keys())
def test_every_container_shape_gives_every_record(engine: Engine, payload: bytes | str, count: int) -> None:
    items = parse(payload)
    assert [type(i) for i in items] == [BatchRecord] * count
    assert [i.index for i in items] == list(range(count))
    assert verdicts(engine, payload) == ["pass"] * count


def test_a_large_array_read_in_chunks_keeps_every_record(engine: Engine) -> None:
    # more than one read chunk (1 MB): records straddle the chunk boundary
    records = two(1500)
    items = parse(json.dumps(records, indent=1))
    assert len(items) == 1500 and all(isinstance(i, BatchRecord) for i in items)
    assert [i.data["record_id"] for i in items] == [r["record_id"] for r in records]


def test_a_stream_is_read_like_bytes(engine: Engine) -> None:
    payload = json.dumps(two(3)).encode()
    assert verdicts(engine, io.BytesIO(payload)) == ["pass"] * 3


def test_json_lines_bad_line_in_the_middle_does_not_stop_the_others(engine: Engine) -> None:
    payload = GOOD + b"\n{\"record_id\": oops}\n\n" + GOOD + b"\n"
    items = parse(payload, "application/x-ndjson")
    assert [type(i) for i in items] == [BatchRecord, Unreadable, BatchRecord]
    bad = items[1]
    assert isinstance(bad, Unreadable) and bad.findings[0].line == 2 and "malformed JSON" in bad.findings[0].message
    assert items[2].line == 4
    assert verdicts(engine, payload) == ["pass", "error", "pass"]


def test_json_lines_without_media_type_is_sniffed_even_when_its_first_line_is_broken(engine: Engine) -> None:
    payload = b'{"record_id": oops}\n' + GOOD + b"\n" + GOOD + b"\n"
    assert verdicts(engine, payload) == ["error", "pass", "pass"]


def test_records_carry_their_line() -> None:
    payload = json.dumps(two(2), indent=2)
    items = parse(payload)
    assert items[0].line == 2
    assert items[1].line == payload.splitlines().index("  {", 2) + 1


@pytest.mark.parametrize("payload,message", [
    (b"[" + GOOD + b"," + GOOD[:100], "malformed JSON"),
    (b"[" + GOOD + b"," + GOOD, "not closed"),
    (b"[" + GOOD + b"] " + GOOD, "after the end"),
    (b"   ", "empty"),
], ids=["truncated-array", "unclosed-array", "content-after-array", "empty"])
def test_broken_containers_are_errors_after_the_good_records(engine: Engine, payload: bytes, message: str) -> None:
    items = parse(payload, "application/json")
    assert isinstance(items[-1], Unreadable) and message in items[-1].findings[0].message
    assert all(isinstance(i, BatchRecord) for i in items[:-1])
    assert verdicts(engine, payload, "application/json")[-1] == "error"


def test_a_missing_comma_is_an_error_and_the_next_element_is_read(engine: Engine) -> None:
    items = parse(b"[" + GOOD + b" " + GOOD + b"]", "application/json")
    assert [type(i) for i in items] == [BatchRecord, Unreadable, BatchRecord]
    assert "expected ','" in items[1].findings[0].message


def test_duplicate_member_is_refused_with_its_line(engine: Engine) -> None:
    dup = GOOD[:-1] + b', "lot_id": "OTHER"}'
    items = parse(GOOD + b"\n" + dup + b"\n" + GOOD + b"\n")
    assert isinstance(items[1], Unreadable)
    assert 'duplicate member "lot_id"' in items[1].findings[0].message and items[1].findings[0].line == 2
    assert verdicts(engine, b"[" + GOOD + b"," + dup + b"," + GOOD + b"]") == ["pass", "error", "pass"]


def test_format_version_2_is_refused_with_error(engine: Engine) -> None:
    payload = as_json(record(format_version="2.0")) + b"\n" + GOOD + b"\n"
    items = parse(payload)
    assert isinstance(items[0], Unreadable)
    finding = items[0].findings[0]
    assert finding.path == "/format_version" and '"2.0" is not supported' in finding.message
    assert verdicts(engine, payload) == ["error", "pass"]


@pytest.mark.parametrize("version,verdict", [("1.0", "pass"), ("1.7", "pass"), ("2.0", "error"), ("10.1", "error")],
                         ids=["1.0", "1.7", "2.0", "10.1"])
def test_minor_versions_are_read_major_versions_refused(engine: Engine, version: str, verdict: str) -> None:
    assert verdicts(engine, as_json(record(format_version=version))) == [verdict]


def test_counts_with_a_unit_object_are_normalised() -> None:
    data = record()
    data["passages"][0]["cells_harvested"] = {"value": 4.1, "unit": "1e6 cells"}
    (item,) = parse(as_json(data))
    assert isinstance(item, BatchRecord)
    assert item.data["passages"][0]["cells_harvested"] == 4_100_000
    assert item.units == {"/passages/0/cells_harvested": "1e6 cells"}


def test_an_already_decoded_record_is_read(engine: Engine) -> None:
    assert [r.verdict for r in engine.reports(Document.from_payload(record(), None, "t"))] == ["pass"]
    assert [r.verdict for r in engine.reports(Document.from_payload(two(2), None, "t"))] == ["pass", "pass"]


def test_not_json_is_left_to_other_parsers() -> None:
    assert json_format.eln_msc_parse_document(document=Document.from_payload(b"<a/>", None, "t")) is None
    assert json_format.eln_msc_parse_document(document=Document.from_payload(b"x", "application/xml", "t")) is None


EXPECTED = {
    "production-p4-pass.json": ["pass"],
    "research-lot.json": ["warn"],
    "unit-slip.json": ["fail"],
    "banking-lots.jsonl": ["pass", "pass", "warn", "fail"],
    "broken.json": ["error"],
}
# Verdicts that need the rule pack's rules (not just the schema rule) to come out as the README says.
NEEDS_RULES = {"research-lot.json": {"passage.window", "pdl.limit"}, "unit-slip.json": {"counts.plausible"},
               "banking-lots.jsonl": {"passage.window", "beta-gal.count"}}


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_json_examples_give_the_verdicts_of_the_readme(engine: Engine, name: str) -> None:
    with open(EXAMPLES / name, "rb") as stream:
        got = [r.verdict for r in engine.reports(Document.from_payload(stream, None, name))]
    registered = {r.id for r in engine.ruleset.rules}
    if not NEEDS_RULES.get(name, set()) <= registered:
        # without those rules only pass/error/schema failures can show
        got = [v if v in ("error", "fail") else "pass" for v in got]
        want = [v if v in ("error",) or (name, i) == ("banking-lots.jsonl", 3) else "pass"
                for i, v in enumerate(EXPECTED[name])]
        assert got == want
        pytest.skip(f"rules {sorted(NEEDS_RULES[name] - registered)} not registered yet")
    assert got == EXPECTED[name]


def test_examples_are_named_in_the_readme() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    files = [p.name for p in EXAMPLES.iterdir() if p.suffix in (".json", ".jsonl", ".xml")]
    assert files and all(f"`{name}`" in readme for name in files)


@pytest.mark.parametrize("text", [
    '{"a": 1}\n', '  {"a": 1}', '{"a": 1}  \r\n', '{"a": 1} x', '{"a": 1}{"b": 2}', "", " ", "\n", "[1, 2]",
    '{"a": NaN}', '{"a": 1, "a": 2}', '{"a": 1e400}', '{"a": ', "01", '"text"\t',
], ids=["line", "leading-blank", "trailing-blanks", "extra-word", "two-objects", "empty", "blank", "newline",
        "array", "nan", "duplicate", "overflow", "cut-short", "leading-zero", "string"])
def test_a_line_decodes_as_the_decoder_itself_decodes_it(text: str) -> None:
    # `_decode` calls the decoder's scanner directly: same value, or the same error at the same place
    def outcome(decode: object) -> object:
        try:
            return ("value", decode(text))  # type: ignore[operator]
        except ValueError as error:
            return (type(error).__name__, str(error))

    assert outcome(json_format._decode) == outcome(json_format.DECODER.decode)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES.filter(lambda v: isinstance(v, (list, dict))), st.data())
def test_the_end_of_a_value_is_found_by_brackets_and_strings_whatever_the_cuts(value: object,
                                                                              data: st.DataObject) -> None:
    # a bad element is skipped by this scan: it must end where the decoder ends, however the text arrives in chunks
    text = json.dumps(value) + ', {"next": 1}'
    end = len(json.dumps(value))
    assert value_end(text, 0) == end
    cut = data.draw(st.integers(1, len(text) - 1))
    found, state = scan(text[:cut], 0, "", False)
    if found < 0:
        found, _ = scan(text, *state)
    assert found == end


class _Pieces(io.RawIOBase):
    """A stream that hands its bytes over in the sizes given, whatever size is asked for (as a pipe does)."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        super().__init__()
        self.data, self.sizes = data, sizes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: object) -> int:
        size = min(len(buffer), len(self.data), self.sizes.pop() if self.sizes else len(self.data))  # type: ignore[arg-type]
        buffer[:size] = self.data[:size]  # type: ignore[index]
        self.data = self.data[size:]
        return size


STRICT_JSON_VALUES = st.recursive(  # what the decoder accepts: no Infinity
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12)
CUT_PRONE = st.sampled_from([-1.5e-07, 12345.678, -0.0, True, False, None, "caf\u00e9 \U0001F600", "a\\\"b",
                             [], {}])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(STRICT_JSON_VALUES, CUT_PRONE), min_size=1, max_size=6),
       st.lists(st.integers(1, 9), max_size=400))
def test_values_cut_anywhere_between_reads_decode_whole(values: list[object], sizes: list[int]) -> None:
    # a value that does not decode yet because the text read so far ends inside it is read on, never called
    # malformed: a literal, number, escape or string cut short at the end of what has arrived
    text = " ".join(json.dumps(v) for v in values)
    buf = Buffer(_Pieces(text.encode(), sizes), json_format.DECODER.raw_decode)  # type: ignore[arg-type]
    decoded = []
    while buf.skip_space():
        decoded.append(buf.value()[0])
    assert decoded == values
