"""Run a backfill: list records, judge each in a worker thread through `judge_and_annotate`, keep state.

Idempotent and resumable by construction: the sink writes nothing when the record's annotation already
judges its newest revision with the same rule pack ("unchanged"), and the state file only saves requests,
it is never trusted for a write. A record whose state says it was settled at the very `last_modified`
the listing shows now is skipped without a request.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from eln_msc_plugin.backfill.listing import Listing
from eln_msc_plugin.backfill.options import Options
from eln_msc_plugin.backfill.rows import listing_row
from eln_msc_plugin.backfill.session import Counters, RateLimiter, make_client
from eln_msc_plugin.backfill.state import DONE, State
from eln_msc_plugin.eln.kadi import KadiClient
from eln_msc_plugin.errors import ElnError
from eln_msc_plugin.kadi.judge import Outcome, judge_and_annotate
from eln_msc_plugin.pipeline import Engine, build_engine
from eln_msc_plugin.progress import Progress

log = logging.getLogger("eln_msc_plugin.backfill")


@dataclass
class Summary:
    """What a run did: records by status and verdict, failures, requests and writes sent, time taken."""

    statuses: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    failed: dict[int, str] = field(default_factory=dict)
    requests: int = 0
    writes: int = 0
    seconds: float = 0.0
    unreached: int = 0
    seen: set[int] = field(default_factory=set)

    @property
    def records(self) -> int:
        return sum(self.statuses.values())

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.records, "statuses": dict(self.statuses), "verdicts": dict(self.verdicts),
                "failed": len(self.failed), "requests": self.requests, "writes": self.writes,
                "seconds": round(self.seconds, 3), "unreached": self.unreached}


def settled(row: dict[str, Any] | None, item: dict[str, Any], sha256: str) -> bool:
    """The state says this record was found annotated at exactly this modification, with these rules."""
    return bool(row and row["status"] in DONE and row["ruleset_sha256"] == sha256
                and row["settled_modified"] == item.get("last_modified"))


class Backfill:
    """One run: a producer (the listing) on the calling thread, `workers` judging threads."""

    def __init__(self, options: Options, state: State, engine: Engine, progress: Progress) -> None:
        self.options, self.state, self.engine, self.progress = options, state, engine, progress
        self.limiter, self.counters = RateLimiter(options.rate), Counters()
        self.summary = Summary()
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=options.workers * 4)
        self._lock = threading.Lock()
        self.me = 0

    def client(self) -> KadiClient:
        return make_client(self.options.kadi_url, self.options.token, self.limiter, self.counters)

    def run(self) -> Summary:
        started = time.monotonic()
        main = self.client()
        self.me = int(main.me()["id"])
        listing = Listing(main, self.options, drain=self.queue.join)
        threads = [threading.Thread(target=self._work, daemon=True, name=f"backfill-{i}")
                   for i in range(self.options.workers)]
        for thread in threads:
            thread.start()
        try:
            self._produce(listing)
            self.queue.join()
        finally:
            for _ in threads:
                self.queue.put(None)
            for thread in threads:
                thread.join()
        self.summary.unreached = listing.unreached()
        self.summary.seen = listing.seen
        self.summary.requests, self.summary.writes = self.counters.requests, self.counters.writes
        self.summary.seconds = time.monotonic() - started
        return self.summary

    def _produce(self, listing: Listing) -> None:
        sha = self.engine.ruleset.sha256
        for item in listing:
            if self.progress.total is None and listing.total is not None:
                self.progress.total = -(-listing.total // self.options.shard.count)
            row = self.state.get(int(item["id"]))
            if settled(row, item, sha):
                self._count(int(item["id"]), "unchanged", row["verdict"] if row else None)
            else:
                self.queue.put(item)

    def _count(self, record_id: int, status: str, verdict: str | None, error: str | None = None) -> None:
        with self._lock:
            self.summary.statuses[status] += 1
            if verdict and status != "failed":
                self.summary.verdicts[verdict] += 1
            if error is not None:
                self.summary.failed[record_id] = error
        self.progress.add(status, verdict if status != "failed" else None)

    def _work(self) -> None:
        client = self.client()
        while (item := self.queue.get()) is not None:
            try:
                self._judge(client, item)
            except Exception as error:  # one record must not end the run
                self.state.fail(int(item["id"]), f"{type(error).__name__}: {error}")
                self._count(int(item["id"]), "failed", None, str(error))
            finally:
                self.queue.task_done()
        self.queue.task_done()

    def _judge(self, client: KadiClient, item: dict[str, Any]) -> None:
        record_id = int(item["id"])
        self.state.start(record_id)
        outcome = self._attempts(client, record_id)
        row = listing_row(item, outcome.report, client.record_url(record_id)) if outcome.report else None
        if row is not None and outcome.would_write:
            row["would_write"] = {"tags": outcome.would_write.get("tags"), "file": outcome.would_write.get("file")}
        done_at = item.get("last_modified") if outcome.status == "unchanged" else None
        self.state.finish(record_id, outcome.status, outcome.revision_id, outcome.verdict,
                          self.engine.ruleset.sha256, row, done_at)
        self._count(record_id, outcome.status, outcome.verdict)

    def _attempts(self, client: KadiClient, record_id: int) -> Outcome:
        """Judge and annotate, again after a pause when the ELN failed in a way that may pass."""
        for attempt in range(1, self.options.attempts + 1):
            self.state.attempt(record_id)
            try:
                return judge_and_annotate(client, self.engine, record_id, service_user_id=self.me,
                                          dry_run=self.options.dry_run)
            except ElnError as error:
                transient = error.retryable or error.status is None or error.status >= 500
                if not transient or attempt == self.options.attempts:
                    raise
                log.info("record %s: %s; trying again (attempt %d)", record_id, error, attempt + 1)
                time.sleep(self.options.retry_delay * 2 ** (attempt - 1))
        raise AssertionError("unreachable")


def run_backfill(options: Options, progress: Progress | None = None) -> tuple[Summary, State]:
    """Run a backfill to the end; the caller writes the report from the returned state and closes it."""
    engine = build_engine(options.policy)
    state = State(options.state_path)
    parameters = {k: v for k, v in vars(options).items() if k not in ("token",)}
    state.bind(options.scope(), parameters)
    progress = progress or Progress(tty=options.progress)
    summary = Backfill(options, state, engine, progress).run()
    progress.close()
    return summary, state
