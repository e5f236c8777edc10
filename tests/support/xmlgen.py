"""Write a canonical batch record (the JSON shape) as v1 XML, for tests, examples and the bench.

Arrays become a wrapper element holding one element per item (`passages/passage`, ...); `format` is
implied by the root element and `format_version` is its attribute. `units` maps a JSON Pointer of a
count to the unit to write it in (the value is divided accordingly).
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

NAMESPACE = "urn:eln-msc:batch-record:1"
ITEM = {"passages": "passage", "cryo_events": "cryo_event", "vial_ids": "vial_id", "reference_genes": "gene"}
_SCALE = {"cells": 1, "1e3 cells": 1e3, "1e6 cells": 1e6, "1e9 cells": 1e9, "x10^6 cells": 1e6,
          "10^6 cells": 1e6, "M cells": 1e6}


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    return escape(str(value))


def _element(name: str, value: Any, path: str, units: dict[str, str], out: list[str]) -> None:
    if isinstance(value, dict):
        out.append(f"<{name}>")
        for key, sub in value.items():
            _element(key, sub, f"{path}/{key}", units, out)
        out.append(f"</{name}>")
    elif isinstance(value, list):
        item = ITEM.get(name, "item")
        out.append(f"<{name}>")
        for i, sub in enumerate(value):
            _element(item, sub, f"{path}/{i}", units, out)
        out.append(f"</{name}>")
    elif path in units:
        unit = units[path]
        scaled = value / _SCALE[unit] if unit in _SCALE else value
        if isinstance(scaled, float) and scaled.is_integer():
            scaled = int(scaled)
        out.append(f"<{name} unit={quoteattr(unit)}>{_text(scaled)}</{name}>")
    else:
        out.append(f"<{name}>{_text(value)}</{name}>")


def record_xml(data: dict[str, Any], *, units: dict[str, str] | None = None, namespace: str | None = NAMESPACE,
               declare: bool = True) -> str:
    """One `batch_record` element; with `declare` False it carries no xmlns (to nest in `batch_records`)."""
    out: list[str] = []
    version = data.get("format_version")
    attrs = f" xmlns={quoteattr(namespace)}" if declare and namespace is not None else ""
    if version is not None:
        attrs += f" format_version={quoteattr(str(version))}"
    out.append(f"<batch_record{attrs}>")
    for key, value in data.items():
        if key in ("format", "format_version"):
            continue
        _element(key, value, f"/{key}", units or {}, out)
    out.append("</batch_record>")
    return "".join(out)


def to_xml(data: dict[str, Any], *, units: dict[str, str] | None = None, namespace: str | None = NAMESPACE) -> bytes:
    """A whole XML document holding one record."""
    body = record_xml(data, units=units, namespace=namespace)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def many_to_xml(records: list[dict[str, Any]], *, namespace: str | None = NAMESPACE) -> bytes:
    """A `batch_records` document holding each record on its own line."""
    ns = f" xmlns={quoteattr(namespace)}" if namespace is not None else ""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f"<batch_records{ns}>"]
    lines += [record_xml(data, declare=False) for data in records]
    lines.append("</batch_records>")
    return ("\n".join(lines) + "\n").encode("utf-8")
