"""Helpers for the backfill tests: generated historical records of mixed quality on the real Kadi."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from eln_msc_plugin.backfill.options import Options
from eln_msc_plugin.eln.http import Token
from eln_msc_plugin.kadi.annotation import annotation_of
from eln_msc_plugin.kadi.client import KadiClient
from eln_msc_plugin.pipeline import validate_document
from tests.support.kadi import Stack, batch_extras, extra, new_identifier
from tests.support.records import record, set_path

KINDS = ("pass", "beta-gal-warn", "late-passage-fail", "senescent-fail", "research-warn", "no-data")


def historical(index: int) -> dict[str, Any] | None:
    """Record `index` of a mixed set (None: a record without batch data); growth varies with the index."""
    kind = KINDS[index % len(KINDS)]
    if kind == "no-data":
        return None
    data = record(lot_id=f"MSC-H-{index:05d}")
    for number, passage in enumerate(data["passages"]):
        passage["cells_harvested"] = int(passage["cells_harvested"] * (1 + 0.03 * ((index + number) % 7)))
        passage.pop("reported_cumulative_pdl", None)
    data.pop("reported_cumulative_pdl", None)
    if kind == "beta-gal-warn":
        set_path(data, "/senescence/beta_gal/percent_positive", 12.0)
        set_path(data, "/senescence/beta_gal/positive_cells", 36)
    elif kind == "senescent-fail":
        set_path(data, "/senescence/beta_gal/percent_positive", 25.0)
        set_path(data, "/senescence/beta_gal/positive_cells", 75)
    elif kind in ("late-passage-fail", "research-warn"):
        last = data["passages"][-1]
        data["passages"].append(dict(last, number=5, seeded_at="2026-01-27", harvested_at="2026-02-02"))
        data["production_passage"] = 5
        for assay in ("beta_gal", "p16", "p21"):
            data["senescence"][assay]["sample_passage"] = 5
        data["ev_harvest"]["producing_passage"] = 5
        if kind == "research-warn":
            data["intended_use"] = "research"
    return data


def expected_verdict(data: dict[str, Any] | None, identifier: str) -> str:
    """The verdict of a local validation of the same data."""
    if data is None:
        return "error"
    return validate_document(json.dumps({**data, "record_id": identifier}).encode(), "application/json")[0].verdict


def new_type() -> str:
    return f"hist-{uuid.uuid4().hex[:10]}"


def create_historical(stack: Stack, count: int, record_type: str, start: int = 0,
                      threads: int = 8) -> dict[int, str]:
    """Create records `start`..`start+count-1` (not of the on-save type); returns record id → expected verdict."""
    client = stack.scientist()

    def one(index: int) -> tuple[int, str]:
        data = historical(index)
        identifier = new_identifier("h")
        extras = batch_extras(data) if data is not None else [extra("note", "no batch data")]
        created = client.create_record({"identifier": identifier, "title": f"historical lot {index}",
                                        "type": record_type, "extras": extras})
        return int(created["id"]), expected_verdict(data, identifier)

    with ThreadPoolExecutor(threads) as pool:
        return dict(pool.map(one, range(start, start + count)))


def options(stack: Stack, record_type: str, tmp: Path, url: str | None = None, **kwargs: Any) -> Options:
    """A backfill of the records of `record_type` through the Kadi adapter."""
    token = Token.from_file(stack.service_token_file)
    return Options("kadi", url or stack.url, token, {"type": record_type}, {"type": record_type},
                   state_path=tmp / "state.sqlite", retry_delay=0.2, progress=False, **kwargs)


def service_revisions(stack: Stack, record_ids: list[int]) -> dict[int, int]:
    """Per record, how many revisions the service account made (each annotation write is one)."""
    client = stack.service()
    me = int(client.me()["id"])

    def count(record_id: int) -> tuple[int, int]:
        revisions = client.revisions(record_id, per_page=100)
        return record_id, sum(1 for r in revisions if (r.get("user") or {}).get("id") == me)

    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(count, record_ids))


def verdicts(client: KadiClient, record_ids: list[int]) -> dict[int, str | None]:
    def one(record_id: int) -> tuple[int, str | None]:
        found = annotation_of(client.record(record_id).get("extras") or [])
        return record_id, found.get("verdict")

    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(one, record_ids))
