"""Derived data the MSC rules share: parsed dates, the order of events, PD, PDT and cumulative PDL.

`lineage(ctx)` computes it once per record (through `ctx.shared`) and every rule reads it from there.
Values are stored unrounded; only messages round. Anything that cannot be read (a wrong type, a missing
member) becomes `None` and the rules skip it: the `schema` rule says what is wrong with the document.

Definitions (see the rule contract): PD = log2(cells_harvested / cells_seeded) on viable counts;
cumulative PDL = starting PDL + the PDs in order; the starting PDL is 0 from isolation, or the
`cumulative_pdl` of the thaw the record begins with; a thaw of a freeze made in the record continues
from the PDL computed at that freeze. PDT (hours) = hours from seeding to harvest / PD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from eln_msc_plugin.rules import RuleContext

# (earliest, latest POSIX second it can mean, whether a time of day was written); a bare date spans its day,
# so `a[0] <= b[1]` is "a on or before b" and `a[1] < b[0]` is "a strictly before b", by day where a date is bare.
When = tuple[float, float, bool]

_DATES: dict[str, When | None] = {}
_DATES_MAX = 4096
_log2 = math.log2
_isfinite = math.isfinite
_INF = math.inf
_DAY_END = 86400.0 - 1e-3


def when(value: Any) -> When | None:
    """An ISO 8601 date or date-time (no zone means UTC), parsed once per distinct string."""
    if type(value) is not str:
        return None
    try:
        return _DATES[value]
    except KeyError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        parsed: When | None = None
    else:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp()
        timed = len(value) > 10
        parsed = (seconds, seconds if timed else seconds + _DAY_END, timed)
    if len(_DATES) >= _DATES_MAX:  # a backfill sees many dates; keep the cache bounded
        _DATES.clear()
    _DATES[value] = parsed
    return parsed


def before(a: When, b: When, strict: bool = False) -> bool:
    """`a` is before `b`; by day when either is a bare date (a date cannot order events within its day).

    Not strict, same-day bare dates are in order; strict, they are not. Hot loops inline these comparisons.
    """
    return a[1] < b[0] if strict else a[0] <= b[1]


def number(value: Any) -> float | int | None:
    """A finite JSON number (not a boolean), else None."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float and _isfinite(value):
        return value
    return None


def integer(value: Any) -> int | None:
    """An integer, accepting integral floats such as 4.0, else None."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float and value.is_integer():
        return int(value)
    return None


def show(value: float) -> str:
    """A number for a message: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class Passage:
    """One passage event, read and derived (counts that are not positive numbers are `None`)."""

    __slots__ = (
        "area",
        "cells_harvested",
        "cells_seeded",
        "cumulative_pdl",
        "doubling_time_h",
        "harvested",
        "hours",
        "index",
        "number",
        "pd",
        "reported",
        "seeded",
        "thawed",
    )

    def __init__(self, index: int, item: dict[str, Any]) -> None:
        get = item.get
        self.index = index
        v = get("number")
        self.number = v if type(v) is int else integer(v)
        v = get("seeded_at")
        self.seeded = seeded_at = (_DATES.get(v) if type(v) is str else None) or when(v)
        v = get("harvested_at")
        self.harvested = harvested_at = (_DATES.get(v) if type(v) is str else None) or when(v)
        v = get("cells_seeded")
        self.cells_seeded = seeded = v if (type(v) is int or type(v) is float) and 0 < v < _INF else None
        v = get("cells_harvested")
        self.cells_harvested = harvested = v if (type(v) is int or type(v) is float) and 0 <= v < _INF else None
        v = get("vessel_area_cm2")
        self.area = v if (type(v) is int or type(v) is float) and 0 < v < _INF else None
        v = get("reported_cumulative_pdl")
        self.reported = v if (type(v) is int or type(v) is float) and -_INF < v < _INF else None
        self.thawed = get("thawed") is True
        self.pd = pd = _log2(harvested / seeded) if seeded is not None and harvested else None
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
    """The record's derived data, computed on first use and shared by every rule."""
    lin: Lineage | None = ctx.cache.get("msc.lineage")
    return lin if lin is not None else ctx.shared("msc.lineage", _compute)


def _read_cryo(index: int, item: dict[str, Any]) -> Cryo:
    kind = item.get("kind")
    return Cryo(index, kind if kind in ("freeze", "thaw") else None, when(item.get("at")),
                integer(item.get("passage")), number(item.get("cumulative_pdl")))


def _slot(event: Cryo, passages: list[Passage]) -> int:
    """Where a cryo event falls among the passages: before the first passage seeded on or after it."""
    for i, p in enumerate(passages):
        if event.at is not None and p.seeded is not None:
            if not before(p.seeded, event.at, strict=True):
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


def _start(lin: Lineage) -> None:
    """The starting PDL: 0 from isolation, the thaw's stated PDL for a record that begins from a bank."""
    for event in lin.events:
        if not isinstance(event, Passage):
            if event.kind == "thaw":
                lin.start, lin.start_event, lin.start_pdl = "thaw", event, event.reported
                return
            continue
        if event.thawed:
            lin.start = "thawed-unknown"
        elif event.number is not None and event.number <= 1:
            lin.start, lin.start_pdl = "isolation", 0.0
        else:
            lin.start = "late-unknown"
        return


def _walk(lin: Lineage) -> None:
    """Cumulative PDL along the events; a thaw continues from its freeze (or from what it states)."""
    running = lin.start_pdl
    frozen: dict[int, float | None] = {}
    last_number: int | None = None
    for event in lin.events:
        if not isinstance(event, Cryo):
            running = running + event.pd if running is not None and event.pd is not None else None
            event.cumulative_pdl = running
            last_number = event.number
        elif event.kind == "freeze":
            event.cumulative_pdl = running
            if event.passage is not None:
                frozen[event.passage] = running
        elif event.kind == "thaw" and event is not lin.start_event:
            if event.passage in frozen:
                running = frozen[event.passage]
            elif last_number is None or event.passage != last_number:
                running = event.reported
            event.cumulative_pdl = running
        else:
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


def metrics(lin: Lineage) -> dict[str, Any]:
    """The report metrics derived from a record (JSON-serialisable; numbers unrounded)."""
    return {
        "cumulative_pdl": lin.cumulative_pdl,
        "reported_cumulative_pdl": lin.reported_cumulative_pdl,
        "passages": [{"number": p.number, "pd": p.pd, "doubling_time_h": p.doubling_time_h,
                      "cumulative_pdl": p.cumulative_pdl} for p in lin.passages],
        "beta_gal": beta_gal(lin),
    }
