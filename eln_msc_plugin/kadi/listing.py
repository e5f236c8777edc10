"""The Kadi adapter's `changes`: Kadi's record listing, newest modification first, down to `since`.

Kadi lists at most 100 pages of 100 records. Annotating a record makes it the newest, so past that
cap the walk turns round: it lists oldest first, where the records not yet judged now are, and stops
at the records modified after the run began (those it just annotated). It repeats while a pass
finds records it has not seen. A dry run annotates nothing, so it reaches the newest and the oldest
10,000 only; `unreached` says how many it could not list (narrow the run with --type/--tag/--collection).
Kadi without its search index (the database fallback) ignores `sort` and always lists newest first;
then nothing past the cap can be listed, and the walk says so instead of turning round.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from eln_msc_plugin.eln.base import ChangeQuery, RecordRef
from eln_msc_plugin.eln.http import check
from eln_msc_plugin.errors import ElnError
from eln_msc_plugin.kadi.client import KadiClient

log = logging.getLogger("eln_msc_plugin.kadi")
PAGE_MAX = 100  # Kadi lists at most 100 records per page and 100 pages (`@paginated(page_max=100)`)


def parse_time(text: str) -> dt.datetime:
    """A Kadi timestamp (`2026-01-02T03:04:05.123456+00:00`)."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def listing_params(filters: Mapping[str, Any]) -> dict[str, Any]:
    """Kadi's query parameters for the adapter's filters (type, tag, collection)."""
    return {key: filters[key] for key in ("type", "tag", "collection") if filters.get(key) is not None}


def _listed(item: Any) -> bool:
    """A listing item with what the walk reads: an id and a modification time."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        return False
    try:
        parse_time(str(item.get("last_modified")))
    except ValueError:
        return False
    return True


class Listing:
    """Yields each record once, as a `RecordRef` holding its listing JSON; `total` is Kadi's count."""

    def __init__(self, client: KadiClient, query: ChangeQuery, ref: Callable[[dict[str, Any]], RecordRef]) -> None:
        self.client = client
        self.query = query
        self.ref = ref
        self.per_page = min(query.page_size, PAGE_MAX)
        self.max_pages = min(query.max_pages or PAGE_MAX, PAGE_MAX)
        self.total: int | None = None
        self.cursor: str | None = None
        self.seen: set[int] = set()
        self.capped = False
        self.ignores_order = False
        self.started_top: dt.datetime | None = None  # the newest modification when the run began (server clock)

    def page(self, page: int, sort: str) -> dict[str, Any]:
        params = {"page": page, "per_page": self.per_page, "sort": sort, **listing_params(self.query.filters)}
        body = check(self.client.session.request("GET", "api/records", params=params), f"list records (page {page})")
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(_listed(item) for item in items):
            raise ElnError(f"list records (page {page}): the answer is not a Kadi record listing")
        self.total = int(body.get("_pagination", {}).get("total_items", 0))
        return body

    def __iter__(self) -> Iterator[RecordRef]:
        for item in self._walk():
            yield self.ref(item)

    def _walk(self) -> Iterator[dict[str, Any]]:
        yield from self._newest_first()
        while self.capped and not self.ignores_order:
            self.query.settle()
            before = len(self.seen)
            yield from self._oldest_first()
            if len(self.seen) == before:
                break

    def _new(self, item: dict[str, Any]) -> bool:
        if item["id"] in self.seen:
            return False
        self.seen.add(item["id"])
        return True

    def _newest_first(self) -> Iterator[dict[str, Any]]:
        since = self.query.since
        for number in range(1, self.max_pages + 1):
            body = self.page(number, "-last_modified")
            items = body.get("items", [])
            if number == 1 and items:
                self.started_top = parse_time(items[0]["last_modified"])
            for item in items:
                if since is not None and parse_time(item["last_modified"]) < since:
                    return  # everything after this one is older still
                if self._new(item):
                    yield item
            if number >= int(body.get("_pagination", {}).get("total_pages", 1) or 1):
                return
        self.capped = True
        log.warning("the listing stops after %d pages of %d records; continuing oldest first",
                    self.max_pages, self.per_page)

    def _oldest_first(self) -> Iterator[dict[str, Any]]:
        since, top = self.query.since, self.started_top
        for number in range(1, self.max_pages + 1):
            body = self.page(number, "last_modified")
            items = body.get("items", [])
            if number == 1 and len(items) > 1 and items[0]["last_modified"] > items[-1]["last_modified"]:
                self.ignores_order = True
                log.warning("this Kadi ignores sort=last_modified (no search index); %d records past the listing "
                            "cap cannot be reached: narrow the run with --type, --tag or --collection",
                            self.unreached())
                return
            for item in items:
                modified = parse_time(item["last_modified"])
                if top is not None and modified > top:
                    return  # modified since the run began: annotated by this run (or edited, and judged on save)
                if (since is None or modified >= since) and self._new(item):
                    yield item
            if number >= int(body.get("_pagination", {}).get("total_pages", 1) or 1):
                self.capped = False
                return

    def unreached(self) -> int:
        """How many matching records the listing never showed (0 unless the cap was hit)."""
        return max(0, (self.total or 0) - len(self.seen)) if self.capped else 0
