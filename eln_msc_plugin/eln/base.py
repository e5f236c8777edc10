"""What an ELN adapter provides, so hosts (on-save, backfill, doctor) stay the same from one ELN to the next.

Kadi4Mat is the first adapter (`eln_msc_plugin.eln.kadi.KadiClient`). An eLabFTW or Benchling adapter
implements the same shape over that ELN's API, with an `ElnSession` (eln/http.py) for its HTTP policy,
a parser plugin for its native record shape (like `kadi/extras.py` for Kadi extras) and an annotation
sink plugin for its targets (like `kadi/sink.py`); the pipeline does not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ElnClient(Protocol):
    """The operations every ELN adapter offers the hosts."""

    name: str
    base_url: str

    def record_url(self, record_id: int) -> str:
        """Where a person views the record (used in reports and annotations)."""
        ...

    def record(self, record_id: int) -> dict[str, Any]:
        """The record as the ELN returns it."""
        ...

    def iter_records(self, per_page: int = 100, collection: int | None = None,
                     **filters: Any) -> Iterator[dict[str, Any]]:
        """Every record, newest modification first."""
        ...

    def files(self, record_id: int) -> list[dict[str, Any]]:
        """The files attached to a record (each with at least `id` and `name`)."""
        ...

    def download(self, record_id: int, file_id: str, limit: int = ...) -> bytes:
        """A file's bytes, refused past `limit`."""
        ...

    def close(self) -> None:
        """Release pooled connections."""
        ...
