"""The shipped Kadi4Mat record template: Kadi's own extras validation refuses what one field can get wrong.

The template's `validation` (required, range, options) must never refuse a value the batch-record schema
accepts, and must cover every bound and choice the schema gives a template field. On the real Kadi, a save
with a value out of range or outside the options is refused, and the imported template is public.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.kadi import REPO, TEMPLATE, Stack, fill_template, new_identifier
from tests.support.records import record

SCHEMA = json.loads((REPO / "schemas" / "batch-record-v1.schema.json").read_text(encoding="utf-8"))
TEMPLATE_DATA = json.loads(TEMPLATE.read_text(encoding="utf-8"))


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _leaves(extras: list[dict[str, Any]], schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, template extra, schema node) of every scalar extra in the template."""
    for extra in extras:
        key = extra.get("key")
        node = _resolve(schema.get("properties", {}).get(key, {}) if key is not None else schema.get("items", {}))
        here = f"{path}/{key if key is not None else '-'}"
        if extra["type"] in ("dict", "list"):
            yield from _leaves(extra["value"], node, here)
        else:
            yield here, extra, node


LEAVES = list(_leaves(TEMPLATE_DATA["data"]["extras"], SCHEMA))


@pytest.mark.parametrize(("path", "extra", "node"), LEAVES, ids=[p for p, _, _ in LEAVES])
def test_template_validation_matches_the_schema(path: str, extra: dict[str, Any], node: dict[str, Any]) -> None:
    validation = extra.get("validation", {})
    if "enum" in node:
        assert validation.get("options") == node["enum"], f"{path}: options must be the schema's choices"
    else:
        assert "options" not in validation
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum")
    bounds = validation.get("range", {})
    # Kadi's range is inclusive: it may be as wide as the schema's bounds, never narrower.
    assert bounds.get("min") == low and bounds.get("max") == high, f"{path}: range {bounds} vs schema {low}..{high}"
    top_level_required = path.count("/") == 1 and path[1:] in SCHEMA["required"]
    assert bool(validation.get("required")) == top_level_required


def test_template_is_public_so_scientists_see_it() -> None:
    assert TEMPLATE_DATA["visibility"] == "public"
    assert TEMPLATE_DATA["data"]["type"] == "msc_batch"


def _filled(**changes: Any) -> list[dict[str, Any]]:
    """The template's extras filled with a passing record, then `changes` applied by path."""
    extras = fill_template(copy.deepcopy(TEMPLATE_DATA["data"]["extras"]), record())
    for path, value in changes.items():
        node: Any = {"value": extras}
        for part in path.split("__"):
            items = node["value"]
            node = items[int(part)] if part.isdigit() else next(e for e in items if e.get("key") == part)
        node["value"] = value
    return extras


BAD = [
    ("passage-number-below-0", {"passages__0__number": -1}, "Must be equal to or greater than 0"),
    ("viability-above-100", {"passages__1__viability_percent": 100.5}, "Must be equal to or smaller than 100"),
    ("intended-use-outside-the-three", {"intended_use": "clinical"}, "Must be one of: production, banking"),
    ("lot-id-missing", {"lot_id": None}, "Value is required"),
    ("beta-gal-method-unknown", {"senescence__beta_gal__method": "stain"}, "Must be one of: xgal_ph6"),
]


@pytest.mark.kadi
@pytest.mark.parametrize(("changes", "message"), [(c, m) for _, c, m in BAD], ids=[i for i, _, _ in BAD])
def test_kadi_refuses_a_save_with_a_bad_field(stack: Stack, changes: dict[str, Any], message: str) -> None:
    scientist = stack.scientist()
    body = {"identifier": new_identifier("bad"), "title": "bad field", "type": "msc_batch",
            "extras": _filled(**changes)}
    response = scientist.session.request("POST", "api/records", json=body)
    assert response.status_code == 400, response.text
    assert message in response.text
    listed = scientist.session.request("GET", "api/records", params={"filter": body["identifier"]}).json()
    assert all(item["identifier"] != body["identifier"] for item in listed["items"])  # nothing was saved


@pytest.mark.kadi
def test_kadi_accepts_the_filled_template(stack: Stack) -> None:
    scientist = stack.scientist()
    body = {"identifier": new_identifier("ok"), "title": "good", "type": "msc_batch", "extras": _filled()}
    response = scientist.session.request("POST", "api/records", json=body)
    assert response.status_code == 201, response.text
    stored = {e["key"]: e for e in response.json()["extras"]}
    assert stored["intended_use"]["validation"]["options"] == ["production", "banking", "research"]


@pytest.mark.kadi
def test_imported_template_is_visible_to_scientists(stack: Stack) -> None:
    """An admin imports the template with a token holding template.create; another user then finds it."""
    template = dict(TEMPLATE_DATA, identifier=new_identifier("tpl"))
    response = stack.service().session.request("POST", "api/templates", json=template)
    assert response.status_code == 201, response.text
    assert response.json()["visibility"] == "public"
    found = stack.scientist().session.request("GET", f"api/templates/{response.json()['id']}")
    assert found.status_code == 200 and found.json()["data"]["type"] == "msc_batch"
