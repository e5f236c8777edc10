"""A durable local queue of webhook events (SQLite), so a crash or a restart loses no event.

The receiver stores each verified delivery before it answers (`offer`, committed with a full sync);
a duplicate `webhook-id` is refused there, so an event is judged once however often it arrives. Workers
`claim` the oldest event whose resource no other worker holds; claiming also settles the other events
queued for the same resource ("coalesced": they arrived before the claim, so the one read of the
resource that follows sees what they announce). An
event a worker held when the process died is handed out again at the next start (`recover`).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    finished_at REAL,
    outcome TEXT
);
CREATE INDEX IF NOT EXISTS events_status ON events (status, not_before, seq);
CREATE INDEX IF NOT EXISTS events_resource ON events (resource_id, status);
"""
STATUSES = ("queued", "working", "done", "coalesced", "failed")


@dataclass(frozen=True)
class Event:
    seq: int
    webhook_id: str
    event_type: str
    resource_id: str
    body: str
    attempts: int
    coalesced: int = 0  # events of the same resource settled by this claim (the one read covers them)


class EventQueue:
    """One SQLite file; safe to share between the receiver's threads and the workers."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        with self._db() as db:
            db.executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # an answered delivery is on disk, even after a power cut
            self._local.db = db
        return db

    def offer(self, webhook_id: str, event_type: str, resource_id: str, body: str) -> bool:
        """Store a delivery; False when this `webhook-id` was stored before (a replay or duplicate)."""
        cursor = self._db().execute(
            "INSERT OR IGNORE INTO events (webhook_id, event_type, resource_id, body, received_at) "
            "VALUES (?, ?, ?, ?, ?)", (webhook_id, event_type, resource_id, body, time.time()))
        return cursor.rowcount == 1

    def claim(self) -> Event | None:
        """The oldest ready event whose resource no worker holds, marked as being worked; None if none."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT seq, webhook_id, event_type, resource_id, body, attempts FROM events "
                "WHERE status = 'queued' AND not_before <= ? AND resource_id NOT IN "
                "(SELECT resource_id FROM events WHERE status = 'working') ORDER BY seq LIMIT 1",
                (time.time(),)).fetchone()
            if row is None:
                db.execute("COMMIT")
                return None
            event = Event(*row)
            db.execute("UPDATE events SET status = 'working', attempts = attempts + 1 WHERE seq = ?", (event.seq,))
            coalesced = db.execute(
                "UPDATE events SET status = 'coalesced', finished_at = ?, outcome = ? "
                "WHERE resource_id = ? AND status = 'queued' AND seq != ?",
                (time.time(), f"read with event {event.seq}", event.resource_id, event.seq)).rowcount
            db.execute("COMMIT")
            return Event(event.seq, event.webhook_id, event.event_type, event.resource_id, event.body,
                         event.attempts + 1, coalesced)
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def finish(self, seq: int, outcome: str, status: str = "done") -> None:
        self._db().execute("UPDATE events SET status = ?, finished_at = ?, outcome = ? WHERE seq = ?",
                           (status, time.time(), outcome[:500], seq))

    def retry(self, seq: int, outcome: str, delay: float) -> None:
        """Hand the event out again after `delay` seconds (a failure that may pass)."""
        self._db().execute("UPDATE events SET status = 'queued', not_before = ?, outcome = ? WHERE seq = ?",
                           (time.time() + delay, outcome[:500], seq))

    def prune(self, older_than: float) -> int:
        """Forget finished events older than `older_than` seconds; how many. (A replayed `webhook-id` needs
        remembering only while its timestamp is accepted, ±5 minutes; finished events are kept longer as
        a log of what was judged.)"""
        cutoff = time.time() - older_than
        return self._db().execute("DELETE FROM events WHERE status IN ('done', 'coalesced', 'failed') "
                                  "AND finished_at < ?", (cutoff,)).rowcount

    def recover(self) -> int:
        """Events a dead process held go back to the queue; how many."""
        return self._db().execute("UPDATE events SET status = 'queued' WHERE status = 'working'").rowcount

    def counts(self) -> dict[str, int]:
        rows = self._db().execute("SELECT status, COUNT(*) FROM events GROUP BY status").fetchall()
        return {status: 0 for status in STATUSES} | dict(rows)

    def outcomes(self) -> list[tuple[str, str, str, str | None]]:
        """(webhook id, resource id, status, outcome) of every event, in arrival order (for tests and doctor)."""
        return self._db().execute("SELECT webhook_id, resource_id, status, outcome FROM events ORDER BY seq").fetchall()

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
