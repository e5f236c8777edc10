"""Benchling app cost (not a test): API requests per judged batch, and the webhook receiver's throughput.

Runs against the fake Benchling tenant of the tests (a loopback HTTP server; request checking against the
API description off, so the fake's own cost does not count). Usage:

    .venv/bin/python bench/bench_benchling.py [--batches 50] [--events 1000] [--senders 8] [--window 3]

1. Requests per batch, counted by the adapter, on each path: a backfill's walk of the batch schema (changed
   batches, then the same unchanged, the listing's pages included), and the serve host's worker job handed
   one event each (a scientist's edit, the app's own write that follows, a late copy of the edit).
2. The receiver under waitress, the way `eln-msc serve benchling` runs it: `--events` signed webhooks sent
   by `--senders` threads as fast as they can; events accepted per second and the p95 time to answer,
   each as a ratio to a bare WSGI app under the same server answering 202 without checking or storing
   (the baseline of the same run).
3. The burst drained: the workers judge the queued events while the fake enforces Benchling's per-app
   limit (300 requests per window) and the app its own budget (240 per window); the window is 30 s in
   Benchling, shortened here to `--window` seconds with the same counts, so a 1,000-event burst drains in
   minutes. Reported: 429 answers, the most requests seen in any window (must stay ≤ 300), events
   coalesced (several events of one batch read once) and the batches judged.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import requests  # noqa: E402
from waitress.server import create_server  # noqa: E402

from eln_msc_plugin.benchling.adapter import BenchlingAdapter  # noqa: E402
from eln_msc_plugin.benchling.mapping import load_mapping  # noqa: E402
from eln_msc_plugin.benchling.queue import Event, EventQueue  # noqa: E402
from eln_msc_plugin.benchling.receiver import Receiver  # noqa: E402
from eln_msc_plugin.benchling.serve import handler  # noqa: E402
from eln_msc_plugin.benchling.transport import RateLimiter  # noqa: E402
from eln_msc_plugin.benchling.webhooks import JwksCache, WebhookVerifier  # noqa: E402
from eln_msc_plugin.benchling.workers import WorkerPool  # noqa: E402
from eln_msc_plugin.eln.base import ChangeQuery  # noqa: E402
from eln_msc_plugin.eln.http import Token  # noqa: E402
from eln_msc_plugin.eln.judge import judge_and_annotate  # noqa: E402
from eln_msc_plugin.pipeline import Engine  # noqa: E402
from tests.support.benchling_world import add_batch, seed_schemas, write_mapping  # noqa: E402
from tests.support.fake_benchling import FakeBenchling  # noqa: E402
from tests.support.records import BASE  # noqa: E402

warnings.simplefilter("ignore")
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the fake's access log would drown the figures


def run_events(handle: Any, fake: FakeBenchling, messages: list[dict[str, Any]],
               adapter: BenchlingAdapter) -> tuple[float, float]:
    """Hand each message to the serve host's worker job, as the queue would (one event each, none
    coalesced); (reads, writes) per event."""
    before = adapter.tally.snapshot()
    for seq, message in enumerate(messages, 1):
        body = json.dumps(fake.envelope(message))
        handle(Event(seq, f"msg_{message['id']}", message["type"], message["resourceId"], body, 1))
    after = adapter.tally.snapshot()
    return (after[0] - before[0]) / len(messages), (after[1] - before[1]) / len(messages)


def listed(adapter: BenchlingAdapter, engine: Engine) -> tuple[float, float]:
    """A backfill's walk: the batch schema listed, each batch judged; (reads, writes) per batch, the
    listing's own pages included."""
    before = adapter.tally.snapshot()
    refs = list(adapter.changes(ChangeQuery()))
    for ref in refs:
        judge_and_annotate(adapter, engine, ref, want_report=True)
    after = adapter.tally.snapshot()
    return (after[0] - before[0]) / len(refs), (after[1] - before[1]) / len(refs)


def user_events(fake: FakeBenchling, ids: list[str]) -> list[dict[str, Any]]:
    """A scientist edits one field of each batch: the webhook messages those saves make."""
    fake.tenant.webhooks.clear()
    for i, entity_id in enumerate(ids):
        fake.tenant.user_update(entity_id, {"Donor": f"D-{i}-edited"})
    messages = list(fake.tenant.webhooks)
    fake.tenant.webhooks.clear()
    return messages


def per_path(fake: FakeBenchling, adapter: BenchlingAdapter, engine: Engine, n: int) -> dict[str, tuple[float, float]]:
    """(reads, writes) per batch on each path: backfill and webhook, changed, unchanged, the app's own write."""
    ids = [add_batch(fake, dict(BASE, lot_id=f"LOT-{i}", production_passage=4 + i % 3))[0] for i in range(n)]
    costs = {"backfill: changed (first check)": listed(adapter, engine),
             "backfill: unchanged (new state file)": listed(adapter, engine)}
    handle = handler(adapter, engine)
    edits = user_events(fake, ids)
    costs["webhook: changed"] = run_events(handle, fake, edits, adapter)
    own = list(fake.tenant.webhooks)
    fake.tenant.webhooks.clear()
    costs["webhook: the app's own write"] = run_events(handle, fake, own, adapter)
    late = [dict(m, id=m["id"] + "_late") for m in edits]  # the same saves announced again, late
    costs["webhook: unchanged (a late event)"] = run_events(handle, fake, late, adapter)
    assert not fake.tenant.webhooks, "an unchanged batch or the app's own write was written again"
    return costs


def serve(app: Any) -> tuple[Any, str]:
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def blast(fake: FakeBenchling, url: str, messages: list[dict[str, Any]], senders: int) -> tuple[float, list[float]]:
    """Send every message signed, from `senders` threads; (events per second, answer times)."""
    bodies = [json.dumps(fake.envelope(m)) for m in messages]
    signed = [(body, fake.signer.headers(body)) for body in bodies]
    times: list[float] = []
    lock = threading.Lock()

    def send(part: list[tuple[str, dict[str, str]]]) -> None:
        session = requests.Session()
        for body, headers in part:
            start = time.perf_counter()
            answer = session.post(url, data=body.encode(), headers=headers, timeout=30)
            took = time.perf_counter() - start
            assert answer.status_code in (200, 202), answer.text
            with lock:
                times.append(took)

    threads = [threading.Thread(target=send, args=(signed[i::senders],)) for i in range(senders)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(signed) / (time.perf_counter() - start), times


def bare(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("202 Accepted", [("Content-Type", "application/json")])
    return [b'{"status": "queued"}']


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def most_in_window(stamps: list[float], window: float) -> int:
    most, left = 0, 0
    for right, stamp in enumerate(stamps):
        while stamp - stamps[left] >= window:
            left += 1
        most = max(most, right - left + 1)
    return most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--window", type=float, default=3.0)
    args = parser.parse_args()
    engine, work = Engine(), Path(tempfile.mkdtemp(prefix="bench-benchling-"))

    fake = FakeBenchling(validate=False).start()
    seed_schemas(fake)
    client_id, secret = fake.add_client()
    mapping = load_mapping(write_mapping(work, fake))
    adapter = BenchlingAdapter(fake.url, mapping, client_id, Token(secret))
    costs = per_path(fake, adapter, engine, args.batches)
    print(f"requests per batch ({args.batches} batches, counted by the adapter; the OAuth token apart):")
    print(f"  {'':<40} {'reads':>6} {'writes':>6}")
    for name, (reads, writes) in costs.items():
        print(f"  {name:<40} {reads:6.2f} {writes:6.2f}")
    fake.stop()

    fake = FakeBenchling(validate=False, rate_limit=(300, args.window)).start()
    seed_schemas(fake)
    client_id, secret = fake.add_client()
    mapping = load_mapping(write_mapping(work, fake))
    targets = [add_batch(fake, dict(BASE, lot_id=f"B-{i}"))[0] for i in range(max(1, args.events // 5))]
    fake.tenant.webhooks.clear()
    messages = [{"id": f"evt_{i}", "type": "v3.customEntity.updated", "resourceId": targets[i % len(targets)],
                 "createdAt": "2026-01-01T00:00:00Z", "deprecated": False, "stability": "stable",
                 "properties": ["fields.Donor"]} for i in range(args.events)]
    bare_server, bare_url = serve(bare)
    bare_rate, bare_times = blast(fake, bare_url, messages, args.senders)
    bare_server.close()

    queue = EventQueue(work / "queue.sqlite3")
    keys = JwksCache(f"{fake.url}/apps/jwks/{fake.app_definition_id}",
                     fetch=lambda url: requests.get(url, timeout=10).content)
    adapter = BenchlingAdapter(fake.url, mapping, client_id, Token(secret), limiter=RateLimiter(240, args.window))
    pool = WorkerPool(queue, handler(adapter, engine), workers=2)
    receiver = Receiver(WebhookVerifier(fake.app_definition_id, keys), queue, alive=pool.alive, queued=pool.wake)
    server, url = serve(receiver)
    rate, times = blast(fake, f"{url}/webhooks", messages, args.senders)
    print(f"\nreceiver, {args.events} signed events from {args.senders} senders (workers idle while sending):")
    print(f"  accepted per second      {rate:8.0f}   bare WSGI app {bare_rate:8.0f}   ratio {rate / bare_rate:.2f}")
    print(f"  p95 time to answer (ms)  {p95(times) * 1e3:8.1f}   bare WSGI app {p95(bare_times) * 1e3:8.1f}   "
          f"ratio {p95(times) / p95(bare_times):.2f}")
    print(f"  max time to answer (ms)  {max(times) * 1e3:8.1f}")

    start = time.perf_counter()
    pool.start()
    while True:
        counts = queue.counts()
        if counts["queued"] == 0 and counts["working"] == 0:
            break
        time.sleep(0.2)
    drained = time.perf_counter() - start
    pool.stop()
    server.close()
    judged = sum(1 for t in targets if fake.tenant.entities[t]["fields"]["QC verdict"]["value"])
    print(f"\nburst drained in {drained:.0f} s (window {args.window:g} s standing for Benchling's 30 s):")
    print(f"  events done / coalesced / failed   {counts['done']} / {counts['coalesced']} / {counts['failed']}")
    print(f"  batches judged                     {judged} of {len(targets)}")
    print(f"  429 answers                        {fake.rate_limited}")
    print(f"  most requests in any window        {most_in_window(fake.arrivals, args.window)} (limit 300, "
          f"app budget 240)")
    print(f"  time waiting for the app's budget  {adapter.client.limiter.waited:.0f} s")
    fake.stop()


if __name__ == "__main__":
    main()
