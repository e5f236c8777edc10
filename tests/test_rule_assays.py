"""assay.required, assay.passage-match and ev.producing-passage for each intended use."""

from __future__ import annotations

import pytest

from tests.support.records import record
from tests.support.rulecheck import findings

REQUIRED = [("production", "fail"), ("banking", "warn"), ("research", None)]


@pytest.mark.parametrize(("use", "expected"), REQUIRED,
                         ids=[f"missing-p21-{u}-{e or 'not-checked'}" for u, e in REQUIRED])
def test_missing_assay(use: str, expected: str | None) -> None:
    data = record(intended_use=use)
    del data["senescence"]["p21"]
    got = findings(data, "assay.required")
    assert [(f.severity, f.path) for f in got] == ([(expected, "/senescence/p21")] if expected else [])


def test_no_senescence_at_all_gives_three_findings() -> None:
    got = findings(record(senescence=None), "assay.required")
    assert [f.path for f in got] == ["/senescence/beta_gal", "/senescence/p16", "/senescence/p21"]


def test_all_assays_present_passes() -> None:
    assert findings(record(), "assay.required") == []


MATCH = [("production", 3, "warn"), ("production", 4, None), ("banking", 5, "warn"), ("research", 3, None)]


@pytest.mark.parametrize(("use", "sample", "expected"), MATCH,
                         ids=[f"sample-p{s}-{u}-{e or 'passes'}" for u, s, e in MATCH])
def test_assay_passage_match(use: str, sample: int, expected: str | None) -> None:
    data = record(intended_use=use)
    data["senescence"]["p16"]["sample_passage"] = sample
    got = findings(data, "assay.passage-match")
    assert [(f.severity, f.path) for f in got] == ([(expected, "/senescence/p16/sample_passage")] if expected else [])


EV = [("production", "msc_ev", 3, "fail"), ("production", "msc_ev", 4, None), ("production", "msc", 3, None),
      ("banking", "msc_ev", 3, None), ("research", "msc_ev", 3, None)]


@pytest.mark.parametrize(("use", "product", "producing", "expected"), EV,
                         ids=[f"{p}-p{n}-{u}-{e or 'passes'}" for u, p, n, e in EV])
def test_ev_producing_passage(use: str, product: str, producing: int, expected: str | None) -> None:
    data = record(intended_use=use, product_type=product)
    data["ev_harvest"]["producing_passage"] = producing
    got = findings(data, "ev.producing-passage")
    assert [(f.severity, f.path) for f in got] == ([(expected, "/ev_harvest/producing_passage")] if expected else [])
