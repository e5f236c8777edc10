"""A folder of mixed inputs for tests that compare runs: JSON Lines, arrays, XML, small files, broken ones.

Files are large enough to be cut into chunks when the chunk size is small, and include what makes cutting
hard: blank lines, a byte-order mark, CRLF line ends, malformed and refused records, brackets inside strings,
a comment holding a record tag, a malformed XML element, an array on one line, and a link that loops.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.support.mixed import mixed
from tests.support.records import as_json, record
from tests.support.xmlgen import NAMESPACE, many_to_xml, record_xml


def _lines(records: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode() for r in records]


def _json_lines(records: list[dict[str, Any]]) -> bytes:
    lines = _lines(records)
    lines[3:3] = [b"", b"   \r", b"{broken", b'{"format": "msc-batch-record", "x": NaN}', b'{"a": 1, "a": 2}']
    lines[12] += b"\r"  # a CRLF line end
    lines[15:15] = [b'{"record_id": "bad-\xff-byte"}', b"[1, 2]"]
    return b"\xef\xbb\xbf" + b"\n".join(lines)  # no line break after the last record


def _array(records: list[dict[str, Any]], *, indent: int | None = 2, per_line: bool = False) -> bytes:
    if per_line:
        return b"[\n" + b",\n".join(_lines(records)) + b"\n]\n"
    return json.dumps(records, indent=indent, ensure_ascii=False).encode() + b"\n"


def _xml_with(records: list[dict[str, Any]], middle: str) -> bytes:
    """A `batch_records` document with `middle` (lines of markup) after its tenth record."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<batch_records xmlns="{NAMESPACE}">']
    lines += [record_xml(data, declare=False) for data in records[:10]] + [middle]
    lines += [record_xml(data, declare=False) for data in records[10:]] + ["</batch_records>", ""]
    return "\n".join(lines).encode()


def mixed_folder(root: Path, n: int = 24) -> Path:
    """Write the mixed inputs under `root` (created); returns it."""
    root.mkdir(parents=True, exist_ok=True)
    records = mixed(n * 6, seed=5)
    chunks = [records[i * n:(i + 1) * n] for i in range(6)]
    misleading = [dict(r) for r in chunks[1]]  # brackets that pair up wrongly: the count of elements is off
    misleading[n // 2]["lab_note"] = "see A}, {B"
    unbalanced = [dict(r) for r in chunks[1]]  # brackets that do not pair: the file is not cut there
    unbalanced[n // 2]["lab_note"] = "see [1], then ]]] and {"
    broken = _array(chunks[2], indent=1)
    middle = broken.index(b'"lot_id"', len(broken) // 2)
    broken = broken[:middle] + b'"lot_id" "' + broken[middle + 8:]  # malformed: the rest cannot be read
    files = {
        "lines.jsonl": _json_lines(chunks[0]),
        "pretty.json": _array(chunks[1], indent=2),
        "pretty-misleading.json": _array(misleading, indent=2),
        "pretty-unbalanced.json": _array(unbalanced, indent=2),
        "pretty-broken.json": broken,
        "per-line.json": _array(chunks[3], per_line=True),
        "compact.json": _array(chunks[4], indent=None),
        "batch.xml": many_to_xml(chunks[5]),
        "batch-comment.xml": _xml_with(chunks[5], "<!-- moved:\n<batch_record>\n-->"),
        "batch-broken.xml": _xml_with(chunks[5], "<batch_record><lot_id>x</lotid></batch_record>"),
        "UPPER.JSON": json.dumps(records[0]).encode(),
        "one.Xml": many_to_xml(records[1:2]),
        "sub/deeper/more.ndjson": b"\n".join(_lines(records[2:9])) + b"\n",
        "sub/empty.json": b"",
        "notes.txt": b"not a batch record",
    }
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    os.symlink("loop.json", root / "loop.json")  # a link to itself: it cannot be read
    return root


def long_path_folder(root: Path) -> Path:
    """A folder under `root` whose path is longer than the system allows (PATH_MAX), with a record inside:
    listing it fails with ENAMETOOLONG, for root as for anyone. Made one level at a time, relative to the
    level above, which is how such a folder comes to exist."""
    name = "d" * 250
    fd = os.open(root, os.O_RDONLY)
    depth = 0
    try:
        while len(str(root)) + depth * (len(name) + 1) <= 4200:
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd, depth = inner, depth + 1
        record_fd = os.open("lost.json", os.O_WRONLY | os.O_CREAT, dir_fd=fd)
        os.write(record_fd, as_json(record()))
        os.close(record_fd)
    finally:
        os.close(fd)
    return root.joinpath(*[name] * depth)
