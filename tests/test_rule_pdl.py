"""pdl.limit, pdl.consistency and pdl.monotonic at and around every threshold, for each intended use."""

from __future__ import annotations

import pytest

from tests.support.records import record, set_path
from tests.support.rulecheck import findings, lot, passage

# The base record's counts give 8.54, so the record-level reported value decides pdl.limit here.
LIMIT = [
    ("production", 10.0, None), ("production", 10.01, "warn"), ("production", 12.0, "warn"),
    ("production", 12.01, "fail"), ("production", 12.8, "fail"),
    ("banking", 10.0, None), ("banking", 11.0, "warn"), ("banking", 12.0, "warn"), ("banking", 12.5, "fail"),
    ("research", 10.5, None), ("research", 12.0, None), ("research", 12.01, "warn"), ("research", 30.0, "warn"),
]


@pytest.mark.parametrize(("use", "pdl", "expected"), LIMIT,
                         ids=[f"pdl{v}-{u}-{e or 'passes'}" for u, v, e in LIMIT])
def test_pdl_limit_on_the_reported_value(use: str, pdl: float, expected: str | None) -> None:
    got = findings(record(intended_use=use, reported_cumulative_pdl=pdl), "pdl.limit")
    assert [f.severity for f in got] == ([expected] if expected else [])
    if got:
        assert got[0].path == "/reported_cumulative_pdl" and got[0].observed == pdl


def test_pdl_limit_judges_the_recomputed_value_when_larger() -> None:
    # 7 passages of exactly 2 doublings = 14.0, although the record claims 9
    data = lot([passage(n, 1_000_000, 4_000_000, 1 + 5 * (n - 1)) for n in range(1, 8)],
               reported_cumulative_pdl=9.0)
    got = findings(data, "pdl.limit")
    assert [f.severity for f in got] == ["fail"]
    assert got[0].observed == 14.0 and got[0].expected == {"maximum": 12}
    assert "computed from cell counts; record states 9" in got[0].message
    assert got[0].path == "/passages/6"


def test_pdl_limit_message_reads_without_docs() -> None:
    got = findings(record(reported_cumulative_pdl=12.8), "pdl.limit")
    assert got[0].message.startswith("Cumulative PDL 12.8 exceeds the production limit of 12")
    assert "senescent secretome" in got[0].message


def test_pdl_limit_warns_when_no_pdl_can_be_had() -> None:
    data = record(reported_cumulative_pdl=None)
    for p in data["passages"]:
        del p["reported_cumulative_pdl"]
    del data["passages"][0]["cells_seeded"]
    assert [f.severity for f in findings(data, "pdl.limit")] == ["warn"]
    assert findings(dict(data, intended_use="research"), "pdl.limit") == []


def _exact(reported_last: float) -> dict:
    # PD exactly 2 per passage: recomputed 2, 4, 6
    data = lot([passage(1, 1e6, 4e6, 1, reported_cumulative_pdl=2.0),
                passage(2, 1e6, 4e6, 6, reported_cumulative_pdl=4.0),
                passage(3, 1e6, 4e6, 11, reported_cumulative_pdl=reported_last)])
    return data


CONSISTENCY = [(6.0, None), (6.5, None), (6.51, "warn"), (7.0, "warn"), (7.01, "fail"), (5.5, None),
               (5.49, "warn"), (4.99, "fail")]


@pytest.mark.parametrize(("reported", "expected"), CONSISTENCY,
                         ids=[f"reported{r}-{e or 'passes'}" for r, e in CONSISTENCY])
@pytest.mark.parametrize("use", ["production", "banking", "research"])
def test_pdl_consistency_per_passage(reported: float, expected: str | None, use: str) -> None:
    data = _exact(reported)
    data["intended_use"] = use
    got = findings(data, "pdl.consistency")
    assert [(f.severity, f.path) for f in got] == (
        [(expected, "/passages/2/reported_cumulative_pdl")] if expected else [])
    if got:
        assert got[0].expected["value"] == 6.0


def test_pdl_consistency_record_level() -> None:
    data = _exact(6.0)
    data["reported_cumulative_pdl"] = 8.0
    got = findings(data, "pdl.consistency")
    assert [(f.severity, f.path) for f in got] == [("fail", "/reported_cumulative_pdl")]


def test_pdl_consistency_checks_the_freeze_pdl() -> None:
    cryo = [{"kind": "freeze", "at": "2026-01-16", "passage": 3, "cumulative_pdl": 7.2}]
    got = findings(lot(_exact(6.0)["passages"], cryo), "pdl.consistency")
    assert [(f.severity, f.path) for f in got] == [("fail", "/cryo_events/0/cumulative_pdl")]


def test_pdl_consistency_of_a_thaw_based_record() -> None:
    cryo = [{"kind": "thaw", "at": "2026-01-01", "passage": 3, "cumulative_pdl": 6.5}]
    data = lot([passage(4, 1e6, 8e6, 1, thawed=True, reported_cumulative_pdl=8.4)], cryo)
    got = findings(data, "pdl.consistency")  # 6.5 + 3 = 9.5, reported 8.4: 1.1 apart
    assert [(f.severity, f.observed, f.expected["value"]) for f in got] == [("fail", 8.4, 9.5)]


MONOTONIC = [((2.0, 4.0, 6.0), []), ((2.0, 4.0, 4.0), []), ((2.0, 4.0, 3.9), ["/passages/2/reported_cumulative_pdl"]),
             ((2.0, 1.0, 6.0), ["/passages/1/reported_cumulative_pdl"])]


@pytest.mark.parametrize(("values", "paths"), MONOTONIC, ids=["rising", "flat", "last-falls", "middle-falls"])
@pytest.mark.parametrize("use", ["production", "banking", "research"])
def test_pdl_monotonic(values: tuple[float, ...], paths: list[str], use: str) -> None:
    data = lot([passage(i + 1, 1e6, 4e6, 1 + 5 * i, reported_cumulative_pdl=v) for i, v in enumerate(values)],
               intended_use=use)
    got = findings(data, "pdl.monotonic")
    assert [f.path for f in got] == paths
    assert all(f.severity == "fail" for f in got)


def test_pdl_monotonic_across_a_freeze_and_the_record_level_value() -> None:
    cryo = [{"kind": "freeze", "at": "2026-01-11", "passage": 2, "cumulative_pdl": 3.0}]
    data = lot([passage(1, 1e6, 4e6, 1, reported_cumulative_pdl=2.0),
                passage(2, 1e6, 4e6, 6, reported_cumulative_pdl=4.0)],
               cryo, reported_cumulative_pdl=3.5)
    got = findings(data, "pdl.monotonic")
    assert [f.path for f in got] == ["/cryo_events/0/cumulative_pdl"]


def _reported_at(where: str, value: float) -> dict:
    """PD 2 a passage (recomputed 2, 4, 6), a freeze after P2 and a mid-record thaw of it before P3; every reported
    value right except the one at `where`, set to `value`."""
    cryo = [{"kind": "freeze", "at": "2026-01-11", "passage": 2, "cumulative_pdl": 4.0},
            {"kind": "thaw", "at": "2026-01-20", "passage": 2, "cumulative_pdl": 4.0}]
    data = lot([passage(1, 1e6, 4e6, 1, reported_cumulative_pdl=2.0),
                passage(2, 1e6, 4e6, 6, reported_cumulative_pdl=4.0),
                passage(3, 1e6, 4e6, 21, thawed=True, reported_cumulative_pdl=6.0)], cryo,
               reported_cumulative_pdl=6.0)
    set_path(data, where, value)
    return data


REPORTED = [("passage", "/passages/1/reported_cumulative_pdl", 4.0),
            ("freeze", "/cryo_events/0/cumulative_pdl", 4.0),
            ("mid-record-thaw", "/cryo_events/1/cumulative_pdl", 4.0),
            ("record-level", "/reported_cumulative_pdl", 6.0)]


@pytest.mark.parametrize(("name", "where", "right"), REPORTED, ids=[r[0] for r in REPORTED])
@pytest.mark.parametrize(("off", "expected"), [(0.5, None), (0.51, "warn"), (1.0, "warn"), (1.01, "fail")],
                         ids=["0.5-off-agrees", "0.51-off-warns", "1.0-off-warns", "1.01-off-fails"])
def test_pdl_consistency_compares_every_reported_value(name: str, where: str, right: float, off: float,
                                                       expected: str | None) -> None:
    assert findings(_reported_at(where, right), "pdl.consistency") == []
    got = findings(_reported_at(where, right + off), "pdl.consistency")
    assert [(f.severity, f.path) for f in got] == ([(expected, where)] if expected else [])
    if got:
        assert got[0].expected["value"] == right


ORDER = [
    ("all-rising", None, None, []),
    ("record-level-equal-to-the-last-passage", "/reported_cumulative_pdl", 6.0, []),
    ("record-level-below-the-last-passage", "/reported_cumulative_pdl", 5.9, ["/reported_cumulative_pdl"]),
    ("freeze-below-the-passage-before-it-by-date", "/cryo_events/0/cumulative_pdl", 3.9,
     ["/cryo_events/0/cumulative_pdl"]),
    ("thaw-below-its-freeze", "/cryo_events/1/cumulative_pdl", 3.5, ["/cryo_events/1/cumulative_pdl"]),
    ("passage-below-the-thaw-before-it", "/passages/2/reported_cumulative_pdl", 3.9,
     ["/passages/2/reported_cumulative_pdl"]),
]


@pytest.mark.parametrize(("name", "where", "value", "paths"), ORDER, ids=[o[0] for o in ORDER])
def test_pdl_monotonic_reads_events_by_date_and_the_record_last(name: str, where: str | None, value: float | None,
                                                                 paths: list[str]) -> None:
    data = _reported_at(where, value) if where else _reported_at("/reported_cumulative_pdl", 6.0)
    got = findings(data, "pdl.monotonic")
    assert [f.path for f in got] == paths and all(f.severity == "fail" for f in got)


def _no_pdl(use: str, first: int = 1) -> dict:
    data = record(intended_use=use, reported_cumulative_pdl=None)
    for i, p in enumerate(data["passages"]):
        del p["reported_cumulative_pdl"]
        p["number"] = first + i
        del p["cells_harvested"]
    return data


NO_PDL = [("production", 1, "warn"), ("banking", 1, "warn"), ("research", 1, None),
          ("production", 3, "warn"), ("research", 3, None)]


@pytest.mark.parametrize(("use", "first", "expected"), NO_PDL,
                         ids=[f"{u}-from-p{f}-{e or 'nothing'}" for u, f, e in NO_PDL])
def test_a_lot_with_no_pdl_at_all(use: str, first: int, expected: str | None) -> None:
    got = findings(_no_pdl(use, first), "pdl.limit")
    assert [f.severity for f in got] == ([expected] if expected else [])
    if got:
        assert "cannot be checked" in got[0].message and got[0].path == "/reported_cumulative_pdl"
