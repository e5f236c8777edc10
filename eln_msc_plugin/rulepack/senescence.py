"""Senescence rules: SA-β-gal percent positive and how many cells it rests on; p16 and p21 fold change."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import Finding
from eln_msc_plugin.rulepack.lineage import lineage
from eln_msc_plugin.rulepack.metrics import wilson
from eln_msc_plugin.rulepack.numbers import above, integer, number, show
from eln_msc_plugin.rules import NO_FINDINGS, Check, Rule, RuleContext, rule, same_for

BETA_GAL_SOURCE = ("Dimri 1995, PNAS 92:9363; Debacq-Chainiaux 2009, Nat Protoc 4:1798; early-passage MSCs a few "
                   "percent positive, 20–55 % late (Bobkov 2020, Mol Biol Rep 47:3867); 10/20 % lines are in-house "
                   "defaults (release criteria rarely include senescence: Zhai 2021, Sci Rep)")
QPCR_SOURCE = ("2^-ΔΔCt against an early-passage calibrator with ≥ 2 stable reference genes (MIQE; Jeon 2019: "
               "PPIA/YWHAZ/HPRT1, not ACTB/GAPDH, in long-expanded MSCs); the 2×/4× lines are in-house defaults")


def _assay(ctx: RuleContext, key: str) -> dict[str, Any] | None:
    return lineage(ctx).assays.get(key)


def _spec_line(value: float, t: dict[str, Any]) -> tuple[str, float] | None:
    """(severity, line) for a value judged against inclusive `fail_from` / `warn_from` lines."""
    fail_from, warn_from = t.get("fail_from"), t.get("warn_from")
    if fail_from is not None and value >= fail_from:
        return "fail", fail_from
    if warn_from is not None and value >= warn_from:
        return "warn", warn_from
    return None


@rule(
    "beta-gal.limit",
    summary="SA-β-gal positive cells below the specification (production: warn from 10 %, fail from 20 %).",
    severities=("fail", "warn"),
    thresholds={
        "production": {"warn_from": 10, "fail_from": 20},
        "banking": {"warn_from": 10, "fail_from": 20},
        "research": {"warn_from": 20, "fail_from": None},
    },
    reads=("/senescence/beta_gal/percent_positive",),
    source=BETA_GAL_SOURCE,
)
def beta_gal_limit(ctx: RuleContext) -> Sequence[Finding]:
    """Percent positive at or above `fail_from` fails, at or above `warn_from` warns (10.0 % warns)."""
    return _against_spec(ctx, "beta_gal", "percent_positive", lambda percent, kind, line: (
        f"SA-β-gal {show(percent)} % positive is at or above the {ctx.use} {kind} of {show(line)} %: senescent "
        f"cells secrete a SASP that changes what the product does."))


def _against_spec(ctx: RuleContext, assay: str, member: str,
                  describe: Callable[[float, str, float], str]) -> Sequence[Finding]:
    """One finding when the assay's value reaches the fail or warn line in force, described by `describe`."""
    result = _assay(ctx, assay)
    value = number(result.get(member)) if result is not None else None
    hit = _spec_line(value, ctx.t) if value is not None else None
    if value is None or hit is None:
        return NO_FINDINGS
    severity, line = hit
    kind = "limit" if severity == "fail" else "alert line"
    return [ctx.finding(severity, f"/senescence/{assay}/{member}", describe(value, kind, line), value,
                        {"exclusiveMaximum": line})]


@rule(
    "beta-gal.count",
    summary="SA-β-gal rests on enough cells (≥ 200) and positive_cells / cells_counted agrees with percent_positive.",
    severities=("fail", "warn"),
    thresholds=same_for(min_cells_counted=200, max_disagreement_points=1.0),
    reads=("/senescence/beta_gal/cells_counted", "/senescence/beta_gal/positive_cells",
           "/senescence/beta_gal/percent_positive"),
    source="binomial precision of a counted proportion (Wilson score interval); " + BETA_GAL_SOURCE,
)
def beta_gal_count(ctx: RuleContext) -> list[Finding]:
    """Fewer than `min_cells_counted` cells counted warns (10 % on 100 cells has a 95 % interval of about
    ±6 points). positive_cells / cells_counted differing from percent_positive by more than
    `max_disagreement_points` percentage points fails: one of the three numbers is wrong (exactly that many
    points apart agrees)."""
    found: list[Finding] = []
    result = _assay(ctx, "beta_gal")
    if result is None:
        return found
    counted = integer(result.get("cells_counted"))
    if counted is None or counted <= 0:
        return found
    percent = number(result.get("percent_positive"))
    t = ctx.t
    least = t.get("min_cells_counted")
    if least is not None and counted < least:
        interval = ""
        if percent is not None and 0 <= percent <= 100:
            low, high = wilson(percent / 100.0, counted)
            interval = f" (95 % interval {show(low * 100)}–{show(high * 100)} %)"
        found.append(ctx.finding("warn", "/senescence/beta_gal/cells_counted",
                                 f"SA-β-gal was scored on {counted} cells, fewer than {least}{interval}: too "
                                 f"few to tell a lot near the limit from one over it.", counted, {"minimum": least}))
    positive = integer(result.get("positive_cells"))
    tolerance = t.get("max_disagreement_points")
    if positive is None or percent is None or tolerance is None:
        return found
    derived = 100.0 * positive / counted
    if above(abs(derived - percent), tolerance):  # exactly `tolerance` points apart agrees
        found.append(ctx.finding("fail", "/senescence/beta_gal/percent_positive",
                                 f"SA-β-gal states {show(percent)} % positive but {positive} of {counted} cells is "
                                 f"{show(derived)} % (more than {show(tolerance)} points apart): one of the "
                                 f"three numbers is wrong.", percent, {"value": derived, "tolerance": tolerance}))
    return found


def _fold_change_rule(marker: str) -> Rule:
    def check(ctx: RuleContext) -> Sequence[Finding]:
        return _against_spec(ctx, marker, "fold_change", lambda fold, kind, line: (
            f"{marker} expression {show(fold)}× the early-passage calibrator is at or above the {ctx.use} {kind} "
            f"of {show(line)}×: {marker} rises as MSCs enter cell-cycle arrest (senescence)."))

    check.__doc__ = (f"{marker} fold change (2^-ΔΔCt or equivalent) at or above `fail_from` fails, at or above "
                     f"`warn_from` warns (2.0 warns, 4.0 fails for production).")
    check.__name__ = f"{marker}_fold_change"
    wrapped: Check = check
    return rule(
        f"{marker}.fold-change",
        summary=f"{marker} fold change against the early-passage calibrator (production: warn from 2×, fail from 4×).",
        severities=("fail", "warn"),
        thresholds={
            "production": {"warn_from": 2, "fail_from": 4},
            "banking": {"warn_from": 2, "fail_from": 4},
            "research": {"warn_from": 2, "fail_from": None},
        },
        reads=(f"/senescence/{marker}/fold_change",),
        source=QPCR_SOURCE,
    )(wrapped)


p16_fold_change = _fold_change_rule("p16")
p21_fold_change = _fold_change_rule("p21")


@hookimpl
def eln_msc_register_rules(register: Callable[[Rule], None]) -> None:
    register(beta_gal_limit)
    register(beta_gal_count)
    register(p16_fold_change)
    register(p21_fold_change)
