"""The report metrics of an MSC record, computed from its lineage for every record, whichever rules run.

They are data: numbers unrounded, JSON-serialisable (`None` where a value cannot be had). The rule set hands
`report_metrics` to the pipeline, so no rule has to write them and a policy may turn any rule off.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from eln_msc_plugin.rulepack import is_batch_record
from eln_msc_plugin.rulepack.lineage import Lineage, lineage
from eln_msc_plugin.rulepack.numbers import integer, number
from eln_msc_plugin.rules import RuleContext

_NOTHING = Lineage({})
# The thresholds of the passage class (a policy may move them) are those of the `passage.class` rule.
CLASS_RULE = "passage.class"


def passage_class_of(p: int, t: dict[str, Any]) -> str:
    """The class of passage `p` (optimal, borderline, not_recommended, unsuitable) under thresholds `t`."""
    if t.get("unsuitable_from") is not None and p >= t["unsuitable_from"]:
        return "unsuitable"
    if t.get("not_recommended_from") is not None and p >= t["not_recommended_from"]:
        return "not_recommended"
    if t.get("borderline_from") is not None and p >= t["borderline_from"]:
        return "borderline"
    return "optimal"


@lru_cache(maxsize=4096)  # a backfill sees the same few (percent, cells counted) pairs again and again
def wilson_percent(percent: float, n: int) -> tuple[float, float]:
    """The 95 % Wilson score interval, in percent, of `percent` % positive among `n` cells."""
    low, high = wilson(percent / 100.0, n)
    return low * 100.0, high * 100.0


def wilson(positive_fraction: float, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval of a proportion observed in `n` trials (95 % by default)."""
    z2n = z * z / n
    centre = (positive_fraction + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(positive_fraction * (1 - positive_fraction) / n + z2n / (4 * n)) / (1 + z2n)
    return max(0.0, centre - half), min(1.0, centre + half)


def beta_gal(lin: Lineage) -> dict[str, Any] | None:
    """The β-gal result as a metric: percent positive, cells counted and its 95 % Wilson interval (in %)."""
    result = lin.assays.get("beta_gal")
    if result is None:
        return None
    percent = number(result.get("percent_positive"))
    counted = integer(result.get("cells_counted"))
    low = high = None
    if percent is not None and 0 <= percent <= 100 and counted is not None and counted > 0:
        low, high = wilson_percent(percent, counted)
    return {"percent_positive": percent, "cells_counted": counted, "ci95_low": low, "ci95_high": high}


def report_metrics(ctx: RuleContext) -> dict[str, Any]:
    """Every report's metrics: cumulative PDL (recomputed and reported), PD, PDT and cumulative PDL per passage,
    β-gal with its interval, and the passage class of the production passage. A document that is not a batch
    record has every key and no values: nothing in it is a passage or a PDL."""
    lin = lineage(ctx) if is_batch_record(ctx.data) else _NOTHING
    p = lin.production_passage
    t = ctx.ruleset.thresholds_for(CLASS_RULE, ctx.use)
    return {
        "cumulative_pdl": lin.cumulative_pdl,
        "reported_cumulative_pdl": lin.reported_cumulative_pdl,
        "passages": [{"number": p.number, "pd": p.pd, "doubling_time_h": p.doubling_time_h,
                      "cumulative_pdl": p.cumulative_pdl} for p in lin.passages],
        "beta_gal": beta_gal(lin),
        "passage_class": passage_class_of(p, t or {}) if p is not None else None,
    }
