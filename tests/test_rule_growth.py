"""growth.doubling-time and counts.plausible at and around their thresholds."""

from __future__ import annotations

import pytest

from tests.support.rulecheck import findings, lot, passage


def _growth(last_days: int, last_harvested: float = 4e6) -> dict:
    # first three passages: PD 2 in 2 days = 24 h; the fourth: PD log2(h/1e6) in `last_days` days
    ps = [passage(n, 1e6, 4e6, 1 + 3 * (n - 1), days=2) for n in (1, 2, 3)]
    ps.append(passage(4, 1e6, last_harvested, 10, days=last_days))
    return lot(ps)


PDT = [(2, None), (3, None), (4, "warn"), (6, "warn")]  # 24, 36 (= 1.5× exactly), 48, 72 h


@pytest.mark.parametrize(("days", "expected"), PDT, ids=[f"pdt{24 * d // 2}h-{e or 'passes'}" for d, e in PDT])
@pytest.mark.parametrize("use", ["production", "banking", "research"])
def test_doubling_time_against_the_early_median(days: int, expected: str | None, use: str) -> None:
    data = _growth(days)
    data["intended_use"] = use
    got = findings(data, "growth.doubling-time")
    assert [(f.severity, f.path) for f in got] == ([(expected, "/passages/3/harvested_at")] if expected else [])


PD = [(2e6, None), (1.99e6, "warn"), (1.2e6, "warn")]


@pytest.mark.parametrize(("harvested", "expected"), PD, ids=["pd1.0-passes", "pd0.99-warns", "pd0.26-warns"])
def test_low_population_doublings_warn(harvested: float, expected: str | None) -> None:
    got = [f for f in findings(_growth(1, harvested), "growth.doubling-time") if f.path.endswith("cells_harvested")]
    assert [f.severity for f in got] == ([expected] if expected else [])


DENSITY = [(17_500, None), (17_499, "fail"), (17_500_000, None), (17_500_001, "fail"), (875_000, None),
           (4.1, "fail")]  # 175 cm²: 100 and 100,000 cells/cm² are inside


@pytest.mark.parametrize(("seeded", "expected"), DENSITY,
                         ids=["100-per-cm2-passes", "below-100-fails", "100000-per-cm2-passes", "above-100000-fails",
                              "5000-per-cm2-passes", "millions-written-as-cells-fails"])
def test_seeding_density(seeded: float, expected: str | None) -> None:
    data = lot([passage(1, seeded, max(seeded * 4, 4e6), 1)])
    got = [f for f in findings(data, "counts.plausible") if f.severity == "fail"]
    assert [(f.severity, f.path) for f in got] == ([(expected, "/passages/0/cells_seeded")] if expected else [])


def test_harvest_below_seeding_warns() -> None:
    got = findings(lot([passage(1, 1e6, 9e5, 1)]), "counts.plausible")
    assert [(f.severity, f.path) for f in got] == [("warn", "/passages/0/cells_harvested")]
    assert findings(lot([passage(1, 1e6, 1e6, 1)]), "counts.plausible") == []


LOSSES = [
    # (id, harvested from 1e6 seeded, the start of the growth message, counts.plausible warns)
    ("harvest-of-0-cells", 0, "P2 harvested no cells: no population doubling (below 1)", True),
    ("fewer-than-seeded", 4e5, "P2 harvested fewer cells than were seeded: no population doubling (below 1)", True),
    ("as-many-as-seeded", 1e6, "P2 achieved only 0 population doublings (below 1)", False),
    ("pd-0.58", 1.5e6, "P2 achieved only 0.58 population doublings (below 1)", False),
]


@pytest.mark.parametrize(("name", "harvested", "message", "plausible"), LOSSES, ids=[c[0] for c in LOSSES])
def test_a_passage_that_did_not_double_warns(name: str, harvested: float, message: str, plausible: bool) -> None:
    data = lot([passage(1, 1e6, 4e6, 1), passage(2, 1e6, harvested, 6), passage(3, 1e6, 4e6, 11)])
    got = [f for f in findings(data, "growth.doubling-time") if f.path.endswith("/cells_harvested")]
    assert [(f.severity, f.path) for f in got] == [("warn", "/passages/1/cells_harvested")]
    assert got[0].message.startswith(message) and got[0].expected == {"minimum": 1.0}
    assert [f.path for f in findings(data, "counts.plausible")] == (["/passages/1/cells_harvested"] if plausible
                                                                     else [])


FLOAT_EDGE = [(28, 0.28, None), (27, 0.28, "fail"), (28_000, 0.28, None), (28_001, 0.28, "fail"),
              (7, 0.07, None), (7_000, 0.07, None)]  # 28 / 0.28 computes to 99.99999999999999


@pytest.mark.parametrize(("seeded", "area", "expected"), FLOAT_EDGE,
                         ids=["100-per-cm2-on-0.28cm2", "below-on-0.28cm2", "100000-per-cm2-on-0.28cm2",
                              "above-on-0.28cm2", "100-per-cm2-on-0.07cm2", "100000-per-cm2-on-0.07cm2"])
def test_density_lines_are_inside_despite_float_error(seeded: float, area: float, expected: str | None) -> None:
    data = lot([passage(1, seeded, seeded * 4, 1, vessel_area_cm2=area)])
    got = [f for f in findings(data, "counts.plausible") if f.severity == "fail"]
    assert [f.severity for f in got] == ([expected] if expected else [])


def test_density_message_reads_as_people_write_numbers() -> None:
    (got,) = [f for f in findings(lot([passage(1, 0.7, 4e6, 1)]), "counts.plausible") if f.severity == "fail"]
    assert "seeded at 0.004 cells/cm² (0.7 cells on 175 cm²), outside 100–100,000 cells/cm²" in got.message
    (got,) = [f for f in findings(lot([passage(1, 17_500_175, 7e7, 1)]), "counts.plausible") if f.severity == "fail"]
    assert "seeded at 100,001 cells/cm² (17,500,175 cells on 175 cm²)" in got.message
