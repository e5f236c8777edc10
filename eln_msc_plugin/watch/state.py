"""The watcher's memory in a local SQLite file (WAL, like the backfill's): a process killed at any moment
(SIGKILL included) restarts where it was, skipping nothing and writing nothing twice.

- `records`: per record, the change it last settled (`fingerprint`: the ELN's stamp and who changed it,
  as the listing showed it) and how (annotated, unchanged, own write, skipped …), or that it is still
  open (`pending`: seen, waiting for its quiet period; `failed`: the ELN refused or did not answer).
  `recheck` marks a record whose last write was "stale" (someone saved while the plugin wrote): its next
  change is read, never taken for the plugin's own write, until it is settled otherwise.
- `run`: which ELN and filters the file belongs to (another scope is refused) and the cursor: the
  stamp below which every change has been settled. Each poll lists from a little before the cursor; the
  cursor moves only when a poll ends with nothing it could have missed, and never past an open record.

The file only saves requests: a record settled here is still checked on the ELN when its listing
changes, and the adapter recognises an annotation already in place, so a lost or stale file costs
reads, never a second annotation.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

from eln_msc_plugin.backfill.state import open_state_file
from eln_msc_plugin.errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS run (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    verdict TEXT,
    modified_at TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    recheck INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
"""
OPEN = ("pending", "failed")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class WatchState:
    """One connection, one lock; every change is committed at once (autocommit)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = open_state_file(path, SCHEMA, "watch state file")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def bind(self, scope: dict[str, Any]) -> None:
        """Tie the file to one ELN and filter set; refuse a file that belongs to another."""
        text = json.dumps(scope, sort_keys=True, default=str)
        with self._lock:
            found = self._db.execute("SELECT value FROM run WHERE key='scope'").fetchone()
            if found and found[0] != text:
                raise ConfigError(f"the state file {self.path} belongs to another watch ({found[0]}); "
                                  "use one --state file per ELN and filter set")
            self._db.execute("INSERT OR REPLACE INTO run VALUES ('scope', ?)", (text,))

    def cursor(self) -> str | None:
        with self._lock:
            found = self._db.execute("SELECT value FROM run WHERE key='cursor'").fetchone()
        return str(found[0]) if found else None

    def set_cursor(self, stamp: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO run VALUES ('cursor', ?)", (stamp,))

    def fingerprint(self, record_id: str) -> tuple[str, str, bool] | None:
        """The fingerprint a record was last seen or settled at, its status, and whether it must be re-read."""
        with self._lock:
            found = self._db.execute("SELECT fingerprint, status, recheck FROM records WHERE id=?",
                                     (record_id,)).fetchone()
        return (str(found[0]), str(found[1]), bool(found[2])) if found else None

    def settle(self, record_id: str, fingerprint: str, status: str, verdict: str | None,
               modified_at: str | None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO records (id, fingerprint, status, verdict, modified_at, error, attempts, recheck, "
                "updated_at) VALUES (?, ?, ?, ?, ?, NULL, 0, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "fingerprint=excluded.fingerprint, status=excluded.status, "
                "verdict=COALESCE(excluded.verdict, records.verdict), modified_at=excluded.modified_at, error=NULL, "
                "attempts=0, recheck=excluded.recheck, updated_at=excluded.updated_at",
                (record_id, fingerprint, status, verdict, modified_at, int(status == "stale"), _now()))

    def hold(self, record_id: str, fingerprint: str, modified_at: str | None, error: str | None = None) -> None:
        """A record seen but not settled: waiting for its quiet period, or failed (`error`) and tried again.
        A `recheck` mark stays."""
        status = "failed" if error else "pending"
        with self._lock:
            self._db.execute(
                "INSERT INTO records (id, fingerprint, status, modified_at, error, attempts, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET fingerprint=excluded.fingerprint, "
                "status=excluded.status, modified_at=excluded.modified_at, error=excluded.error, "
                "attempts=records.attempts + excluded.attempts, updated_at=excluded.updated_at",
                (record_id, fingerprint, status, modified_at, error and error[:500], 1 if error else 0, _now()))

    def open_records(self) -> list[tuple[str, str | None]]:
        """Records still to settle, with their stamps (the cursor never moves past them)."""
        with self._lock:
            found = self._db.execute("SELECT id, modified_at FROM records WHERE status IN (?, ?)", OPEN).fetchall()
        return [(str(r[0]), r[1]) for r in found]

    def counts(self) -> dict[str, int]:
        with self._lock:
            found = self._db.execute("SELECT status, COUNT(*) FROM records GROUP BY status").fetchall()
        return {str(s): int(n) for s, n in found}
