"""Dates as the MSC rules compare them: ISO 8601, a date without a zone is the UTC day, offsets go to UTC.

A bare date cannot order events within its day, so a parsed date is the span of seconds it can mean; the
chronology rule and the lineage's order of events compare those spans.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# (earliest, latest POSIX second it can mean, whether a time of day was written); a bare date spans its day,
# so `a[0] <= b[1]` is "a on or before b" and `a[1] < b[0]` is "a strictly before b", by day where a date is bare.
When = tuple[float, float, bool]

# Parsed dates by their text; lineage.py reads it directly in its hot loop (only `when` writes it).
DATE_CACHE: dict[str, When | None] = {}
_DATES_MAX = 4096
_DAY_END = 86400.0 - 1e-3


def when(value: Any) -> When | None:
    """An ISO 8601 date or date-time (no zone means UTC), parsed once per distinct string."""
    if type(value) is not str:
        return None
    try:
        return DATE_CACHE[value]
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
    if len(DATE_CACHE) >= _DATES_MAX:  # a backfill sees many dates; keep the cache bounded
        DATE_CACHE.clear()
    DATE_CACHE[value] = parsed
    return parsed


def before(a: When, b: When, strict: bool = False) -> bool:
    """`a` is before `b`; by day when either is a bare date (a date cannot order events within its day).

    Not strict ("not after"), same-day bare dates are in order; strict, they are not. Hot loops inline these
    comparisons.
    """
    return a[1] < b[0] if strict else a[0] <= b[1]
