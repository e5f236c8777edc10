"""chronology: every ordering the rule checks, for each intended use, with bare dates and with times."""

from __future__ import annotations

import pytest

from tests.support.records import record, set_path
from tests.support.rulecheck import findings

CASES = [
    ("in-order", [], []),
    ("harvest-same-day-as-seeding", [("/passages/0/harvested_at", "2026-01-02")], ["/passages/0/harvested_at"]),
    ("harvest-before-seeding", [("/passages/0/harvested_at", "2026-01-01")], ["/passages/0/harvested_at"]),
    ("next-seeded-same-day-as-harvest", [("/passages/1/seeded_at", "2026-01-07")], []),
    ("next-seeded-before-harvest", [("/passages/1/seeded_at", "2026-01-06")], ["/passages/1/seeded_at"]),
    ("assay-after-release", [("/senescence/p16/tested_at", "2026-03-06")], ["/senescence/p16/tested_at"]),
    ("assay-on-release-day", [("/senescence/p16/tested_at", "2026-03-05")], []),
    ("ev-after-release", [("/ev_harvest/collected_at", "2026-04-01")], ["/ev_harvest/collected_at"]),
    ("harvest-after-release", [("/released_at", "2026-01-25")],
     ["/passages/3/harvested_at", "/senescence/beta_gal/tested_at", "/senescence/p16/tested_at",
      "/senescence/p21/tested_at", "/ev_harvest/collected_at"]),
    ("times-in-order-same-day", [("/passages/1/seeded_at", "2026-01-07T15:00:00Z"),
                                 ("/passages/0/harvested_at", "2026-01-07T09:00:00+01:00")], []),
    ("times-out-of-order-same-day", [("/passages/1/seeded_at", "2026-01-07T08:00:00Z"),
                                     ("/passages/0/harvested_at", "2026-01-07T10:00:00Z")], ["/passages/1/seeded_at"]),
]


@pytest.mark.parametrize(("name", "changes", "paths"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("use", ["production", "banking", "research"])
def test_chronology(name: str, changes: list, paths: list[str], use: str) -> None:
    data = record(intended_use=use)
    for pointer, value in changes:
        set_path(data, pointer, value)
    got = findings(data, "chronology")
    assert sorted(f.path for f in got) == sorted(paths)
    assert all(f.severity == "fail" for f in got)


def test_thaw_before_its_freeze_fails() -> None:
    data = record(cryo_events=[{"kind": "thaw", "at": "2026-01-09", "passage": 1},
                               {"kind": "freeze", "at": "2026-01-10", "passage": 1}])
    got = findings(data, "chronology")
    assert [(f.severity, f.path) for f in got] == [("fail", "/cryo_events/0/at")]
    assert "before its freeze" in got[0].message


def test_freeze_then_thaw_passes() -> None:
    data = record(cryo_events=[{"kind": "freeze", "at": "2026-01-07", "passage": 1},
                               {"kind": "thaw", "at": "2026-01-09", "passage": 1}])
    assert findings(data, "chronology") == []


def test_unreadable_dates_are_skipped_not_crashed() -> None:
    data = record(released_at="soon")
    set_path(data, "/passages/0/seeded_at", 20260102)
    assert findings(data, "chronology") == []


# Rule pack 1.1, boundaries: "seeded < harvested" is strict, every other "before" is "not after"; a date without a
# zone is the UTC day and offsets go to UTC (23:30 at -05:00 on the 7th is 04:30 UTC on the 8th).
ZONES = [
    ("harvest-at-an-offset-is-the-next-utc-day-then-seeded-that-day",
     [("/passages/0/harvested_at", "2026-01-07T23:30:00-05:00"), ("/passages/1/seeded_at", "2026-01-08")], []),
    ("harvest-at-an-offset-after-the-next-seeding-day",
     [("/passages/0/harvested_at", "2026-01-07T23:30:00-05:00"), ("/passages/1/seeded_at", "2026-01-07")],
     ["/passages/1/seeded_at"]),
    ("a-time-without-a-zone-is-utc",
     [("/passages/0/harvested_at", "2026-01-07T23:30:00"), ("/passages/1/seeded_at", "2026-01-07T23:00:00Z")],
     ["/passages/1/seeded_at"]),
    ("seeded-and-harvested-a-second-apart",
     [("/passages/0/seeded_at", "2026-01-02T09:00:00Z"), ("/passages/0/harvested_at", "2026-01-02T09:00:01Z")], []),
    ("seeded-and-harvested-at-the-same-moment",
     [("/passages/0/seeded_at", "2026-01-02T09:00:00+01:00"), ("/passages/0/harvested_at", "2026-01-02T08:00:00Z")],
     ["/passages/0/harvested_at"]),
    ("release-on-the-day-of-the-last-assay-is-not-after", [("/released_at", "2026-01-28")], []),
    ("freeze-and-thaw-on-the-same-day-are-in-order", [("/cryo_events", [
        {"kind": "freeze", "at": "2026-01-07", "passage": 1}, {"kind": "thaw", "at": "2026-01-07", "passage": 1}])],
     []),
]


@pytest.mark.parametrize(("name", "changes", "paths"), ZONES, ids=[z[0] for z in ZONES])
def test_chronology_boundaries_and_zones(name: str, changes: list, paths: list[str]) -> None:
    data = record()
    for pointer, value in changes:
        set_path(data, pointer, value)
    got = findings(data, "chronology")
    assert sorted(f.path for f in got) == sorted(paths)
