"""`eln-msc serve benchling`: the webhook receiver under waitress, the event queue and its worker pool.

Each queued event is judged by the shared flow (`eln/judge.py`): read the batch, skip it when the
annotation in place already judged this content, otherwise judge and write. An event naming only the
app's own fields is the app's own write when it names just what a write of this process changed and
no other event of the batch came with it (no request); otherwise it costs one read: when those fields
still say what the app wrote, nothing is written (no loop); when a person changed them, the batch is
judged again (a verdict the app did not write never stands). Any other event naming a batch costs one
read when the batch's fields are as the annotation in place judged them (a late or repeated event).
SIGTERM and SIGINT stop the server and let the workers finish the event in hand.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from waitress.server import create_server

from eln_msc_plugin.benchling.adapter import BenchlingAdapter
from eln_msc_plugin.benchling.queue import Event, EventQueue
from eln_msc_plugin.benchling.receiver import Receiver
from eln_msc_plugin.benchling.webhooks import JWKS_URL, JwksCache, WebhookVerifier
from eln_msc_plugin.benchling.workers import WorkerPool
from eln_msc_plugin.eln.base import RecordRef
from eln_msc_plugin.eln.judge import judge_and_annotate
from eln_msc_plugin.eln.spec import AdapterConfig
from eln_msc_plugin.eln.verdict import engine_name
from eln_msc_plugin.pipeline import Engine, build_engine

log = logging.getLogger("eln_msc_plugin.benchling.serve")


def handler(adapter: BenchlingAdapter, engine: Engine) -> Any:
    """The worker's job for one event: the outcome in one line."""

    # The queue keeps one worker per event resource; an entry's event and its batch's event name different
    # resources, so the batch itself is also held by one worker at a time.
    held: dict[str, threading.Lock] = defaultdict(threading.Lock)

    def handle(event: Event) -> str:
        message = json.loads(event.body).get("message") or {}
        outcomes = []
        for ref in adapter.event_refs(message):
            with held[ref.id]:
                outcomes.append(f"{ref.id}: {judge_one(ref, event.coalesced)}")
        return "; ".join(outcomes) or "no batch concerned"

    def judge_one(ref: RecordRef, coalesced: int) -> str:
        if adapter.is_own_write(ref):
            # the event of the app's own last write, alone (no other event of the batch rides on it): no read
            if not coalesced and adapter.own_write_expected(ref):
                return "own write"
            intact, ref = adapter.own_write_intact(ref)
            if intact:
                return "own write"
        else:
            judged, ref = adapter.announced_change_judged(ref, (engine.ruleset.sha256, engine_name()))
            if judged:
                return "unchanged (the change it announces was judged)"
        outcome = judge_and_annotate(adapter, engine, ref)
        return (outcome.status + (f" {outcome.verdict}" if outcome.verdict else "")
                + (f" ({outcome.detail})" if outcome.detail else ""))

    return handle


def build(config: AdapterConfig, settings: Mapping[str, Any]) -> tuple[Receiver, WorkerPool, BenchlingAdapter]:
    """The receiver, its (not yet started) pool and the adapter, as `serve` runs them."""
    adapter = BenchlingAdapter.open(config)
    mapping = adapter.mapping
    receiver_settings = mapping.receiver
    base = mapping.path.parent if mapping.path else Path.cwd()
    queue = EventQueue(settings.get("queue") or base / str(receiver_settings.get("queue", "benchling-queue.sqlite3")))
    jwks = str(receiver_settings.get("jwks_url") or JWKS_URL.format(app_definition_id=mapping.app_definition_id))
    verifier = WebhookVerifier(mapping.app_definition_id, JwksCache(jwks))
    engine = build_engine(settings.get("policy"))
    workers = int(settings.get("workers") or receiver_settings.get("workers", 2))
    pool = WorkerPool(queue, handler(adapter, engine), workers=workers)
    tenant = config.url.split("://", 1)[-1].rstrip("/")
    receiver = Receiver(verifier, queue, tenant=tenant, alive=pool.alive, queued=pool.wake)
    return receiver, pool, adapter


def serve(config: AdapterConfig, settings: Mapping[str, Any]) -> int:
    receiver, pool, adapter = build(config, settings)
    try:
        receiver.verifier.keys.keys()  # fetch the keys now, so the first delivery is answered at once
    except Exception as error:  # keys can be fetched later; say so and go on
        log.warning("cannot fetch the app's public keys yet (%s); will try on the first delivery",
                    type(error).__name__)
    server = create_server(receiver, host=settings.get("host", "127.0.0.1"), port=int(settings["port"]),
                           threads=int(settings.get("threads", 8)), ident="eln-msc",
                           max_request_body_size=1024 * 1024 + 1)
    pool.start()

    def shut(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # waitress's loop closes the server on it

    signal.signal(signal.SIGTERM, shut)
    port = server.effective_port
    log.info("listening on %s:%s", settings.get("host", "127.0.0.1"), port)
    print(f"eln-msc serve benchling: listening on port {port}", flush=True)
    try:
        server.run()
    finally:
        pool.stop()
        adapter.close()
        receiver.queue.close()
    return 0
