"""Population doubling level rules: the PDL limit, reported against recomputed PDL, PDL never decreasing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import Finding
from eln_msc_plugin.rulepack.lineage import Event, Lineage, Passage, lineage
from eln_msc_plugin.rulepack.numbers import show
from eln_msc_plugin.rules import NO_FINDINGS, Rule, RuleContext, rule, same_for

PDL_SOURCES = ("PD = log2(harvested/seeded) on viable counts: ATCC 'passage number vs population doubling level', "
               "Coriell, Hayflick 1973; ICH Q5D (accurate count of population doublings)")


def _basis(computed: float | None, reported: float | None) -> str:
    if computed is not None and reported is not None:
        if computed >= reported:
            return f"computed from cell counts; record states {show(reported)}"
        return f"as the record states; cell counts give {show(computed)}"
    if computed is not None:
        return "computed from cell counts; the record states none"
    return "as the record states; the cell counts do not allow recomputing it"


@rule(
    "pdl.limit",
    summary="Cumulative PDL (the larger of reported and recomputed) within the specification (production: ≤ 12).",
    severities=("fail", "warn"),
    thresholds={
        "production": {"warn_above": 10, "fail_above": 12},
        "banking": {"warn_above": 10, "fail_above": 12},
        "research": {"warn_above": 12, "fail_above": None},
    },
    reads=("/passages", "/cryo_events", "/reported_cumulative_pdl"),
    source="production specification 'PDL not exceeding 12' (seed text; Behrmann 2021); " + PDL_SOURCES,
)
def pdl_limit(ctx: RuleContext) -> Sequence[Finding]:
    """A PDL above `fail_above` fails, above `warn_above` warns (12.0 does not fail). Where both a reported and
    a recomputed PDL exist the larger is judged. A lot with no PDL at all (no counts that give one, no reported
    value) warns that its limit cannot be checked when its specification has a fail line: production and
    banking lots, not research lots."""
    lin = lineage(ctx)
    computed, reported = lin.cumulative_pdl, lin.reported_cumulative_pdl
    t = ctx.t
    fail_above, warn_above = t.get("fail_above"), t.get("warn_above")
    if computed is None and reported is None:
        if fail_above is not None and lin.data:
            return [ctx.finding("warn", "/reported_cumulative_pdl",
                                f"No cumulative PDL: the record states none and its cell counts do not allow "
                                f"computing one, so the {ctx.use} limit of {show(fail_above)} cannot be checked.",
                                None, {"maximum": fail_above})]
        return NO_FINDINGS
    larger = reported is not None and (computed is None or reported > computed)
    value: float = reported if larger else computed  # type: ignore[assignment]
    if fail_above is not None and value > fail_above:
        severity, line = "fail", fail_above
    elif warn_above is not None and value > warn_above:
        severity, line = "warn", warn_above
    else:
        return NO_FINDINGS
    path = lin.reported_path if reported is not None and reported >= value else (
        lin.passages[-1].path if lin.passages else "/passages")
    kind = "limit" if severity == "fail" or fail_above is None else "alert line"
    basis = _basis(computed, reported)
    return [ctx.finding(severity, path,
                        f"Cumulative PDL {show(value)} exceeds the {ctx.use} {kind} of {show(line)} ({basis}): "
                        f"late-PDL cells shift toward a senescent secretome.", value, {"maximum": line})]


def _compare(ctx: RuleContext, path: str, what: str, reported: float, computed: float) -> Iterator[Finding]:
    diff = abs(reported - computed)
    t = ctx.t
    fail_above, warn_above = t.get("fail_above"), t.get("warn_above")
    if fail_above is not None and diff > fail_above:
        severity, line = "fail", fail_above
    elif warn_above is not None and diff > warn_above:
        severity, line = "warn", warn_above
    else:
        return
    yield ctx.finding(severity, path,
                      f"{what} states cumulative PDL {show(reported)} but the cell counts give {show(computed)} "
                      f"(difference {show(diff)}, more than {show(line)}): a count or the PDL arithmetic is wrong.",
                      reported, {"value": computed, "tolerance": line})


def _unknown_start(ctx: RuleContext, lin: Lineage) -> Iterator[Finding]:
    first = lin.passages[0] if lin.passages else None
    if lin.start == "thaw" and lin.start_pdl is None and lin.start_event is not None:
        yield ctx.finding("warn", lin.start_event.path + "/cumulative_pdl",
                          "The record begins with a thaw that does not state the cumulative PDL at freezing: the "
                          "PDL cannot be recomputed from the counts, so the reported PDLs are unchecked.")
    elif lin.start == "thawed-unknown" and first is not None:
        yield ctx.finding("warn", first.path + "/thawed",
                          f"The record begins with thawed cells ({first.label}) but no thaw event states their "
                          f"cumulative PDL: the PDL cannot be recomputed, so the reported PDLs are unchecked.")
    elif lin.start == "late-unknown" and first is not None:
        yield ctx.finding("warn", first.path + "/number",
                          f"The record begins at {first.label} with neither isolation nor a thaw event: the starting "
                          f"PDL is unknown, so the reported PDLs are unchecked.", first.number, {"maximum": 1})


@rule(
    "pdl.consistency",
    summary="Reported cumulative PDLs (per passage, per freeze/thaw, record level) agree with the recomputed ones.",
    severities=("fail", "warn"),
    thresholds=same_for(warn_above=0.5, fail_above=1.0),
    reads=("/passages", "/cryo_events", "/reported_cumulative_pdl"),
    source=PDL_SOURCES + "; ATCC: published PDLs are often rounded, so small differences are tolerated",
)
def pdl_consistency(ctx: RuleContext) -> list[Finding]:
    """Every reported value is compared with the recomputed one at its point: each passage's, each freeze's
    and thaw's `cumulative_pdl`, and the record-level value. A difference of more than `warn_above` PDL warns,
    more than `fail_above` fails. Recomputed = the start + the PD of each passage in order (a passage that lost
    cells adds 0; a freeze or thaw changes nothing, so a mislabelled thaw does not rewind the count). The start
    is the `cumulative_pdl` of the thaw the record begins with (the latest thaw dated at or before the first
    seeding, or, failing that, a first passage flagged `thawed`), else 0 when the first passage is P0 or P1.
    When the start is unknown (such a thaw states no PDL, thawed cells without a thaw event, or a record that
    begins at P2 or later with neither) the recomputed PDL is null: the rule warns once and checks nothing
    else."""
    found: list[Finding] = []
    lin = lineage(ctx)
    if lin.start_pdl is None:
        found.extend(_unknown_start(ctx, lin))
        return found
    warn_above, fail_above = ctx.t.get("warn_above"), ctx.t.get("fail_above")
    least = warn_above if warn_above is not None else fail_above
    if least is None:
        return found
    start_event = lin.start_event
    for event in lin.events:
        reported, computed = event.reported, event.cumulative_pdl
        if reported is None or computed is None or not abs(reported - computed) > least or event is start_event:
            continue
        if isinstance(event, Passage):
            found.extend(_compare(ctx, event.path + "/reported_cumulative_pdl", event.label, reported, computed))
        else:
            found.extend(_compare(ctx, event.path + "/cumulative_pdl", f"The {event.kind or 'cryo'} event",
                                  reported, computed))
    reported, computed = lin.reported_cumulative_pdl, lin.cumulative_pdl
    if reported is not None and computed is not None and abs(reported - computed) > least \
            and lin.reported_path == "/reported_cumulative_pdl":
        found.extend(_compare(ctx, "/reported_cumulative_pdl", "The record", reported, computed))
    return found


@rule(
    "pdl.monotonic",
    summary="Reported cumulative PDL never decreases along the passages and across freeze/thaw.",
    severities=("fail",),
    reads=("/passages", "/cryo_events", "/reported_cumulative_pdl"),
    source=PDL_SOURCES,
)
def pdl_monotonic(ctx: RuleContext) -> list[Finding]:
    """The reported values are read in order (passages and freeze/thaw events by date, the record-level
    `reported_cumulative_pdl` last) and each is compared with the one before it; any decrease fails. A
    record-level value below the last passage's is a decrease. Losses of cells do not excuse one: a passage
    that lost cells adds 0 doublings, so a correctly reported PDL never decreases."""
    found: list[Finding] = []
    lin = lineage(ctx)
    before: Event | None = None
    for event in lin.events:
        value = event.reported
        if value is None:
            continue
        if before is not None and value < before.reported:  # type: ignore[operator]
            suffix = "/reported_cumulative_pdl" if isinstance(event, Passage) else "/cumulative_pdl"
            found.append(_decrease(ctx, event.path + suffix, before, value, _label(event)))
        before = event
    reported = lin.reported_cumulative_pdl
    if lin.reported_path == "/reported_cumulative_pdl" and reported is not None and before is not None \
            and reported < before.reported:  # type: ignore[operator]
        found.append(_decrease(ctx, "/reported_cumulative_pdl", before, reported, "the record"))
    return found


def _label(event: Event) -> str:
    return event.label if isinstance(event, Passage) else f"the {event.kind or 'cryo'} event"


def _decrease(ctx: RuleContext, path: str, before: Event, value: float, label: str) -> Finding:
    previous = before.reported
    assert previous is not None
    return ctx.finding("fail", path,
                       f"Reported cumulative PDL falls from {show(previous)} ({_label(before)}) to {show(value)} "
                       f"({label}): PDL counts doublings and cannot go back, so one of these values is wrong.",
                       value, {"minimum": previous})


@hookimpl
def eln_msc_register_rules(register: Callable[[Rule], None]) -> None:
    register(pdl_limit)
    register(pdl_consistency)
    register(pdl_monotonic)

