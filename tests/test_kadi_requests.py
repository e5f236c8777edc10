"""HTTP requests one annotation costs on the real Kadi4Mat, reads and writes apart, on save and in a backfill.

The budget (issue: requests per annotation): an unchanged record at most 1 request and no write; a changed
one at most 2 reads and 3 writes. The Kadi adapter spends 1 read (the plugin's view of the record: extras,
tags, the revision to judge, the files) and 1 write (the plugin's endpoint stores the report file, then
writes tag and extra). On save, the Celery task logs what each check sent; in a backfill, a counting proxy in
front of Kadi sees every request, so each one is put down to its record.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from eln_msc_plugin.backfill.runner import run_backfill
from tests.support.faults import WRITES, FaultProxy
from tests.support.historical import create_historical, new_type, options
from tests.support.kadi import Stack, batch_extras, create_batch_record, human_revision, wait_annotation, wait_for
from tests.support.records import record, set_path

pytestmark = pytest.mark.kadi
PER_RECORD = re.compile(r"^/api/(?:eln_msc/)?records/(\d+)(?:/|$)")


def on_save_cost(stack: Stack, record_id: int, revision: int) -> tuple[str, int, int]:
    """Status, reads and writes of the on-save check that judged `revision`, as the Celery task logged it."""
    pattern = re.compile(rf"eln-msc: record {record_id} revision {revision}: \w+ \(([\w-]+); (\d+) reads, "
                         r"(\d+) writes\)")
    found = wait_for(lambda: pattern.findall(stack.log("celery.log")), 30,
                     what=f"the check of record {record_id} revision {revision} in the worker's log")
    status, reads, writes = found[-1]
    return status, int(reads), int(writes)


def test_on_save_a_changed_record_costs_1_read_and_1_write_an_unchanged_one_1_read(stack: Stack) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, record())
    first = human_revision(scientist, created["id"])
    wait_annotation(scientist, created["id"], first)
    assert on_save_cost(stack, created["id"], first) == ("annotated", 1, 1)

    scientist.patch_record(created["id"], {"title": "renamed, nothing the rules read"})
    renamed = human_revision(scientist, created["id"])
    wait_for(lambda: f"record {created['id']} revision {first}: pass (unchanged; 1 reads, 0 writes)"
             in stack.log("celery.log"), 30, what="the unchanged check of the renamed record")
    assert renamed != first

    failing = set_path(record(), "/senescence/beta_gal/percent_positive", 25.0)
    set_path(failing, "/senescence/beta_gal/positive_cells", 75)
    scientist.patch_record(created["id"], {"extras": batch_extras(failing)})
    changed = human_revision(scientist, created["id"])
    assert wait_annotation(scientist, created["id"], changed)["verdict"] == "fail"
    assert on_save_cost(stack, created["id"], changed) == ("annotated", 1, 1)


def per_record(proxy: FaultProxy) -> dict[int, Counter[str]]:
    """Each record's requests, by kind: reads and writes (the listing and who-am-I belong to no record)."""
    found: dict[int, Counter[str]] = {}
    for entry in proxy.log:
        match = PER_RECORD.match(entry.path)
        if match:
            found.setdefault(int(match.group(1)), Counter())["writes" if entry.method in WRITES else "reads"] += 1
    return found


def test_in_a_backfill_a_changed_record_costs_1_read_and_1_write_an_unchanged_one_1_read(
        stack: Stack, tmp_path: Path) -> None:
    record_type = new_type()
    expected = create_historical(stack, 12, record_type)
    with FaultProxy(stack.url) as proxy:  # no faults: it only sees every request
        summary, state = run_backfill(options(stack, record_type, tmp_path / "first", url=proxy.url))
        state.close()
    assert summary.statuses == {"annotated": 12}
    costs = per_record(proxy)
    assert set(costs) == set(expected)
    assert {tuple(sorted(c.items())) for c in costs.values()} == {(("reads", 1), ("writes", 1))}
    assert summary.requests == 3 + 12 * 2  # who am I and the token's expiry, one listing page, 2 a record

    with FaultProxy(stack.url) as proxy:  # a fresh state file: each record is checked through Kadi
        again, state = run_backfill(options(stack, record_type, tmp_path / "again", url=proxy.url))
        state.close()
    assert again.statuses == {"unchanged": 12} and again.writes == 0
    assert {tuple(sorted(c.items())) for c in per_record(proxy).values()} == {(("reads", 1),)}
