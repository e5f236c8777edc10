"""`backfill --source DIR`: judge batch-record files on disk (no ELN) and build the same report rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eln_msc_plugin.backfill.rows import report_row
from eln_msc_plugin.errors import ConfigError
from eln_msc_plugin.formats.common import EXTENSIONS
from eln_msc_plugin.pipeline import Engine


def source_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ConfigError(f"--source {folder}: no such folder")
    found = sorted(p for p in folder.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    if not found:
        raise ConfigError(f"--source {folder}: no *.json, *.jsonl or *.xml files")
    return found


def local_rows(engine: Engine, folder: Path) -> Iterator[dict[str, Any]]:
    """One row per record in each file (a JSON Lines file holds many), numbered in reading order."""
    number = 0
    for path in source_files(folder):
        with path.open("rb") as stream:
            for report in engine.reports_for(stream, EXTENSIONS[path.suffix.lower()], str(path)):
                number += 1
                name = report.record_id or f"{path.name}#{report.index}"
                row = report_row(report, record_id=number, identifier=name, title=path.name,
                                 lot_id=report.lot_id or name, url=path.resolve().as_uri())
                yield {**row, "status": "judged", "source": f"{path.name}#{report.index}"}
