"""Backfill throughput against the real Kadi, next to the ceiling of plain API writes at the same concurrency.

Run with a stack up (scripts/kadi-stack start):
`.venv/bin/python bench/bench_backfill.py [--records N] [--workers W] [--rounds R]`.

Each round backfills N fresh records and PATCHes N other fresh records (one small extra each, W threads),
the two arms in alternating order, so a machine whose load drifts (other work on the same cores) weighs on
both alike. The figure is the backfill's records/s as a share of plain PATCHes/s: per round, and of the
best round of each arm. Then two re-runs of the last backfill: over a fresh state file (every record
checked through Kadi, nothing to write) and over the same state file (settled records skipped). Prints the
figures and writes JSON to bench/out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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


def plain_writes(stack: Any, record_ids: list[int], workers: int) -> float:
    """PATCH a small extra on each record, `workers` at a time, one client per thread; returns writes/s."""
    clients = [stack.service() for _ in range(workers)]
    chunks = [record_ids[i::workers] for i in range(workers)]

    def run(index: int) -> None:
        for record_id in chunks[index]:
            clients[index].patch_record(record_id, {"extras": [{"type": "str", "key": "bench", "value": "x"}]})

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, range(workers)))
    return len(record_ids) / (time.perf_counter() - started)


def timed_backfill(stack: Any, record_type: str, state_dir: Path, workers: int) -> dict[str, Any]:
    started = time.perf_counter()
    summary, state = run_backfill(options(stack, record_type, state_dir, workers=workers))
    state.close()
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "records_per_s": round(summary.records / seconds, 2),
            "requests": summary.requests, "writes": summary.writes, "statuses": dict(summary.statuses)}


def rounds(stack: Any, args: argparse.Namespace, tmp: Path) -> tuple[list[dict[str, Any]], str]:
    found, backfill_type = [], ""
    for number in range(args.rounds):
        backfill_type, plain_type = new_type(), new_type()
        create_historical(stack, args.records, backfill_type)
        plain_ids = list(create_historical(stack, args.records, plain_type))
        arms: dict[str, Any] = {}
        for arm in (("backfill", "plain") if number % 2 == 0 else ("plain", "backfill")):
            if arm == "backfill":
                arms["backfill"] = timed_backfill(stack, backfill_type, tmp / f"round-{number}", args.workers)
            else:
                arms["plain_writes_per_s"] = round(plain_writes(stack, plain_ids, args.workers), 2)
        arms["share"] = round(arms["backfill"]["records_per_s"] / arms["plain_writes_per_s"], 3)
        print(f"round {number + 1}: backfill {arms['backfill']['records_per_s']:.1f} records/s, plain PATCH "
              f"{arms['plain_writes_per_s']:.1f}/s -> {arms['share']:.0%}")
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
    best_backfill = max(r["backfill"]["records_per_s"] for r in found)
    best_plain = max(r["plain_writes_per_s"] for r in found)
    first = found[0]["backfill"]
    result = {
        "records": args.records, "workers": args.workers, "rounds": found,
        "share_of_best": round(best_backfill / best_plain, 3),
        "share_median": round(statistics.median(r["share"] for r in found), 3),
        "requests_per_record": round((first["requests"] - 2) / args.records, 2),
        "writes_per_record": round(first["writes"] / args.records, 2),
        "rerun_nothing_to_write": verify, "rerun_from_state": settled,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    print(f"backfill: {result['requests_per_record']} requests ({result['writes_per_record']} writes) a record; "
          f"best {best_backfill:.1f} records/s against best {best_plain:.1f} plain PATCHes/s: "
          f"{result['share_of_best']:.0%} (median of rounds {result['share_median']:.0%})")
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
