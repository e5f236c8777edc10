"""The `schema` rule: the record satisfies the v1 JSON Schema (types, ranges, required members)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from itertools import repeat
from typing import Any

from eln_msc_plugin import schema
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import Finding
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


def _repr_head(value: Any, limit: int) -> str:
    """`repr(value)`, or a prefix of it at least `limit` characters long: the whole record need not be
    written out to show its first 200 characters (a record missing a member is reported with its head)."""
    is_dict = type(value) is dict
    if not is_dict and type(value) is not list:
        return repr(value)
    parts = ["{" if is_dict else "["]
    size = 1
    for i, (key, item) in enumerate(value.items() if is_dict else zip(repeat(None), value)):
        if i:
            parts.append(", ")
            size += 2
        if is_dict:
            head = f"{key!r}: "
            parts.append(head)
            size += len(head)
        text = _repr_head(item, limit - size)
        parts.append(text)
        size += len(text)
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


def _message(error: Any, path: str) -> str:
    where = path or "the record"
    if type(error.instance) is float and not math.isfinite(error.instance):
        return f"{where}: a number too large to hold (it overflows to {error.instance!r}); no batch record needs one."
    if error.validator == "required":
        return f"{where}: {error.message} (the batch-record format requires it)."
    if error.validator in ("enum", "const"):
        return f"{where}: {_short(error.instance)!r} is not one of the allowed values {error.validator_value}."
    return f"{where}: {error.message}."


@rule(
    "schema",
    summary="The document satisfies the batch-record v1 schema: types, ranges and required members.",
    severities=("fail", "info"),
    reads=("/",),
    source="batch-record-v1 spec (schemas/batch-record-v1.schema.json)",
)
def schema_check(ctx: RuleContext) -> Sequence[Finding]:
    """Violations fail for every intended use; unknown members are kept and listed as `info`."""
    unknown: list[Any] = []
    valid = _fast(ctx.data, unknown)
    if valid and not unknown:
        return NO_FINDINGS  # nearly every record: no generator to start
    return list(_findings(ctx, valid))


def _findings(ctx: RuleContext, valid: bool) -> Iterator[Finding]:
    record = ctx.record
    if not valid:
        placed = {f.path for f in record.read_findings}
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
