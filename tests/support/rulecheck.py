"""Small builders for rule tests: a passage, a lot, and the report or findings of a record."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from eln_msc_plugin import validate_document
from eln_msc_plugin.pipeline import Engine
from tests.support.records import record

ENGINE = Engine()
DAY0 = date(2026, 1, 1)


def passage(n: int, seeded: float, harvested: float, day: int, days: int = 5, **extra: Any) -> dict[str, Any]:
    """A passage event seeded on day `day` of 2026 (day 1 = 1 January) and harvested `days` later."""
    return {"number": n, "seeded_at": (DAY0 + timedelta(days=day - 1)).isoformat(),
            "harvested_at": (DAY0 + timedelta(days=day - 1 + days)).isoformat(), "vessel_area_cm2": 175,
            "cells_seeded": seeded, "cells_harvested": harvested, **extra}


def lot(passages: list[dict[str, Any]], cryo: list[dict[str, Any]] | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid record with these passages (production passage = the last one), no record-level PDL."""
    settings: dict[str, Any] = {"passages": passages, "reported_cumulative_pdl": None, "cryo_events": cryo,
                                "production_passage": passages[-1]["number"] if passages else 0}
    data = record(**{**settings, **overrides})
    for key in ("beta_gal", "p16", "p21"):
        data["senescence"][key]["sample_passage"] = data["production_passage"]
    data["ev_harvest"]["producing_passage"] = data["production_passage"]
    return data


def report(data: dict[str, Any]) -> Any:
    return validate_document(data, engine=ENGINE)[0]


def findings(data: dict[str, Any], rule_id: str) -> list[Any]:
    return [f for f in report(data).findings if f.rule == rule_id]
