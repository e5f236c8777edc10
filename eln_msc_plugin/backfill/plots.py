"""The report's plots from each record's metrics: cumulative PDL, SA-β-gal and doubling time by passage."""

from __future__ import annotations

from typing import Any

from eln_msc_plugin.backfill.svg import Plot, Series, render

WINDOW = (2.0, 4.0, "production window P2–P4")


def _passages(row: dict[str, Any]) -> list[dict[str, Any]]:
    found = (row.get("metrics") or {}).get("passages")
    return [p for p in found if isinstance(p, dict) and isinstance(p.get("number"), (int, float))] \
        if isinstance(found, list) else []


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _series(rows: list[dict[str, Any]], key: str) -> list[Series]:
    out = []
    for row in rows:
        points = [(float(p["number"]), y) for p in _passages(row) if (y := _number(p.get(key))) is not None]
        if points:
            out.append(Series(str(row.get("lot_id") or row.get("identifier")), str(row.get("verdict")), points))
    return out


def beta_gal_series(rows: list[dict[str, Any]]) -> list[Series]:
    """SA-β-gal % at the production passage (the last passage event: passage.sequence checks they agree)."""
    out = []
    for row in rows:
        beta = (row.get("metrics") or {}).get("beta_gal")
        percent = _number(beta.get("percent_positive")) if isinstance(beta, dict) else None
        passages = _passages(row)
        if percent is not None and passages:
            passage = float(passages[-1]["number"])
            out.append(Series(str(row.get("lot_id") or row.get("identifier")), str(row.get("verdict")),
                              [(passage, percent)]))
    return out


def all_plots(rows: list[dict[str, Any]], pdl_limit: float = 12.0) -> list[str]:
    """Three `<svg>` plots; lots are coloured by verdict."""
    return [
        render(Plot("Cumulative PDL by passage", "passage", "cumulative PDL", _series(rows, "cumulative_pdl"),
                    x_band=WINDOW, y_rules=[(pdl_limit, f"PDL {pdl_limit:g}")], css_class="plot pdl")),
        render(Plot("SA-β-gal positive cells at the production passage", "passage", "SA-β-gal positive (%)",
                    beta_gal_series(rows), lines=False, x_band=WINDOW,
                    y_rules=[(10.0, "10 % (warn)"), (20.0, "20 % (fail)")], css_class="plot beta-gal")),
        render(Plot("Population doubling time by passage", "passage", "doubling time (h)",
                    _series(rows, "doubling_time_h"), x_band=WINDOW, css_class="plot doubling-time")),
    ]
