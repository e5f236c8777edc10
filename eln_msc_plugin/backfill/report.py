"""Write the backfill report: `<name>.html` (self-contained), `<name>.csv` and `<name>.json` side by side."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from eln_msc_plugin.backfill.html import page
from eln_msc_plugin.output import strict_json

CSV_COLUMNS = ("id", "identifier", "lot_id", "verdict", "status", "revision", "fails", "warns", "rules",
               "cumulative_pdl", "passage_class", "beta_gal_percent", "attempts", "error", "url", "altered")


def report_paths(path: Path) -> dict[str, Path]:
    """`report.html` → the HTML, CSV and JSON paths (any suffix given is replaced)."""
    stem = path.with_suffix("") if path.suffix.lower() in (".html", ".htm", ".csv", ".json") else path
    return {"html": stem.with_suffix(".html"), "csv": stem.with_suffix(".csv"), "json": stem.with_suffix(".json")}


def csv_row(row: dict[str, Any]) -> dict[str, Any]:
    metrics = row.get("metrics") or {}
    beta_gal = metrics.get("beta_gal")
    beta = beta_gal if isinstance(beta_gal, dict) else {}
    counts = row.get("counts") or {}
    return {"id": row.get("id"), "identifier": row.get("identifier"), "lot_id": row.get("lot_id"),
            "verdict": row.get("verdict"), "status": row.get("status"), "revision": row.get("revision"),
            "fails": counts.get("fail"), "warns": counts.get("warn"),
            "rules": " ".join(f"{k}:{v}" for k, v in sorted((row.get("rules") or {}).items())),
            "cumulative_pdl": metrics.get("cumulative_pdl"), "passage_class": metrics.get("passage_class"),
            "beta_gal_percent": beta.get("percent_positive"), "attempts": row.get("attempts"),
            "error": row.get("error"), "url": row.get("url"), "altered": row.get("altered")}


def write_report(path: Path, rows: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Path]:
    """Write the three files; returns their paths."""
    paths = report_paths(path)
    paths["html"].parent.mkdir(parents=True, exist_ok=True)
    paths["html"].write_text(page(rows, meta), encoding="utf-8")
    with paths["csv"].open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(csv_row(r) for r in rows)
    paths["json"].write_text(strict_json({"meta": meta, "records": rows}, indent=1), encoding="utf-8")
    return paths
