"""Benchling's published API descriptions, loaded from the installed `benchling-api-client`, for the fake.

The REST description (`benchling_api_client/v2/stable/openapi.yaml`) checks every request the fake
receives and every response it sends, through openapi-core; the webhook description
(`benchling_api_client/webhooks/v0/stable/openapi.yaml`) checks every webhook the fake sends.
Nothing is copied: both are read from the installed package.
"""

from __future__ import annotations

import copy
import functools
from importlib.resources import files
from typing import Any

import yaml
from openapi_core import OpenAPI
from openapi_schema_validator import OAS30Validator

REST_DOCUMENT = "v2/stable/openapi.yaml"
WEBHOOK_DOCUMENT = "webhooks/v0/stable/openapi.yaml"


def load_document(name: str) -> dict[str, Any]:
    text = (files("benchling_api_client") / name).read_bytes()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def close_all_of(document: dict[str, Any]) -> int:
    """Let `additionalProperties: false` see the properties the other `allOf` members declare.

    The description writes e.g. `CustomEntityUpdate` as `allOf` of two request shapes with
    `additionalProperties: false` beside it, and `BenchlingApp` as `allOf` of `BenchlingAppUpdate`
    (closed) and a closed member of its own; read literally by JSON Schema, each closed part refuses
    the members the others declare (the keyword sees only sibling `properties`). Benchling's own
    generated client merges the parts, so the fake does the same: every closed part of an `allOf`
    (a referenced one as a copy, so it stays as it is where it is used alone) gets the names the whole
    declares, and unknown names still fail. Returns how many schemas were closed this way.
    """
    schemas = document["components"]["schemas"]
    closed = 0
    for schema in list(_walk(schemas)):
        if not isinstance(schema.get("allOf"), list):
            continue
        names = _property_names(schema, schemas, set())
        parts = [schema] + schema["allOf"]
        for i, part in enumerate(parts):
            target = schemas[part["$ref"].rpartition("/")[2]] if "$ref" in part else part
            if target.get("additionalProperties") is not False:
                continue
            if "$ref" in part:
                target = copy.deepcopy(target)
                schema["allOf"][i - 1] = target
            target.setdefault("properties", {})
            for name in names:
                target["properties"].setdefault(name, {})
            closed += 1
    return closed


def allow_null_in_one_of(document: dict[str, Any]) -> int:
    """Let a `nullable: true` schema built of `oneOf` or `allOf` members hold null.

    OpenAPI 3.0 says `nullable` admits null; openapi-schema-validator applies it to `type` but still
    requires null to match the `oneOf`/`allOf` members, so `Field.value: null` and `archiveRecord: null`
    (as Benchling returns every empty field and unarchived item) would fail. The fake adds the null
    alternative the description means. Returns how many schemas it changed.
    """
    changed = 0
    for schema in _walk(document["components"]["schemas"]):
        if schema.get("nullable") is not True:
            continue
        if isinstance(schema.get("oneOf"), list):
            schema["oneOf"].append({"enum": [None], "nullable": True})
            changed += 1
        elif isinstance(schema.get("allOf"), list):
            schema["anyOf"] = [{"allOf": schema.pop("allOf")}, {"enum": [None], "nullable": True}]
            changed += 1
    return changed


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _property_names(schema: dict[str, Any], schemas: dict[str, Any], seen: set[str]) -> set[str]:
    names = set(schema.get("properties", {}))
    for member in schema.get("allOf", []):
        ref = member.get("$ref", "")
        if ref:
            key = ref.rpartition("/")[2]
            if key in seen:
                continue
            seen.add(key)
            member = schemas[key]
        names |= _property_names(member, schemas, seen)
    return names


@functools.lru_cache(maxsize=1)
def rest_spec() -> OpenAPI:
    """The stable REST description as openapi-core validates it (a few seconds to build; built once)."""
    document = copy.deepcopy(load_document(REST_DOCUMENT))
    close_all_of(document)
    allow_null_in_one_of(document)
    return OpenAPI.from_dict(document)


@functools.lru_cache(maxsize=1)
def webhook_schemas() -> dict[str, Any]:
    document = copy.deepcopy(load_document(WEBHOOK_DOCUMENT))
    close_all_of(document)  # same reading of `allOf` + `additionalProperties: false` as for the REST document
    allow_null_in_one_of(document)
    return document


def webhook_errors(envelope: dict[str, Any]) -> list[str]:
    """What in a webhook envelope the webhook description does not allow (empty when it is valid)."""
    document = webhook_schemas()
    schema = dict(document["components"]["schemas"]["WebhookEnvelopeV0"])
    schema["components"] = document["components"]
    validator = OAS30Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(envelope)]
    message_type = envelope.get("message", {}).get("type")
    mapping = document["components"]["schemas"]["WebhookMessageV0"]["discriminator"]["mapping"]
    if message_type not in mapping:
        errors.append(f"message/type: {message_type!r} is not a webhook type the description lists")
    return errors
