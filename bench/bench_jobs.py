"""The whole `eln-msc validate` process with --jobs 1 and --jobs 2, against a bare parse and the engine.

Not a test. Run from the repository root:

    .venv/bin/python bench/bench_jobs.py [--records 100000] [--repeat 3]

Writes N records of about 2 kB as JSON Lines (the varied records of bench_core, with a freeze of eight
vials and a thaw), then in one run, each step `--repeat` times in turn (so a busy machine disturbs every step alike),
the best run counting:

- bare: `json.loads` of every line, in this process;
- engine: `iter_reports` over the file in this process, counting verdicts (the engine's own time);
- the whole command, `eln-msc validate --format F --jobs J FILE > /dev/null`, start-up included, for each
  format with --jobs 1 and for --format json with --jobs 2; the CPU time it used (all its processes).

Then the peak memory of --jobs 2 for N and 4N records: of the parent process and of its largest worker.
Prints a table; writes JSON to bench/out/.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_core import bare_json, varied  # noqa: E402 - after the path is set

from eln_msc_plugin.pipeline import Engine, iter_reports  # noqa: E402 - after the path is set

OUT = ROOT / "bench" / "out"
# A freeze of eight vials at P2 and the thaw they were used from: members of the format, so the records stay
# as valid as bench_core's (a member the format does not know would add a finding to every record).
VIALS = [f"WCB-07-V{i:03d}" for i in range(1, 9)]
CRYO = [{"kind": "freeze", "at": "2026-01-13", "passage": 2, "cumulative_pdl": 4.4, "viability_percent": 94.0,
         "vial_ids": VIALS},
        {"kind": "thaw", "at": "2026-01-14", "passage": 2, "viability_percent": 91.5}]

# Runs the command line in this process and reports its own peak memory and that of its largest worker.
PROBE = """
import resource, sys
from eln_msc_plugin import cli
status = cli.main(sys.argv[1:])
def own_kb():
    with open("/proc/self/status") as status_file:
        return next(int(line.split()[1]) for line in status_file if line.startswith("VmHWM:"))
print(own_kb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
"""


def write_input(n: int, where: Path) -> Path:
    rng = random.Random(42)
    path = where / f"records-{n}.jsonl"
    with open(path, "w", encoding="utf-8") as lines:
        for i in range(n):
            data = varied(i, rng)
            data["cryo_events"] = CRYO
            lines.write(json.dumps(data, separators=(",", ":")) + "\n")
    return path


def engine(path: Path, judge: Engine) -> dict[str, int]:
    with open(path, "rb") as stream:
        return dict(collections.Counter(r.verdict for r in iter_reports(stream, source=str(path), engine=judge)))


def command(path: Path, fmt: str, jobs: int) -> tuple[list[str], Any]:
    argv = [sys.executable, "-m", "eln_msc_plugin.cli", "validate", "--format", fmt, "--jobs", str(jobs), str(path)]

    def run() -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    return argv, run


def steps(path: Path, judge: Engine) -> dict[str, Any]:
    """label -> function returning an optional CPU time (seconds)."""
    found: dict[str, Any] = {"bare json.loads": lambda: (bare_json(path), None)[1],
                             "engine in process": lambda: (engine(path, judge), None)[1]}
    for fmt in ("json", "text", "junit"):
        found[f"validate --format {fmt} --jobs 1"] = command(path, fmt, 1)[1]
    found["validate --format json --jobs 2"] = command(path, "json", 2)[1]
    found["validate --format text --jobs 2"] = command(path, "text", 2)[1]
    return found


def timed(todo: dict[str, Any], repeat: int) -> dict[str, dict[str, Any]]:
    runs: dict[str, list[tuple[float, float | None]]] = {label: [] for label in todo}
    for _ in range(repeat):
        for label, fn in todo.items():
            start = time.perf_counter()
            cpu = fn()
            runs[label].append((time.perf_counter() - start, cpu))
    out = {}
    for label, measured in runs.items():
        best = min(measured, key=lambda run: run[0])
        out[label] = {"seconds": round(best[0], 3), "cpu_seconds": None if best[1] is None else round(best[1], 3),
                      "runs": [round(r[0], 3) for r in measured]}
    return out


def peak_memory(path: Path, jobs: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", PROBE, "validate", "--format", "json", "--jobs", str(jobs),
                           str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
                          cwd=ROOT)
    parent_kb, worker_kb = (int(x) for x in done.stderr.split()[-2:])
    return {"records": int(path.stem.split("-")[1]), "bytes": path.stat().st_size, "jobs": jobs,
            "parent_peak_kb": parent_kb, "largest_worker_peak_kb": worker_kb}


def report(n: int, size: int, rows: dict[str, dict[str, Any]], memory: list[dict[str, Any]]) -> None:
    base = rows["bare json.loads"]["seconds"]
    own = rows["engine in process"]["seconds"]
    one = rows["validate --format json --jobs 1"]["seconds"]
    print(f"{n:,} records of {size / n:,.0f} bytes, Python {platform.python_version()}, "
          f"{len(os.sched_getaffinity(0))} usable CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"{'step':36} {'seconds':>8} {'records/s':>10} {'x bare':>7} {'x engine':>9} {'cpu s':>7}")
    for label, row in rows.items():
        cpu = row["cpu_seconds"]
        print(f"{label:36} {row['seconds']:8.2f} {n / row['seconds']:10,.0f} {row['seconds'] / base:7.2f} "
              f"{row['seconds'] / own:9.2f} {'' if cpu is None else f'{cpu:7.2f}'}")
    two = rows["validate --format json --jobs 2"]["seconds"]
    print(f"--jobs 2 / --jobs 1 (json): {one / two:.2f}x faster; --jobs 2 is {two / base:.2f}x the bare parse")
    for m in memory:
        print(f"peak memory, --jobs {m['jobs']}, {m['records']:>7,} records ({m['bytes'] / 1e6:.0f} MB): "
              f"parent {m['parent_peak_kb'] / 1024:.1f} MB, largest worker {m['largest_worker_peak_kb'] / 1024:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step; the best one counts")
    parser.add_argument("--skip-memory", action="store_true", help="skip the N / 4N peak-memory runs")
    args = parser.parse_args()
    n = args.records
    with tempfile.TemporaryDirectory() as tmp:
        path = write_input(n, Path(tmp))
        size = path.stat().st_size
        rows = timed(steps(path, Engine()), args.repeat)
        memory = []
        if not args.skip_memory:
            memory = [peak_memory(path, 2)]
            path.unlink()
            memory.append(peak_memory(write_input(4 * n, Path(tmp)), 2))
    report(n, size, rows, memory)
    OUT.mkdir(parents=True, exist_ok=True)
    result = {"records": n, "python": platform.python_version(), "cpus": len(os.sched_getaffinity(0)),
              "load_after": os.getloadavg(), "steps": rows, "memory": memory,
              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    target = OUT / f"bench_jobs-{n}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    target.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
