"""The lineage of a record: its passage and freeze/thaw events in order, with PD, PDT and cumulative PDL.

`lineage(ctx)` computes it once per record (through `ctx.shared`) and every MSC rule, and the report
metrics, read it from there. Values are stored unrounded. Anything that cannot be read (a wrong type, a
missing member) becomes `None` and the rules skip it: the `schema` rule says what is wrong with the document.

Definitions (rule pack 1.1): PD = log2(cells_harvested / cells_seeded) on viable counts, and 0 for a passage
that lost cells (cells do not un-double; a harvest of 0 cells too). Cumulative PDL = the start + the PDs of
the passage events in order, whatever the freeze and thaw events say: a mislabelled thaw is a
`passage.sequence` finding, never a reason to drop or re-count doublings. The start is the `cumulative_pdl` of
the thaw the record begins with; else 0 when the first passage is P0 or P1; else unknown (`None`).
PDT (hours) = hours from seeding to harvest / PD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from eln_msc_plugin.rulepack.dates import DATE_CACHE, When, when
from eln_msc_plugin.rulepack.numbers import integer, number
from eln_msc_plugin.rules import RuleContext

_log2 = math.log2
_INF = math.inf


class Passage:
    """One passage event, read and derived (counts that are not positive numbers are `None`; a harvest may be 0)."""

    __slots__ = ("area", "cells_harvested", "cells_seeded", "cumulative_pdl", "doubling_time_h", "harvested",
                 "hours", "index", "number", "pd", "reported", "seeded", "thawed")

    def __init__(self, index: int, item: dict[str, Any]) -> None:
        get = item.get
        self.index = index
        v = get("number")
        self.number = v if type(v) is int else integer(v)
        v = get("seeded_at")
        self.seeded = seeded_at = (DATE_CACHE.get(v) if type(v) is str else None) or when(v)
        v = get("harvested_at")
        self.harvested = harvested_at = (DATE_CACHE.get(v) if type(v) is str else None) or when(v)
        v = get("cells_seeded")
        self.cells_seeded = seeded = v if (type(v) is int or type(v) is float) and 0 < v < _INF else None
        v = get("cells_harvested")
        self.cells_harvested = harvested = v if (type(v) is int or type(v) is float) and 0 <= v < _INF else None
        v = get("vessel_area_cm2")
        self.area = v if (type(v) is int or type(v) is float) and 0 < v < _INF else None
        v = get("reported_cumulative_pdl")
        self.reported = v if (type(v) is int or type(v) is float) and -_INF < v < _INF else None
        self.thawed = get("thawed") is True
        pd = None
        if seeded is not None and harvested is not None:
            pd = _log2(harvested / seeded) if harvested > seeded else 0.0  # a loss is no doubling, not a negative one
        self.pd = pd
        self.cumulative_pdl: float | None = None
        self.hours = self.doubling_time_h = None
        if seeded_at is not None and harvested_at is not None:
            self.hours = hours = (harvested_at[0] - seeded_at[0]) / 3600.0
            if pd is not None and pd > 0 and hours > 0:
                self.doubling_time_h = hours / pd

    @property
    def path(self) -> str:
        return f"/passages/{self.index}"

    @property
    def label(self) -> str:
        return f"P{self.number}" if self.number is not None else f"passage event {self.index + 1}"


@dataclass(slots=True)
class Cryo:
    """One freeze or thaw event; `cumulative_pdl` is the PDL computed at that point."""

    index: int
    kind: str | None
    at: When | None
    passage: int | None
    reported: float | None
    cumulative_pdl: float | None = None

    @property
    def path(self) -> str:
        return f"/cryo_events/{self.index}"


Event = Passage | Cryo


@dataclass(slots=True)
class Lineage:
    """Everything the rules derive from a record's passages and cryo events."""

    data: dict[str, Any]
    passages: list[Passage] = field(default_factory=list)
    cryo: list[Cryo] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    start: str = "none"  # isolation | thaw | thawed-unknown | late-unknown | none
    start_event: Cryo | None = None
    start_pdl: float | None = None
    cumulative_pdl: float | None = None
    reported_cumulative_pdl: float | None = None
    reported_path: str = "/reported_cumulative_pdl"
    production_passage: int | None = None
    assays: dict[str, dict[str, Any]] = field(default_factory=dict)  # beta_gal, p16, p21 that are objects


def lineage(ctx: RuleContext) -> Lineage:
    """The record's lineage, computed on first use and shared by every rule."""
    lin: Lineage | None = ctx.cache.get("msc.lineage")
    return lin if lin is not None else ctx.shared("msc.lineage", _compute)


def _read_cryo(index: int, item: dict[str, Any]) -> Cryo:
    kind = item.get("kind")
    return Cryo(index, kind if kind in ("freeze", "thaw") else None, when(item.get("at")),
                integer(item.get("passage")), number(item.get("cumulative_pdl")))


def _slot(event: Cryo, passages: list[Passage]) -> int:
    """Where a cryo event falls among the passages: before the first passage seeded on or after its day."""
    for i, p in enumerate(passages):
        if event.at is not None and p.seeded is not None:
            if event.at[0] <= p.seeded[1]:
                return i
        elif event.passage is not None and p.number is not None and p.number > event.passage:
            return i
    return len(passages)


def _order(passages: list[Passage], cryo: list[Cryo]) -> list[Event]:
    if not cryo:
        return list(passages)
    slots: list[list[Cryo]] = [[] for _ in range(len(passages) + 1)]
    for event in cryo:
        slots[_slot(event, passages)].append(event)
    events: list[Event] = []
    for i, slot in enumerate(slots):
        slot.sort(key=lambda e: (e.at[0] if e.at is not None else math.inf, e.kind != "freeze"))
        events.extend(slot)
        if i < len(passages):
            events.append(passages[i])
    return events


def _beginning_thaw(lin: Lineage, first: Passage) -> Cryo | None:
    """The thaw a record begins with: the latest thaw dated at or before the first passage's seeding; failing
    that, when the first passage is flagged `thawed`, a thaw placed before it by its passage number (undated)."""
    found: Cryo | None = None
    if first.seeded is not None:
        for event in lin.cryo:
            at = event.at
            if event.kind == "thaw" and at is not None and at[0] <= first.seeded[1] \
                    and (found is None or at[0] >= found.at[0]):  # type: ignore[index]
                found = event
    if found is None and first.thawed:
        for placed in lin.events:
            if placed is first:
                break
            if isinstance(placed, Cryo) and placed.kind == "thaw":
                found = placed
    return found


def _start(lin: Lineage) -> None:
    """The starting PDL: the beginning thaw's stated PDL, 0 from isolation (P0/P1), else unknown."""
    if not lin.passages:
        return
    first = lin.passages[0]
    thaw = _beginning_thaw(lin, first) if lin.cryo or first.thawed else None
    if thaw is not None:
        lin.start, lin.start_event, lin.start_pdl = "thaw", thaw, thaw.reported
    elif first.thawed:
        lin.start = "thawed-unknown"
    elif first.number is not None and first.number <= 1:
        lin.start, lin.start_pdl = "isolation", 0.0
    else:
        lin.start = "late-unknown"


def _walk(lin: Lineage) -> None:
    """Cumulative PDL along the events: the start plus each passage's PD; a freeze or thaw changes nothing.
    Events before the thaw a record begins with have no recomputed value (the count starts there)."""
    start = lin.start_event
    running = lin.start_pdl if start is None else None
    for event in lin.events:
        if event is start:
            running = lin.start_pdl
        elif type(event) is Passage:
            pd = event.pd
            running = running + pd if running is not None and pd is not None else None
        event.cumulative_pdl = running
    lin.cumulative_pdl = running


def _compute(ctx: RuleContext) -> Lineage:
    data = ctx.data
    if type(data) is not dict:
        return Lineage({})
    lin = Lineage(data, production_passage=integer(data.get("production_passage")))
    raw = data.get("passages")
    if type(raw) is list:
        lin.passages = [Passage(i, item) for i, item in enumerate(raw) if type(item) is dict]
    raw = data.get("cryo_events")
    if type(raw) is list:
        lin.cryo = [_read_cryo(i, item) for i, item in enumerate(raw) if type(item) is dict]
    lin.events = _order(lin.passages, lin.cryo)
    _start(lin)
    _walk(lin)
    reported = number(data.get("reported_cumulative_pdl"))
    if reported is None and lin.passages and lin.passages[-1].reported is not None:
        reported = lin.passages[-1].reported
        lin.reported_path = lin.passages[-1].path + "/reported_cumulative_pdl"
    lin.reported_cumulative_pdl = reported
    senescence = data.get("senescence")
    if type(senescence) is dict:
        lin.assays = {k: v for k, v in senescence.items() if type(v) is dict}
    return lin
