"""What a backfill run is asked to do (parsed from the command line, or built by a test)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eln_msc_plugin.errors import ConfigError

# Kadi's listing: at most 100 records per page and 100 pages (`@paginated(page_max=100)`).
PER_PAGE = 100
MAX_PAGES = 100


@dataclass(frozen=True)
class Shard:
    """Share K of N (1-based K): the records whose id % N == K - 1."""

    index: int = 1
    count: int = 1

    def holds(self, record_id: int) -> bool:
        return record_id % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`K/N` with 1 ≤ K ≤ N (1-based, so a Kubernetes index i is shard i+1)."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ConfigError(f"--shard {text!r}: expected K/N, e.g. 1/4") from None
    if not 1 <= k <= n:
        raise ConfigError(f"--shard {text!r}: K must be between 1 and N (shards are numbered from 1)")
    return Shard(k, n)


def parse_since(text: str) -> dt.datetime:
    """An ISO date or date-time; without a zone it is UTC."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--since {text!r}: expected an ISO date such as 2024-01-31 or 2024-01-31T12:00") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def parse_time(text: str) -> dt.datetime:
    """A Kadi timestamp (`2026-01-02T03:04:05.123456+00:00`)."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass
class Options:
    kadi_url: str
    token: Any  # eln_msc_plugin.eln.http.Token
    record_type: str | None = None
    tag: str | None = None
    collection: int | None = None
    since: dt.datetime | None = None
    workers: int = 4
    rate: float | None = None
    dry_run: bool = False
    shard: Shard = field(default_factory=Shard)
    state_path: Path = Path("backfill-state.sqlite")
    report_path: Path | None = None
    policy: str | None = None
    attempts: int = 3
    retry_delay: float = 1.0
    per_page: int = PER_PAGE
    max_pages: int = MAX_PAGES
    progress: bool | None = None  # None: a bar on a terminal, log lines otherwise

    def filters(self) -> dict[str, Any]:
        """The listing's query parameters."""
        found: dict[str, Any] = {}
        if self.record_type:
            found["type"] = self.record_type
        if self.tag:
            found["tag"] = self.tag
        if self.collection is not None:
            found["collection"] = self.collection
        return found

    def scope(self) -> dict[str, Any]:
        """What a state file belongs to: resuming with another scope would mix two backfills.

        The URL is left out on purpose: the same Kadi may be reached through another name or a proxy.
        """
        return {**self.filters(), "shard": str(self.shard)}
