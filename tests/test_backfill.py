"""The backfill against the real Kadi4Mat: correct annotations, idempotent re-runs, dry run, shards, --since."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from eln_msc_plugin.backfill.options import parse_shard
from eln_msc_plugin.backfill.runner import run_backfill
from eln_msc_plugin.backfill.state import State
from eln_msc_plugin.errors import ConfigError
from tests.support.faults import FaultProxy, Schedule
from tests.support.historical import (
    create_historical,
    new_type,
    options,
    service_revisions,
    verdicts,
)
from tests.support.kadi import Stack

pytestmark = pytest.mark.kadi


def test_annotates_correctly_then_a_rerun_writes_nothing(stack: Stack, tmp_path: Path) -> None:
    record_type = new_type()
    expected = create_historical(stack, 30, record_type)
    summary, state = run_backfill(options(stack, record_type, tmp_path))
    state.close()
    assert summary.statuses == {"annotated": 30} and not summary.failed
    assert verdicts(stack.service(), list(expected)) == expected
    assert set(service_revisions(stack, list(expected)).values()) == {1}

    # A fresh state file: every record is verified through the ELN (no faults: the proxy only counts).
    with FaultProxy(stack.url) as proxy:
        again, state = run_backfill(options(stack, record_type, tmp_path / "fresh", url=proxy.url))
        rows = state.rows(again.seen)
        state.close()
    assert again.statuses == {"unchanged": 30} and again.writes == 0
    # who am I and the token's expiry, a page, then 1 read a record
    assert proxy.writes_reaching_kadi() == [] and len(proxy.log) == 3 + 30
    assert {int(r["id"]): r["verdict"] for r in rows} == expected  # rows of unchanged records, judged again
    assert all(r["metrics"] for r in rows if r["verdict"] != "error")  # extras in hand: judged without a request
    assert set(service_revisions(stack, list(expected)).values()) == {1}

    third, state = run_backfill(options(stack, record_type, tmp_path))
    rows = state.rows(third.seen)
    state.close()
    assert third.statuses == {"unchanged": 30} and third.requests == 3  # who am I, its expiry, one listing page
    assert {int(r["id"]): r["verdict"] for r in rows} == expected  # the report is complete without judging again


def test_dry_run_writes_nothing_and_says_what_it_would_write(stack: Stack, tmp_path: Path) -> None:
    record_type = new_type()
    expected = create_historical(stack, 12, record_type)
    summary, state = run_backfill(options(stack, record_type, tmp_path, dry_run=True))
    rows = state.rows(summary.seen)
    state.close()
    assert summary.statuses == {"dry-run": 12} and summary.writes == 0
    assert set(verdicts(stack.service(), list(expected)).values()) == {None}
    assert set(service_revisions(stack, list(expected)).values()) == {0}
    assert {int(r["id"]): r["would_write"]["tags"] for r in rows} == {i: [f"qc-{v}"] for i, v in expected.items()}


def test_shards_partition_the_records(stack: Stack, tmp_path: Path) -> None:
    record_type = new_type()
    expected = create_historical(stack, 17, record_type)
    shares: list[set[int]] = []
    for k in (1, 2, 3):
        summary, state = run_backfill(options(stack, record_type, tmp_path / str(k), dry_run=True,
                                              shard=parse_shard(f"{k}/3")))
        shares.append({int(r["id"]) for r in state.rows(summary.seen) if r["status"] == "dry-run"})
        state.close()
        assert all(i % 3 == k - 1 for i in shares[-1])
    assert shares[0] | shares[1] | shares[2] == set(expected)
    assert sum(len(s) for s in shares) == len(expected)


def test_since_stops_at_the_cutoff(stack: Stack, tmp_path: Path) -> None:
    record_type = new_type()
    older = create_historical(stack, 6, record_type, threads=1)
    newer = create_historical(stack, 5, record_type, start=6, threads=1)
    first_new = min(newer)
    cutoff = stack.service().record(first_new)["last_modified"]
    from eln_msc_plugin.backfill.options import parse_since

    summary, state = run_backfill(options(stack, record_type, tmp_path, since=parse_since(cutoff)))
    state.close()
    assert summary.seen == {str(i) for i in newer} and summary.statuses == {"annotated": 5}
    assert set(verdicts(stack.service(), list(older)).values()) == {None}


def test_past_the_listing_cap_the_unreached_records_are_counted(stack: Stack, tmp_path: Path) -> None:
    """The test stack runs Kadi without its search index, whose fallback lists newest first only."""
    record_type = new_type()
    expected = create_historical(stack, 23, record_type, threads=1)
    summary, state = run_backfill(options(stack, record_type, tmp_path, per_page=5, max_pages=2))
    state.close()
    newest = sorted(expected)[-10:]
    assert summary.seen == {str(i) for i in newest} and summary.statuses == {"annotated": 10}
    assert summary.unreached == 13
    assert set(service_revisions(stack, list(expected)).values()) == {0, 1}


def test_a_record_that_keeps_failing_is_recorded_and_the_run_goes_on(stack: Stack, tmp_path: Path) -> None:
    record_type = new_type()
    expected = create_historical(stack, 8, record_type)
    broken = min(expected)
    with FaultProxy(stack.url, Schedule(fail_path=rf"^/api/(eln_msc/)?records/{broken}/(revisions|state)")) as proxy:
        token_file = stack.service_token_file
        result = subprocess.run(
            [sys.executable, "-m", "eln_msc_plugin.cli", "backfill", "--kadi", proxy.url, "--token-file",
             str(token_file), "--type", record_type, "--state", str(tmp_path / "s.sqlite"), "--attempts", "2",
             "--report", str(tmp_path / "out" / "report.html")],
            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1, result.stderr
    assert "1 failed" in result.stdout and f"record {broken}" in result.stderr
    state = State(tmp_path / "s.sqlite")
    row = state.get(broken)
    state.close()
    assert row is not None and row["status"] == "failed" and row["attempts"] == 2 and "HTTP 500" in row["error"]
    annotated = verdicts(stack.service(), [i for i in expected if i != broken])
    assert annotated == {i: v for i, v in expected.items() if i != broken}
    assert all((tmp_path / "out" / f"report.{ext}").stat().st_size > 0 for ext in ("html", "csv", "json"))
    assert str(token_file.read_text().strip()) not in result.stdout + result.stderr


def test_against_a_kadi_without_the_plugin_it_writes_with_kadis_patch_then_checks(stack: Stack,
                                                                                  tmp_path: Path) -> None:
    """The plugin's annotation endpoint missing (as where the plugin is not installed): Kadi's own PATCH, then
    one read that checks no save slipped in; the plugin's record endpoints are asked at most once a worker."""
    record_type = new_type()
    expected = create_historical(stack, 10, record_type)
    with FaultProxy(stack.url, Schedule(missing_path=r"^/api/eln_msc/")) as proxy:
        summary, state = run_backfill(options(stack, record_type, tmp_path, url=proxy.url, workers=2))
        state.close()
    assert summary.statuses == {"annotated": 10} and not summary.failed
    assert verdicts(stack.service(), list(expected)) == expected
    patches = [e for e in proxy.writes_reaching_kadi(r"^/api/records/\d+$") if e.method == "PATCH"]
    asked = [e for e in proxy.log if e.action == "missing404" and re.match(r"^/api/eln_msc/records/", e.path)]
    assert len(patches) == 10 and 1 <= len(asked) <= 2
    checks = [e for e in proxy.log if e.method == "GET" and re.match(r"^/api/records/\d+/revisions", e.path)]
    assert len(checks) == 2 * 10  # the newest revisions before writing, and once more after


def test_a_state_file_refuses_another_scope(stack: Stack, tmp_path: Path) -> None:
    state = State(tmp_path / "s.sqlite")
    state.bind({"type": "a", "shard": "1/2"}, {})
    with pytest.raises(ConfigError, match="another backfill"):
        state.bind({"type": "a", "shard": "2/2"}, {})
    state.close()


@pytest.mark.parametrize("text", ["0/3", "4/3", "x", "1-3"], ids=["zero", "past-n", "word", "dash"])
def test_bad_shards_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_shard(text)
