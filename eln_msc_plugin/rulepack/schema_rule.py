"""The `schema` rule: the record satisfies the v1 JSON Schema (types, ranges, required members)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from itertools import repeat
from typing import Any

from eln_msc_plugin import schema
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import Finding
from eln_msc_plugin.rulepack import FORMAT, is_batch_record
from eln_msc_plugin.rules import NO_FINDINGS, Rule, RuleContext, rule

MAX_OBSERVED = 200


def _short(value: Any) -> Any:
    """The observed value, cut down when it is large (a whole sub-document is not useful in a report)."""
    if isinstance(value, (dict, list)):
        text = _repr_head(value, MAX_OBSERVED + 1)
        return value if len(text) <= MAX_OBSERVED else text[:MAX_OBSERVED] + "…"
    if isinstance(value, str) and len(value) > MAX_OBSERVED:
        return value[:MAX_OBSERVED] + "…"
    return value


def _repr_head(value: Any, limit: int, text: Callable[[Any], str] = repr) -> str:
    """`repr(value)` (or, with `text=json_text`, its JSON), or a prefix of it at least `limit` characters long:
    the whole record need not be written out to show its first 200 characters."""
    is_dict = type(value) is dict
    if not is_dict and type(value) is not list:
        return text(value)
    parts = ["{" if is_dict else "["]
    size = 1
    for i, (key, item) in enumerate(value.items() if is_dict else zip(repeat(None), value)):
        if i:
            parts.append(", ")
            size += 2
        if is_dict:
            head = f"{text(key)}: "
            parts.append(head)
            size += len(head)
        shown = _repr_head(item, limit - size, text)
        parts.append(shown)
        size += len(shown)
        if size >= limit:  # enough (`text` may itself be only a head)
            return "".join(parts)
    parts.append("}" if is_dict else "]")
    return "".join(parts)


def _writable(value: Any) -> Any:
    """`value` with every non-finite number as text, so a report stays strict JSON (a count of 1e400 reads as inf)."""
    if type(value) is float and not math.isfinite(value):
        return repr(value)
    if type(value) is dict:
        return {key: _writable(item) for key, item in value.items()}
    if type(value) is list:
        return [_writable(item) for item in value]
    return value


def json_text(value: Any) -> str:
    """A scalar as JSON text (`null`, `true`, `"text"`), as people see it in the document, not as Python does."""
    if type(value) is float and not math.isfinite(value):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def shown(value: Any) -> str:
    """A value of the document for a message: its JSON, cut to MAX_OBSERVED characters."""
    head = _repr_head(value, MAX_OBSERVED + 1, json_text)
    return head if len(head) <= MAX_OBSERVED else head[:MAX_OBSERVED] + "…"


def _names(names: list[Any], last: str = " or ") -> str:
    quoted = [json_text(n) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + last + quoted[-1]


# What each schema keyword says about a value (`v`, as JSON) that breaks it (`n`, the keyword's value).
_SAYS: dict[str, Callable[[str, Any], str]] = {
    "type": lambda v, n: f"{v} is not of type {_names(n if isinstance(n, list) else [n])}",
    "enum": lambda v, n: f"{v} is not one of the allowed values {_names(n)}",
    "const": lambda v, n: f"{v} is not the allowed value {json_text(n)}",
    "minimum": lambda v, n: f"{v} is less than the minimum of {json_text(n)}",
    "maximum": lambda v, n: f"{v} is greater than the maximum of {json_text(n)}",
    "exclusiveMinimum": lambda v, n: f"{v} is not greater than {json_text(n)}",
    "exclusiveMaximum": lambda v, n: f"{v} is not less than {json_text(n)}",
    "minLength": lambda v, n: f"{v} is empty" if n == 1 else f"{v} is shorter than {n} characters",
    "maxLength": lambda v, n: f"{v} is longer than {n} characters",
    "maxItems": lambda v, n: f"{v} has more than {n} items",
    "pattern": lambda v, n: f"{v} does not match the pattern {json_text(n)}",
}


def _message(error: Any, path: str) -> str:
    """The message of a schema violation, the document's values written as JSON."""
    where = path or "the record"
    if type(error.instance) is float and math.isinf(error.instance):
        return f"{where}: a number too large to hold (it overflows to {error.instance!r}); no batch record needs one."
    if error.validator == "required" and type(error.instance) is dict:
        missing = [n for n in error.validator_value if n not in error.instance]
        verb, them = ("is", "it") if len(missing) == 1 else ("are", "them")
        return f"{where}: {_names(missing, ' and ')} {verb} missing (the batch-record format " \
               f"requires {them})."
    says = _SAYS.get(error.validator)
    return f"{where}: {says(shown(error.instance), error.validator_value) if says else error.message}."


def _not_a_record(ctx: RuleContext) -> Finding | None:
    """The finding for an object whose `format` says it is not an MSC batch record (no other rule runs on it)."""
    data = ctx.data
    if type(data) is not dict or is_batch_record(data):
        return None
    why = "has no \"format\"" if "format" not in data else f"has \"format\": {shown(data['format'])}"
    return ctx.finding("fail", "/format" if "format" in data else "",
                       f"This document is not an MSC batch record: it {why}, where a batch record has \"format\": "
                       f"{json_text(FORMAT)}. The batch-record rules were not applied.",
                       _writable(_short(data.get("format"))), {"const": FORMAT})


@rule(
    "schema",
    summary="The document satisfies the batch-record v1 schema: types, ranges and required members.",
    severities=("fail", "info"),
    reads=("/",),
    source="batch-record-v1 spec (schemas/batch-record-v1.schema.json)",
    scope="document",
)
def schema_check(ctx: RuleContext) -> Sequence[Finding]:
    """Violations fail for every intended use; unknown members are kept and listed as `info`. A document whose
    `format` is missing or is not `msc-batch-record` gets a first finding that says it is not a batch record,
    and no other rule runs on it (their findings would only repeat that). Values are quoted as JSON."""
    unknown: list[Any] = []
    valid = _fast(ctx.data, unknown)
    if valid and not unknown:
        return NO_FINDINGS  # nearly every record: no generator to start
    return list(_findings(ctx, valid))


def _findings(ctx: RuleContext, valid: bool) -> Iterator[Finding]:
    record = ctx.record
    if not valid:
        placed = {f.path for f in record.read_findings}
        first = _not_a_record(ctx)
        if first is not None:
            placed.add(first.path)
            yield first
        for error in schema.exact_errors(record.data):
            path = schema.pointer(error.absolute_path)
            if path in placed:
                continue
            placed.add(path)
            expected = {error.validator: error.validator_value} if error.validator != "type" else error.validator_value
            yield ctx.finding("fail", path, _message(error, path), _writable(_short(error.instance)), expected)
    for path in schema.unknown_members(record.data):
        yield ctx.finding("info", path, f"{path}: not a member of the v1 format; kept and ignored by the rules.")


_fast: Callable[[Any, list[Any]], bool] = schema.fast_check()


@hookimpl
def eln_msc_register_rules(register: Callable[[Rule], None]) -> None:
    register(schema_check)
