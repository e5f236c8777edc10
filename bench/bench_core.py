"""Throughput and memory of the core parsers and pipeline, against a bare parse of the same bytes.

Not a test. Run from the repository root:

    python3 bench/bench_core.py [--records 100000]

Generates N varied records (mostly valid, some invalid) as JSON Lines and as XML in a temporary
directory, then times in this process: (a) bare json.loads of every line, (b) the pipeline over the
JSON Lines file, (c) bare lxml iterparse of the XML (clearing elements), (d) the pipeline over the
XML file; (b0) and (d0) are the core alone (the `schema` rule only). Each step runs --repeat times
and the best run counts (the one least disturbed by the rest of the machine). Then validates N and
4N records, JSON Lines and XML, in fresh subprocesses and reports the peak memory of each (VmHWM,
else ru_maxrss). Prints a table; writes JSON to bench/out/.
"""

from __future__ import annotations

import argparse
import collections
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402 - after the path is set

from eln_msc_plugin.pipeline import Engine, iter_reports  # noqa: E402 - after the path is set
from eln_msc_plugin.rules import RuleSet  # noqa: E402 - after the path is set
from tests.support.records import record  # noqa: E402 - after the path is set
from tests.support.xmlgen import NAMESPACE, record_xml  # noqa: E402 - after the path is set

OUT = ROOT / "bench" / "out"


def varied(i: int, rng: random.Random) -> dict[str, Any]:
    """Record i: the valid production record with its numbers moved; about 1 in 10 is bent."""
    data = record(record_id=f"EXP-{i:07d}", lot_id=f"LOT-{i // 10:06d}",
                  intended_use=rng.choice(("production", "production", "banking", "research")))
    scale = rng.choice((0.8, 1.0, 1.2))  # seeded and harvested together: the PDs stay as they were
    for p in data["passages"]:
        p["cells_seeded"] = round(p["cells_seeded"] * scale)
        p["cells_harvested"] = round(p["cells_harvested"] * scale)
        p["viability_percent"] = round(rng.uniform(88, 97), 1)
    kind = i % 10
    if kind == 7:
        data["production_passage"] = rng.choice((5, 6, "4"))      # out of window / wrong type
    elif kind == 8:
        data["passages"][1]["cells_seeded"] = 0.7                  # unit slip
    elif kind == 9:
        data.pop("lot_id")                                         # schema failure
    return data


def write_inputs(n: int, where: Path) -> tuple[Path, Path]:
    """The same N records as JSON Lines and as one `batch_records` XML document, written as generated."""
    rng = random.Random(42)
    jsonl, xml = where / f"records-{n}.jsonl", where / f"records-{n}.xml"
    with open(jsonl, "w", encoding="utf-8") as lines, open(xml, "w", encoding="utf-8") as batch:
        batch.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<batch_records xmlns="{NAMESPACE}">\n')
        for i in range(n):
            data = varied(i, rng)
            lines.write(json.dumps(data, separators=(",", ":")) + "\n")
            batch.write(record_xml(data, declare=False) + "\n")
        batch.write("</batch_records>\n")
    return jsonl, xml


def timed(label: str, n: int, fn: Any, repeat: int) -> dict[str, Any]:
    """The best of `repeat` runs (the least disturbed by the rest of the machine), with all of them."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    seconds = min(runs)
    return {"step": label, "records": n, "seconds": round(seconds, 3), "records_per_s": round(n / seconds),
            "runs": [round(r, 3) for r in runs], "result": result}


def bare_json(path: Path) -> int:
    count = 0
    with open(path, "rb") as stream:
        for line in stream:
            json.loads(line)
            count += 1
    return count


def bare_xml(path: Path) -> int:
    count = 0
    for _, elem in etree.iterparse(str(path), events=("end",), tag="{urn:eln-msc:batch-record:1}batch_record"):
        count += 1
        elem.clear(keep_tail=False)
        while elem.getprevious() is not None:
            del elem.getparent()[0]
    return count


def pipeline(path: Path, engine: Engine) -> dict[str, int]:
    with open(path, "rb") as stream:
        return dict(collections.Counter(r.verdict for r in iter_reports(stream, source=path.name, engine=engine)))


MEMORY_PROBE = """
import collections, resource, sys
sys.path.insert(0, sys.argv[2])
from eln_msc_plugin.pipeline import iter_reports
with open(sys.argv[1], "rb") as stream:
    counts = collections.Counter(r.verdict for r in iter_reports(stream))
def peak_kb():
    # VmHWM is this process's own peak; ru_maxrss can carry the parent's peak over the fork
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(sum(counts.values()), peak_kb())
"""


def peak_memory(path: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(path), str(ROOT)], capture_output=True,
                          text=True, check=True)
    count, maxrss = done.stdout.split()
    return {"file": path.name, "records": int(count), "bytes": path.stat().st_size, "peak_rss_kb": int(maxrss)}


def schema_only(engine: Engine) -> Engine:
    """The core alone: the same engine with only the `schema` rule (the rule pack's cost is the difference)."""
    rs = engine.ruleset
    rules = [r for r in rs.rules if r.id == "schema"]
    return Engine(engine.pm, RuleSet(rs.name, rs.version, rules, {"schema": rs.thresholds["schema"]}))


def breakdown(jsonl: Path, engine: Engine, repeat: int) -> list[tuple[str, float]]:
    """Microseconds per valid record of each step on its own, in memory (the valid records of the file).

    Each row adds one step to the one before it, or times a part of the engine alone, so the table
    says where a record's time goes.
    """
    from eln_msc_plugin import schema
    from eln_msc_plugin.formats.json_format import _decode, _record
    from eln_msc_plugin.model import Document
    from eln_msc_plugin.rulepack.metrics import report_metrics
    from eln_msc_plugin.rules import Rule, RuleContext

    fast = schema.fast_check()
    document = Document(jsonl.name)
    raw = [line for line in jsonl.read_bytes().splitlines() if fast(json.loads(line), [])]
    records = [_record(document, i, _decode(line.decode()), "", i) for i, line in enumerate(raw)]
    rs = engine.ruleset
    idle = Engine(engine.pm, RuleSet(rs.name, rs.version, [Rule(r.id, r.summary, lambda ctx: (), r.severities,
                                                                r.thresholds) for r in rs.rules], rs.thresholds))

    def lineage_and_metrics(record: Any) -> None:
        ctx = RuleContext(record, "production", rs)
        report_metrics(ctx)

    def best(fn: Any, items: list[Any]) -> float:
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            for item in items:
                fn(item)
            runs.append(time.perf_counter() - start)
        return min(runs) / len(items) * 1e6

    return [
        ("bare json.loads of the line", best(json.loads, raw)),
        ("strict decode (duplicate members, NaN refused)", best(lambda line: _decode(line.decode()), raw)),
        ("+ canonical record (version, units)", best(lambda line: _record(document, 0, _decode(line.decode()), "", 0),
                                                     raw)),
        ("compiled schema check alone", best(lambda r: fast(r.data, []), records)),
        ("engine with every rule a no-op", best(idle.evaluate, records)),
        ("engine, `schema` rule only", best(schema_only(engine).evaluate, records)),
        ("MSC lineage + report metrics alone", best(lineage_and_metrics, records)),
        ("engine, full rule pack", best(engine.evaluate, records)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step; the best one counts")
    parser.add_argument("--skip-memory", action="store_true", help="skip the N / 4N subprocess runs")
    parser.add_argument("--breakdown", action="store_true", help="also time each step alone, per valid record")
    args = parser.parse_args()
    n = args.records
    engine = Engine()
    core_only = schema_only(engine)
    with tempfile.TemporaryDirectory() as tmp:
        jsonl, xml = write_inputs(n, Path(tmp))
        rows = [
            timed("(a) bare json.loads per line", n, lambda: bare_json(jsonl), args.repeat),
            timed("(b) pipeline over JSONL", n, lambda: pipeline(jsonl, engine), args.repeat),
            timed("(b0) same, schema rule only", n, lambda: pipeline(jsonl, core_only), args.repeat),
            timed("(c) bare lxml iterparse", n, lambda: bare_xml(xml), args.repeat),
            timed("(d) pipeline over XML", n, lambda: pipeline(xml, engine), args.repeat),
            timed("(d0) same, schema rule only", n, lambda: pipeline(xml, core_only), args.repeat),
        ]
        rows[1]["ratio_to_bare"] = round(rows[1]["seconds"] / rows[0]["seconds"], 2)
        rows[2]["ratio_to_bare"] = round(rows[2]["seconds"] / rows[0]["seconds"], 2)
        rows[4]["ratio_to_bare"] = round(rows[4]["seconds"] / rows[3]["seconds"], 2)
        rows[5]["ratio_to_bare"] = round(rows[5]["seconds"] / rows[3]["seconds"], 2)
        memory = []
        if not args.skip_memory:
            jsonl4, xml4 = write_inputs(4 * n, Path(tmp))
            memory = [peak_memory(jsonl), peak_memory(jsonl4), peak_memory(xml), peak_memory(xml4)]
        parts = breakdown(jsonl, engine, args.repeat) if args.breakdown else []
    rules = sorted(r.id for r in engine.ruleset.rules)
    print(f"{n} records, {len(rules)} rules registered, Python {platform.python_version()}")
    print(f"{'step':34} {'seconds':>9} {'records/s':>11} {'x bare':>7}  verdicts")
    for row in rows:
        print(f"{row['step']:34} {row['seconds']:>9.2f} {row['records_per_s']:>11,} "
              f"{row.get('ratio_to_bare', ''):>7}  {row['result'] if isinstance(row['result'], dict) else ''}")
    for m in memory:
        print(f"peak memory, validation of {m['file']:>22} ({m['records']:>7,} records, {m['bytes'] / 1e6:.0f} MB): "
              f"{m['peak_rss_kb'] / 1024:.1f} MB")
    if parts:
        print(f"where a valid record's time goes (microseconds, best of {args.repeat}):")
        for label, micros in parts:
            print(f"  {label:48} {micros:7.2f}")
    OUT.mkdir(parents=True, exist_ok=True)
    result = {"records": n, "rules": rules, "python": platform.python_version(), "steps": rows, "memory": memory,
              "breakdown_us": dict(parts), "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    target = OUT / f"bench_core-{n}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    target.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
