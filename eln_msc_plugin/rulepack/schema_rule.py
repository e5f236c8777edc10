"""The `schema` rule: the record satisfies the v1 JSON Schema (types, ranges, required members)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from eln_msc_plugin import schema
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import Finding
from eln_msc_plugin.rules import Rule, RuleContext, rule

MAX_OBSERVED = 200


def _short(value: Any) -> Any:
    """The observed value, cut down when it is large (a whole sub-document is not useful in a report)."""
    if isinstance(value, (dict, list)):
        text = repr(value)
        return value if len(text) <= MAX_OBSERVED else text[:MAX_OBSERVED] + "…"
    if isinstance(value, str) and len(value) > MAX_OBSERVED:
        return value[:MAX_OBSERVED] + "…"
    return value


def _message(error: Any, path: str) -> str:
    where = path or "the record"
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
def schema_check(ctx: RuleContext) -> Iterator[Finding]:
    """Violations fail for every intended use; unknown members are kept and listed as `info`."""
    record = ctx.record
    unknown: list[Any] = []
    valid = _fast(record.data, unknown)
    if not valid:
        placed = {f.path for f in record.read_findings}
        for error in schema.exact_errors(record.data):
            path = schema.pointer(error.absolute_path)
            if path in placed:
                continue
            placed.add(path)
            expected = {error.validator: error.validator_value} if error.validator != "type" else error.validator_value
            yield ctx.finding("fail", path, _message(error, path), _short(error.instance), expected)
    if unknown or not valid:
        for path in schema.unknown_members(record.data):
            yield ctx.finding("info", path, f"{path}: not a member of the v1 format; kept and ignored by the rules.")


_fast: Callable[[Any, list[Any]], bool] = schema.fast_check()


@hookimpl
def eln_msc_register_rules(register: Callable[[Rule], None]) -> None:
    register(schema_check)
