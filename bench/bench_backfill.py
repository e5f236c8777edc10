"""Backfill throughput against the real Kadi, next to the ceiling of plain API writes at the same concurrency.

Run with a stack up (scripts/kadi-stack start):
`.venv/bin/python bench/bench_backfill.py [--records N] [--workers W] [--rounds R]`.

Each round backfills N fresh records and PATCHes N other fresh records (one small extra each, W threads),
the two arms in alternating order, so a machine whose load drifts (other work on the same cores) weighs on
both alike. The figure is the backfill's records/s as a share of plain PATCHes/s: per round, and of the
best round of each arm. Because that share moves with whatever else the machine runs, each arm's CPU time
is measured too (the Kadi stack's processes: uWSGI, PostgreSQL, Redis, Celery; and this process, the
client): CPU seconds per record, whose ratio is the share a machine doing nothing else would give.
Then two re-runs of the last backfill: over a fresh state file (every record checked through Kadi,
nothing to write) and over the same state file (settled records skipped). Prints the figures and writes
JSON to bench/out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from eln_msc_plugin.backfill.runner import run_backfill
from tests.support.historical import create_historical, new_type, options
from tests.support.kadi import load_stack


def _cpu_of_tree(root: int) -> float:
    """CPU seconds (user + system) of a process and all its descendants, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / ticks
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += children.get(pid, [])
    return total


def stack_cpu() -> float:
    """CPU seconds used so far by the Kadi stack's live processes and by this process (the client)."""
    stack_dir = Path(os.environ.get("ELN_MSC_STACK_DIR", REPO / ".stack"))
    roots = [int(p.read_text().split()[0]) for p in stack_dir.glob("*.pid") if p.read_text().strip()]
    postmaster = stack_dir / "pg" / "data" / "postmaster.pid"
    if postmaster.exists():
        roots.append(int(postmaster.read_text().split()[0]))
    own = resource.getrusage(resource.RUSAGE_SELF)
    return sum(_cpu_of_tree(root) for root in roots) + own.ru_utime + own.ru_stime


SMALL = {"type": "str", "key": "bench", "value": "x"}


def payloads(stack: Any, record_ids: list[int], whole: bool) -> dict[int, list[Any]]:
    """The extras each plain PATCH sends. With `whole`, the record's own extras with one small extra added
    (what a person's save of a batch record sends); else that one small extra alone (the cheapest write)."""
    client = stack.service()
    return {i: (client.record(i)["extras"] + [SMALL]) if whole else [SMALL] for i in record_ids}


def plain_writes(stack: Any, extras: dict[int, list[Any]], workers: int) -> None:
    """One PATCH a record, `workers` at a time, one client per thread."""
    record_ids = list(extras)
    clients = [stack.service() for _ in range(workers)]
    chunks = [record_ids[i::workers] for i in range(workers)]

    def run(index: int) -> None:
        for record_id in chunks[index]:
            clients[index].patch_record(record_id, {"extras": extras[record_id]})

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, range(workers)))


def timed_backfill(stack: Any, record_type: str, state_dir: Path, workers: int) -> dict[str, Any]:
    started = time.perf_counter()
    summary, state = run_backfill(options(stack, record_type, state_dir, workers=workers))
    state.close()
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "records_per_s": round(summary.records / seconds, 2),
            "requests": summary.requests, "writes": summary.writes, "statuses": dict(summary.statuses)}


ARMS = ("backfill", "whole", "small")  # the backfill; PATCHes of a record's whole extras; of one small extra


def rounds(stack: Any, args: argparse.Namespace, tmp: Path) -> tuple[list[dict[str, Any]], str]:
    found, backfill_type = [], ""
    for number in range(args.rounds):
        types = {arm: new_type() for arm in ARMS}
        ids = {arm: list(create_historical(stack, args.records, types[arm])) for arm in ARMS}
        extras = {arm: payloads(stack, ids[arm], whole=arm == "whole") for arm in ARMS[1:]}
        backfill_type = types["backfill"]
        arms: dict[str, Any] = {}
        for arm in ARMS[number % 3:] + ARMS[:number % 3]:  # each arm first in turn
            cpu, started = stack_cpu(), time.perf_counter()
            if arm == "backfill":
                arms["backfill"] = timed_backfill(stack, backfill_type, tmp / f"round-{number}", args.workers)
            else:
                plain_writes(stack, extras[arm], args.workers)
            arms[f"{arm}_per_s"] = round(args.records / (time.perf_counter() - started), 2)
            arms[f"{arm}_cpu_ms_per_record"] = round((stack_cpu() - cpu) * 1000 / args.records, 2)
        for plain in ARMS[1:]:
            arms[f"share_{plain}"] = round(arms["backfill_per_s"] / arms[f"{plain}_per_s"], 3)
            arms[f"cpu_share_{plain}"] = round(arms[f"{plain}_cpu_ms_per_record"]
                                               / arms["backfill_cpu_ms_per_record"], 3)
        print(f"round {number + 1}: records/s backfill {arms['backfill_per_s']:.1f}, PATCH whole extras "
              f"{arms['whole_per_s']:.1f}, PATCH one small extra {arms['small_per_s']:.1f}; CPU ms a record "
              f"{arms['backfill_cpu_ms_per_record']:.0f}, {arms['whole_cpu_ms_per_record']:.0f}, "
              f"{arms['small_cpu_ms_per_record']:.0f}")
        found.append(arms)
    return found, backfill_type


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    stack = load_stack()
    if stack is None:
        print("no Kadi stack running (scripts/kadi-stack start)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        found, last_type = rounds(stack, args, Path(tmp))
        verify = timed_backfill(stack, last_type, Path(tmp) / "fresh", args.workers)
        settled = timed_backfill(stack, last_type, Path(tmp) / f"round-{args.rounds - 1}", args.workers)
    first = found[0]["backfill"]
    result: dict[str, Any] = {"records": args.records, "workers": args.workers, "rounds": found}
    for plain in ARMS[1:]:
        result[f"share_{plain}_of_best"] = round(max(r["backfill_per_s"] for r in found)
                                                 / max(r[f"{plain}_per_s"] for r in found), 3)
        result[f"share_{plain}_median"] = round(statistics.median(r[f"share_{plain}"] for r in found), 3)
        result[f"cpu_share_{plain}_median"] = round(statistics.median(r[f"cpu_share_{plain}"] for r in found), 3)
    result.update({
        "requests_per_record": round((first["requests"] - 2) / args.records, 2),
        "writes_per_record": round(first["writes"] / args.records, 2),
        "rerun_nothing_to_write": verify, "rerun_from_state": settled,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    })
    print(f"backfill: {result['requests_per_record']} requests ({result['writes_per_record']} writes) a record")
    for plain, what in (("whole", "PATCHes of a record's whole extras"), ("small", "PATCHes of one small extra")):
        print(f"  against {what}: {result[f'share_{plain}_of_best']:.0%} (best rounds), "
              f"{result[f'share_{plain}_median']:.0%} (median of rounds), "
              f"{result[f'cpu_share_{plain}_median']:.0%} by CPU time a record (median)")
    print(f"re-run (verify): {verify['records_per_s']:8.1f} records/s, {verify['requests']} requests, "
          f"{verify['writes']} writes")
    print(f"re-run (state):  {settled['records_per_s']:8.1f} records/s, {settled['requests']} requests")
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench_backfill-{args.records}-{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
