"""Backfill throughput against the real Kadi, next to the ceiling of plain API writes at the same concurrency.

Run with a stack up (scripts/kadi-stack start): `.venv/bin/python bench/bench_backfill.py [--records N] [--workers W]`.
Prints the figures and writes JSON to bench/out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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
    """PATCH a small extra on each record, `workers` at a time, one client per thread; returns seconds."""
    clients = [stack.service() for _ in range(workers)]
    chunks = [record_ids[i::workers] for i in range(workers)]

    def run(index: int) -> None:
        for record_id in chunks[index]:
            clients[index].patch_record(record_id, {"extras": [{"type": "str", "key": "bench", "value": "x"}]})

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, range(workers)))
    return time.perf_counter() - started


def timed_backfill(stack: Any, record_type: str, tmp: Path, workers: int) -> dict[str, Any]:
    started = time.perf_counter()
    summary, state = run_backfill(options(stack, record_type, tmp, workers=workers))
    state.close()
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "records_per_s": round(summary.records / seconds, 2),
            "requests": summary.requests, "writes": summary.writes, "statuses": dict(summary.statuses)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    stack = load_stack()
    if stack is None:
        print("no Kadi stack running (scripts/kadi-stack start)", file=sys.stderr)
        return 2
    backfill_type, plain_type = new_type(), new_type()
    create_historical(stack, args.records, backfill_type)
    plain_ids = list(create_historical(stack, args.records, plain_type))
    with tempfile.TemporaryDirectory() as tmp:
        first = timed_backfill(stack, backfill_type, Path(tmp), args.workers)
        plain_s = plain_writes(stack, plain_ids, args.workers)
        # a fresh state file: every record is checked through Kadi, and found unchanged
        verify = timed_backfill(stack, backfill_type, Path(tmp) / "fresh", args.workers)
        settled = timed_backfill(stack, backfill_type, Path(tmp), args.workers)
    ceiling = args.records / plain_s
    result = {
        "records": args.records, "workers": args.workers,
        "backfill": first,
        "plain_patch": {"seconds": round(plain_s, 3), "writes_per_s": round(ceiling, 2)},
        "backfill_share_of_plain_patch": round(first["records_per_s"] / ceiling, 3),
        # the backfill sends several writes per record (report upload in two steps, then the PATCH)
        "backfill_write_requests_share": round(first["writes"] / first["seconds"] / ceiling, 3),
        "requests_per_record": round((first["requests"] - 2) / args.records, 2),
        "writes_per_record": round(first["writes"] / args.records, 2),
        "rerun_nothing_to_write": verify,
        "rerun_from_state": settled,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    print(f"backfill:        {first['records_per_s']:8.1f} records/s ({first['requests']} requests, "
          f"{first['writes']} writes for {args.records} records: {result['requests_per_record']} requests, "
          f"{result['writes_per_record']} writes a record)")
    print(f"plain PATCH:     {ceiling:8.1f} writes/s  -> backfill at {result['backfill_share_of_plain_patch']:.0%}")
    print(f"                 backfill write requests/s at {result['backfill_write_requests_share']:.0%} "
          "of plain PATCH/s")
    print(f"re-run (verify): {verify['records_per_s']:8.1f} records/s, {verify['writes']} writes")
    print(f"re-run (state):  {settled['records_per_s']:8.1f} records/s, {settled['requests']} requests")
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench_backfill-{args.records}-{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
