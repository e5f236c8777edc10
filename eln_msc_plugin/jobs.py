"""`--jobs N`: judge the inputs in N worker processes and write the reports in order, as one process would.

The inputs are cut into units (`chunks.py`), and at most `WINDOW_PER_JOB * N` units are out at a time, so
memory stays flat whatever the size of the input. Units are written in the order they were cut. A chunk is
written only once it is known to have been cut where its parser expects (it ended there, and holds the
records counted for it); if not, the rest of its file is read here from the start, the records already
written read past, so the output is still the one `--jobs 1` writes.

A worker that dies (killed, out of memory) is reported on standard error and its unit judged again by a new
worker; if that one dies too, the unit's records are reported as `error` records that say so.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from eln_msc_plugin.chunks import Task, Unit, plan
from eln_msc_plugin.parallel import Died, Pool, Raised, context
from eln_msc_plugin.pipeline import Engine, build_engine
from eln_msc_plugin.progress import Progress
from eln_msc_plugin.reading import Renderer, run_task, unreadable
from eln_msc_plugin.sources import Input

CHUNK_BYTES = 2 << 20  # a chunk's input at most; a file this small is not cut
WINDOW_PER_JOB = 2
ATTEMPTS = 2  # tries of a unit whose worker dies
RendererFactory = tuple[Callable[..., Renderer], tuple[Any, ...]]  # (make(ruleset, *args), args): picklable


def usable_cpus() -> int:
    """The CPUs this process may run on (the default of `--jobs`)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number, 1 or more")
    return value


def add_jobs_option(parser: argparse.ArgumentParser, what: str) -> None:
    """`--jobs N` (and, for tests, the size of a chunk), shared by `validate` and `backfill --source`."""
    parser.add_argument("--jobs", type=_jobs, metavar="N", help=f"processes that judge {what} "
                        "(default: the usable CPUs; 1: this process alone; the output is the same)")
    parser.add_argument("--chunk-bytes", type=_jobs, default=CHUNK_BYTES, help=argparse.SUPPRESS)


class Sink(Protocol):
    """Where rendered reports go, in order: a writer of the output format, or the rows of a report."""

    def add(self, payload: Any, counts: Counter[str], reports: int) -> None: ...


@dataclass
class Outcome:
    """What a worker made of a unit: its reports rendered, their count per verdict, and the checks' facts."""

    payload: Any
    counts: Counter[str]
    reports: int
    read: int
    clean: bool


class Judge:
    """A worker's state: the engine and the renderer, built once; judges one unit at a time."""

    def __init__(self, engine: Engine, renderer: Renderer) -> None:
        self.engine, self.renderer = engine, renderer

    def __call__(self, unit: Unit) -> Outcome:
        payloads: list[Any] = []
        outcome = Outcome(None, Counter(), 0, 0, True)

        def emit(payload: Any, counts: Counter[str], reports: int, read: int) -> None:
            if reports:
                payloads.append(payload)
                outcome.counts.update(counts)
            outcome.read += read

        for task in unit.tasks:
            reports, clean = run_task(task, self.engine, self.renderer, emit)
            outcome.reports += reports
            outcome.clean = outcome.clean and clean
        outcome.payload = self.renderer.join(payloads)
        return outcome


def _setup(engine: Engine | None, policy: str | None, factory: RendererFactory) -> Judge:
    """In a new worker: the engine inherited from the parent (fork), else built again (spawn)."""
    engine = engine or build_engine(policy)
    return Judge(engine, factory[0](engine.ruleset, *factory[1]))


def own_parsers(engine: Engine) -> bool:
    """True when only this package's parsers read documents: a third-party parser may read a file in a way
    the cutting does not know, so then files are read whole."""
    impls = engine.pm.hook.eln_msc_parse_document.get_hookimpls()
    return all(getattr(i.plugin, "__name__", type(i.plugin).__module__).startswith("eln_msc_plugin.")
               for i in impls)


@dataclass
class Settings:
    jobs: int
    policy: str | None = None
    chunk_bytes: int = CHUNK_BYTES


def judge_inputs(inputs: list[Input], engine: Engine, factory: RendererFactory, sink: Sink, settings: Settings,
                 progress: Progress | None = None) -> None:
    """Judge every input and hand the rendered reports to `sink`, in input order, whatever `settings.jobs`."""
    run = _Run(engine, factory, sink, settings, progress)
    total = sum(item.size or 0 for item in inputs)
    if settings.jobs <= 1 or total <= settings.chunk_bytes:
        for item in inputs:
            run.here(Task(item.source, item.path, item.media_type, problem=item.problem, size=item.size or 0))
    else:
        run.spread(inputs)


@dataclass
class _Entry:
    key: int
    unit: Unit
    answer: Any = None  # Outcome, Died or Raised once back
    attempts: int = 1


class _Run:
    def __init__(self, engine: Engine, factory: RendererFactory, sink: Sink, settings: Settings,
                 progress: Progress | None) -> None:
        self.engine, self.factory, self.sink, self.settings, self.progress = engine, factory, sink, settings, progress
        self.renderer = factory[0](engine.ruleset, *factory[1])
        self.queue: deque[_Entry] = deque()  # units in output order, from the oldest not yet written
        self.out: dict[int, _Entry] = {}  # the queued units handed to workers, by key
        self.written: Counter[str] = Counter()  # reports written per cut file
        self.abandoned: set[str] = set()  # files read here from the start after a chunk did not fit

    def add(self, payload: Any, counts: Counter[str], reports: int, read: int) -> None:
        if reports:
            self.sink.add(payload, counts, reports)
        if self.progress is not None:
            self.progress.add_many(counts, reports, read)

    def here(self, task: Task) -> int:
        """Judge a task in this process, writing as it goes; the number of reports."""
        return run_task(task, self.engine, self.renderer, self.add, self.progress is not None)[0]

    def spread(self, inputs: list[Input]) -> None:
        inherit = self.engine if context().get_start_method() == "fork" else None
        self.pool = Pool(self.settings.jobs, _setup, (inherit, self.settings.policy, self.factory))
        units = plan(inputs, own_parsers(self.engine), self.settings.chunk_bytes, self.abandoned)
        try:
            self._loop(units)
        except BaseException:
            self.pool.terminate()  # Ctrl-C or an error: no worker outlives the run
            raise
        self.pool.close()

    def _loop(self, units: Iterator[Unit]) -> None:
        window = WINDOW_PER_JOB * self.settings.jobs
        keys = itertools.count()
        more = True
        while True:
            while more and len(self.out) < window:
                unit = next(units, None)
                more = unit is not None
                if unit is not None:
                    entry = _Entry(next(keys), unit)
                    self.queue.append(entry)
                    if unit.remote:
                        self.out[entry.key] = entry
                        self.pool.submit(entry.key, unit)
            if not self.queue:
                return
            head = self.queue[0]
            waiting = head.unit.remote and head.answer is None
            # take every answer that is ready, so no worker waits on its pipe while this process writes
            for key, answer in self.pool.wait(None if waiting else 0):
                self._answer(key, answer)
            if waiting:
                continue
            self.queue.popleft()
            self.out.pop(head.key, None)
            self._write(head)

    def _answer(self, key: int, answer: Any) -> None:
        entry = self.out.get(key)
        if entry is None:
            return  # a chunk of a file now read here
        if isinstance(answer, Died):
            where = _describe(entry.unit)
            if entry.attempts < ATTEMPTS:
                entry.attempts += 1
                _warn(f"a worker process ended ({answer.describe()}) while judging {where}; judging them again")
                self.pool.submit(key, entry.unit)
                return
            _warn(f"a worker process ended again ({answer.describe()}) while judging {where}; "
                  "they are reported as errors")
        entry.answer = answer

    def _write(self, entry: _Entry) -> None:
        unit, answer = entry.unit, entry.answer
        if not unit.remote:
            for task in unit.tasks:
                self.here(task)
        elif isinstance(answer, Raised):
            raise answer.error
        elif isinstance(answer, Died):
            self._lost(unit, answer)
        elif unit.file is not None and not _fits(unit.tasks[0], answer):
            self._read_rest(unit.tasks[0])
        else:
            self.add(answer.payload, answer.counts, answer.reports, answer.read)
            if unit.file is not None:
                self.written[unit.file] += answer.reports

    def _read_rest(self, task: Task) -> None:
        """A chunk that did not fit: its file from the start, here, past the reports already written."""
        path = task.path or ""
        self.abandoned.add(path)
        dropped = [e for e in self.queue if e.unit.file == path]
        for entry in dropped:
            self.queue.remove(entry)
            self.out.pop(entry.key, None)
        self.pool.cancel({e.key for e in dropped})
        self.here(Task(task.source, path, task.media_type, skip=self.written[path]))

    def _lost(self, unit: Unit, died: Died) -> None:
        for task in unit.tasks:
            what = f"records from #{task.index}" if task.kind != "file" else "this file"
            message = (f"not judged: the worker process reading {what} ended unexpectedly twice "
                       f"({died.describe()})")
            reports = list(self.engine.judge([unreadable(task, message, task.index)]))
            self.add(self.renderer.block(reports), Counter(r.verdict for r in reports), len(reports), task.size)
            if task.path is not None and task.kind != "file":
                self.written[task.path] += task.expected or 1


def _fits(task: Task, outcome: Outcome) -> bool:
    """A chunk ended where it was cut and holds the records counted for it (the last one ends its file)."""
    return (task.last or outcome.clean) and (task.expected is None or task.last or outcome.reports == task.expected)


def _describe(unit: Unit) -> str:
    first = unit.tasks[0]
    if first.kind != "file":
        return f"{first.source} (records from #{first.index})"
    return first.source if len(unit.tasks) == 1 else f"{len(unit.tasks)} files from {first.source}"


def _warn(message: str) -> None:
    print(f"eln-msc: {message}", file=sys.stderr, flush=True)
