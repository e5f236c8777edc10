"""What every parser of the v1 format shares: media types, sniffing, units, version check."""

from __future__ import annotations

import math
import re
from typing import Any

from eln_msc_plugin import limits
from eln_msc_plugin.display import printable, quoted
from eln_msc_plugin.model import EMPTY_DOCUMENT, BatchRecord, Document, Finding, Unreadable

JSON = "application/json"
JSONL = "application/x-ndjson"
XML = "application/xml"
JSON_TYPES = {JSON, "text/json", "application/vnd.eln-msc.batch-record+json"}
JSONL_TYPES = {JSONL, "application/jsonl", "application/x-jsonlines", "application/jsonlines"}
XML_TYPES = {XML, "text/xml", "application/vnd.eln-msc.batch-record+xml"}
EXTENSIONS = {".json": JSON, ".jsonl": JSONL, ".ndjson": JSONL, ".xml": XML}
NAMESPACE = "urn:eln-msc:batch-record:1"
FORMAT = "msc-batch-record"
BOM = b"\xef\xbb\xbf"
EMPTY = EMPTY_DOCUMENT

# Multipliers that turn a count written with a unit into cells.
_EXPONENT = {"": 0, "1e3 ": 3, "1e6 ": 6, "1e9 ": 9, "x10^3 ": 3, "x10^6 ": 6, "x10^9 ": 9,
             "10^3 ": 3, "10^6 ": 6, "10^9 ": 9, "k ": 3, "M ": 6, "B ": 9}
UNITS: dict[str, int] = {f"{prefix}cells": exp for prefix, exp in _EXPONENT.items()}
COUNT_FIELDS = ("cells_seeded", "cells_harvested")


def sniff(document: Document) -> str | None:
    """The media type the document's first bytes show, or None."""
    head = document.head
    if head.startswith((b"\xff\xfe<\x00", b"\xfe\xff\x00<")):
        return XML  # UTF-16 with a byte-order mark: XML allows it (JSON documents are UTF-8)
    if head.startswith(BOM):
        head = head[3:]
    head = head.lstrip()
    if head[:1] == b"<":
        return XML
    if head[:1] in (b"{", b"["):
        return JSON
    return None


def media_type_of(document: Document) -> str | None:
    """The document's media type, normalised to JSON, JSONL or XML; sniffed when not given."""
    given = (document.media_type or "").split(";")[0].strip().lower()
    if given in JSON_TYPES:
        return JSON
    if given in JSONL_TYPES:
        return JSONL
    if given in XML_TYPES:
        return XML
    if given and given not in ("application/octet-stream", "text/plain"):
        return None
    return sniff(document) if document.stream is not None else None


def count_in_cells(value: Any, unit: Any) -> float | None:
    """`value` written in `unit`, as a number of cells; None when the unit or value is not usable."""
    if not isinstance(unit, str):
        return None
    exponent = UNITS.get(" ".join(unit.replace("×", "x").split()))
    if exponent is None or isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(f"{value}e{exponent}") if exponent else float(value)
    except ValueError:
        return None
    except OverflowError:  # an integer beyond any float: as 1e400 reads, the schema says it is too large
        return math.inf
    if math.isnan(number):
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def unit_finding(path: str, unit: Any, value: Any, line: int | None = None) -> Finding:
    return Finding(
        "schema", "fail", path,
        f"Count {quoted(value)} with unit {quoted(unit)} cannot be read: use cells, 1e3/1e6/1e9 cells "
        "(or x10^6 cells, M cells).",
        observed={"value": value, "unit": unit}, expected=sorted(UNITS), line=line,
    )


def normalise_counts(record: BatchRecord) -> None:
    """Replace `{"value", "unit"}` counts in passages by numbers of cells, keeping the unit seen."""
    passages = record.data.get("passages")
    if type(passages) is not list:
        return
    for i, passage in enumerate(passages):
        if type(passage) is not dict:
            continue
        for key in COUNT_FIELDS:
            count = passage.get(key)
            if type(count) is dict:
                path = f"/passages/{i}/{key}"
                cells = count_in_cells(count.get("value"), count.get("unit"))
                if cells is None:
                    finding = unit_finding(path, count.get("unit"), count.get("value"), record.line_of(path))
                    record.read_findings.append(finding)
                    continue
                passage[key] = cells
                record.units[path] = str(count.get("unit"))


def version_problem(data: Any) -> str | None:
    """Why a record of another major format version is refused, or None."""
    version = data.get("format_version") if isinstance(data, dict) else None
    if isinstance(version, str) and version and not version.startswith("1.") and version != "1":
        return (f"format_version {quoted(version)} is not supported: this plugin reads version 1.x of the "
                "batch-record format")
    return None


def size_problem(data: Any) -> tuple[str, str] | None:
    """(path, message) when a record holds more passages or cryo events than any real one: rules and the
    schema's exact errors go through every item, so such a record is refused before they run."""
    if type(data) is not dict:
        return None
    passages, events = data.get("passages"), data.get("cryo_events")
    if (type(passages) is not list or len(passages) <= limits.MAX_PASSAGES) and (
            type(events) is not list or len(events) <= limits.MAX_CRYO_EVENTS):
        return None  # every real record: two lookups and two comparisons
    for key, items, limit, what in (("passages", passages, limits.MAX_PASSAGES, "passages"),
                                    ("cryo_events", events, limits.MAX_CRYO_EVENTS, "cryo events")):
        if type(items) is list and len(items) > limit:
            return f"/{key}", (f"the record holds {len(items):,} {what}, more than the limit of {limit:,} "
                               f"(MAX_{key.upper()}); no real batch record has as many, so it is not checked")
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def unwritable(data: Any) -> tuple[str, str] | None:
    """(path, message) of the first value no report or ELN can hold: a string (member name or value) with a lone
    surrogate, which JSON can write (`"\\ud800"`) but is not a character. (A NaN, which a record handed over
    decoded can hold, fails the schema where it is: it is no number.)"""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        kind = type(value)
        if kind is str:
            if _SURROGATE.search(value):
                return path, _SURROGATE_MESSAGE.format(where=path or "the record")
        elif kind is dict:
            for key, item in value.items():
                where = f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"
                if type(key) is str and _SURROGATE.search(key):
                    return where, _SURROGATE_MESSAGE.format(where=printable(where))
                stack.append((where, item))
        elif kind is list or kind is tuple:
            stack.extend((f"{path}/{i}", item) for i, item in enumerate(value))
    return None


_SURROGATE_MESSAGE = ("{where}: a string holds a lone surrogate (an escape such as \\ud800 without its pair), which "
                      "is not a character: no ELN or report can store it")


def not_a_record(data: Any) -> str:
    """What a decoded value handed over as a record is instead, in words (it was never bytes: none are shown)."""
    expected = f'a decoded batch record (a dict with "format": "{FORMAT}")'
    if isinstance(data, dict):
        if "format" not in data:
            return f'a dict without "format": "{FORMAT}": not a decoded batch record'
        return f'a dict whose "format" is {quoted(data["format"])}, not "{FORMAT}": not a decoded batch record'
    if isinstance(data, list):
        return f"a list of {len(data):,} items, none of them {expected}"
    return f"a value of type {type(data).__name__}, not {expected}"


def unreadable(document: Document, index: int, message: str, *, media_type: str,
               line: int | None = None, path: str = "", observed: Any = None) -> Unreadable:
    finding = Finding("read", "fail", path, message, observed=observed, line=line)
    return Unreadable(document.source, index, [finding], media_type)
