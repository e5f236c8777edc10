"""Run a backfill: list records through the adapter, judge each in a worker thread, keep state.

Idempotent and resumable by construction: nothing is written when the record's annotation already judged
its content with the same rules and engine ("unchanged") and the plugin wrote the verdict in place (one set
by anyone else is judged again and put back: "restored"), and the state file only saves requests, it is
never trusted for a write. A record whose state says it was settled (annotated or found unchanged) at the
very modification stamp the listing shows now is skipped without a request.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from eln_msc_plugin.backfill.options import Options
from eln_msc_plugin.backfill.rows import outcome_row
from eln_msc_plugin.backfill.session import Meter
from eln_msc_plugin.backfill.state import DONE, State
from eln_msc_plugin.eln.base import ChangeQuery, Changes, ElnAdapter, RecordRef
from eln_msc_plugin.eln.judge import Outcome, judge_and_annotate
from eln_msc_plugin.eln.spec import AdapterConfig, AdapterSpec
from eln_msc_plugin.errors import ElnError, mask
from eln_msc_plugin.pipeline import Engine, build_engine
from eln_msc_plugin.progress import Progress

log = logging.getLogger("eln_msc_plugin.backfill")


@dataclass
class Summary:
    """What a run did: records by status and verdict, failures, requests and writes sent, time taken."""

    statuses: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    failed: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    writes: int = 0
    seconds: float = 0.0
    unreached: int = 0
    seen: set[str] = field(default_factory=set)

    @property
    def records(self) -> int:
        return sum(self.statuses.values())

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.records, "statuses": dict(self.statuses), "verdicts": dict(self.verdicts),
                "failed": len(self.failed), "requests": self.requests, "writes": self.writes,
                "seconds": round(self.seconds, 3), "unreached": self.unreached}


def settled(row: dict[str, Any] | None, ref: RecordRef, sha256: str) -> bool:
    """The state says this record was settled at exactly this modification stamp, with these rules."""
    return bool(row and row["status"] in DONE and row["ruleset_sha256"] == sha256 and ref.modified_at
                and row["settled_modified"] == ref.modified_at)


def restored(outcome: Outcome) -> str:
    """The outcome's status, "restored" for an annotation that put back a verdict someone else had set."""
    altered = outcome.annotation is not None and outcome.annotation.altered
    return "restored" if outcome.status == "annotated" and altered else outcome.status


class Backfill:
    """One run: a producer (the listing) on the calling thread, `workers` judging threads, one adapter each."""

    def __init__(self, options: Options, state: State, engine: Engine, progress: Progress, spec: AdapterSpec) -> None:
        self.options, self.state, self.engine, self.progress, self.spec = options, state, engine, progress, spec
        self.meter = Meter(options.rate)
        self.summary = Summary()
        self.queue: queue.Queue[RecordRef | None] = queue.Queue(maxsize=options.workers * 4)
        self._lock = threading.Lock()

    def adapter(self) -> ElnAdapter:
        o = self.options
        return self.spec.create(AdapterConfig(o.url, o.token, o.adapter_options, meter=self.meter))

    def run(self) -> Summary:
        started = time.monotonic()
        main = self.adapter()
        main.account()  # a refused token fails the run here, before any thread starts
        query = ChangeQuery(self.options.filters, self.options.since, self.options.per_page, self.options.max_pages,
                            settle=self.queue.join)
        changes = main.changes(query)
        threads = [threading.Thread(target=self._work, daemon=True, name=f"backfill-{i}")
                   for i in range(self.options.workers)]
        for thread in threads:
            thread.start()
        try:
            self._produce(changes)
            self.queue.join()
        finally:
            for _ in threads:
                self.queue.put(None)
            for thread in threads:
                thread.join()
            main.close()
        self.summary.unreached = changes.unreached()
        self.summary.requests, self.summary.writes = self.meter.counters.requests, self.meter.counters.writes
        self.summary.seconds = time.monotonic() - started
        return self.summary

    def _produce(self, changes: Changes) -> None:
        sha = self.engine.ruleset.sha256
        for ref in changes:
            if self.progress.total is None and changes.total is not None:
                self.progress.total = -(-changes.total // self.options.shard.count)
            if ref.id in self.summary.seen or not self.options.shard.holds(ref.id):
                continue
            self.summary.seen.add(ref.id)
            row = self.state.get(ref.id)
            if settled(row, ref, sha):
                self._count(ref.id, "unchanged", row["verdict"] if row else None)
            else:
                self.queue.put(ref)

    def _count(self, record_id: str, status: str, verdict: str | None, error: str | None = None) -> None:
        with self._lock:
            self.summary.statuses[status] += 1
            if verdict and status != "failed":
                self.summary.verdicts[verdict] += 1
            if error is not None:
                self.summary.failed[record_id] = error
        self.progress.add(status, verdict if status != "failed" else None)

    def _work(self) -> None:
        adapter = self.adapter()
        try:
            while (ref := self.queue.get()) is not None:
                try:
                    self._judge(adapter, ref)
                except Exception as error:  # one record must not end the run
                    # an exception of another library may quote the server's answer: masked like our own errors
                    self.state.fail(ref.id, mask(f"{type(error).__name__}: {error}"))
                    self._count(ref.id, "failed", None, mask(str(error)))
                finally:
                    self.queue.task_done()
            self.queue.task_done()
        finally:
            adapter.close()

    def _judge(self, adapter: ElnAdapter, ref: RecordRef) -> None:
        self.state.start(ref.id)
        outcome = self._attempts(adapter, ref)
        row = outcome_row(ref, outcome)
        status = restored(outcome)
        settled_at = ref.modified_at if status == "unchanged" else outcome.modified_at
        self.state.finish(ref.id, status, outcome.judged_revision, outcome.verdict,
                          self.engine.ruleset.sha256, row, settled_at if status in DONE else None)
        self._count(ref.id, status, outcome.verdict)

    def _attempts(self, adapter: ElnAdapter, ref: RecordRef) -> Outcome:
        """Judge and annotate, again after a pause when the ELN failed in a way that may pass."""
        for attempt in range(1, self.options.attempts + 1):
            self.state.attempt(ref.id)
            try:
                return judge_and_annotate(adapter, self.engine, ref, dry_run=self.options.dry_run, want_report=True)
            except ElnError as error:
                transient = error.retryable or error.status is None or error.status >= 500
                if not transient or attempt == self.options.attempts:
                    raise
                log.info("record %s: %s; trying again (attempt %d)", ref.id, error, attempt + 1)
                time.sleep(self.options.retry_delay * 2 ** (attempt - 1))
        raise AssertionError("unreachable")


def run_backfill(options: Options, progress: Progress | None = None,
                 spec: AdapterSpec | None = None) -> tuple[Summary, State]:
    """Run a backfill to the end; the caller writes the report from the returned state and closes it."""
    if spec is None:
        from eln_msc_plugin.eln.registry import adapter_spec

        spec = adapter_spec(options.eln)
    engine = build_engine(options.policy)
    state = State(options.state_path)
    parameters = {k: v for k, v in vars(options).items() if k not in ("token",)}
    state.bind(options.scope(), parameters)
    progress = progress or Progress(tty=options.progress)
    summary = Backfill(options, state, engine, progress, spec).run()
    progress.close()
    return summary, state
