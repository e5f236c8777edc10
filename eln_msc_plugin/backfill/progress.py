"""Progress: a one-line bar redrawn with \\r on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from typing import IO

BAR = 24
REDRAW_S = 0.2
LOG_EVERY_S = 10.0


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Counts records as they finish, by status and by verdict, and shows them now and then."""

    def __init__(self, out: IO[str] | None = None, tty: bool | None = None) -> None:
        self.out = out or sys.stderr
        self.tty = self.out.isatty() if tty is None else tty
        self.total: int | None = None
        self.done = 0
        self.verdicts: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.started = time.monotonic()
        self._shown = 0.0
        self._lock = threading.Lock()

    def add(self, status: str, verdict: str | None) -> None:
        with self._lock:
            self.done += 1
            self.statuses[status] += 1
            if verdict:
                self.verdicts[verdict] += 1
            now = time.monotonic()
            if now - self._shown >= (REDRAW_S if self.tty else LOG_EVERY_S):
                self._shown = now
                self._show(now)

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.started, 1e-6)
        rate = self.done / elapsed
        total = f"/{self.total}" if self.total is not None else ""
        eta = ""
        if self.total and rate > 0:
            eta = f" ETA {_clock(max(self.total - self.done, 0) / rate)}"
        counts = " ".join(f"{v} {self.verdicts[v]}" for v in ("pass", "warn", "fail", "error"))
        failed = f" failed {self.statuses['failed']}" if self.statuses["failed"] else ""
        return f"{self.done}{total} {rate:.1f} rec/s{eta}  {counts}{failed}"

    def _show(self, now: float) -> None:
        if self.tty:
            share = min(self.done / self.total, 1.0) if self.total else 0.0
            filled = int(share * BAR)
            self.out.write(f"\r[{'#' * filled}{'.' * (BAR - filled)}] {self.line(now)}\033[K")
        else:
            self.out.write(f"backfill: {self.line(now)}\n")
        self.out.flush()

    def close(self) -> None:
        with self._lock:
            self._show(time.monotonic())
            if self.tty:
                self.out.write("\n")
            self.out.flush()
