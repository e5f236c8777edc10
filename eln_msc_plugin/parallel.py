"""Worker processes for `--jobs N`: standard library only, one pipe per worker.

`concurrent.futures.ProcessPoolExecutor` fails every pending task with `BrokenProcessPool` when one worker
dies, and cannot say which task that worker held. Here each worker has its own pipe, so the parent knows
which unit a dead worker was judging, starts another worker and hands the unit out again.

Workers ignore Ctrl-C (a terminal sends SIGINT to the whole process group): the parent alone decides, and
on Ctrl-C it terminates them, so no worker prints a traceback and none outlives the run. A worker whose
parent has gone (its pipe closed) ends at its next read or write.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

Handler = Callable[[Any], Any]
STOP_S = 5.0  # how long a worker may take to finish when asked to stop


@dataclass(frozen=True)
class Died:
    """A worker ended without answering (killed by a signal, or it ran out of memory)."""

    exitcode: int | None

    def describe(self) -> str:
        code = self.exitcode
        if code is not None and code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit status {code}"


@dataclass(frozen=True)
class Raised:
    """An exception raised in a worker, carried back to be raised again in the parent."""

    error: BaseException


def context() -> Any:
    """fork where it is safe (Linux): workers inherit the engine already built, so each starts in milliseconds."""
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _serve(conn: Connection, setup: Callable[..., Handler], args: tuple[Any, ...],
           inherited: list[Connection]) -> None:
    """A worker: build the handler once, then answer one unit at a time until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    for other in inherited:  # the other workers' pipes, copied by fork: holding them would keep those open
        other.close()
    handle = setup(*args)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        key, unit = message
        try:
            answer = handle(unit)
        except Exception as error:
            answer = Raised(error)
        try:
            conn.send((key, answer))
        except OSError:
            return
        except Exception as error:  # an answer that cannot be pickled
            conn.send((key, Raised(RuntimeError(f"{type(error).__name__}: {error}"))))


class _Worker:
    def __init__(self, ctx: Any, setup: Callable[..., Handler], args: tuple[Any, ...],
                 inherited: list[Connection]) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, setup, args, inherited), daemon=True)
        self.held: deque[tuple[int, Any]] = deque()  # units sent and not answered, the first in progress
        # SIGINT stays blocked from the fork until the worker has set it aside (then it never sees it)
        blocked = hasattr(signal, "pthread_sigmask")
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if blocked else None
        try:
            self.process.start()
        finally:
            if old is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
            child.close()


class Pool:
    """Up to `size` workers, started as needed; units go out in the order submitted.

    Each worker holds up to DEPTH units: the next one waits in its pipe, so a worker never idles while the
    parent is busy writing. Workers judge their units in order, so a worker that dies was judging the
    first unit it held; the others go out again as they were."""

    DEPTH = 2

    def __init__(self, size: int, setup: Callable[..., Handler], args: tuple[Any, ...]) -> None:
        self.ctx = context()
        self.size = size
        self.setup, self.args = setup, args
        self.workers: list[_Worker] = []
        self.backlog: deque[tuple[int, Any]] = deque()

    def submit(self, key: int, unit: Any) -> None:
        self.backlog.append((key, unit))
        self._dispatch()

    def cancel(self, keys: set[int]) -> None:
        """Units no longer wanted: not sent if they have not been (answers to the others are still given)."""
        self.backlog = deque(item for item in self.backlog if item[0] not in keys)

    def busy(self) -> bool:
        return bool(self.backlog) or any(w.held for w in self.workers)

    def _next_worker(self) -> _Worker | None:
        """An idle worker, else a new one, else one with room for another unit."""
        idle = next((w for w in self.workers if not w.held), None)
        if idle is None and len(self.workers) < self.size:
            inherited = [w.conn for w in self.workers] if self.ctx.get_start_method() == "fork" else []
            idle = _Worker(self.ctx, self.setup, self.args, inherited)
            self.workers.append(idle)
        return idle or min((w for w in self.workers if len(w.held) < self.DEPTH), key=lambda w: len(w.held),
                           default=None)

    def _dispatch(self) -> None:
        while self.backlog:
            worker = self._next_worker()
            if worker is None:
                return
            item = self.backlog.popleft()
            try:
                worker.conn.send(item)
            except OSError:  # it died: `wait` counts its death against its first unit, if it held one
                self.backlog.appendleft(item)
                if worker.held:
                    return
                self._drop(worker)
                continue
            worker.held.append(item)

    def wait(self, timeout: float | None = None) -> list[tuple[int, Any]]:
        """Answers (key, answer or `Died`) of workers that answered or died; blocks up to `timeout` for one."""
        busy = [w for w in self.workers if w.held]
        if not busy:
            self._dispatch()
            return []
        ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout)
        events = []
        for worker in busy:
            if worker.conn in ready or worker.process.sentinel in ready:
                event = self._collect(worker)
                if event is not None:
                    events.append(event)
        self._dispatch()
        return events

    def _collect(self, worker: _Worker) -> tuple[int, Any] | None:
        """One answer of `worker`; or, once no answer is left in its pipe and it has ended, its death."""
        try:
            if worker.conn.poll():
                key, answer = worker.conn.recv()
                worker.held = deque(item for item in worker.held if item[0] != key)
                return key, answer
        except (EOFError, OSError):
            pass  # it died while answering
        if worker.process.is_alive():
            return None
        self._drop(worker)
        (key, _), *unstarted = worker.held
        self.backlog.extendleft(reversed(unstarted))
        return key, Died(worker.process.exitcode)

    def _drop(self, worker: _Worker) -> None:
        worker.process.join(STOP_S)
        worker.conn.close()
        self.workers.remove(worker)

    def close(self) -> None:
        """Ask every worker to stop, wait for them, and end any that do not."""
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in self.workers:
            worker.process.join(STOP_S)
        self.terminate()

    def terminate(self) -> None:
        """End every worker now (Ctrl-C, or an error in the parent) and wait until each has gone."""
        for worker in self.workers:
            if worker.process.is_alive():
                worker.process.terminate()
        for worker in self.workers:
            worker.process.join(STOP_S)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self.workers.clear()
        self.backlog.clear()
