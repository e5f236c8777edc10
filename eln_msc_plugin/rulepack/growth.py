"""Growth rules: population doubling time and PD per passage; plausible cell counts and seeding densities."""

from __future__ import annotations

from collections.abc import Callable

from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import Finding
from eln_msc_plugin.rulepack.lineage import Passage, lineage
from eln_msc_plugin.rulepack.numbers import above, below, show
from eln_msc_plugin.rules import Rule, RuleContext, rule, same_for


@rule(
    "growth.doubling-time",
    summary="Doubling time of each passage against the lot's early growth (median of its first 3 passages); PD ≥ 1.",
    severities=("warn",),
    thresholds=same_for(warn_ratio_above=1.5, warn_pd_below=1.0),
    reads=("/passages/*/seeded_at", "/passages/*/harvested_at", "/passages/*/cells_seeded",
           "/passages/*/cells_harvested"),
    source="PDT = hours / PD (ATCC); slowing growth is an early sign of replicative senescence (Bobkov 2020, "
           "Mol Biol Rep 47:3867; Turinetto 2016)",
)
def doubling_time(ctx: RuleContext) -> list[Finding]:
    """A passage whose PDT is more than `warn_ratio_above` × the median PDT of the lot's first three passages
    warns (the median needs at least two of the three); a passage with PD below `warn_pd_below` warns (the
    culture barely grew, so its PDT is unreliable and the cells may be arresting). A passage that lost cells,
    a harvest of 0 cells included, has PD 0: it warns here, and adds nothing to the cumulative PDL."""
    found: list[Finding] = []
    lin = lineage(ctx)
    t = ctx.t
    ratio, min_pd = t.get("warn_ratio_above"), t.get("warn_pd_below")
    early = [p.doubling_time_h for p in lin.passages[:3] if p.doubling_time_h is not None]
    early.sort()
    median = None
    if len(early) >= 2:
        half = len(early) // 2
        median = early[half] if len(early) % 2 else (early[half - 1] + early[half]) / 2
    for p in lin.passages:
        if min_pd is not None and p.pd is not None and p.pd < min_pd:
            found.append(ctx.finding("warn", p.path + "/cells_harvested", _low_growth(p, min_pd), p.pd,
                                     {"minimum": min_pd}))
        pdt = p.doubling_time_h
        if median is not None and ratio is not None and pdt is not None and pdt > ratio * median:
            found.append(ctx.finding("warn", p.path + "/harvested_at",
                                     f"{p.label} doubled every {show(pdt)} h, {show(pdt / median)}× the lot's "
                                     f"early median of {show(median)} h (alert above {show(ratio)}×): slowing "
                                     f"growth is an early sign of replicative senescence.",
                                     pdt, {"maximum": ratio * median}))
    return found


def _low_growth(p: Passage, min_pd: float) -> str:
    harvested, seeded = p.cells_harvested, p.cells_seeded
    if harvested == 0:
        what = f"{p.label} harvested no cells: no population doubling"
    elif harvested is not None and seeded is not None and harvested < seeded:
        what = f"{p.label} harvested fewer cells than were seeded: no population doubling"
    else:
        what = f"{p.label} achieved only {show(p.pd or 0)} population doublings"
    return f"{what} (below {show(min_pd)}): the culture barely grew, a sign of arrest or of a count error."


@rule(
    "counts.plausible",
    summary="Harvested ≥ seeded, and seeding density between 100 and 100,000 cells/cm² (outside: a unit slip).",
    severities=("fail", "warn"),
    thresholds=same_for(min_density_per_cm2=100, max_density_per_cm2=100000),
    reads=("/passages/*/cells_seeded", "/passages/*/cells_harvested", "/passages/*/vessel_area_cm2"),
    source="typical MSC seeding densities of 1,000–10,000 cells/cm²; counts are absolute viable cells "
           "(batch-record-v1 spec)",
)
def counts_plausible(ctx: RuleContext) -> list[Finding]:
    """Fewer cells harvested than seeded warns (the culture lost cells). A seeding density below
    `min_density_per_cm2` or above `max_density_per_cm2` fails: such a count is almost surely a unit slip
    (×10⁶ written as cells, or cells/mL as cells). The lines themselves are inside (100 and 100,000 pass)."""
    found: list[Finding] = []
    t = ctx.t
    low, high = t.get("min_density_per_cm2"), t.get("max_density_per_cm2")
    for p in lineage(ctx).passages:
        seeded, harvested = p.cells_seeded, p.cells_harvested
        if seeded is not None and harvested is not None and harvested < seeded:
            found.append(ctx.finding("warn", p.path + "/cells_harvested",
                                     f"{p.label} harvested {harvested:,.0f} cells from {seeded:,.0f} seeded: "
                                     f"the culture lost cells, or a count is wrong.", harvested, {"minimum": seeded}))
        if seeded is None or p.area is None:
            continue
        density = seeded / p.area
        if (low is not None and below(density, low)) or (high is not None and above(density, high)):
            count = f"{seeded:,.0f}" if seeded >= 10 else show(seeded)  # 0.7 "cells" is the slip: show it as written
            found.append(ctx.finding("fail", p.path + "/cells_seeded",
                                     f"{p.label} was seeded at {_density(density)} cells/cm² ({count} cells on "
                                     f"{show(p.area)} cm²), outside {_density(low or 0)}–"
                                     f"{_density(high) if high is not None else '∞'} cells/cm²: almost surely a "
                                     f"unit slip (×10⁶ written as cells).", density,
                                     {"minimum": low, "maximum": high}))
    return found


def _density(value: float) -> str:
    """A density for a message: thousands separated and two decimals at most, two significant digits below 1."""
    if value < 1:
        return f"{value:.2g}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


@hookimpl
def eln_msc_register_rules(register: Callable[[Rule], None]) -> None:
    register(doubling_time)
    register(counts_plausible)
