"""passage.window, passage.class and passage.sequence, at and around every threshold, for each intended use."""

from __future__ import annotations

import re

import pytest

from eln_msc_plugin import validate_document
from tests.support.records import as_json, record
from tests.support.rulecheck import ENGINE, findings, lot, passage, report

WINDOW = [
    ("production", 1, "warn"), ("production", 2, None), ("production", 4, None), ("production", 5, "fail"),
    ("production", 9, "fail"),
    ("banking", 1, None), ("banking", 4, None), ("banking", 5, "warn"), ("banking", 6, "warn"),
    ("banking", 7, "fail"),
    ("research", 1, None), ("research", 4, None), ("research", 5, "warn"), ("research", 12, "warn"),
]


@pytest.mark.parametrize(("use", "p", "expected"), WINDOW,
                         ids=[f"p{p}-{use}-{e or 'passes'}" for use, p, e in WINDOW])
def test_passage_window(use: str, p: int, expected: str | None) -> None:
    got = findings(record(intended_use=use, production_passage=p), "passage.window")
    assert [f.severity for f in got] == ([expected] if expected else [])
    if got:
        assert got[0].path == "/production_passage" and got[0].observed == p
        assert f"P{p}" in got[0].message


def test_passage_window_accepts_a_float_integer() -> None:
    got = findings(record(production_passage=5.0), "passage.window")
    assert [f.severity for f in got] == ["fail"] and "P5 " in got[0].message


CLASSES = [(0, "optimal"), (1, "optimal"), (4, "optimal"), (5, "borderline"), (6, "borderline"),
           (7, "not_recommended"), (8, "not_recommended"), (9, "unsuitable"), (15, "unsuitable")]


@pytest.mark.parametrize(("p", "cls"), CLASSES, ids=[f"p{p}-{c}" for p, c in CLASSES])
@pytest.mark.parametrize("use", ["production", "banking", "research"])
def test_passage_class_metric_and_info(p: int, cls: str, use: str) -> None:
    r = report(record(production_passage=p, intended_use=use))
    assert r.metrics["passage_class"] == cls
    info = [f for f in r.findings if f.rule == "passage.class"]
    assert [f.severity for f in info] == ([] if cls == "optimal" else ["info"])


def test_passage_class_is_null_without_a_readable_passage() -> None:
    assert report(record(production_passage="four")).metrics["passage_class"] is None


def _numbers(*numbers: int) -> list[dict]:
    return [passage(n, 1_000_000, 4_000_000, 1 + 5 * i) for i, n in enumerate(numbers)]


SEQUENCES = [
    ("rising", (1, 2, 3, 4), []),
    ("gap", (1, 2, 4, 5), [("fail", "/passages/2/number")]),
    ("reset", (1, 2, 2, 3), [("fail", "/passages/2/number")]),
    ("back-to-start", (1, 2, 1, 2), [("fail", "/passages/2/number")]),
]


@pytest.mark.parametrize(("name", "numbers", "expected"), SEQUENCES, ids=[s[0] for s in SEQUENCES])
@pytest.mark.parametrize("use", ["production", "banking", "research"])
def test_passage_sequence(name: str, numbers: tuple[int, ...], expected: list, use: str) -> None:
    got = findings(lot(_numbers(*numbers), intended_use=use), "passage.sequence")
    assert [(f.severity, f.path) for f in got] == expected


def test_production_passage_not_the_last_event_warns() -> None:
    data = lot(_numbers(1, 2, 3))
    data["production_passage"] = 4
    got = findings(data, "passage.sequence")
    assert [(f.severity, f.observed, f.expected) for f in got] == [("warn", 4, 3)]


def test_thaw_from_bank_then_next_passage_is_in_sequence() -> None:
    cryo = [{"kind": "thaw", "at": "2026-01-01", "passage": 2, "cumulative_pdl": 4.0}]
    assert findings(lot(_numbers(3, 4), cryo), "passage.sequence") == []


def test_thaw_followed_by_a_skipped_passage_fails() -> None:
    cryo = [{"kind": "thaw", "at": "2026-01-01", "passage": 2, "cumulative_pdl": 4.0}]
    got = findings(lot(_numbers(4, 5), cryo), "passage.sequence")
    assert [(f.severity, f.path) for f in got] == [("fail", "/passages/0/number")]


def test_freeze_of_the_wrong_passage_fails() -> None:
    cryo = [{"kind": "freeze", "at": "2026-01-11", "passage": 3}]
    got = findings(lot(_numbers(1, 2, 3), cryo), "passage.sequence")
    assert [(f.severity, f.path) for f in got] == [("fail", "/cryo_events/0/passage")]


def test_thaw_at_a_passage_never_frozen_fails() -> None:
    cryo = [{"kind": "freeze", "at": "2026-01-06", "passage": 1},
            {"kind": "thaw", "at": "2026-01-10", "passage": 5}]
    got = findings(lot(_numbers(1, 2, 6), cryo), "passage.sequence")
    assert ("fail", "/cryo_events/1/passage") in [(f.severity, f.path) for f in got]


def test_thaw_resuming_at_its_freeze_is_in_sequence() -> None:
    cryo = [{"kind": "freeze", "at": "2026-01-06", "passage": 1},
            {"kind": "thaw", "at": "2026-02-01", "passage": 1}]
    data = lot([passage(1, 1e6, 4e6, 1), passage(2, 1e6, 4e6, 6), passage(2, 1e6, 4e6, 32, thawed=True)], cryo)
    assert findings(data, "passage.sequence") == []


REPEATS = [
    ("p3-then-p3", _numbers(1, 2, 3, 3), None, "/passages/3/number", "P3 repeats P3: the passage after P3 is P4"),
    ("p1-then-p1", _numbers(1, 1, 2), None, "/passages/1/number", "P1 repeats P1: the passage after P1 is P2"),
    ("thawed-passage-repeats-its-thaw", _numbers(1, 2, 2),
     [{"kind": "freeze", "at": "2026-01-11", "passage": 2}, {"kind": "thaw", "at": "2026-01-11", "passage": 2}],
     "/passages/2/number", "P2 repeats P2"),
]


@pytest.mark.parametrize(("name", "passages", "cryo", "path", "message"), REPEATS, ids=[r[0] for r in REPEATS])
@pytest.mark.parametrize("use", ["production", "banking", "research"])
def test_a_repeated_passage_number_fails(name: str, passages: list[dict], cryo: list[dict] | None, path: str,
                                         message: str, use: str) -> None:
    got = findings(lot(passages, cryo, intended_use=use), "passage.sequence")
    assert [(f.severity, f.path) for f in got] == [("fail", path)]
    assert got[0].message.startswith(message) and "goes back" not in got[0].message


WINDOW_WORDS = [
    ("production", 5, "Production passage P5 is beyond the production window, which ends at P4: "),
    ("production", 9, "Production passage P9 is beyond the production window, which ends at P4: "),
    ("banking", 5, "Production passage P5 is beyond the banking window, which ends at P4, and the specification "
                   "fails from P7: "),
    ("banking", 7, "Production passage P7 is beyond the banking window, which ends at P4, and the specification "
                   "fails from P7: "),
    ("research", 5, "Production passage P5 is beyond the research window, which ends at P4: "),
    ("production", 1, "Production passage P1 is before the production window, which starts at P2: "),
]


@pytest.mark.parametrize(("use", "p", "start"), WINDOW_WORDS, ids=[f"p{p}-{u}" for u, p, _ in WINDOW_WORDS])
def test_passage_window_message_is_no_tautology(use: str, p: int, start: str) -> None:
    (got,) = findings(record(intended_use=use, production_passage=p), "passage.window")
    assert got.message.startswith(start)
    assert not re.search(r"P(\d+) is at or beyond P\1\b", got.message)


CLASS_METRIC = [("no-production-passage", {"production_passage": None}, None),
                ("p0-primary-isolate", {"production_passage": 0}, "optimal"),
                ("not-a-batch-record", {"format": "other"}, None)]


@pytest.mark.parametrize(("name", "change", "cls"), CLASS_METRIC, ids=[c[0] for c in CLASS_METRIC])
def test_the_passage_class_metric_is_on_every_record(name: str, change: dict, cls: str | None) -> None:
    (r,) = validate_document(as_json(record(**change)), engine=ENGINE)  # as bytes: the reader takes any object
    assert "passage_class" in r.metrics and r.metrics["passage_class"] == cls
    assert [f for f in r.findings if f.rule == "passage.class"] == []
