"""The backfill's progress in a local SQLite file, written as it goes, so a killed run resumes.

One row per record (by the adapter's opaque record id): its status, the revision judged, the verdict,
the last error, the attempts, and the report row (findings summary and metrics), so a re-run's report
is complete even for records it skipped. WAL journal with synchronous=NORMAL survives a killed process
(SIGKILL included).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from eln_msc_plugin.errors import ConfigError, mask
from eln_msc_plugin.output import strict_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS run (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    revision TEXT,
    verdict TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    ruleset_sha256 TEXT,
    settled_modified TEXT,
    row TEXT,
    updated_at TEXT NOT NULL
);
"""
DONE = ("annotated", "restored", "unchanged")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def open_state_file(path: Path, schema: str, what: str = "state file") -> sqlite3.Connection:
    """A state file opened for several threads, autocommit, in WAL mode (survives SIGKILL), its tables made."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(schema)
    except (OSError, sqlite3.Error) as error:
        raise ConfigError(f"cannot open the {what} {path}: {error}") from None
    return db


class State:
    """Thread-safe access to one state file (one connection, one lock: writes are tiny)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = open_state_file(path, SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def bind(self, scope: dict[str, Any], parameters: dict[str, Any]) -> None:
        """Tie the file to one backfill's scope (refuse another), and keep the latest run's parameters."""
        with self._lock:
            found = self._db.execute("SELECT value FROM run WHERE key='scope'").fetchone()
            if found and json.loads(found[0]) != scope:
                raise ConfigError(f"the state file {self.path} belongs to another backfill ({found[0]}); "
                                  "use a separate --state file per scope and shard")
            self._db.execute("INSERT OR REPLACE INTO run VALUES ('scope', ?)", (json.dumps(scope, sort_keys=True),))
            self._db.execute("INSERT OR REPLACE INTO run VALUES ('parameters', ?)",
                             (json.dumps({**parameters, "started_at": _now()}, default=str),))

    def get(self, record_id: str | int) -> dict[str, Any] | None:
        with self._lock:
            cursor = self._db.execute("SELECT * FROM records WHERE id=?", (str(record_id),))
            found = cursor.fetchone()
            names = [c[0] for c in cursor.description]
        return dict(zip(names, found, strict=True)) if found else None

    def start(self, record_id: str | int) -> None:
        """Mark a record as being worked on (so a killed run's next run judges it again)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO records (id, status, updated_at) VALUES (?, 'pending', ?) "
                "ON CONFLICT(id) DO UPDATE SET status='pending', updated_at=excluded.updated_at",
                (str(record_id), _now()))

    def attempt(self, record_id: str | int) -> None:
        """Count one more try at judging the record (over every run)."""
        with self._lock:
            self._db.execute("UPDATE records SET attempts=attempts+1 WHERE id=?", (str(record_id),))

    def finish(self, record_id: str | int, status: str, revision: str | None, verdict: str | None, sha256: str | None,
               row: dict[str, Any] | None, settled_modified: str | None = None) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE records SET status=?, revision=?, verdict=?, error=NULL, ruleset_sha256=?, settled_modified=?, "
                "row=COALESCE(?, row), updated_at=? WHERE id=?",
                (status, revision, verdict, sha256, settled_modified, mask(strict_json(row)) if row else None, _now(),
                 str(record_id)))

    def fail(self, record_id: str | int, error: str) -> None:
        with self._lock:
            self._db.execute("UPDATE records SET status='failed', error=?, updated_at=? WHERE id=?",
                             (mask(error)[:500], _now(), str(record_id)))

    def rows(self, ids: set[str] | None = None) -> list[dict[str, Any]]:
        """The report rows (with status, error and attempts), by record id; all when `ids` is None."""
        with self._lock:
            found = self._db.execute(
                "SELECT id, status, revision, verdict, error, attempts, row FROM records "
                "ORDER BY length(id), id").fetchall()
        rows = []
        for rid, status, revision, verdict, error, attempts, row in found:
            if ids is not None and str(rid) not in ids:
                continue
            data = json.loads(row) if row else {"id": rid}
            rows.append({**data, "id": rid, "status": status, "revision": revision,
                         "verdict": verdict,
                         "error": error, "attempts": attempts})
        return rows
