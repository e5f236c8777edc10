"""Helpers for the eLabFTW tests: v1 records written as extra fields, and a lab on the fake server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.fake_elabftw import FakeElabftw

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "schemas" / "elabftw-template-msc-batch-record.json"
COUNTS = ("cells_seeded", "cells_harvested")


def _field(value: Any, position: int) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "checkbox", "value": "on" if value else "", "position": position}
    if isinstance(value, (int, float)):
        return {"type": "number", "value": str(value), "position": position}
    if isinstance(value, list):
        return {"type": "text", "allow_multi_values": True, "value": [str(v) for v in value], "position": position}
    return {"type": "text", "value": str(value), "position": position}


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """`{"passages": [{"number": 1}]}` → `{"passages.1.number": 1}`; lists of plain values stay lists."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
    elif isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        for i, value in enumerate(data, 1):
            out.update(flatten(value, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = data
    return out


def fields_from_record(record: dict[str, Any], count_unit: str | None = None) -> dict[str, Any]:
    """The extra fields holding `record` under the naming convention, as eLabFTW stores them (strings).

    With `count_unit` (e.g. "1e6 cells"), counts are written in that unit with eLabFTW's `units` list.
    """
    fields: dict[str, Any] = {}
    members = {k: v for k, v in record.items() if k not in ("format", "format_version", "record_id", "revision")}
    for position, (name, value) in enumerate(flatten(members).items()):
        field = _field(value, position)
        if count_unit and name.rsplit(".", 1)[-1] in COUNTS and isinstance(value, (int, float)):
            exponent = {"1e3 cells": 3, "1e6 cells": 6, "1e9 cells": 9}[count_unit]
            field.update(value=f"{value / 10**exponent:g}", unit=count_unit,
                         units=["cells", "1e3 cells", "1e6 cells", "1e9 cells"])
        fields[name] = field
    return fields


def metadata_for(record: dict[str, Any], **extra_fields: dict[str, Any]) -> dict[str, Any]:
    return {"extra_fields": {**fields_from_record(record), **extra_fields}}


@dataclass
class Lab:
    """A team on the fake: a scientist who saves entries, the plugin's service account, one category."""

    fake: FakeElabftw
    scientist_key: str
    service_key: str
    readonly_key: str
    category: int
    item_category: int
    service_user: int
    scientist_user: int

    @property
    def url(self) -> str:
        return self.fake.url

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A request by the scientist (as the eLabFTW web page or their own scripts would send it)."""
        headers = {"Authorization": self.scientist_key}
        return requests.request(method, f"{self.fake.url}/api/v2/{path}", headers=headers, timeout=30, **kwargs)

    def save(self, record: dict[str, Any], *, entity_type: str = "experiments", title: str = "MSC batch",
             metadata: dict[str, Any] | None = None, category: int | None = None) -> str:
        """The scientist creates an entry holding `record` in its extra fields; returns its reference."""
        body = {"title": title, "category": category or (self.category if entity_type == "experiments"
                                                         else self.item_category),
                "metadata": metadata if metadata is not None else metadata_for(record)}
        answer = self.call("POST", entity_type, json=body)
        assert answer.status_code == 201, answer.text
        return f"{entity_type}/{answer.headers['Location'].rsplit('/', 1)[1]}"

    def set_field(self, ref: str, name: str, value: Any) -> None:
        """The scientist edits one extra field in the web page (which sends updatemetadatafield)."""
        answer = self.call("PATCH", ref, json={"action": "updatemetadatafield", name: value})
        assert answer.status_code == 200, answer.text

    def attach(self, ref: str, name: str, data: bytes) -> None:
        answer = self.call("POST", f"{ref}/uploads", files={"file": (name, data)})
        assert answer.status_code == 201, answer.text

    def entry(self, ref: str) -> dict[str, Any]:
        answer = self.call("GET", ref)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def annotation(self, ref: str) -> dict[str, Any] | None:
        field = (self.entry(ref).get("metadata_decoded") or {}).get("extra_fields", {}).get("msc_qc")
        return json.loads(field["value"]) if field else None


def make_lab(fake: FakeElabftw) -> Lab:
    store = fake.store
    scientist = store.add_user("Grace", "Hopper")
    service = store.add_user("MSC", "QC bot")
    category = store.add_category("experiments", "MSC batch record")
    item_category = store.add_category("items", "MSC lot")
    store.add_category("experiments", "Western blot")
    return Lab(fake, store.add_key(scientist), store.add_key(service), store.add_key(service, can_write=False),
               category, item_category, service.userid, scientist.userid)


def open_adapter(lab: Lab, key: str | None = None, *, timeout: tuple[float, float] = (5.0, 30.0),
                 **options: Any) -> Any:
    """The eLabFTW adapter for the lab's service account (or `key`), watching the MSC category by default."""
    from eln_msc_plugin.elabftw.adapter import ElabftwAdapter
    from eln_msc_plugin.eln.auth import Token
    from eln_msc_plugin.eln.base import AdapterConfig

    options = {"category": "MSC batch record", **options}
    return ElabftwAdapter(AdapterConfig(lab.url, Token(key or lab.service_key), options, timeout=timeout))


def writes_to(fake: FakeElabftw, ref: str, what: str = "") -> list[str]:
    """The writes that reached the fake for one entry: `POST comments`, `PATCH` …, in order."""
    found = []
    for entry in fake.requests(path=f"^/api/v2/{ref}(/|$)"):
        if entry.method != "GET" and entry.status < 400 and not entry.fault:
            tail = entry.path[len(f"/api/v2/{ref}"):].strip("/").split("/")[0]
            found.append(f"{entry.method} {tail}".strip())
    return [w for w in found if what in w]


def elabftw_engine() -> Any:
    """An engine with the built-in plugins and the eLabFTW plugin (which an install brings in by entry point)."""
    from eln_msc_plugin.elabftw import plugin
    from eln_msc_plugin.pipeline import Engine
    from eln_msc_plugin.plugins import get_plugin_manager

    return Engine(get_plugin_manager(load_entry_points=False, extra=(plugin,)))
