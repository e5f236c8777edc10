"""beta-gal.limit, beta-gal.count, p16.fold-change and p21.fold-change at and around every threshold."""

from __future__ import annotations

import pytest

from tests.support.records import record
from tests.support.rulecheck import findings

BETA_GAL = [
    ("production", 9.99, None), ("production", 10.0, "warn"), ("production", 19.99, "warn"),
    ("production", 20.0, "fail"), ("banking", 10.0, "warn"), ("banking", 20.0, "fail"),
    ("research", 10.0, None), ("research", 19.99, None), ("research", 20.0, "warn"), ("research", 55.0, "warn"),
]


@pytest.mark.parametrize(("use", "percent", "expected"), BETA_GAL,
                         ids=[f"betagal{p}-{u}-{e or 'passes'}" for u, p, e in BETA_GAL])
def test_beta_gal_limit(use: str, percent: float, expected: str | None) -> None:
    data = record(intended_use=use)
    data["senescence"]["beta_gal"].update(percent_positive=percent, positive_cells=None)
    del data["senescence"]["beta_gal"]["positive_cells"]
    got = findings(data, "beta-gal.limit")
    assert [(f.severity, f.path) for f in got] == (
        [(expected, "/senescence/beta_gal/percent_positive")] if expected else [])


COUNTED = [(200, None), (199, "warn"), (100, "warn")]


@pytest.mark.parametrize(("counted", "expected"), COUNTED,
                         ids=["200-cells-passes", "199-cells-warns", "100-cells-warns"])
@pytest.mark.parametrize("use", ["production", "banking", "research"])
def test_beta_gal_cells_counted(counted: int, expected: str | None, use: str) -> None:
    data = record(intended_use=use)
    data["senescence"]["beta_gal"].update(percent_positive=10.0, cells_counted=counted,
                                          positive_cells=round(counted / 10))
    got = findings(data, "beta-gal.count")
    assert [(f.severity, f.path) for f in got] == (
        [(expected, "/senescence/beta_gal/cells_counted")] if expected else [])


def test_beta_gal_small_count_message_gives_the_interval() -> None:
    data = record()
    data["senescence"]["beta_gal"].update(percent_positive=10.0, cells_counted=100, positive_cells=10)
    (got,) = findings(data, "beta-gal.count")
    assert "95 % interval 5.52–17.44 %" in got.message


AGREEMENT = [(18, 6.0, None), (21, 6.0, None), (22, 6.0, "fail"), (15, 6.0, None), (14, 6.0, "fail")]


@pytest.mark.parametrize(("positive", "percent", "expected"), AGREEMENT,
                         ids=["exact", "1-point-apart-passes", "1.33-points-fails", "1-point-below-passes",
                              "1.33-below-fails"])
def test_beta_gal_positive_cells_agree_with_percent(positive: int, percent: float, expected: str | None) -> None:
    data = record()
    data["senescence"]["beta_gal"].update(percent_positive=percent, cells_counted=300, positive_cells=positive)
    got = findings(data, "beta-gal.count")
    assert [f.severity for f in got] == ([expected] if expected else [])


FOLD = [
    ("production", 1.99, None), ("production", 2.0, "warn"), ("production", 3.99, "warn"),
    ("production", 4.0, "fail"), ("banking", 2.0, "warn"), ("banking", 4.0, "fail"),
    ("research", 1.99, None), ("research", 2.0, "warn"), ("research", 4.0, "warn"), ("research", 9.0, "warn"),
]


@pytest.mark.parametrize("marker", ["p16", "p21"])
@pytest.mark.parametrize(("use", "fold", "expected"), FOLD, ids=[f"fold{v}-{u}-{e or 'passes'}" for u, v, e in FOLD])
def test_fold_change(marker: str, use: str, fold: float, expected: str | None) -> None:
    data = record(intended_use=use)
    data["senescence"][marker]["fold_change"] = fold
    got = findings(data, f"{marker}.fold-change")
    assert [(f.severity, f.path) for f in got] == (
        [(expected, f"/senescence/{marker}/fold_change")] if expected else [])
    other = "p21" if marker == "p16" else "p16"
    assert findings(data, f"{other}.fold-change") == []


# Exactly one point apart agrees even where the quotient carries float error: 12 of 1000 is 1.2 %, and
# 1.2 - 2.2 computes to 1.0000000000000002 points.
EXACTLY_ONE = [(12, 1000, 2.2, None), (12, 1000, 0.2, None), (34, 1000, 4.4, None), (12, 1000, 2.21, "fail"),
               (12, 1000, 0.19, "fail")]


@pytest.mark.parametrize(("positive", "counted", "percent", "expected"), EXACTLY_ONE,
                         ids=["1.2-vs-2.2-agrees", "1.2-vs-0.2-agrees", "3.4-vs-4.4-agrees", "1.01-apart-fails",
                              "1.01-below-fails"])
def test_a_disagreement_of_exactly_one_point_agrees(positive: int, counted: int, percent: float,
                                                    expected: str | None) -> None:
    data = record()
    data["senescence"]["beta_gal"].update(percent_positive=percent, cells_counted=counted, positive_cells=positive)
    got = findings(data, "beta-gal.count")
    assert [(f.severity, f.path) for f in got] == (
        [(expected, "/senescence/beta_gal/percent_positive")] if expected else [])
