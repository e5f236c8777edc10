"""Passage rules: the production window, the passage class, the passage sequence."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import Finding
from eln_msc_plugin.rulepack.lineage import Cryo, Passage, lineage
from eln_msc_plugin.rulepack.metrics import passage_class_of
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
    if (fail_from is not None and p >= fail_from) or (warn_from is not None and p >= warn_from):
        end = min(line for line in (warn_from, fail_from) if line is not None) - 1
        severity, line = ("fail", fail_from) if fail_from is not None and p >= fail_from else ("warn", warn_from)
        fails = f", and the specification fails from P{fail_from}" if fail_from is not None and end + 1 < fail_from \
            else ""
        return [ctx.finding(severity, "/production_passage",
                            f"Production passage P{p} is beyond the {ctx.use} window, which ends at P{end}{fails}: "
                            f"from P5 MSCs lose secretory capacity and develop a senescence-associated secretome.",
                            p, {"exclusiveMaximum": line})]
    if warn_below is not None and p < warn_below:
        return [ctx.finding("warn", "/production_passage",
                            f"Production passage P{p} is before the {ctx.use} window, which starts at P{warn_below}: "
                            f"P0–P1 cultures may still carry non-MSC cells from the isolation.",
                            p, {"minimum": warn_below})]
    return NO_FINDINGS


@rule(
    "passage.class",
    summary="The passage class of the production passage (optimal … unsuitable), as a metric on every record.",
    severities=("info",),
    thresholds=same_for(borderline_from=5, not_recommended_from=7, unsuitable_from=9),
    reads=("/production_passage",),
    source=SEED_TEXT,
)
def passage_class(ctx: RuleContext) -> Sequence[Finding]:
    """P0 (the primary isolate) to P4 optimal, P5–P6 borderline, P7–P8 not recommended, P9+ unsuitable. The class
    is the `passage_class` metric of every report (with these thresholds, even when the rule is off); a class
    other than optimal is also an `info` finding."""
    p = lineage(ctx).production_passage
    cls = passage_class_of(p, ctx.t) if p is not None else None
    if cls is not None and cls != "optimal":
        status, sasp = CLASSES[cls]
        return [ctx.finding("info", "/production_passage",
                            f"Production passage P{p} is {cls.replace('_', ' ')}: {status}, {sasp}.", cls,
                            "optimal")]
    return NO_FINDINGS


def _sequence_problem(event: Passage, previous: int) -> str:
    if event.number == previous:
        return (f"{event.label} repeats P{previous}: the passage after P{previous} is P{previous + 1}, so the "
                f"passage number of the product cannot be trusted.")
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
    seeded on or after its date). A gap, a reset or a repeated number (P3 followed by P3) fails; a freeze must
    be of the passage just harvested and a thaw must resume at the passage of a freeze in the record (a record
    may begin with a thaw from a bank). A mislabelled thaw fails once: the passage after it is not judged
    against its wrong number. production_passage different from the last passage event warns."""
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
            broken = list(_cryo_sequence(ctx, event, previous, frozen))
            found.extend(broken)
            if event.kind == "freeze":
                frozen.add(event.passage)
            elif event.kind == "thaw":  # after a mislabelled thaw the count resumes at an unknown passage
                previous = None if broken else event.passage
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

