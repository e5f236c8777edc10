"""eLabFTW adapter cost (not a test): requests per judged entry and entries per second, against the fake.

Usage:

    .venv/bin/python bench/bench_elabftw.py [--entries 300] [--files 0.2]

Counts are exact (every request the adapter sends is tallied, and the fake logs what it receives):

- watch: the poll that judges N new entries (reads and writes per entry: its share of the listing pages,
  the entry, its attached batch-record files; comment, report, tag and field), the poll after it (the
  plugin's own writes: no request beyond the listing), a poll with nothing new, and N changed entries
  (a verdict that stays, one that changes).
- backfill: `eln-msc backfill --eln elabftw` (the backfill host, 1 and 4 workers): a first run; again with
  the same state file (entries settled at the stamp listed are skipped: the listing only); again with a
  new state file (each entry read and found unchanged: no write). Each worker looks up the service account
  and the category once, counted in the reads.

Speed is against the fake, which checks every request and answer against eLabFTW's OpenAPI description
with openapi-core, so it is given with the fake's own speed in the same run as the baseline: the rate of
plain `GET /{type}/{id}` requests it serves to one client. `entries/s ÷ GETs/s` says how many entries are
judged in the time of one entry read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from eln_msc_plugin.watch.loop import Watcher, WatchOptions  # noqa: E402
from eln_msc_plugin.watch.state import WatchState  # noqa: E402
from tests.support.elabftw import Lab, elabftw_engine, make_lab, open_adapter  # noqa: E402
from tests.support.fake_elabftw import FakeElabftw  # noqa: E402
from tests.support.records import BASE, record  # noqa: E402
from tests.support.xmlgen import to_xml  # noqa: E402

FAILING = record(production_passage=6, passages=BASE["passages"])


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def populate(lab: Lab, n: int, files: float) -> list[str]:
    refs = []
    for i in range(n):
        ref = lab.save(BASE if i % 3 else FAILING, title=f"lot {i}")
        if i < n * files:
            lab.attach(ref, f"lot-{i}.xml", to_xml(BASE))
        refs.append(ref)
    return refs


def per_entry(label: str, n: int, reads: int, writes: int, seconds: float | None = None) -> dict[str, Any]:
    row = {"phase": label, "entries": n, "reads/entry": round(reads / n, 2), "writes/entry": round(writes / n, 2)}
    if seconds is not None:
        row["entries/s"] = round(n / seconds, 1)
    return row


def baseline(lab: Lab, ref: str, count: int = 200) -> float:
    """Plain entry reads per second from one client: the fake's own speed."""
    session = requests.Session()
    session.headers["Authorization"] = lab.service_key
    started = time.perf_counter()
    for _ in range(count):
        session.get(f"{lab.url}/api/v2/{ref}", timeout=30).raise_for_status()
    return count / (time.perf_counter() - started)


def watch_phases(n: int, files: float, engine: Any) -> tuple[list[dict[str, Any]], float]:
    with FakeElabftw() as fake, tempfile.TemporaryDirectory() as folder:
        lab = make_lab(fake)
        refs = populate(lab, n, files)
        clock = Clock()
        adapter = open_adapter(lab)
        watcher = Watcher(adapter, engine, WatchState(Path(folder) / "s.sqlite"),
                          WatchOptions(quiet=1.0, page_size=100), clock=clock)
        rows = []

        def poll(label: str) -> None:
            clock.now += 2
            fake.store.clock_offset += dt.timedelta(seconds=2)
            started = time.perf_counter()
            summary = watcher.poll()
            judged = sum(summary.statuses[s] for s in ("annotated", "unchanged", "partial"))
            seconds = time.perf_counter() - started
            rows.append(per_entry(label, judged or summary.listed, summary.reads, summary.writes,
                                  seconds if judged else None))

        watcher.poll()  # every entry seen: its quiet period starts
        poll("watch: new entries judged")
        poll("watch: the poll after (own writes)")
        poll("watch: nothing new")
        for i, ref in enumerate(refs):
            lab.set_field(ref, "donor_id" if i % 2 else "production_passage", "D-9" if i % 2 else "7")
        watcher.poll()
        poll("watch: changed entries (one field edited each)")
        speed = baseline(lab, refs[0])
        adapter.close()
        return rows, speed


def backfill_phases(n: int, files: float, workers: int) -> list[dict[str, Any]]:
    """The real backfill host (`eln-msc backfill --eln elabftw`), a first run then a second one."""
    from eln_msc_plugin.backfill.options import Options
    from eln_msc_plugin.backfill.runner import run_backfill
    from eln_msc_plugin.eln.auth import Token
    from eln_msc_plugin.progress import Progress

    rows = []
    with FakeElabftw() as fake, tempfile.TemporaryDirectory() as folder:
        lab = make_lab(fake)
        populate(lab, n, files)
        runs = (("first run", "a"), ("again, same state file", "a"), ("again, new state file", "b"))
        for label, state_name in runs:
            options = Options("elabftw", lab.url, Token(lab.service_key), {"category": "MSC batch record"},
                              {"category": "MSC batch record"}, workers=workers,
                              state_path=Path(folder) / f"{state_name}.sqlite")
            summary, state = run_backfill(options, Progress(tty=False))
            state.close()
            reads = summary.requests - summary.writes
            rows.append(per_entry(f"backfill, {workers} workers: {label}", summary.records, reads, summary.writes,
                                  summary.seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--files", type=float, default=0.2, help="share of entries with an attached XML file")
    args = parser.parse_args()
    engine = elabftw_engine()
    rows, speed = watch_phases(args.entries, args.files, engine)
    rows += backfill_phases(args.entries, args.files, 1) + backfill_phases(args.entries, args.files, 4)
    print(f"{args.entries} entries, {args.files:.0%} with an attached batch-record XML file; "
          f"baseline: the fake serves {speed:.0f} entry GETs/s to one client")
    print(f"{'phase':<62} {'reads/entry':>11} {'writes/entry':>12} {'entries/s':>9} {'÷ GETs/s':>8}")
    for row in rows:
        rate = row.get("entries/s")
        ratio = f"{rate / speed:.3f}" if rate else ""
        print(f"{row['phase']:<62} {row['reads/entry']:>11} {row['writes/entry']:>12} {rate or '':>9} {ratio:>8}")


if __name__ == "__main__":
    main()
