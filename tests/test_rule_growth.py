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
