"""The small pool that works the event queue: each worker claims an event, hands it to the judge, settles it.

A failure that may pass (Benchling unreachable, rate limited, a 5xx) puts the event back with a growing
delay, up to `attempts`; any other failure marks it failed with the reason (logged, never raised). The
pool stops cleanly: a worker finishes the event in hand, and an event in hand when the process dies
is handed out again at the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from eln_msc_plugin.benchling.queue import Event, EventQueue
from eln_msc_plugin.errors import ElnError, ElnMscError

log = logging.getLogger("eln_msc_plugin.benchling.workers")
Handler = Callable[[Event], str]  # returns a one-line outcome ("annotated: fail", "own write", ...)
KEEP = 7 * 86400.0  # finished events are kept a week, as a log of what was judged


class WorkerPool:
    def __init__(self, queue: EventQueue, handler: Handler, *, workers: int = 2, attempts: int = 5,
                 idle: float = 0.2, backoff: float = 5.0, keep: float = KEEP) -> None:
        self.queue, self.handler = queue, handler
        self.size, self.attempts, self.idle, self.backoff, self.keep = workers, attempts, idle, backoff, keep
        self._pruned = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> WorkerPool:
        recovered = self.queue.recover()
        if recovered:
            log.info("%d event(s) held by a stopped process are queued again", recovered)
        for i in range(self.size):
            thread = threading.Thread(target=self._run, name=f"benchling-worker-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def alive(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    def wake(self) -> None:
        """A new event is queued: do not wait for the idle poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                event = self.queue.claim()
            except Exception:
                log.exception("cannot read the event queue")
                event = None
            if event is None:
                self._tidy()
                self._wake.wait(self.idle)
                self._wake.clear()
                continue
            self._work(event)

    def _tidy(self) -> None:
        """Once an hour, when idle, forget events finished longer ago than `keep`."""
        now = time.monotonic()
        if now - self._pruned < 3600:
            return
        self._pruned = now
        try:
            removed = self.queue.prune(self.keep)
        except Exception:
            log.exception("cannot prune the event queue")
            return
        if removed:
            log.info("forgot %d event(s) finished more than %.0f days ago", removed, self.keep / 86400)

    def _work(self, event: Event) -> None:
        try:
            outcome = self.handler(event)
        except ElnError as error:
            if error.retryable and event.attempts < self.attempts:
                delay = self.backoff * 2 ** (event.attempts - 1)
                log.warning("event %s for %s: %s; trying again in %.0f s", event.seq, event.resource_id, error, delay)
                self.queue.retry(event.seq, str(error), delay)
            else:
                log.error("event %s for %s failed: %s", event.seq, event.resource_id, error)
                self.queue.finish(event.seq, str(error), "failed")
            return
        except ElnMscError as error:
            log.error("event %s for %s failed: %s", event.seq, event.resource_id, error)
            self.queue.finish(event.seq, str(error), "failed")
            return
        except Exception as error:  # a bug must not stop the worker; the event says what happened
            log.exception("event %s for %s failed", event.seq, event.resource_id)
            self.queue.finish(event.seq, f"{type(error).__name__}: {error}", "failed")
            return
        self.queue.finish(event.seq, outcome)
