"""Hostile and broken input: each becomes an `error` or a located `fail`, never a traceback, never
a read of a local file or the network, and never stops the good records around it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from eln_msc_plugin.model import Document, Report
from eln_msc_plugin.pipeline import Engine
from tests.support.inputs import long_path_folder
from tests.support.records import BASE, as_json
from tests.support.xmlgen import NAMESPACE, record_xml

GOOD = as_json(BASE)
RECORD = record_xml(BASE, declare=False).encode()


def run(engine: Engine, payload: bytes, media_type: str | None = None) -> list[Report]:
    return list(engine.reports(Document.from_payload(payload, media_type, "t")))


def located(report: Report) -> bool:
    """An error, or a failure that says where (a path or a line)."""
    return report.verdict == "error" or (
        report.verdict == "fail" and any(f.severity == "fail" and (f.path or f.line) for f in report.findings))


def lines_around(bad: bytes) -> bytes:
    return GOOD + b"\n" + bad + b"\n" + GOOD + b"\n"


def entity_bomb(where: str) -> bytes:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    version = "&lol9;" if where == "attribute" else "1.0"
    text = "&lol9;" if where == "text" else "x"
    return (f'<?xml version="1.0"?>\n<!DOCTYPE batch_record [{entities}]>\n'
            f'<batch_record xmlns="{NAMESPACE}" format_version="{version}"><record_id>{text}</record_id>'
            "</batch_record>").encode()


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A real local TCP server: any attempt of the parser to fetch a URL would connect to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    try:
        yield server
    finally:
        server.close()


def nobody_connected(server: socket.socket) -> bool:
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        return True
    connection.close()
    return False


# --- XML ---------------------------------------------------------------------------------------

def test_external_entity_to_a_local_file_is_never_read(engine: Engine, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a")
    for target in (secret.as_uri(), "file:///etc/passwd"):
        xml = (f'<?xml version="1.0"?>\n<!DOCTYPE batch_record [<!ENTITY xxe SYSTEM "{target}">]>\n'
               f'<batch_record xmlns="{NAMESPACE}" format_version="1.0"><record_id>&xxe;</record_id>'
               "<lot_id>&xxe;</lot_id></batch_record>").encode()
        (report,) = run(engine, xml)
        assert report.verdict == "error" and "DOCTYPE" in report.findings[0].message
        text = json.dumps(report.as_dict())
        assert "TOP-SECRET" not in text and "root:" not in text


@pytest.mark.parametrize("kind", ["general-entity", "parameter-entity", "external-dtd"])
def test_external_entity_over_http_touches_no_network(engine: Engine, listener: socket.socket, kind: str) -> None:
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/x"
    doctype = {
        "general-entity": f'<!DOCTYPE batch_record [<!ENTITY xxe SYSTEM "{url}">]>',
        "parameter-entity": f'<!DOCTYPE batch_record [<!ENTITY % xxe SYSTEM "{url}"> %xxe;]>',
        "external-dtd": f'<!DOCTYPE batch_record SYSTEM "{url}">',
    }[kind]
    body = "&xxe;" if kind == "general-entity" else "x"
    xml = (f'<?xml version="1.0"?>\n{doctype}\n<batch_record xmlns="{NAMESPACE}" format_version="1.0">'
           f"<record_id>{body}</record_id></batch_record>").encode()
    (report,) = run(engine, xml)
    assert report.verdict == "error"
    assert nobody_connected(listener)


@pytest.mark.parametrize("where", ["text", "attribute"])
def test_billion_laughs_is_an_error(engine: Engine, where: str) -> None:
    (report,) = run(engine, entity_bomb(where))
    assert report.verdict == "error" and report.findings[0].line is not None


def test_any_doctype_is_refused(engine: Engine) -> None:
    xml = f'<!DOCTYPE batch_records>\n<batch_records xmlns="{NAMESPACE}">{RECORD.decode()}</batch_records>'
    (report,) = run(engine, xml.encode())
    assert report.verdict == "error" and "DOCTYPE" in report.findings[0].message


def batch(middle: bytes) -> bytes:
    return b'<batch_records xmlns="' + NAMESPACE.encode() + b'">\n' + RECORD + b"\n" + middle + b"\n" + RECORD + \
        b"\n</batch_records>\n"


def test_deeply_nested_xml_is_an_error_after_the_good_records(engine: Engine) -> None:
    deep = b'<batch_record format_version="1.0"><record_id>x</record_id><z>' + b"<a>" * 300 + b"</a>" * 300 + \
        b"</z></batch_record>"
    reports = run(engine, batch(deep))
    assert [r.verdict for r in reports] == ["pass", "error"]
    assert "depth" in reports[1].findings[0].message.lower() and reports[1].findings[0].line == 3


def test_nesting_within_the_limit_is_kept_as_an_unknown_member(engine: Engine) -> None:
    nested = b'<batch_record format_version="1.0"><record_id>x</record_id><z>' + b"<a>" * 200 + b"</a>" * 200 + \
        b"</z></batch_record>"
    reports = run(engine, batch(nested))
    assert [r.verdict for r in reports] == ["pass", "fail", "pass"]
    assert all(located(r) for r in reports[1:2])


def test_huge_text_node_is_an_error_after_the_good_records(engine: Engine) -> None:
    huge = b'<batch_record format_version="1.0"><record_id>' + b"x" * 12_000_000 + b"</record_id></batch_record>"
    reports = run(engine, batch(huge))
    assert [r.verdict for r in reports] == ["pass", "error"]


def test_a_long_but_legal_text_fails_the_schema_where_it_is(engine: Engine) -> None:
    long = b'<batch_record format_version="1.0"><record_id>' + b"x" * 100_000 + b"</record_id></batch_record>"
    reports = run(engine, batch(long))
    assert [r.verdict for r in reports] == ["pass", "fail", "pass"]
    (finding,) = [f for f in reports[1].findings if f.path == "/record_id"]
    assert finding.line == 3 and len(finding.observed) < 1000  # the observed value is cut short


@pytest.mark.parametrize("xml", [
    b"<batch_record", b"<batch_records xmlns='" + NAMESPACE.encode() + b"'>" + RECORD,
    b"<a><b></a>", b"<?xml version='1.0'?>\n<batch_record xmlns='" + NAMESPACE.encode() + b"'>&unknown;</batch_record>",
    b"<batch_record>\xff\xfe</batch_record>",
], ids=["cut-short", "root-not-closed", "mismatched", "undefined-entity", "invalid-utf8"])
def test_malformed_xml_is_an_error_with_a_line(engine: Engine, xml: bytes) -> None:
    reports = run(engine, xml, "application/xml")
    assert reports[-1].verdict == "error" and reports[-1].findings[0].line is not None
    assert all(r.verdict == "pass" for r in reports[:-1])


# --- JSON --------------------------------------------------------------------------------------

BAD_JSON = {
    "malformed": b'{"record_id": "x",, }',
    "invalid-utf8": GOOD.replace(b"D-017", b"D-\xff\xfe"),
    "nan": GOOD.replace(b"95.1", b"NaN"),
    "infinity": GOOD.replace(b"95.1", b"Infinity"),
    "minus-infinity": GOOD.replace(b"95.1", b"-Infinity"),
    "duplicate-key": GOOD[:-1] + b', "lot_id": "X"}',
    "nested-100000-arrays": b"[" * 100_000 + b"]" * 100_000,
    "nested-100000-objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "count-1e400": GOOD.replace(b"875000", b"1e400", 1),
    "count-5000-digits": GOOD.replace(b"875000", b"9" * 5000, 1),
    "wrong-top-level-array": b"[1, 2]",
    "wrong-top-level-string": b'"batch record"',
    "wrong-top-level-number": b"42",
    "wrong-top-level-null": b"null",
}


@pytest.mark.parametrize("name", BAD_JSON, ids=BAD_JSON.keys())
def test_bad_json_line_is_located_and_the_others_pass(engine: Engine, name: str) -> None:
    reports = run(engine, lines_around(BAD_JSON[name]))
    assert [r.verdict for r in reports][::2] == ["pass", "pass"]
    assert len(reports) == 3 and located(reports[1])
    assert reports[1].findings[0].line == 2


@pytest.mark.parametrize("name", [n for n in BAD_JSON if n not in ("malformed", "invalid-utf8")],
                         ids=[n for n in BAD_JSON if n not in ("malformed", "invalid-utf8")])
def test_bad_json_element_of_an_array_is_located_and_the_others_pass(engine: Engine, name: str) -> None:
    reports = run(engine, b"[" + GOOD + b",\n" + BAD_JSON[name] + b",\n" + GOOD + b"]")
    assert [r.verdict for r in reports][::2] == ["pass", "pass"]
    assert len(reports) == 3 and located(reports[1])


def test_the_out_of_range_count_is_located_by_path(engine: Engine) -> None:
    (_, report, _) = run(engine, lines_around(BAD_JSON["count-1e400"]))
    assert report.verdict == "fail"
    (finding,) = [f for f in report.findings if f.path == "/passages/0/cells_seeded"]
    assert finding.rule == "schema" and "too large" in finding.message and finding.observed == "inf"
    json.dumps(report.as_dict(), allow_nan=False)  # a report stays writable as strict JSON


def test_an_overflowing_number_inside_a_reported_object_stays_strict_json(engine: Engine) -> None:
    # the passage misses `number`: the schema rule shows the passage, with the count that overflows in it
    line = GOOD.replace(b'"number": 1,', b"", 1).replace(b"875000", b"-1e400", 1)
    (report,) = run(engine, line)
    assert report.verdict == "fail"
    json.dumps(report.as_dict(), allow_nan=False)


def test_truncated_array_keeps_the_records_before_it(engine: Engine) -> None:
    reports = run(engine, b"[" + GOOD + b",\n" + GOOD + b",\n" + GOOD[: len(GOOD) // 2])
    assert [r.verdict for r in reports] == ["pass", "pass", "error"]
    assert reports[2].findings[0].line == 3


def test_invalid_utf8_in_a_stream_is_an_error_after_the_good_records(engine: Engine) -> None:
    reports = run(engine, b"[" + GOOD + b",\n" + BAD_JSON["invalid-utf8"] + b"]")
    assert [r.verdict for r in reports] == ["pass", "error"]


def test_a_line_over_the_size_limit_is_skipped(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from eln_msc_plugin import limits

    monkeypatch.setattr(limits, "MAX_RECORD_BYTES", 10_000)
    reports = run(engine, lines_around(b'{"x": "' + b"y" * 50_000 + b'"}'), "application/x-ndjson")
    assert [r.verdict for r in reports] == ["pass", "error", "pass"]
    assert "longer than" in reports[1].findings[0].message


# --- the bombs: quick and small, measured in a fresh interpreter ---------------------------------

# The yardstick: reading this many ordinary records in the same process.
REFERENCE_RECORDS = 2000

PROBE = textwrap.dedent(r"""
    import json, re, sys, time
    def peak_kb():  # this process's own peak (VmHWM): ru_maxrss would carry the parent's peak over the exec
        return int(re.search(r"VmHWM:\s*(\d+)", open("/proc/self/status").read()).group(1))
    from eln_msc_plugin.model import Document
    from eln_msc_plugin.pipeline import Engine
    engine = Engine()
    warm = open(sys.argv[2], "rb").read()
    list(engine.reports(Document.from_payload(warm, None, "warm")))
    # CPU time, not wall-clock: a busy machine stretches both runs alike only in CPU seconds
    start = time.process_time()
    reference = len(list(engine.reports(Document.from_payload(warm * REFERENCE, None, "reference"))))
    reference_cpu = time.process_time() - start
    before = peak_kb()
    start = time.process_time()
    with open(sys.argv[1], "rb") as stream:
        verdicts = [r.verdict for r in engine.reports(Document.from_payload(stream, None, "bomb"))]
    elapsed = time.process_time() - start
    grown = peak_kb() - before
    print(json.dumps({"verdicts": verdicts, "cpu": elapsed, "reference_cpu": reference_cpu,
                      "reference_records": reference, "grown_kb": grown}))
""").replace("REFERENCE", str(REFERENCE_RECORDS))


def probe(tmp_path: Path, payload: bytes) -> dict:
    bomb, warm = tmp_path / "bomb", tmp_path / "warm.json"
    bomb.write_bytes(payload)
    warm.write_bytes(GOOD)
    done = subprocess.run([sys.executable, "-c", PROBE, str(bomb), str(warm)], capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


BOMBS = {
    "billion-laughs-text": entity_bomb("text"),
    "billion-laughs-attribute": entity_bomb("attribute"),
    "xml-nested-100000": b'<batch_record xmlns="' + NAMESPACE.encode() + b'">' + b"<a>" * 100_000 + b"</a>" * 100_000
    + b"</batch_record>",
    "json-nested-100000": b"[" * 100_000 + b"]" * 100_000,
    "jsonl-nested-100000": lines_around(b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
}


@pytest.mark.parametrize("name", BOMBS, ids=BOMBS.keys())
def test_bombs_finish_quickly_in_little_memory(tmp_path: Path, name: str) -> None:
    baseline = probe(tmp_path, GOOD)
    result = probe(tmp_path, BOMBS[name])
    assert "error" in result["verdicts"]
    assert result["reference_records"] == REFERENCE_RECORDS
    # a bomb costs less CPU than reading a couple of thousand ordinary records
    assert result["cpu"] < result["reference_cpu"], result
    # a few MB over what reading one small valid record costs in the same kind of interpreter
    assert result["grown_kb"] - baseline["grown_kb"] < 8 * 1024, result


@pytest.mark.parametrize("command", ["validate", "backfill"], ids=["validate", "backfill-source"])
@pytest.mark.parametrize("jobs", ["1", "2"], ids=["jobs-1", "jobs-2"])
def test_unreadable_subfolder_is_reported_and_exits_1(tmp_path: Path, command: str, jobs: str) -> None:
    """A subfolder whose listing fails (its path is longer than the system allows: true for root as well) is an
    error record naming it, the other files are still judged, and the run exits 1."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "good.json").write_bytes(GOOD)
    deep = long_path_folder(data)
    argv = (["validate", "--format", "json"] if command == "validate"
            else ["backfill", "--report", str(tmp_path / "report.html"), "--source"])
    done = subprocess.run([sys.executable, "-m", "eln_msc_plugin.cli", *argv, str(data), "--jobs", jobs],
                          capture_output=True, text=True, timeout=120, check=False)
    if command == "validate":
        records = json.loads(done.stdout)["records"]
        names = [(r["source"], r["verdict"], r["findings"][0]["message"] if r["findings"] else "") for r in records]
    else:
        records = json.loads((tmp_path / "report.json").read_text())["records"]
        names = [(r["url"], r["verdict"], r["findings"][0]["message"] if r["findings"] else "") for r in records]
    assert done.returncode == 1, done.stderr
    assert sorted(verdict for _, verdict, _ in names) == ["error", "pass"]
    [(where, message)] = [(where, message) for where, verdict, message in names if verdict == "error"]
    assert where.removeprefix("file://") == str(deep)  # the error names the folder
    assert message == "the folder cannot be listed: File name too long"
