"""Which entries changed: eLabFTW's listing, newest change first, walked page by page.

eLabFTW lists with `limit`/`offset` only, ordered `order=lastchange&sort=desc` (on `modified_at`, then
`id`), pinned entries first whatever their date (src/Params/DisplayParams.php getSql); there is no
modified-since filter and no total. So each entry type (experiments, resources) is walked on its own
until the first unpinned entry modified before `since`, or to the end.

Offsets move under a walk: an entry saved meanwhile jumps to the top (the rest shift down: seen twice,
yielded once); an entry deleted or moved out of the category shifts the rest up, and one could slip
past a page boundary unseen. Pages therefore overlap by one entry; when the overlap does not line up,
the walk reports it (`unreached() == 1`) so a host does not move its cursor past entries it may have
missed, and lists the same range again next time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from eln_msc_plugin.elabftw.client import ElabftwClient
from eln_msc_plugin.eln.base import RecordRef

log = logging.getLogger("eln_msc_plugin.elabftw")
OVERLAP = 1


def parse_stamp(text: Any) -> dt.datetime | None:
    """An eLabFTW timestamp (`2026-08-01 10:00:00`, the server's clock) as an aware datetime, read as UTC.

    Only compared with other eLabFTW stamps and with bounds taken from them, so the server's zone cancels out.
    """
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def to_ref(client: ElabftwClient, entity_type: str, item: dict[str, Any]) -> RecordRef:
    ref = f"{entity_type}/{item['id']}"
    changed_by = item.get("lastchangeby")
    return RecordRef(ref, client.entry_url(ref), str(item.get("modified_at") or "") or None, None,
                     str(changed_by) if changed_by is not None else None, str(item.get("title") or ref),
                     str(item.get("title") or ""), item)


class EntryChanges:
    """The `Changes` of one walk over the listed entry types (each entry once)."""

    total: int | None = None
    cursor: str | None = None

    def __init__(self, client: ElabftwClient, types: dict[str, str | None], since: dt.datetime | None,
                 page_size: int, max_pages: int | None) -> None:
        self.client, self.types, self.since = client, types, since
        self.page_size, self.max_pages = max(2, min(page_size, 1000)), max_pages
        self.seen: set[str] = set()
        self.shifted = False

    def __iter__(self) -> Iterator[RecordRef]:
        for entity_type, category in self.types.items():
            yield from self._walk(entity_type, category)

    def unreached(self) -> int:
        return 1 if self.shifted else 0

    def _walk(self, entity_type: str, category: str | None) -> Iterator[RecordRef]:
        offset, last, pages = 0, None, 0
        while self.max_pages is None or pages < self.max_pages:
            items = self.client.page(entity_type, limit=self.page_size, offset=offset, category=category)
            pages += 1
            if last is not None and not any(i.get("id") == last for i in items):
                self.shifted = True  # the listing moved up under the walk: something may have slipped by
                log.info("the %s listing moved during the walk; the same range is listed again next time",
                         entity_type)
            for item in items:
                if self._older(item):
                    return
                ref = to_ref(self.client, entity_type, item)
                if ref.id not in self.seen:
                    self.seen.add(ref.id)
                    yield ref
            if len(items) < self.page_size:
                return
            last = items[-1].get("id")
            offset += self.page_size - OVERLAP
        if self.max_pages is not None:
            self.shifted = True  # capped before the end: not everything was listed

    def _older(self, item: dict[str, Any]) -> bool:
        """Past the bound: an unpinned entry modified before `since` (everything after it is older still)."""
        if self.since is None or item.get("is_pinned"):
            return False
        stamp = parse_stamp(item.get("modified_at"))
        return stamp is not None and stamp < self.since
