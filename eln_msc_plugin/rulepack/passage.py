"""Passage rules: the production window, the passage class (and the report metrics), the passage sequence."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import Finding
from eln_msc_plugin.rulepack.derived import Cryo, Passage, lineage, metrics
from eln_msc_plugin.rules import NO_FINDINGS, Rule, RuleContext, rule, same_for

SEED_TEXT = ("passage-to-function table and production specification 'P2–P4': Behrmann 2021, Stem Cell Rev Rep "
             "17:1862; Turinetto 2016, Int J Mol Sci 17:1164; Coppé 2010, Annu Rev Pathol 5:99")

# class: (secretory status, SASP)
CLASSES: dict[str, tuple[str, str]] = {
    "optimal": ("peak to high secretory status", "no SASP"),
    "borderline": ("moderate secretory status", "an emerging SASP"),
    "not_recommended": ("declining secretory status", "a SASP present"),
    "unsuitable": ("low (senescent) secretory status", "an established SASP"),
}


@rule(
    "passage.window",
    summary="The production passage lies in the window of the lot's specification (production: P2–P4).",
    severities=("fail", "warn"),
    thresholds={
        "production": {"warn_below": 2, "warn_from": None, "fail_from": 5},
        "banking": {"warn_below": None, "warn_from": 5, "fail_from": 7},
        "research": {"warn_below": None, "warn_from": 5, "fail_from": None},
    },
    reads=("/production_passage", "/intended_use"),
    source=SEED_TEXT,
)
def passage_window(ctx: RuleContext) -> Sequence[Finding]:
    """`warn_below`: a passage below this warns (P0–P1 cultures still carry cells from isolation other than
    MSCs). `warn_from` / `fail_from`: a passage at or above this warns / fails (secretory capacity declines
    and a senescence-associated secretome emerges from P5). A line set to none is off."""
    p = lineage(ctx).production_passage
    if p is None:
        return NO_FINDINGS
    t = ctx.t
    fail_from, warn_from, warn_below = t.get("fail_from"), t.get("warn_from"), t.get("warn_below")
    if fail_from is not None and p >= fail_from:
        return [ctx.finding("fail", "/production_passage",
                            f"Production passage P{p} is at or beyond P{fail_from}, where the {ctx.use} specification "
                            f"fails: from P5 MSCs lose secretory capacity and develop a senescence-associated "
                            f"secretome.",
                            p, {"exclusiveMaximum": fail_from})]
    elif warn_from is not None and p >= warn_from:
        return [ctx.finding("warn", "/production_passage",
                            f"Production passage P{p} is at or beyond P{warn_from}, the edge of the {ctx.use} window: "
                            f"from P5 MSCs lose secretory capacity and develop a senescence-associated secretome.",
                            p, {"exclusiveMaximum": warn_from})]
    elif warn_below is not None and p < warn_below:
        return [ctx.finding("warn", "/production_passage",
                            f"Production passage P{p} is below P{warn_below}, the start of the {ctx.use} window: "
                            f"P0–P1 cultures may still carry non-MSC cells from the isolation.",
                            p, {"minimum": warn_below})]
    return NO_FINDINGS


def passage_class_of(p: int, t: dict[str, int]) -> str:
    """The class of passage `p` (optimal, borderline, not_recommended, unsuitable) under thresholds `t`."""
    if t.get("unsuitable_from") is not None and p >= t["unsuitable_from"]:
        return "unsuitable"
    if t.get("not_recommended_from") is not None and p >= t["not_recommended_from"]:
        return "not_recommended"
    if t.get("borderline_from") is not None and p >= t["borderline_from"]:
        return "borderline"
    return "optimal"


@rule(
    "passage.class",
    summary="The passage class of the production passage (optimal … unsuitable); also writes the report metrics.",
    severities=("info",),
    thresholds=same_for(borderline_from=5, not_recommended_from=7, unsuitable_from=9),
    reads=("/production_passage", "/passages", "/cryo_events", "/reported_cumulative_pdl", "/senescence/beta_gal"),
    source=SEED_TEXT,
)
def passage_class(ctx: RuleContext) -> Sequence[Finding]:
    """P1–P4 optimal, P5–P6 borderline, P7–P8 not recommended, P9+ unsuitable. A class other than optimal is
    an `info` finding. This rule also writes every report's metrics (`cumulative_pdl`,
    `reported_cumulative_pdl`, `passage_class`, `passages`, `beta_gal`), so a policy may not disable it."""
    lin = lineage(ctx)
    p = lin.production_passage
    cls = passage_class_of(p, ctx.t) if p is not None else None
    if ctx.metrics:
        ctx.metrics.update(metrics(lin))
    else:  # the usual case: no rule wrote metrics before, so the dict is used as it is
        ctx.metrics = metrics(lin)
    ctx.metrics["passage_class"] = cls
    if cls is not None and cls != "optimal":
        status, sasp = CLASSES[cls]
        return [ctx.finding("info", "/production_passage",
                            f"Production passage P{p} is {cls.replace('_', ' ')}: {status}, {sasp}.", cls,
                            "optimal")]
    return NO_FINDINGS


def _sequence_problem(event: Passage, previous: int) -> str:
    kind = "skips" if event.number is not None and event.number > previous + 1 else "goes back"
    return (f"{event.label} follows P{previous}: the passage count {kind} (expected P{previous + 1}), so the "
            f"passage number of the product cannot be trusted.")


@rule(
    "passage.sequence",
    summary="Passage numbers rise by exactly 1; a thaw resumes at its freeze's passage; production_passage is the "
            "last.",
    severities=("fail", "warn"),
    reads=("/passages", "/cryo_events", "/production_passage"),
    source="batch-record-v1 spec (passage events, cryo events); ICH Q5D (accurate account of the culture history)",
)
def passage_sequence(ctx: RuleContext) -> list[Finding]:
    """Walks passages and freeze/thaw events in order (a cryo event is placed before the first passage
    seeded on or after its date). A gap or a reset fails; a freeze must be of the passage just harvested and
    a thaw must resume at the passage of a freeze in the record (a record may begin with a thaw from a bank).
    production_passage different from the last passage event warns."""
    found: list[Finding] = []
    lin = lineage(ctx)
    previous: int | None = None
    frozen: set[int] = set()
    if not lin.cryo:
        for passage in lin.passages:
            n = passage.number
            if n is None:
                continue
            if previous is not None and n != previous + 1:
                found.append(ctx.finding("fail", passage.path + "/number", _sequence_problem(passage, previous), n,
                                         previous + 1))
            previous = n
    for event in lin.events if lin.cryo else ():
        if isinstance(event, Passage):
            n = event.number
            if n is not None and previous is not None and n != previous + 1:
                found.append(ctx.finding("fail", event.path + "/number", _sequence_problem(event, previous), n,
                                         previous + 1))
            if n is not None:
                previous = n
        elif isinstance(event, Cryo) and event.passage is not None:
            found.extend(_cryo_sequence(ctx, event, previous, frozen))
            if event.kind == "freeze":
                frozen.add(event.passage)
            elif event.kind == "thaw":
                previous = event.passage
    p = lin.production_passage
    last = lin.passages[-1].number if lin.passages else None
    if p is not None and last is not None and p != last:
        found.append(ctx.finding("warn", "/production_passage",
                                 f"production_passage is P{p} but the last passage event is P{last}: the passage the "
                                 f"specification is checked against may not be the one that made the product.",
                                 p, last))
    return found


def _cryo_sequence(ctx: RuleContext, event: Cryo, previous: int | None, frozen: set[int]) -> Iterator[Finding]:
    assert event.passage is not None
    if event.kind == "freeze" and previous is not None and event.passage != previous:
        yield ctx.finding("fail", event.path + "/passage",
                          f"The freeze records P{event.passage} but the passage just harvested is P{previous}: "
                          f"vials would be labelled with the wrong passage.", event.passage, previous)
    elif event.kind == "thaw" and previous is not None and event.passage not in frozen and event.passage != previous:
        yield ctx.finding("fail", event.path + "/passage",
                          f"The thaw resumes at P{event.passage}, but no freeze at P{event.passage} precedes it "
                          f"and the last passage was P{previous}: the passage count is broken.",
                          event.passage, sorted(frozen | {previous}))


@hookimpl
def eln_msc_register_rules(register: Callable[[Rule], None]) -> None:
    register(passage_window)
    register(passage_class)
    register(passage_sequence)

