"""`eln-msc watch`: poll an ELN for changed records and judge each one, for ELNs without hooks or webhooks.

A generic host: it knows the adapter protocol only (changes → is_own_write → judge_and_annotate), so any
adapter whose ELN can list its changes can be watched. Each poll lists the changes newest first, from a
little before the cursor (`margin`: stamps written in the same second, slow commits) down, and for each:

- a change already settled (same fingerprint) costs nothing;
- a new change waits `quiet` seconds (seen unchanged for that long) before anything is decided, so a form
  filled in field by field gets one verdict, not one per field, and a stamp of whole seconds cannot hide
  a second change made in the same second as the first (or as the plugin's own write);
- the plugin's own write (`is_own_write`, asked of the listing after the wait) is settled without a
  request: the watch never reacts to its own writes;
- then it is judged once per content (`judge_and_annotate` writes nothing when the annotation in place
  already judged this content) and settled; a failure is logged and tried again at the next poll.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eln_msc_plugin.eln.base import ChangeQuery, ElnAdapter, RecordRef
from eln_msc_plugin.eln.judge import Outcome, judge_and_annotate
from eln_msc_plugin.errors import ConfigError, ElnError
from eln_msc_plugin.pipeline import Engine
from eln_msc_plugin.watch.state import OPEN, WatchState

log = logging.getLogger("eln_msc_plugin.watch")


@dataclass
class WatchOptions:
    interval: float = 30.0  # seconds between polls
    quiet: float = 10.0  # a change is judged once seen unchanged this long
    margin: float = 300.0  # each poll lists this far below the cursor
    page_size: int = 100
    dry_run: bool = False
    since: dt.datetime | None = None  # where the very first poll starts (None: from the beginning)
    filters: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class PollSummary:
    listed: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    reads: int = 0
    writes: int = 0
    waiting: int = 0
    complete: bool = True


def parse_stamp(text: str | None) -> dt.datetime | None:
    """An ELN modification stamp (ISO 8601; a stamp without a zone is read as UTC)."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def fingerprint(ref: RecordRef) -> str:
    return f"{ref.modified_at or ''}|{ref.revision or ''}|{ref.modified_by or ''}"


class Watcher:
    """Polls one adapter; `run` until `stop` is set (SIGTERM, Ctrl-C), finishing the record in hand."""

    def __init__(self, adapter: ElnAdapter, engine: Engine, state: WatchState, options: WatchOptions,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.adapter, self.engine, self.state, self.options, self.clock = adapter, engine, state, options, clock
        self.waiting: dict[str, tuple[str, float]] = {}  # record → (fingerprint, when first seen so)
        self.stop = threading.Event()

    def run(self, polls: int | None = None) -> None:
        done = 0
        while not self.stop.is_set() and (polls is None or done < polls):
            try:
                summary = self.poll()
            except ElnError as error:
                log.warning("poll failed: %s; trying again in %.0f s", error, self.options.interval)
                summary = PollSummary(complete=False)
            except ConfigError:
                raise  # a filter that names nothing: the watch cannot go on
            except Exception as error:  # anything else (a full disk, a bug): say so, keep the service up
                log.error("poll failed: %s: %s; trying again in %.0f s", type(error).__name__, error,
                          self.options.interval)
                summary = PollSummary(complete=False)
            done += 1
            self.stop.wait(self._pause(summary))

    def _pause(self, summary: PollSummary) -> float:
        """The interval, or sooner when a change waits out its quiet period."""
        now = self.clock()
        due = [seen + self.options.quiet - now for _, seen in self.waiting.values()]
        return max(0.05, min([self.options.interval, *due]))

    def poll(self) -> PollSummary:
        """One walk over the changes since the cursor; the cursor moves only when nothing could be missed."""
        cursor = parse_stamp(self.state.cursor())
        since = cursor - dt.timedelta(seconds=self.options.margin) if cursor else self.options.since
        before = self.adapter.tally.snapshot()
        changes = self.adapter.changes(ChangeQuery(self.options.filters, since, self.options.page_size))
        summary, newest, listed = PollSummary(), None, set()
        for ref in changes:
            if self.stop.is_set():
                summary.complete = False
                break
            listed.add(ref.id)
            stamp = parse_stamp(ref.modified_at)
            newest = stamp if newest is None or (stamp is not None and stamp > newest) else newest
            summary.statuses[self._consider(ref)] += 1
        summary.complete = summary.complete and changes.unreached() == 0
        summary.listed, summary.waiting = len(listed), len(self.waiting)
        if summary.complete:
            self._forget_gone(listed, since)
            self._advance(cursor, newest)
        reads, writes = self.adapter.tally.snapshot()
        summary.reads, summary.writes = reads - before[0], writes - before[1]
        return summary

    def _advance(self, cursor: dt.datetime | None, newest: dt.datetime | None) -> None:
        """Move the cursor to the newest stamp listed, never past a record still open."""
        stamps = [parse_stamp(stamp) for _, stamp in self.state.open_records()]
        mark = min([s for s in [newest, *stamps] if s is not None], default=None)
        if mark is not None and (cursor is None or mark > cursor):
            self.state.set_cursor(mark.isoformat())

    def _forget_gone(self, listed: set[str], since: dt.datetime | None) -> None:
        """An open record the whole walk no longer listed was deleted or left the filter: it holds nothing up."""
        for record_id, stamp in self.state.open_records():
            moment = parse_stamp(stamp)
            if record_id not in listed and (since is None or (moment is not None and moment >= since)):
                self.state.settle(record_id, "", "gone", None, stamp)
                self.waiting.pop(record_id, None)

    def _consider(self, ref: RecordRef) -> str:
        """What this poll does with one listed change; returns what happened, for the summary."""
        print_ = fingerprint(ref)
        known = self.state.fingerprint(ref.id)
        if known is not None and known[0] == print_ and known[1] not in OPEN:
            return "settled"
        first = self.waiting.get(ref.id)
        now = self.clock()
        if first is None or first[0] != print_:
            self.waiting[ref.id] = (print_, now)
            self.state.hold(ref.id, print_, ref.modified_at)
            if self.options.quiet > 0:
                return "waiting"
        elif now - first[1] < self.options.quiet:
            return "waiting"
        # asked of the listing as it is now, after the quiet period; not after a "stale" write (someone saved
        # while the plugin wrote: the listing may credit the plugin with their change)
        if not (known is not None and known[2]) and self.adapter.is_own_write(ref):
            self.waiting.pop(ref.id, None)
            self.state.settle(ref.id, print_, "own-write", None, ref.modified_at)
            log.debug("%s: the plugin's own write", ref.id)
            return "own-write"
        return self._judge(ref, print_)

    def _judge(self, ref: RecordRef, print_: str) -> str:
        try:
            outcome = judge_and_annotate(self.adapter, self.engine, ref, dry_run=self.options.dry_run)
        except ElnError as error:
            self.state.hold(ref.id, print_, ref.modified_at, str(error))
            log.warning("%s: not judged: %s; trying again at the next poll", _name(ref), error)
            return "failed"
        except Exception as error:  # one record must not stop the watch
            self.state.hold(ref.id, print_, ref.modified_at, f"{type(error).__name__}: {error}")
            log.error("%s: not judged: %s: %s; trying again at the next poll", _name(ref), type(error).__name__, error)
            return "failed"
        self.waiting.pop(ref.id, None)
        self.state.settle(ref.id, print_, outcome.status, outcome.verdict, ref.modified_at)
        log.info("%s", line(outcome))
        return outcome.status


def _name(ref: RecordRef) -> str:
    return f"{ref.id} ({ref.title})" if ref.title and ref.title != ref.id else ref.id


def line(outcome: Outcome) -> str:
    """One log line per judged record: which, the verdict, what was done and what it cost."""
    verdict = outcome.verdict or "-"
    detail = f": {outcome.detail}" if outcome.detail else ""
    return (f"{_name(outcome.ref)}: {verdict} ({outcome.status}; {outcome.reads} reads, {outcome.writes} writes)"
            f"{detail}")
