"""Progress: a one-line bar redrawn with \\r on a terminal, plain log lines otherwise.

The backfill counts records one at a time against the number the ELN listed; `validate` counts blocks of
records against the bytes of its input, which is what it knows before it starts.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from typing import IO

BAR = 24
REDRAW_S = 0.2
LOG_EVERY_S = 10.0


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Counts records as they finish, by status and by verdict, and shows them now and then."""

    def __init__(self, out: IO[str] | None = None, tty: bool | None = None, label: str = "backfill") -> None:
        self.out = out or sys.stderr
        self.tty = self.out.isatty() if tty is None else tty
        self.label = label
        self.total: int | None = None  # records, when known
        self.total_bytes: int | None = None  # bytes of input, when the records are not known
        self.done = 0
        self.read = 0
        self.verdicts: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.started = time.monotonic()
        self._shown = 0.0
        self._drawn = False
        self._lock = threading.Lock()

    def add(self, status: str, verdict: str | None) -> None:
        with self._lock:
            self.done += 1
            self.statuses[status] += 1
            if verdict:
                self.verdicts[verdict] += 1
            self._tick()

    def add_many(self, verdicts: Mapping[str, int], records: int, read: int) -> None:
        """`records` more judged, with their count per verdict, after reading `read` more bytes."""
        with self._lock:
            self.done += records
            self.read += read
            self.verdicts.update(verdicts)
            self._tick()

    def _tick(self) -> None:
        now = time.monotonic()
        if now - self._shown >= (REDRAW_S if self.tty else LOG_EVERY_S):
            self._shown = now
            self._show(now)

    def share(self) -> float | None:
        """How much of the work is done (0 to 1), when the total is known."""
        if self.total:
            return min(self.done / self.total, 1.0)
        if self.total_bytes:
            return min(self.read / self.total_bytes, 1.0)
        return None

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.started, 1e-6)
        rate = self.done / elapsed
        total = f"/{self.total}" if self.total is not None else ""
        share = self.share()
        eta = ""
        if share and rate > 0:
            eta = f" ETA {_clock(elapsed * (1 - share) / share)}"
        counts = " ".join(f"{v} {self.verdicts[v]}" for v in ("pass", "warn", "fail", "error"))
        failed = f" failed {self.statuses['failed']}" if self.statuses["failed"] else ""
        return f"{self.done}{total} {rate:.1f} rec/s{eta}  {counts}{failed}"

    def _show(self, now: float) -> None:
        if self.tty:
            filled = int((self.share() or 0.0) * BAR)
            self.out.write(f"\r[{'#' * filled}{'.' * (BAR - filled)}] {self.line(now)}\033[K")
            self._drawn = True
        else:
            self.out.write(f"{self.label}: {self.line(now)}\n")
        self.out.flush()

    def clear(self) -> None:
        """Take the bar off its line, so that other output written to the same terminal starts clean."""
        with self._lock:
            if self._drawn:
                self.out.write("\r\033[K")
                self.out.flush()
                self._drawn = False
                self._shown = 0.0  # drawn again at the next count

    def close(self) -> None:
        with self._lock:
            self._show(time.monotonic())
            if self.tty:
                self.out.write("\n")
            self.out.flush()
