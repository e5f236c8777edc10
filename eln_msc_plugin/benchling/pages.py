"""What one listing page of batches shares: their result rows and their entries, read once for the page.

A backfill lists the batch schema 100 batches a page. Reading each batch's passage rows, senescence
rows and entry on its own costs three requests a batch; read for the whole page it costs one request per
results schema per 20 batches (`entityIds` takes at most 20 ids) and one listing of the page's entries
(`GET /entries?ids=`), whichever batch of the page is judged first. Nothing is read for a page whose
batches the host settles without a read (a state file that already knows them).

The rows a batch gets are exactly those a listing of its own would return (rows linked to it in any
field, in the API's order), so a batch read from a page and one read alone have the same content hash.
"""

from __future__ import annotations

import threading
from typing import Any

from eln_msc_plugin.benchling.client import MAX_ENTITY_IDS, BenchlingClient
from eln_msc_plugin.benchling.content import entry_of
from eln_msc_plugin.benchling.mapping import Mapping, ResultsMapping
from eln_msc_plugin.errors import ElnError


class ListedBatch(dict[str, Any]):
    """A batch as the listing (or a linked-entity lookup) returned it, with the page it came in and the
    event that named it, if any; `dict(listed)` is the API's JSON alone."""

    def __init__(self, item: dict[str, Any], page: Page | None = None, event: dict[str, Any] | None = None) -> None:
        super().__init__(item)
        self.page, self.event = page, event


class Page:
    """The shared reads of one listing page; loaded on first use, by whichever worker asks first."""

    def __init__(self, mapping: Mapping, items: list[dict[str, Any]]) -> None:
        self.mapping = mapping
        self.batch_ids = [str(item["id"]) for item in items]
        self.entry_ids = sorted({e for e in (entry_of(item, mapping) for item in items) if e})
        self._lock = threading.Lock()
        self._rows: dict[str, dict[str, list[dict[str, Any]]]] | None = None
        self._entries: dict[str, dict[str, Any]] | None = None

    def rows(self, client: BenchlingClient, batch_id: str) -> tuple[list[Any], list[Any]]:
        """The batch's passage and senescence rows, from the page's listings."""
        with self._lock:
            if self._rows is None:
                self._rows = {r.schema_id: self._linked(client, r) for r in self._schemas()}
        found = [self._rows[r.schema_id].get(batch_id, []) if r else [] for r in
                 (self.mapping.passages, self.mapping.senescence)]
        return found[0], found[1]

    def entry(self, client: BenchlingClient, entry_id: str) -> dict[str, Any]:
        """The entry, from the page's one listing of entries (or read alone when that listing was refused)."""
        with self._lock:
            if self._entries is None:
                self._entries = self._listed_entries(client)
        entry = self._entries.get(entry_id)
        return entry if entry is not None else client.entry(entry_id)

    def _schemas(self) -> list[ResultsMapping]:
        return [r for r in (self.mapping.passages, self.mapping.senescence) if r is not None]

    def _linked(self, client: BenchlingClient, results: ResultsMapping) -> dict[str, list[dict[str, Any]]]:
        """Rows of `results` by the page's batch each links to (in any field, as `entityIds` matches)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(self.batch_ids), MAX_ENTITY_IDS):
            chunk = self.batch_ids[start:start + MAX_ENTITY_IDS]
            wanted = set(chunk)
            for row in client.results(results.schema_id, chunk):
                for batch_id in sorted(_linked_ids(row) & wanted):
                    found.setdefault(batch_id, []).append(row)
        return found

    def _listed_entries(self, client: BenchlingClient) -> dict[str, dict[str, Any]]:
        if not self.entry_ids:
            return {}
        try:
            return {str(e["id"]): e for e in client.entries(self.entry_ids)}
        except ElnError as error:
            # `ids=` "returns a 400 error ... [for] IDs [that] are invalid" (description): one batch linking
            # an entry the app cannot see must not fail its page; each entry is then read on its own
            if error.status not in (400, 404):
                raise
            return {}


def _linked_ids(row: dict[str, Any]) -> set[str]:
    """Every id a result row's fields hold (an entity link holds one id, a multi-link a list)."""
    found: set[str] = set()
    for spec in (row.get("fields") or {}).values():
        value = spec.get("value") if isinstance(spec, dict) else None
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list):
            found.update(v for v in value if isinstance(v, str))
    return found
