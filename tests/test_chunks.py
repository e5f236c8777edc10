"""Cutting files into chunks: record counts agree with the parsers, and what is not cut."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from eln_msc_plugin.chunks import _elements, _line_records, plan
from eln_msc_plugin.pipeline import Engine
from eln_msc_plugin.reading import run_task
from eln_msc_plugin.sources import scan
from tests.support.records import as_json, record
from tests.support.xmlgen import NAMESPACE, many_to_xml

ENGINE = Engine()


class Count:
    """A renderer that keeps only the records' sources and indexes."""

    def block(self, reports: list) -> list:
        return [(r.source, r.index) for r in reports]

    def join(self, payloads: list) -> list:
        return [x for p in payloads for x in p]


def judged_by_chunks(path: Path, chunk_bytes: int) -> tuple[list, list]:
    """What judging each chunk alone gives, and what each chunk was expected to hold."""
    seen: list = []
    expected = []
    for unit in plan(scan([str(path)]), True, chunk_bytes, set()):
        [task] = unit.tasks
        got: list = []
        reports, clean = run_task(task, ENGINE, Count(), lambda payload, *_, into=got: into.extend(payload))
        assert reports == len(got)
        assert clean or task.last, task
        expected.append((task.expected, reports))
        seen += got
    return seen, expected


def whole(path: Path) -> list:
    with path.open("rb") as stream:
        return [(r.source, r.index) for r in ENGINE.reports_for(stream, None, str(path))]


@pytest.mark.parametrize(
    ("chunk", "records"),
    [
        (b"a\n\nb\n", 2),
        (b"\xef\xbb\xbf  \nb\n", 1),
        (b"a\r\n \t\r\nb", 2),
        (b"a\n   ", 1),
        (b"\n\n\n", 0),
        (b"\xef\xbb\xbf", 1),  # the byte-order mark alone is a line that does not parse
    ],
    ids=["blank-line", "bom-then-blank", "crlf-and-spaces", "blank-tail", "only-blank", "bom-alone"],
)
def test_records_in_lines_as_the_parser_counts_them(chunk: bytes, records: int) -> None:
    assert _line_records(chunk, len(chunk), first_line=True) == (chunk.count(b"\n"), records)


@pytest.mark.parametrize(
    ("piece", "count"),
    [(b'{"a": [1, 2]}, {"b": {"c": 3}},\n', 2), (b"1, 2, 3,", 3), (b'{"a": "]"},', None)],
    ids=["objects", "scalars", "unpaired-bracket"],
)
def test_elements_counted_by_brackets(piece: bytes, count: int | None) -> None:
    assert _elements(piece) == count


def test_chunks_of_json_lines_hold_what_the_whole_file_holds(tmp_path: Path) -> None:
    rng = random.Random(3)
    lines = []
    for i in range(300):
        lines.append(as_json(record(record_id=f"R-{i}")))
        lines += [rng.choice([b"", b"  ", b"\r", b"{bad"])] if rng.random() < 0.2 else []
    path = tmp_path / "many.jsonl"
    path.write_bytes(b"\n".join(lines))
    seen, expected = judged_by_chunks(path, 5000)
    assert seen == whole(path) and len(expected) > 20
    assert all(e == got for e, got in expected[:-1])


@pytest.mark.parametrize("indent", [None, 1], ids=["one-per-line", "indented"])
def test_chunks_of_an_array_hold_what_the_whole_file_holds(tmp_path: Path, indent: int | None) -> None:
    records = [record(record_id=f"R-{i}") for i in range(120)]
    body = (b"[\n" + b",\n".join(as_json(r) for r in records) + b"\n]" if indent is None
            else json.dumps(records, indent=indent).encode())
    path = tmp_path / "array.json"
    path.write_bytes(body)
    seen, expected = judged_by_chunks(path, 6000)
    assert seen == whole(path) and len(expected) > 10


def test_chunks_of_batch_records_hold_what_the_whole_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "batch.xml"
    path.write_bytes(many_to_xml([record(record_id=f"R-{i}") for i in range(100)]))
    seen, expected = judged_by_chunks(path, 8000)
    assert seen == whole(path) and len(expected) > 10


@pytest.mark.parametrize(
    "head",
    [
        f'<?xml version="1.0" encoding="ISO-8859-1"?>\n<batch_records xmlns="{NAMESPACE}">',
        f'<?xml version="1.0"?>\n<!DOCTYPE batch_records>\n<batch_records xmlns="{NAMESPACE}">',
        f'<?xml version="1.0"?>\n<m:batch_records xmlns:m="{NAMESPACE}">',
    ],
    ids=["latin-1", "doctype", "prefixed-root"],
)
def test_xml_that_cannot_be_cut_safely_is_read_whole(tmp_path: Path, head: str) -> None:
    body = many_to_xml([record(record_id=f"R-{i}") for i in range(40)]).decode()
    path = tmp_path / "batch.xml"
    path.write_text(head + body.split("\n", 2)[2], encoding="latin-1")
    units = list(plan(scan([str(path)]), True, 8000, set()))
    assert [(u.remote, u.tasks[0].kind, u.tasks[0].offset) for u in units] == [(False, "file", 0)]


def test_small_files_travel_together_and_nothing_is_cut_for_a_third_party_parser(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"{i}.json").write_bytes(as_json(record()))
    (tmp_path / "big.jsonl").write_bytes(b"\n".join(as_json(record()) for _ in range(40)))
    units = list(plan(scan([str(tmp_path)]), True, 20000, set()))
    assert len(units[0].tasks) == 5 and len(units) > 3
    assert all(len(u.tasks) == 1 and u.tasks[0].kind == "lines" and u.remote for u in units[1:])
    units = list(plan(scan([str(tmp_path)]), False, 20000, set()))
    assert [(len(u.tasks), u.remote) for u in units] == [(5, True), (1, False)]
