"""PD, PDT and cumulative PDL arithmetic against hand-computed values (isolation, bank thaw, mid-record freeze/thaw)."""

from __future__ import annotations

import json
import math

import pytest

from tests.support.records import record
from tests.support.rulecheck import lot, passage, report


def test_base_record_pd_per_passage_by_hand() -> None:
    m = report(record()).metrics
    # log2(4100000/875000) = log2(4.685714) = 2.228269; log2(3900000/875000) = 2.156119;
    # log2(3800000/875000) = 2.118644; log2(3600000/875000) = log2(4.114286) = 2.040642
    expected_pd = [2.2282689877, 2.1561192019, 2.1186444965, 2.0406419845]
    assert [p["pd"] for p in m["passages"]] == pytest.approx(expected_pd, abs=1e-9)
    assert [p["number"] for p in m["passages"]] == [1, 2, 3, 4]
    assert m["cumulative_pdl"] == pytest.approx(8.5436746706, abs=1e-9)
    assert m["passages"][-1]["cumulative_pdl"] == m["cumulative_pdl"]
    assert m["reported_cumulative_pdl"] == 8.6
    # P1: 5 days = 120 h / 2.228269 = 53.8535 h; P4: 6 days = 144 h / 2.040642 = 70.5660 h
    assert m["passages"][0]["doubling_time_h"] == pytest.approx(53.853462, abs=1e-5)
    assert m["passages"][3]["doubling_time_h"] == pytest.approx(70.566028, abs=1e-5)


def test_log2_not_rounded_3_32() -> None:
    data = lot([passage(1, 1_000_000, 1_000_000 * 2 ** 10, 1)])
    m = report(data).metrics
    assert m["passages"][0]["pd"] == 10.0  # 3.32 × log10(1024) would be 9.9927
    assert m["cumulative_pdl"] == 10.0


def test_reported_values_within_half_a_doubling_of_recomputed_in_the_base_record() -> None:
    m = report(record()).metrics
    reported = [p["reported_cumulative_pdl"] for p in record()["passages"]]
    for stated, step in zip(reported, m["passages"], strict=True):
        assert abs(stated - step["cumulative_pdl"]) <= 0.5


def test_record_beginning_with_a_bank_thaw_starts_at_the_thaw_pdl() -> None:
    cryo = [{"kind": "thaw", "at": "2026-01-20", "passage": 3, "cumulative_pdl": 6.5}]
    data = lot([passage(4, 1_000_000, 8_000_000, 20, thawed=True, reported_cumulative_pdl=9.5),
                passage(5, 500_000, 2_000_000, 25, reported_cumulative_pdl=11.5)], cryo)
    r = report(data)
    # 6.5 + log2(8) = 9.5; 9.5 + log2(4) = 11.5
    assert [p["cumulative_pdl"] for p in r.metrics["passages"]] == [9.5, 11.5]
    assert r.metrics["cumulative_pdl"] == 11.5
    assert not [f for f in r.findings if f.rule.startswith(("pdl.consistency", "passage.sequence"))]


def test_mid_record_freeze_and_thaw_continue_the_count() -> None:
    cryo = [{"kind": "freeze", "at": "2026-01-11", "passage": 2, "cumulative_pdl": 4.0},
            {"kind": "thaw", "at": "2026-02-01", "passage": 2, "cumulative_pdl": 4.0}]
    data = lot([passage(1, 1_000_000, 4_000_000, 1, reported_cumulative_pdl=2.0),
                passage(2, 1_000_000, 4_000_000, 6, reported_cumulative_pdl=4.0),
                passage(3, 1_000_000, 2_000_000, 32, thawed=True, reported_cumulative_pdl=5.0)], cryo)
    r = report(data)
    assert [p["cumulative_pdl"] for p in r.metrics["passages"]] == [2.0, 4.0, 5.0]
    assert r.verdict in ("pass", "warn")
    assert not [f for f in r.findings if f.rule in ("pdl.consistency", "pdl.monotonic", "passage.sequence")]


def test_a_thaw_of_an_earlier_freeze_does_not_rewind_the_count() -> None:
    # frozen at P1, culture went on to P2, then a vial labelled P1 was thawed and grown as P2 again. Rule pack 1.1:
    # cumulative PDL is always the start plus the PDs in order (1.0 rewound to the P1 freeze: 2, 4, 5)
    cryo = [{"kind": "freeze", "at": "2026-01-06", "passage": 1},
            {"kind": "thaw", "at": "2026-02-01", "passage": 1}]
    data = lot([passage(1, 1_000_000, 4_000_000, 1), passage(2, 1_000_000, 4_000_000, 6),
                passage(2, 1_000_000, 8_000_000, 32, thawed=True)], cryo)
    m = report(data).metrics
    assert [p["cumulative_pdl"] for p in m["passages"]] == [2.0, 4.0, 7.0]


def test_missing_counts_give_null_cumulative_pdl() -> None:
    data = lot([passage(1, 1_000_000, 4_000_000, 1), passage(2, 1_000_000, 4_000_000, 6)])
    del data["passages"][1]["cells_harvested"]
    m = report(data).metrics
    assert m["passages"][1]["pd"] is None
    assert m["cumulative_pdl"] is None
    json.dumps(m, allow_nan=False)


def test_thawed_start_without_a_thaw_event_is_unknown_and_says_so() -> None:
    data = lot([passage(3, 1_000_000, 4_000_000, 1, thawed=True, reported_cumulative_pdl=7.0)])
    r = report(data)
    assert r.metrics["cumulative_pdl"] is None
    warned = [f for f in r.findings if f.rule == "pdl.consistency"]
    assert [(f.severity, f.path) for f in warned] == [("warn", "/passages/0/thawed")]


def test_dates_with_time_and_zone_give_exact_hours() -> None:
    p = passage(1, 1_000_000, 4_000_000, 1)
    p["seeded_at"], p["harvested_at"] = "2026-01-01T08:00:00+01:00", "2026-01-03T07:00:00Z"
    m = report(lot([p])).metrics
    # 07:00 UTC on the 1st to 07:00 UTC on the 3rd = 48 h, PD 2 → 24 h
    assert m["passages"][0]["doubling_time_h"] == pytest.approx(24.0)


def test_float_integers_are_read_as_integers() -> None:
    data = lot([passage(1.0, 1_000_000.0, 4_000_000.0, 1)])  # type: ignore[arg-type]
    data["production_passage"] = 1.0
    m = report(data).metrics
    assert m["passages"][0]["number"] == 1 and isinstance(m["passages"][0]["number"], int)
    assert m["cumulative_pdl"] == 2.0


def test_beta_gal_wilson_interval_by_hand() -> None:
    data = record()
    data["senescence"]["beta_gal"].update(percent_positive=10.0, cells_counted=100, positive_cells=10)
    bg = report(data).metrics["beta_gal"]
    # Wilson, p = 0.1, n = 100, z = 1.96: centre 0.114799, half-width 0.059568 → 5.52 %–17.44 %
    assert bg["ci95_low"] == pytest.approx(5.5223, abs=1e-3)
    assert bg["ci95_high"] == pytest.approx(17.4375, abs=1e-3)
    assert bg["percent_positive"] == 10.0 and bg["cells_counted"] == 100


def test_metrics_are_json_serialisable_and_complete() -> None:
    m = report(record()).metrics
    assert set(m) >= {"cumulative_pdl", "reported_cumulative_pdl", "passage_class", "passages", "beta_gal"}
    text = json.dumps(m, allow_nan=False)
    assert json.loads(text)["passage_class"] == "optimal"


def test_log2_helper_matches_hand_value() -> None:
    assert math.log2(3_600_000 / 875_000) == pytest.approx(2.0406419845, abs=1e-9)


# Rule pack 1.1, "Start of the count": (id, first passages, cryo events, recomputed cumulative PDL per passage,
# the pdl.consistency findings as (severity, path)). Day 10 is the first seeding of the two-passage lots.
def _two(first: int, **extra: object) -> list[dict]:
    return [passage(first, 1e6, 4e6, 10, **extra), passage(first + 1, 1e6, 4e6, 15)]


START = [
    ("p1-starts-at-0", _two(1), None, [2.0, 4.0], []),
    ("p0-starts-at-0", _two(0), None, [2.0, 4.0], []),
    ("p2-unknown-start", _two(2), None, [None, None], [("warn", "/passages/0/number")]),
    ("p2-unknown-start-warns-once-despite-reported-values",
     [passage(2, 1e6, 4e6, 10, reported_cumulative_pdl=5.0), passage(3, 1e6, 4e6, 15, reported_cumulative_pdl=99.0)],
     None, [None, None], [("warn", "/passages/0/number")]),
    ("thaw-before-first-seeding", _two(3, thawed=True),
     [{"kind": "thaw", "at": "2026-01-05", "passage": 2, "cumulative_pdl": 6.5}], [8.5, 10.5], []),
    ("thaw-on-the-day-of-first-seeding", _two(3, thawed=True),
     [{"kind": "thaw", "at": "2026-01-10", "passage": 2, "cumulative_pdl": 6.5}], [8.5, 10.5], []),
    ("latest-of-two-thaws", _two(3, thawed=True),
     [{"kind": "thaw", "at": "2026-01-02", "passage": 2, "cumulative_pdl": 4.0},
      {"kind": "thaw", "at": "2026-01-08", "passage": 2, "cumulative_pdl": 6.5}], [8.5, 10.5], []),
    ("p1-begun-from-a-thaw-starts-at-the-thaw", _two(1),
     [{"kind": "thaw", "at": "2026-01-09", "passage": 0, "cumulative_pdl": 3.0}], [5.0, 7.0], []),
    ("thaw-after-first-seeding-does-not-begin-it", _two(1),
     [{"kind": "thaw", "at": "2026-01-12", "passage": 1, "cumulative_pdl": 9.0}], [2.0, 4.0],
     [("fail", "/cryo_events/0/cumulative_pdl")]),
    ("thawed-flag-with-an-undated-thaw", _two(3, thawed=True),
     [{"kind": "thaw", "passage": 2, "cumulative_pdl": 6.5}], [8.5, 10.5], []),
    ("thawed-flag-without-a-thaw-is-unknown", _two(3, thawed=True), None, [None, None],
     [("warn", "/passages/0/thawed")]),
    ("thawed-flag-thaw-dated-after-seeding-is-unknown", _two(3, thawed=True),
     [{"kind": "thaw", "at": "2026-01-11", "passage": 2, "cumulative_pdl": 6.5}], [None, None],
     [("warn", "/passages/0/thawed")]),
    ("beginning-thaw-without-a-pdl-is-unknown", _two(3, thawed=True),
     [{"kind": "thaw", "at": "2026-01-05", "passage": 2}], [None, None], [("warn", "/cryo_events/0/cumulative_pdl")]),
]


@pytest.mark.parametrize(("name", "passages", "cryo", "cumulative", "consistency"), START, ids=[s[0] for s in START])
def test_start_of_the_count(name: str, passages: list[dict], cryo: list[dict] | None, cumulative: list[float | None],
                            consistency: list[tuple[str, str]]) -> None:
    r = report(lot(passages, cryo))
    assert [p["cumulative_pdl"] for p in r.metrics["passages"]] == pytest.approx(cumulative)
    assert r.metrics["cumulative_pdl"] == (pytest.approx(cumulative[-1]) if cumulative[-1] is not None else None)
    assert [(f.severity, f.path) for f in r.findings if f.rule == "pdl.consistency"] == consistency


def _mislabelled(thaw: dict, thaw_day: int = 11) -> dict:
    """P1 and P2 frozen (PDL 2 and 4), a P2 vial thawed on `thaw_day` under a wrong label, grown on as P3 and P4:
    every count and every reported PDL is right (2, 4, 6, 8)."""
    cryo = [{"kind": "freeze", "at": "2026-01-06", "passage": 1, "cumulative_pdl": 2.0},
            {"kind": "freeze", "at": "2026-01-11", "passage": 2, "cumulative_pdl": 4.0},
            {"at": f"2026-01-{thaw_day:02d}", "kind": "thaw", **thaw}]
    return lot([passage(1, 1e6, 4e6, 1, reported_cumulative_pdl=2.0),
                passage(2, 1e6, 4e6, 6, reported_cumulative_pdl=4.0),
                passage(3, 1e6, 4e6, 12, reported_cumulative_pdl=6.0),
                passage(4, 1e6, 4e6, 17, reported_cumulative_pdl=8.0)], cryo, reported_cumulative_pdl=8.0)


MISLABELLED = [
    # the case of the 1.0 defect: the thaw carries the number of the earlier freeze, and 1.0 rewound to it (PDL 2),
    # then blamed P3, P4 and the record with three pdl.consistency failures
    ("labelled-as-an-earlier-freeze", {"passage": 1}, ["/passages/2/number"], []),
    ("labelled-as-an-earlier-freeze-stating-its-pdl", {"passage": 1, "cumulative_pdl": 4.0}, ["/passages/2/number"],
     []),
    ("labelled-with-a-passage-never-frozen", {"passage": 7, "cumulative_pdl": 4.0}, ["/cryo_events/2/passage"], []),
    ("never-frozen-and-no-pdl", {"passage": 7}, ["/cryo_events/2/passage"], []),
    # the thaw's own stated PDL is still compared where it stands (4 recomputed, 2.9 stated, and below the freeze's
    # 4.0): only the thaw is blamed, by pdl.consistency and pdl.monotonic
    ("never-frozen-stating-a-wrong-pdl", {"passage": 7, "cumulative_pdl": 2.9}, ["/cryo_events/2/passage"],
     ["/cryo_events/2/cumulative_pdl"]),
]


@pytest.mark.parametrize(("name", "thaw", "sequence", "blamed"), MISLABELLED, ids=[m[0] for m in MISLABELLED])
def test_a_mislabelled_thaw_does_not_rewind_the_count(name: str, thaw: dict, sequence: list[str],
                                                       blamed: list[str]) -> None:
    r = report(_mislabelled(thaw))
    assert [p["cumulative_pdl"] for p in r.metrics["passages"]] == [2.0, 4.0, 6.0, 8.0]
    assert r.metrics["cumulative_pdl"] == 8.0
    by_rule = {rule: [f for f in r.findings if f.rule == rule] for rule in ("passage.sequence", "pdl.consistency",
                                                                            "pdl.monotonic", "pdl.limit")}
    assert [f.path for f in by_rule["passage.sequence"]] == sequence  # the sequence finding is right, and alone
    assert all(f.severity == "fail" for f in by_rule["passage.sequence"])
    assert [f.path for f in by_rule["pdl.consistency"]] == blamed
    assert [f.path for f in by_rule["pdl.monotonic"]] == blamed
    assert by_rule["pdl.limit"] == []


LOSS = [
    # (id, harvested at P2 from 1e6 seeded, PD metric of P2, recomputed cumulative PDL after P1..P3)
    ("half-lost", 5e5, 0.0, [2.0, 2.0, 4.0]),
    ("harvest-of-0-cells", 0, 0.0, [2.0, 2.0, 4.0]),
    ("as-many-as-seeded", 1e6, 0.0, [2.0, 2.0, 4.0]),
    ("grew-a-little", 1.5e6, math.log2(1.5), [2.0, 2.0 + math.log2(1.5), 4.0 + math.log2(1.5)]),
]


@pytest.mark.parametrize(("name", "harvested", "pd", "cumulative"), LOSS, ids=[c[0] for c in LOSS])
def test_a_loss_of_cells_adds_no_doublings(name: str, harvested: float, pd: float, cumulative: list[float]) -> None:
    reported = [round(c, 1) for c in cumulative]
    data = lot([passage(1, 1e6, 4e6, 1, reported_cumulative_pdl=reported[0]),
                passage(2, 1e6, harvested, 6, reported_cumulative_pdl=reported[1]),
                passage(3, 1e6, 4e6, 11, reported_cumulative_pdl=reported[2])])
    r = report(data)
    assert r.metrics["passages"][1]["pd"] == pytest.approx(pd)
    assert [p["cumulative_pdl"] for p in r.metrics["passages"]] == pytest.approx(cumulative)
    # the correctly reported PDL never decreases and agrees with the recount: nothing to say about it
    assert not [f for f in r.findings if f.rule in ("pdl.consistency", "pdl.monotonic", "pdl.limit")]
    json.dumps(r.metrics, allow_nan=False)
