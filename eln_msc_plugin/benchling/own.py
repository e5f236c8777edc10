"""The app's own writes it has not yet seen announced, so their events are recognised without a read.

Benchling's webhook messages say which properties changed, not who changed them. When the app PATCHes
its QC fields it notes which fields it wrote and which of them it changed; the next event of that batch
naming exactly either set is that write's event, and is settled without a request. Each write is
claimed by one event only, so a person's later edit of the same fields (a second event) is still read
and judged. What the app forgot (a restart, a write older than `KEEP` seconds) costs one read, as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

KEEP = 3600.0  # seconds a noted write waits for its event; Benchling delivers within minutes, retries within an hour


def changed_fields(message: Mapping[str, Any]) -> set[str | None]:
    """The field names an event's `updates` (v2) or `properties` (v3) list; None for any change that is not
    a field (a name, a folder), which no app write makes."""
    changed = message.get("updates") or message.get("properties") or []
    return {str(c).removeprefix("fields.") if str(c).startswith("fields.") else None for c in changed}


class OwnWrites:
    """Thread-safe: the batch's written field sets, newest last, each waiting for its one event."""

    def __init__(self, keep: float = KEEP, clock: Callable[[], float] = time.monotonic) -> None:
        self.keep, self.clock = keep, clock
        self._lock = threading.Lock()
        self._pruned = clock()
        self._pending: dict[str, list[tuple[float, frozenset[str], frozenset[str]]]] = {}

    def note(self, resource_id: str, written: frozenset[str], changed: frozenset[str]) -> None:
        """The app wrote `written` on the batch, of which `changed` took a new value."""
        now = self.clock()
        with self._lock:
            self._forget(now)
            self._pending.setdefault(resource_id, []).append((now, written, changed))

    def claim(self, resource_id: str, names: frozenset[str]) -> bool:
        """True (once per noted write) when an event naming `names` is a noted write's own event."""
        with self._lock:
            self._forget(self.clock())
            pending = self._pending.get(resource_id, [])
            for i, (_, written, changed) in enumerate(pending):
                if names in (written, changed):
                    del pending[i]
                    return True
        return False

    def _forget(self, now: float) -> None:
        if now - self._pruned < 60:  # a backfill notes a write a batch: prune once a minute, not each time
            return
        self._pruned = now
        for resource_id in [r for r, notes in self._pending.items() if not notes or now - notes[-1][0] > self.keep]:
            del self._pending[resource_id]
        for notes in self._pending.values():
            notes[:] = [n for n in notes if now - n[0] <= self.keep]
