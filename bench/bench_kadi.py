"""Kadi4Mat on-save cost (not a test): save latency with the plugin enabled vs disabled, and save → verdict delay.

Needs the test stack: `scripts/kadi-stack start` (this script restarts Kadi's web server and worker to
switch the plugin off and on, and leaves it on). Usage:

    .venv/bin/python bench/bench_kadi.py [--saves 150] [--rounds 2]

Save latency is the wall time of `POST /api/records` with a full batch record in extras, measured from one
client, alternating plugin-on and plugin-off rounds in the same run so drift hits both alike. "paced"
saves wait for the previous save's background check to finish (a person saving a record: this is the
latency the plugin adds to a save); "back to back" saves overlap with the checks of earlier saves, which
share the machine's two cores with the web server (a load test, not a person).
The delay is from the save's response to the first moment the verdict is readable through the API.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.kadi import annotation, batch_extras, load_stack, new_identifier  # noqa: E402
from tests.support.records import record  # noqa: E402


def restart(plugins: str) -> None:
    env = dict(os.environ, KADI_PLUGINS=plugins)
    subprocess.run([str(REPO / "scripts" / "kadi-stack"), "restart-kadi"], env=env, check=True, capture_output=True)


PAUSE = 0.5


def saves(n: int, record_type: str, settle: bool | None) -> list[float]:
    """Latency of n saves; with `settle`, each save waits for the previous one's background check first
    (as when a person saves), else back to back (the background checks compete with the saves)."""
    stack = load_stack()
    assert stack is not None, "start the stack first: scripts/kadi-stack start"
    client = stack.scientist()
    extras = batch_extras(record())
    for _ in range(10):  # warm-up: connections, caches
        client.create_record({"identifier": new_identifier("w"), "title": "warm", "type": record_type,
                              "extras": extras})
    latencies = []
    for _ in range(n):
        body = {"identifier": new_identifier("b"), "title": "bench", "type": record_type, "extras": extras}
        start = time.perf_counter()
        created = client.create_record(body)
        latencies.append(time.perf_counter() - start)
        if settle is not None:
            wait_quiet(client, created["id"], settle)
    return latencies


def wait_quiet(client: object, record_id: int, plugin_on: bool) -> None:
    """Until the record has its verdict (plugin on), then a fixed pause in both arms (the check's last
    requests, the report upload and the write check, finish during it)."""
    deadline = time.perf_counter() + 10
    while plugin_on and time.perf_counter() < deadline and not annotation(client, record_id):  # type: ignore[arg-type]
        time.sleep(0.02)
    time.sleep(PAUSE)


def verdict_delays(n: int) -> list[float]:
    stack = load_stack()
    assert stack is not None
    client = stack.scientist()
    delays = []
    for _ in range(n):
        body = {"identifier": new_identifier("d"), "title": "delay", "type": "msc_batch",
                "extras": batch_extras(record())}
        created = client.create_record(body)
        saved = time.perf_counter()
        while not annotation(client, created["id"]):
            if time.perf_counter() - saved > 30:
                raise SystemExit(f"record {created['id']} got no verdict in 30 s")
            time.sleep(0.02)
        delays.append(time.perf_counter() - saved)
    return delays


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--saves", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--delays", type=int, default=60)
    args = parser.parse_args()
    arms: dict[str, list[float]] = {"on_paced": [], "off_paced": [], "on_back_to_back": [], "off_back_to_back": []}
    for _ in range(args.rounds):
        restart("eln_msc")
        arms["on_paced"] += saves(args.saves, "msc_batch", True)
        arms["on_back_to_back"] += saves(args.saves, "msc_batch", None)
        restart("")
        arms["off_paced"] += saves(args.saves, "msc_batch", False)
        arms["off_back_to_back"] += saves(args.saves, "msc_batch", None)
    restart("eln_msc")
    delays = verdict_delays(args.delays)
    summary = {arm: {"median_ms": 1000 * statistics.median(v), "p95_ms": 1000 * pct(v, 0.95), "n": len(v)}
               for arm, v in arms.items()}
    result = {
        "save_latency": summary,
        "added_latency_ratio_paced": statistics.median(arms["on_paced"]) / statistics.median(arms["off_paced"]),
        "added_latency_ratio_back_to_back": (statistics.median(arms["on_back_to_back"])
                                             / statistics.median(arms["off_back_to_back"])),
        "verdict_delay_s": {"median": statistics.median(delays), "p95": pct(delays, 0.95), "max": max(delays),
                            "n": len(delays)},
    }
    print(json.dumps(result, indent=2))
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_kadi.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
