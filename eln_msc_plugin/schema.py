"""The v1 JSON Schema: loading it, a compiled fast validity check, and jsonschema's exact errors.

jsonschema costs about a millisecond a record. Nearly every record is valid, so a check compiled
from the same schema answers "valid?" first; jsonschema runs only on the records it rejects, to say
exactly where and why. `tests/test_schema.py` proves both give the same verdict on generated documents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from itertools import islice
from typing import Any

import jsonschema

from eln_msc_plugin import limits
from eln_msc_plugin.schema_checks import FORMAT_CHECKER, FORMATS, Validator, readable

SCHEMA_FILE = "batch-record-v1.schema.json"
XSD_FILE = "batch-record-v1.xsd"
# Keywords the compiler understands; a schema using any other keyword is refused at start-up.
SUPPORTED = {
    "type", "properties", "required", "items", "enum", "const", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "maxItems", "pattern", "format", "$ref",
}
# Keywords that make a node an object or array: it gets a function of its own rather than an inline test.
_STRUCTURE = frozenset({"properties", "items", "required", "maxItems"})
ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs", "$comment"}
_TYPE_TESTS = {
    "object": "type({v}) is dict",
    "array": "type({v}) is list",
    "string": "type({v}) is str",
    "boolean": "type({v}) is bool",
    "number": "(type({v}) is int or (type({v}) is float and {v} == {v}))",  # NaN is no number: it compares false
    "integer": "(type({v}) is int or (type({v}) is float and {v}.is_integer()))",
}


def _matcher(pattern: re.Pattern[str], valid: Callable[[str], bool] | None = None) -> Callable[[str, set[str]], bool]:
    """`matches(text, seen)`: `pattern` is found in `text` (and `valid(text)`, a format); a matching text is
    remembered in `seen` (dates repeat)."""

    def matches(text: str, seen: set[str]) -> bool:
        if pattern.search(text) is None or (valid is not None and not valid(text)):
            return False
        if len(seen) >= 4096:  # bounded: a backfill sees many dates
            seen.clear()
        seen.add(text)
        return True

    return matches


def schema_text(name: str = SCHEMA_FILE) -> bytes:
    """The bytes of a shipped schema file (found in the installed package as well as in a checkout)."""
    return resources.files("eln_msc_plugin.schemas").joinpath(name).read_bytes()


@cache
def load_schema() -> dict[str, Any]:
    return json.loads(schema_text())


@cache
def exact_validator() -> jsonschema.Draft202012Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return Validator(schema, format_checker=FORMAT_CHECKER)


class _Compiler:
    """Turns the subset of JSON Schema used by the v1 schema into Python: a function per object or array node
    (a scalar member is tested inline, in its object's function) and one per node for `member_checks`."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}
        self.names: dict[int, str] = {}
        self.patterns: dict[tuple[str, str | None], tuple[str, str]] = {}

    def const(self, value: Any) -> str:
        name = f"C{len(self.consts)}"
        self.consts[name] = value
        return name

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/$defs/") or len(node) != 1:
                raise ValueError(f"unsupported $ref {ref!r}")
            node = self.root["$defs"][ref.split("/")[-1]]
        return node

    def function(self, node: dict[str, Any]) -> str:
        node = self.resolve(node)
        if id(node) in self.names:
            return self.names[id(node)]
        name = self.names[id(node)] = f"f{len(self.names)}"
        unknown = set(node) - SUPPORTED - ANNOTATIONS
        if unknown:
            raise ValueError(f"schema keyword(s) {sorted(unknown)} not supported by the compiled check")
        body = self.body(node)
        self.lines += [f"def {name}(v, unk):"] + [f"    {line}" for line in body] + ["    return True", ""]
        return name

    def invalid(self, node: dict[str, Any], v: str) -> str:
        """An expression that is true when the value named `v` does not satisfy `node`."""
        node = self.resolve(node)
        if node.get("type") in ("object", "array") or not _STRUCTURE.isdisjoint(node):
            return f"not {self.function(node)}({v}, unk)"
        return " or ".join(self.failures(node, v)) or "False"

    def failures(self, node: dict[str, Any], v: str) -> list[str]:
        """Conditions of which any one makes `v` fail the scalar keywords of `node` (tested left to right)."""
        out: list[str] = []
        kind = node.get("type")
        if kind is not None:
            out.append(f"not {_TYPE_TESTS[kind].format(v=v)}")
        if "const" in node:
            out.append(f"type({v}) is not type({self.const(node['const'])}) or {v} != {self.const(node['const'])}")
        if "enum" in node:
            values = node["enum"]
            if not all(isinstance(x, str) for x in values):
                raise ValueError("only string enums are supported")
            out.append(f"type({v}) is not str or {v} not in {self.const(frozenset(values))}")
        # after the type test a guard is implied: it is written only where the type does not imply it
        numeric = "" if kind in ("number", "integer") else f"(type({v}) is int or type({v}) is float) and "
        for key, op in (("minimum", "<"), ("maximum", ">"), ("exclusiveMinimum", "<="), ("exclusiveMaximum", ">=")):
            if key in node:
                out.append(f"{numeric}{v} {op} {node[key]!r}")
        text = "" if kind == "string" else f"type({v}) is str and "
        if "minLength" in node:
            out.append(f"{text}len({v}) < {node['minLength']}")
        if "maxLength" in node:
            out.append(f"{text}len({v}) > {node['maxLength']}")
        if "pattern" in node or "format" in node:
            shape = node.get("pattern", ""), node.get("format")
            if shape[1] is not None and shape[1] not in FORMATS:
                raise ValueError(f"schema format {shape[1]!r} not supported by the compiled check")
            if shape not in self.patterns:  # one memory of matching texts per pattern and format
                matcher = _matcher(re.compile(shape[0]), FORMATS.get(shape[1] or ""))
                self.patterns[shape] = self.const(set()), self.const(matcher)
            seen, matches = self.patterns[shape]
            out.append(f"{text}{v} not in {seen} and not {matches}({v}, {seen})")
        return [f"({condition})" for condition in out]

    def body(self, node: dict[str, Any]) -> list[str]:
        out = [f"if {condition}: return False" for condition in self.failures(node, "v")]
        if "maxItems" in node:
            out.append(f"if type(v) is list and len(v) > {node['maxItems']}: return False")
        if "items" in node:
            test = self.invalid(node["items"], "x")
            out += ["if type(v) is list:", "    for x in v:", f"        if {test}: return False"]
        if "required" in node:
            required = self.const(frozenset(node["required"]))
            out.append(f"if type(v) is dict and not {required}.issubset(v): return False")
        if "properties" in node:
            out += self.members(node)
        return out

    def members(self, node: dict[str, Any]) -> list[str]:
        """The members of an object: a required one is read directly (`required` was tested before)."""
        guard = node.get("type") != "object"
        out = ["if type(v) is dict:"] if guard else []
        indent = "    " if guard else ""
        props, required = node["properties"], set(node.get("required", ()))
        out.append(f"{indent}if not {self.const(frozenset(props))}.issuperset(v): unk.append(v)")
        for key, sub in props.items():
            test = self.invalid(sub, "x")
            if key in required:
                out += [f"{indent}x = v[{key!r}]", f"{indent}if {test}: return False"]
            else:
                out += [f"{indent}if {key!r} in v:", f"{indent}    x = v[{key!r}]",
                        f"{indent}    if {test}: return False"]
        return out

    def compile(self) -> Callable[[Any, list[Any]], bool]:
        entry = self.function(self.root)
        for sub in self.root.get("properties", {}).values():  # each member on its own, for `member_checks`
            self.function(sub)
        namespace: dict[str, Any] = dict(self.consts)
        exec(compile("\n".join(self.lines), "<compiled batch-record schema>", "exec"), namespace)
        self.namespace = namespace
        return namespace[entry]

    def member_checks(self) -> dict[str, Callable[[Any, list[Any]], bool]]:
        """The compiled check of each top-level member (after `compile`)."""
        props = self.root.get("properties", {})
        return {key: self.namespace[self.names[id(self.resolve(sub))]] for key, sub in props.items()}


@cache
def fast_check() -> Callable[[Any, list[Any]], bool]:
    """`check(data, unknown) -> bool`: True when `data` is valid; objects with unknown members go in `unknown`."""
    return _Compiler(load_schema()).compile()


def pointer(parts: Any) -> str:
    """A JSON Pointer (RFC 6901) from path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@cache
def _member_validators() -> tuple[jsonschema.Draft202012Validator, dict[str, Any]]:
    """A validator of the record without its members, and per member its compiled check and validator."""
    root = load_schema()
    compiler = _Compiler(root)
    compiler.compile()
    checks = compiler.member_checks()
    defs = {"$defs": root.get("$defs", {})}
    shell = Validator({k: v for k, v in root.items() if k != "properties"}, format_checker=FORMAT_CHECKER)
    members = {key: (checks[key], Validator({**sub, **defs}, format_checker=FORMAT_CHECKER))
               for key, sub in root["properties"].items()}
    return shell, members


def exact_errors(data: Any) -> Iterator[jsonschema.ValidationError]:
    """jsonschema's errors for `data`, the most specific first within each place, each `readable`; at most
    MAX_SCHEMA_ERRORS of them (a list of a million bad items is not a million findings).

    jsonschema runs only on the members the compiled check rejects (a bad record has one or two,
    and the whole record costs jsonschema about 2 ms); the errors are the same as for the whole record.
    """
    room = limits.MAX_SCHEMA_ERRORS
    if type(data) is not dict:
        errors = list(islice(exact_validator().iter_errors(data), room))
    else:
        shell, members = _member_validators()
        errors = list(islice(shell.iter_errors(data), room))
        for key, value in data.items():
            member = members.get(key)
            if member is None or member[0](value, []):
                continue
            for error in islice(member[1].iter_errors(value), room - len(errors)):
                error.path.appendleft(key)
                error.schema_path.extendleft(reversed(["properties", key]))
                errors.append(error)
    ordered = sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), -len(e.path)))
    return iter([readable(error) for error in ordered])


def unknown_members(data: Any, schema: dict[str, Any] | None = None, path: str = "") -> Iterator[str]:
    """JSON Pointers of members the schema does not define (kept, and ignored by the rules); at most
    MAX_SCHEMA_ERRORS of them."""
    root = load_schema()
    if schema is None and not _has_unknown(data, _shape()):
        return iter(())  # the common case, told by a set test per object
    found: list[str] = []
    _collect_unknown(root, data, schema if schema is not None else root, path, found)
    return iter(found)


# Per object node: its member names and its members that hold objects or arrays; per array node: its items.
_Shape = tuple[frozenset[str] | None, tuple[tuple[str, "_Shape"], ...], "_Shape | None"]


@cache
def _shape() -> _Shape:
    """The shape of the whole schema, for `_has_unknown`."""
    root = load_schema()
    return _shape_of(root, root)


def _shape_of(root: dict[str, Any], node: dict[str, Any]) -> _Shape:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].split("/")[-1]]
    props = node.get("properties")
    children = ((key, _shape_of(root, sub)) for key, sub in (props or {}).items())
    structured = tuple((key, shape) for key, shape in children if shape[0] is not None or shape[2] is not None)
    items = _shape_of(root, node["items"]) if "items" in node else None
    if items is not None and items[0] is None and items[2] is None:
        items = None  # items without members (strings): nothing unknown below
    return (frozenset(props) if props is not None else None), structured, items


def _has_unknown(data: Any, shape: _Shape) -> bool:
    """Whether `unknown_members` can find anything in `data` (False means it finds nothing)."""
    props, structured, items = shape
    if isinstance(data, dict) and props is not None:
        if not props.issuperset(data):
            return True
        for key, child in structured:
            value = data.get(key)
            if value is not None and _has_unknown(value, child):
                return True
    elif isinstance(data, list) and items is not None:
        for value in data:
            if _has_unknown(value, items):
                return True
    return False


def _collect_unknown(root: dict[str, Any], data: Any, node: dict[str, Any], path: str, found: list[str]) -> None:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].split("/")[-1]]
    if isinstance(data, dict) and "properties" in node:
        props = node["properties"]
        for key, value in data.items():
            if len(found) >= limits.MAX_SCHEMA_ERRORS:  # as many as a report can say anything about
                return
            sub = props.get(key)
            if sub is None and key not in props:
                found.append(path + pointer([key]))
            elif isinstance(value, (dict, list)):  # a scalar has no members
                _collect_unknown(root, value, sub, path + pointer([key]), found)
    elif isinstance(data, list) and "items" in node:
        items = node["items"]
        for i, value in enumerate(data):
            if isinstance(value, (dict, list)):
                _collect_unknown(root, value, items, f"{path}/{i}", found)
