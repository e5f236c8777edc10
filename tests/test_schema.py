"""The compiled fast check and jsonschema agree on every document; the schema stays compilable."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eln_msc_plugin import schema
from tests.support.records import BASE

check = schema.fast_check()


def exact_valid(data: Any) -> bool:
    return schema.exact_validator().is_valid(data)


def plain_unknown_members(data: Any, node: dict[str, Any] | None = None, path: str = "") -> Iterator[str]:
    """The reference: every member the schema does not define, walking the whole document."""
    root = schema.load_schema()
    node = node if node is not None else root
    while "$ref" in node:
        node = root["$defs"][node["$ref"].split("/")[-1]]
    if isinstance(data, dict) and "properties" in node:
        for key, value in data.items():
            sub = path + schema.pointer([key])
            if key not in node["properties"]:
                yield sub
            else:
                yield from plain_unknown_members(value, node["properties"][key], sub)
    elif isinstance(data, list) and "items" in node:
        for i, value in enumerate(data):
            yield from plain_unknown_members(value, node["items"], f"{path}/{i}")


def agree(data: Any) -> None:
    unknown: list[Any] = []
    assert check(data, unknown) == exact_valid(data), data
    assert list(schema.unknown_members(data)) == list(plain_unknown_members(data))
    # the errors found member by member are those of the whole record
    whole = sorted((schema.pointer(e.absolute_path), schema.readable(e).message)
                   for e in schema.exact_validator().iter_errors(data))
    assert sorted((schema.pointer(e.absolute_path), e.message) for e in schema.exact_errors(data)) == whole


def paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every place in the base record (the record itself included)."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, prefix + (i,))


PLACES = list(paths(BASE))[1:]
ODD_VALUES = [None, True, False, 0, -1, 4.0, 4.5, -0.0, 1e15, 1e16, 10**30, -(10**30), 1e308, "", "x", "4",
              " ", "a" * 201, "a" * 501, [], [1], {}, {"value": 1}, 200, 201, 100, 100.0001, 0.0, 1, 2.5e-324,
              float("nan"), float("inf"), "2020-02-30", "2026-01-07T09:00+99:99"]


def mutated(place: tuple, value: Any) -> dict:
    data = copy.deepcopy(BASE)
    node = data
    for part in place[:-1]:
        node = node[part]
    node[place[-1]] = value
    return data


def removed(place: tuple) -> dict:
    data = copy.deepcopy(BASE)
    node = data
    for part in place[:-1]:
        node = node[part]
    del node[place[-1]]
    return data


def test_the_base_record_is_valid_for_both() -> None:
    assert check(BASE, []) and exact_valid(BASE)


@pytest.mark.parametrize("place", PLACES, ids=["/".join(map(str, p)) for p in PLACES])
def test_every_odd_value_at_every_place(place: tuple) -> None:
    for value in ODD_VALUES:
        agree(mutated(place, value))
    agree(removed(place))


def test_extra_members_are_valid_and_listed() -> None:
    data = copy.deepcopy(BASE)
    data["lab_note"] = "x"
    data["passages"][0]["operator"] = "AB"
    unknown: list[Any] = []
    assert check(data, unknown) and exact_valid(data)
    assert data in unknown and data["passages"][0] in unknown
    assert sorted(schema.unknown_members(data)) == ["/lab_note", "/passages/0/operator"]


@pytest.mark.parametrize(("place", "value", "expected"), [
    (("cryo_events",), [{"kind": "freeze", "at": "2026-01-13", "passage": 2, "box": "B3"}], ["/cryo_events/0/box"]),
    (("senescence", "p16", "operator"), "AB", ["/senescence/p16/operator"]),
    (("bank", "site"), {"room": 4}, ["/bank/site"]),
    (("cryo_events",), [{"kind": "thaw", "at": "2026-01-13", "passage": 2, "vial_ids": [{"x": 1}]}], []),
    (("a/b~c",), 1, ["/a~1b~0c"]),
    (("passages", 3, "note\\\"x"), 1, ['/passages/3/note\\"x']),
], ids=["cryo-event", "assay", "inside-unknown-not-listed", "items-without-members", "escaped-pointer",
        "quote-and-backslash"])
def test_unknown_members_are_found_where_they_are(place: tuple, value: Any, expected: list[str]) -> None:
    data = mutated(place, value) if place[0] in BASE else {**BASE, place[0]: value}
    unknown: list[Any] = []
    valid = check(data, unknown)
    assert valid == exact_valid(data) and (not valid or bool(unknown) == bool(expected))
    assert list(schema.unknown_members(data)) == expected == list(plain_unknown_members(data))


@pytest.mark.parametrize("data", [None, [], "x", 1, True, [BASE], {}], ids=["null", "list", "str", "int", "bool",
                                                                        "list-of-record", "empty-object"])
def test_wrong_top_level_types(data: Any) -> None:
    agree(data)
    assert not check(data, [])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
place = st.sampled_from(PLACES)
numbers = st.one_of(st.integers(min_value=-10, max_value=10**16), st.floats(min_value=-10, max_value=1e16),
                    st.floats(allow_nan=False), st.integers().map(float))
dates = st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|\+01:00)?)?\n?\Z")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(place, st.one_of(json_values, numbers, dates))
def test_random_values_at_random_places(where: tuple, value: Any) -> None:
    agree(mutated(where, value))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(place, st.one_of(json_values, numbers)), min_size=1, max_size=4))
def test_several_mutations_at_once(changes: list) -> None:
    data = copy.deepcopy(BASE)
    for where, value in changes:
        try:
            node = data
            for part in where[:-1]:
                node = node[part]
            node[where[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change replaced the container
    agree(data)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_random_documents(data: Any) -> None:
    agree(data)


def test_the_schema_only_uses_keywords_the_compiler_supports() -> None:
    used: set[str] = set()

    def walk(node: Any, is_properties: bool = False) -> None:
        if isinstance(node, dict):
            if not is_properties:
                used.update(node)
            for key, value in node.items():
                walk(value, key in ("properties", "$defs"))
        elif isinstance(node, list):
            for value in node:
                if isinstance(value, dict):
                    walk(value)

    walk(schema.load_schema())
    assert used <= schema.SUPPORTED | schema.ANNOTATIONS


def test_every_number_in_the_schema_has_both_bounds() -> None:
    # JSON parsing reads 1e400 as infinity: the bounds are what refuse it, in the compiled check and in jsonschema
    unbounded: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("number", "integer") and not (
                    {"minimum", "exclusiveMinimum"} & set(node) and {"maximum", "exclusiveMaximum"} & set(node)):
                unbounded.append(path)
            for key, value in node.items():
                walk(value, f"{path}/{key}")

    walk(schema.load_schema(), "")
    assert unbounded == []
    assert not check({**BASE, "production_passage": float("inf")}, []) and not exact_valid(
        {**BASE, "reported_cumulative_pdl": float("-inf")})


def test_the_compiler_refuses_an_unsupported_keyword() -> None:
    with pytest.raises(ValueError, match="not supported"):
        schema._Compiler({"type": "object", "anyOf": [{"type": "string"}]}).compile()


def test_exact_errors_give_the_place() -> None:
    data = mutated(("passages", 2, "viability_percent"), 130)
    (error,) = list(schema.exact_errors(data))
    assert schema.pointer(error.absolute_path) == "/passages/2/viability_percent"
    assert schema.pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"


@settings(max_examples=400, deadline=None)
@given(st.one_of(json_values, st.just(BASE)), st.integers(min_value=0, max_value=400))
def test_the_head_of_an_observed_value_is_the_head_of_its_repr(value: Any, limit: int) -> None:
    from eln_msc_plugin.rulepack.schema_rule import MAX_OBSERVED, _repr_head, _short

    head, whole = _repr_head(value, limit), repr(value)
    assert whole.startswith(head) and (len(head) >= limit or head == whole)
    short = _short(value)  # what a report shows: the value itself, or its first MAX_OBSERVED characters and "…"
    assert short == value if len(whole) <= MAX_OBSERVED or not isinstance(value, (dict, list)) else (
        short == whole[:MAX_OBSERVED] + "…")
