"""What a backfill run is asked to do (parsed from the command line, or built by a test)."""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eln_msc_plugin.errors import ConfigError

PER_PAGE = 100
MAX_PAGES = 100


@dataclass(frozen=True)
class Shard:
    """Share K of N (1-based K): the records whose id % N == K - 1 (a non-numeric id by its CRC-32)."""

    index: int = 1
    count: int = 1

    def holds(self, record_id: str | int) -> bool:
        text = str(record_id)
        number = int(text) if text.isdigit() else zlib.crc32(text.encode("utf-8"))
        return number % self.count == self.index - 1

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


@dataclass
class Options:
    """`eln` names the adapter; `adapter_options` are its own option values, `filters` those that select
    records (part of the scope a state file belongs to)."""

    eln: str
    url: str
    token: Any  # eln_msc_plugin.eln.auth.Token
    adapter_options: dict[str, Any] = field(default_factory=dict)
    filters: dict[str, Any] = field(default_factory=dict)
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

    def scope(self) -> dict[str, Any]:
        """What a state file belongs to: resuming with another scope would mix two backfills.

        The URL is left out on purpose: the same ELN may be reached through another name or a proxy.
        """
        return {"eln": self.eln, **self.filters, "shard": str(self.shard)}
