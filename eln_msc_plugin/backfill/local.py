"""`backfill --source DIR`: judge batch-record files on disk (no ELN) and build the same report rows."""

from __future__ import annotations

import os
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

from eln_msc_plugin.backfill.rows import report_row
from eln_msc_plugin.jobs import CHUNK_BYTES, Settings, judge_inputs
from eln_msc_plugin.model import Report
from eln_msc_plugin.pipeline import Engine
from eln_msc_plugin.rules import RuleSet
from eln_msc_plugin.sources import MissingInput, scan


@lru_cache(maxsize=64)
def _uri(source: str) -> str:
    return Path(os.path.abspath(source)).as_uri()  # as found: a link that loops cannot be resolved


class Rows:
    """Reports as report rows (numbered later, in order, by `RowSink`): made in whichever process judged them."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset

    def block(self, reports: list[Report]) -> list[dict[str, Any]]:
        return [self.row(report) for report in reports]

    def join(self, payloads: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
        return [row for rows in payloads for row in rows]

    @staticmethod
    def row(report: Report) -> dict[str, Any]:
        name = Path(report.source).name
        identifier = report.record_id or f"{name}#{report.index}"
        row = report_row(report, record_id=0, identifier=identifier, title=name,
                         lot_id=report.lot_id or identifier, url=_uri(report.source))
        return {**row, "status": "judged", "source": f"{name}#{report.index}"}


class RowSink:
    """Rows in reading order, numbered from 1."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, payload: list[dict[str, Any]], counts: Counter[str], reports: int) -> None:
        for row in payload:
            row["id"] = len(self.rows) + 1
            self.rows.append(row)


def local_rows(engine: Engine, folder: Path, jobs: int = 1, policy: str | None = None,
               chunk_bytes: int = CHUNK_BYTES) -> list[dict[str, Any]]:
    """One row per record in each file (a JSON Lines file holds many), numbered in reading order."""
    if not folder.is_dir():
        raise MissingInput(f"--source {folder}: no such folder")
    sink = RowSink()
    judge_inputs(scan([str(folder)]), engine, (Rows, ()), sink, Settings(jobs, policy, chunk_bytes))
    return sink.rows
