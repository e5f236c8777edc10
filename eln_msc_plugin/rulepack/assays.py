"""Assay rules: the senescence results a lot needs, tested on the production passage; the EV-producing passage."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import Finding
from eln_msc_plugin.rulepack.lineage import lineage
from eln_msc_plugin.rulepack.numbers import integer, number
from eln_msc_plugin.rules import NO_FINDINGS, Rule, RuleContext, rule, same_for

# (member, the value that makes it a result, what a scientist calls it)
ASSAYS = (("beta_gal", "percent_positive", "SA-β-gal"), ("p16", "fold_change", "p16"), ("p21", "fold_change", "p21"))


@rule(
    "assay.required",
    summary="β-gal, p16 and p21 results are present (production: missing fails; banking: warns; research: —).",
    severities=("fail", "warn"),
    thresholds={"production": {"missing": "fail"}, "banking": {"missing": "warn"}},
    reads=("/senescence/beta_gal/percent_positive", "/senescence/p16/fold_change", "/senescence/p21/fold_change"),
    source="in-house release panel for senescence (SA-β-gal: Dimri 1995; p16/p21: Turinetto 2016)",
)
def assay_required(ctx: RuleContext) -> list[Finding]:
    """Each of the three results that is absent (or not a number) is a finding of severity `missing`."""
    found: list[Finding] = []
    lin = lineage(ctx)
    if not lin.data:
        return found
    assays = lin.assays
    for key, member, name in ASSAYS:
        result = assays.get(key)
        if result is not None and number(result.get(member)) is not None:
            continue
        severity = ctx.t.get("missing") or "fail"
        found.append(ctx.finding(severity, f"/senescence/{key}",
                                 f"No {name} result: a {ctx.use} lot needs β-gal, p16 and p21 results to show "
                                 f"its cells are not senescent.", None, f"senescence.{key}.{member}"))
    return found


@rule(
    "assay.passage-match",
    summary="Each senescence assay was run on cells of the production passage.",
    severities=("warn",),
    thresholds=same_for(("production", "banking")),
    reads=("/senescence/*/sample_passage", "/production_passage"),
    source="an assay speaks for the cells it was run on (passage-dependent senescence: Turinetto 2016)",
)
def assay_passage_match(ctx: RuleContext) -> list[Finding]:
    """An assay whose `sample_passage` differs from `production_passage` warns; an assay without
    `sample_passage` is not judged."""
    found: list[Finding] = []
    lin = lineage(ctx)
    p = lin.production_passage
    if p is None:
        return found
    assays = lin.assays
    for key, _member, name in ASSAYS:
        result = assays.get(key)
        sample = integer(result.get("sample_passage")) if result is not None else None
        if sample is not None and sample != p:
            found.append(ctx.finding("warn", f"/senescence/{key}/sample_passage",
                                     f"{name} was tested on P{sample} cells but the product is from P{p}: senescence "
                                     f"rises with passage, so the result may not describe the product.", sample, p))
    return found


@rule(
    "ev.producing-passage",
    summary="For msc_ev lots, the passage that produced the EVs is the production passage.",
    severities=("fail",),
    thresholds={"production": {}},
    reads=("/product_type", "/ev_harvest/producing_passage", "/production_passage"),
    source="seed text: EV (exosome) cargo and yield depend on the passage of the producing cells (Behrmann 2021)",
)
def ev_producing_passage(ctx: RuleContext) -> Sequence[Finding]:
    """For `product_type` `msc_ev`, `ev_harvest.producing_passage` different from `production_passage` fails."""
    lin = lineage(ctx)
    data = lin.data
    if data.get("product_type") != "msc_ev" or lin.production_passage is None:
        return NO_FINDINGS
    ev = data.get("ev_harvest")
    producing = integer(ev.get("producing_passage")) if type(ev) is dict else None
    if producing is not None and producing != lin.production_passage:
        return [ctx.finding("fail", "/ev_harvest/producing_passage",
                            f"The EVs were collected from P{producing} cells but the production passage is "
                            f"P{lin.production_passage}: the passage specification was checked on other cells than "
                            f"those that made the product.", producing, lin.production_passage)]
    return NO_FINDINGS


@hookimpl
def eln_msc_register_rules(register: Callable[[Rule], None]) -> None:
    register(assay_required)
    register(assay_passage_match)
    register(ev_producing_passage)
