"""The chronology rule: the dates of a record happen in an order that is physically possible."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.model import Finding
from eln_msc_plugin.rulepack.dates import When, before, when
from eln_msc_plugin.rulepack.lineage import Lineage, lineage
from eln_msc_plugin.rules import Rule, RuleContext, rule

ASSAYS = (("beta_gal", "SA-β-gal test"), ("p16", "p16 test"), ("p21", "p21 test"))


def _dated(lin: Lineage) -> Iterator[tuple[str, str, When]]:
    """(path, what, when) of every dated thing that must precede release."""
    for p in lin.passages:
        if p.harvested is not None:
            yield p.path + "/harvested_at", f"{p.label} harvest", p.harvested
        elif p.seeded is not None:
            yield p.path + "/seeded_at", f"{p.label} seeding", p.seeded
    for c in lin.cryo:
        if c.at is not None:
            yield c.path + "/at", f"the {c.kind or 'cryo'} event", c.at
    data = lin.data
    for key, what in ASSAYS:
        result = lin.assays.get(key)
        tested = when(result.get("tested_at")) if result is not None else None
        if tested is not None:
            yield f"/senescence/{key}/tested_at", f"the {what}", tested
    ev = data.get("ev_harvest")
    collected = when(ev.get("collected_at")) if type(ev) is dict else None
    if collected is not None:
        yield "/ev_harvest/collected_at", "EV collection", collected


def _raw(lin: Lineage, path: str) -> Any:
    node: Any = lin.data
    for part in path.strip("/").split("/"):
        node = node[int(part)] if type(node) is list else node.get(part) if type(node) is dict else None
    return node


@rule(
    "chronology",
    summary="Seeded before harvested, each passage harvested before the next is seeded, freeze before thaw, "
            "everything before release.",
    severities=("fail",),
    reads=("/passages/*/seeded_at", "/passages/*/harvested_at", "/cryo_events/*/at", "/senescence/*/tested_at",
           "/ev_harvest/collected_at", "/released_at"),
    source="data integrity: ALCOA+ (contemporaneous, accurate records); EU GMP Annex 11",
)
def chronology(ctx: RuleContext) -> list[Finding]:
    """Any violation fails for every lot: the record cannot be right. "Seeded before harvested" is strict: a
    passage is harvested on a later day than (or, with times, after) it was seeded. Every other "before" means
    "not after": same-day events are in order. A date without a zone is the UTC day, and offsets are converted
    to UTC before comparing, so 2026-01-07T23:30-05:00 is on 8 January."""
    found: list[Finding] = []
    lin = lineage(ctx)
    previous = None
    for p in lin.passages:
        seeded, harvested = p.seeded, p.harvested
        if seeded is not None and harvested is not None and not seeded[1] < harvested[0]:
            found.append(_too_soon(ctx, lin, p.path + "/harvested_at", f"{p.label} is harvested",
                                   p.path + "/seeded_at", "it is seeded", "cells cannot double in no time"))
        if previous is not None and seeded is not None and previous.harvested is not None \
                and not previous.harvested[0] <= seeded[1]:
            found.append(_too_soon(ctx, lin, p.path + "/seeded_at", f"{p.label} is seeded",
                                   previous.path + "/harvested_at", f"{previous.label} is harvested",
                                   "the cells did not exist yet"))
        previous = p
    if lin.cryo:
        found.extend(_freeze_thaw(ctx, lin))
    released = when(lin.data.get("released_at"))
    if released is not None and not _all_before(lin, released):
        for path, what, moment in _dated(lin):
            if not before(moment, released):
                found.append(ctx.finding("fail", path,
                                         f"{what[0].upper() + what[1:]} ({_raw(lin, path)}) is after the lot's release "
                                         f"({lin.data['released_at']}): a lot is released on results that exist.",
                                         _raw(lin, path), {"not_after": lin.data["released_at"]}))
    return found


def _too_soon(ctx: RuleContext, lin: Lineage, path: str, what: str, other_path: str, other: str,
              why: str) -> Finding:
    return ctx.finding("fail", path, f"{what} ({_raw(lin, path)}) before {other} ({_raw(lin, other_path)}): {why}.",
                       _raw(lin, path), {"not_before": _raw(lin, other_path)})


def _all_before(lin: Lineage, released: When) -> bool:
    """Quick test that every dated thing is on or before release (the detailed walk runs only when not)."""
    latest = released[1]
    for p in lin.passages:
        moment = p.harvested or p.seeded
        if moment is not None and moment[0] > latest:
            return False
    for c in lin.cryo:
        if c.at is not None and c.at[0] > latest:
            return False
    assays = lin.assays
    for key, _ in ASSAYS:
        result = assays.get(key)
        tested = when(result.get("tested_at")) if result is not None else None
        if tested is not None and tested[0] > latest:
            return False
    ev = lin.data.get("ev_harvest")
    collected = when(ev.get("collected_at")) if type(ev) is dict else None
    return collected is None or collected[0] <= latest


def _freeze_thaw(ctx: RuleContext, lin: Lineage) -> Iterator[Finding]:
    first_freeze: dict[int, Any] = {}
    for c in lin.cryo:
        if c.kind == "freeze" and c.passage is not None and c.at is not None:
            known = first_freeze.get(c.passage)
            if known is None or before(c.at, known.at, strict=True):
                first_freeze[c.passage] = c
    for c in lin.cryo:
        freeze = first_freeze.get(c.passage) if c.kind == "thaw" and c.passage is not None else None
        if freeze is not None and c.at is not None and not before(freeze.at, c.at):
            yield ctx.finding("fail", c.path + "/at",
                              f"The thaw of P{c.passage} ({_raw(lin, c.path + '/at')}) is before its freeze "
                              f"({_raw(lin, freeze.path + '/at')}): vials cannot be thawed before they are frozen.",
                              _raw(lin, c.path + "/at"), {"not_before": _raw(lin, freeze.path + "/at")})


@hookimpl
def eln_msc_register_rules(register: Callable[[Rule], None]) -> None:
    register(chronology)
