"""Reading is linear in the number of records: twice the records take less than 2.6 times as long.

Measured as a ratio in one process (the best of a few runs of each size, in CPU time), so a busy machine
slows both sizes alike; never against a wall clock. The records are tiny so that many of them share the
reader's buffer, where counting lines from the start of it each time made a JSON array quadratic.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from eln_msc_plugin.model import Document
from eln_msc_plugin.pipeline import Engine
from tests.support.records import as_json, record
from tests.support.xmlgen import NAMESPACE

RECORDS = 20_000
RUNS = 3


def json_array(n: int) -> bytes:
    return b"[\n" + b",\n".join(b'{"record_id": "R-%d", "passages": []}' % i for i in range(n)) + b"\n]"


def json_lines(n: int) -> bytes:
    return b"".join(b'{"record_id": "R-%d", "passages": []}\n' % i for i in range(n))


def xml(n: int) -> bytes:
    body = b"\n".join(b'<batch_record format_version="1.0"><record_id>R-%d</record_id></batch_record>' % i
                      for i in range(n))
    return b'<batch_records xmlns="' + NAMESPACE.encode() + b'">\n' + body + b"\n</batch_records>\n"


def json_array_with_errors(n: int) -> bytes:
    # every tenth element malformed: each is skipped by the bracket scan and the next one read
    return b"[\n" + b",\n".join((b'{"record_id": "R-%d",, }' if i % 10 == 9 else b'{"record_id": "R-%d"}') % i
                                for i in range(n)) + b"\n]"


def cpu_seconds(engine: Engine, payload: bytes, media_type: str) -> float:
    """The best of RUNS readings of every record of `payload`, in CPU seconds."""
    best = float("inf")
    for _ in range(RUNS):
        start = time.process_time()
        count = sum(1 for _ in engine.records(Document.from_payload(payload, media_type, "scale")))
        best = min(best, time.process_time() - start)
    assert count >= RECORDS
    return best


LAYOUTS: dict[str, tuple[Callable[[int], bytes], str]] = {
    "json-array": (json_array, "application/json"),
    "json-array-with-errors": (json_array_with_errors, "application/json"),
    "json-lines": (json_lines, "application/x-ndjson"),
    "xml": (xml, "application/xml"),
}


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUTS.keys())
def test_twice_the_records_take_less_than_2_6_times_as_long(engine: Engine, layout: str) -> None:
    build, media_type = LAYOUTS[layout]
    once, twice = build(RECORDS), build(2 * RECORDS)
    cpu_seconds(engine, once, media_type)  # warm up: caches, the schema plan
    ratio = cpu_seconds(engine, twice, media_type) / cpu_seconds(engine, once, media_type)
    assert ratio < 2.6, f"{2 * RECORDS:,} records took {ratio:.2f} times as long as {RECORDS:,}"


def long_record(passages: int) -> bytes:
    # within MAX_RECORD_BYTES (refused later, past MAX_PASSAGES): decoding it is the whole cost
    return b"[" + as_json(record(passages=[{}] * passages)) + b"]"


def test_a_record_twice_as_long_takes_less_than_2_6_times_as_long(engine: Engine) -> None:
    """One long value of a JSON array, read in chunks: decoded again once a chunk, it was quadratic (a 2 MB
    record took seconds); decoded again only when the text read has doubled, it is linear."""
    once, twice = long_record(200_000), long_record(400_000)
    cpu_seconds_of_one(engine, once)
    ratio = cpu_seconds_of_one(engine, twice) / cpu_seconds_of_one(engine, once)
    assert ratio < 2.6, f"a record of {len(twice):,} bytes took {ratio:.2f} times as long as one of {len(once):,}"


def cpu_seconds_of_one(engine: Engine, payload: bytes) -> float:
    best = float("inf")
    for _ in range(RUNS):
        start = time.process_time()
        (item,) = engine.records(Document.from_payload(payload, "application/json", "scale"))
        best = min(best, time.process_time() - start)
    assert "MAX_PASSAGES" in item.findings[0].message  # type: ignore[union-attr]  # read whole, then refused
    return best
