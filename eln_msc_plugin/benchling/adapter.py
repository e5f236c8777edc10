"""The Benchling adapter: the ELN adapter protocol over a tenant, authenticated as the installed App.

A batch is a custom entity (or a notebook entry) of the mapped schema; `changes` lists that schema
newest first, `read` gathers the batch's sources and the annotation in place, `annotate` writes the
report blob, the app session, the canvas and finally the verdict, findings and record fields (one
PATCH). The app's own writes are recognised from an event's list of changed fields.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

from eln_msc_plugin.benchling.client import PAGE, BenchlingClient
from eln_msc_plugin.benchling.content import (
    BatchState,
    annotation_in_place,
    entry_of,
    file_sources,
    native_source,
    rows,
)
from eln_msc_plugin.benchling.mapping import Mapping, load_mapping
from eln_msc_plugin.benchling.native import BenchlingBatch
from eln_msc_plugin.benchling.own import OwnWrites, changed_fields
from eln_msc_plugin.benchling.pages import ListedBatch, Page
from eln_msc_plugin.benchling.transport import DEFAULT_PER_WINDOW, RateLimiter
from eln_msc_plugin.benchling.writes import fields_digest, write_annotation
from eln_msc_plugin.eln.base import (
    Account,
    AdapterConfig,
    Annotation,
    ChangeQuery,
    Content,
    RecordRef,
    Tally,
    WriteOutcome,
)
from eln_msc_plugin.eln.http import Token
from eln_msc_plugin.errors import ConfigError

CLIENT_ID_ENV = "BENCHLING_CLIENT_ID"
SECRET_ENV = "BENCHLING_CLIENT_SECRET"


def credentials(secret: Token | None) -> tuple[str, Token]:
    """(client id, client secret): the secret from the host (env or file), the id from `BENCHLING_CLIENT_ID`
    or from the secret itself written as `client_id:client_secret` (one file holding both)."""
    if secret is None:
        raise ConfigError(f"no Benchling client secret: set {SECRET_ENV} or pass --token-file FILE")
    value = secret.reveal()
    if ":" in value:
        client_id, _, rest = value.partition(":")
        return client_id.strip(), Token(rest)
    client_id = os.environ.get(CLIENT_ID_ENV, "").strip()
    if not client_id:
        raise ConfigError(f"no Benchling client id: set {CLIENT_ID_ENV}, or write the secret file as "
                          "client_id:client_secret")
    return client_id, secret


class SchemaChanges:
    """The batch schema's records, newest modification first, page by page as the host iterates."""

    total: int | None = None
    cursor: str | None = None

    def __init__(self, adapter: BenchlingAdapter, query: ChangeQuery) -> None:
        self.adapter, self.query = adapter, query

    def __iter__(self) -> Iterator[RecordRef]:
        since = self.query.since.astimezone(dt.UTC).isoformat() if self.query.since else None
        mapping = self.adapter.mapping
        pages = self.adapter.client.pages(mapping.kind, mapping.schema_id, since, min(self.query.page_size, PAGE))
        for number, items in enumerate(pages):
            if self.query.max_pages is not None and number >= self.query.max_pages:
                return
            # an entry batch's rows are its entry's results tables, not linked rows: read per batch
            page = Page(mapping, items) if mapping.kind == "custom_entity" else None
            for item in items:
                yield self.adapter.ref_of(item, page=page)

    def unreached(self) -> int:
        return 0


class BenchlingAdapter:
    name = "benchling"

    def __init__(self, url: str, mapping: Mapping, client_id: str, secret: Token, *,
                 meter: Any = None, limiter: RateLimiter | None = None, backoff: float = 0.5) -> None:
        self.base_url = url.rstrip("/")
        self.mapping = mapping
        self.tally = Tally()
        limit = int(mapping.receiver.get("requests_per_30s", DEFAULT_PER_WINDOW))

        def counted(method: str) -> None:
            self.tally.add(method)
            if meter is not None:
                meter(method)

        self.own_writes = OwnWrites()
        self.client = BenchlingClient(url, client_id, secret, limiter=limiter or RateLimiter(limit), meter=counted,
                                      backoff=backoff)

    @classmethod
    def open(cls, config: AdapterConfig) -> BenchlingAdapter:
        path = config.options.get("mapping")
        if not path:
            raise ConfigError("the Benchling adapter needs --mapping FILE (the tenant mapping, see "
                              "examples/benchling/mapping.toml)")
        mapping = load_mapping(path)
        url = config.url or mapping.tenant_url
        if not url:
            raise ConfigError("no Benchling tenant URL: pass --url or set [app] tenant_url in the mapping")
        client_id, secret = credentials(config.secret)
        return cls(url, mapping, client_id, secret, meter=config.meter)

    def __repr__(self) -> str:
        return f"BenchlingAdapter({self.base_url!r}, secret=***)"

    # ------------------------------------------------------------ references
    def ref(self, record_id: str) -> RecordRef:
        return RecordRef(record_id, url=f"{self.base_url}/{record_id}")

    def ref_of(self, item: dict[str, Any], event: dict[str, Any] | None = None, page: Page | None = None) -> RecordRef:
        """A reference to a listed or read batch; its listing is the item (so `read` does not fetch it again),
        with the listing page whose rows and entries it shares and the event that named it, if any."""
        return RecordRef(str(item["id"]), url=str(item.get("webURL") or f"{self.base_url}/{item['id']}"),
                         modified_at=item.get("modifiedAt"), label=str(item.get("name") or ""),
                         listing=ListedBatch(item, page, event))

    def event_ref(self, message: dict[str, Any]) -> RecordRef:
        """A reference to the resource a webhook message names (the message kept as its listing)."""
        return RecordRef(str(message["resourceId"]), url=f"{self.base_url}/{message['resourceId']}", listing=message)

    def is_own_write(self, ref: RecordRef) -> bool:
        """True when the change `ref` reports is the app's own write: an event whose `updates` (or
        `properties`) name only the app's fields, or a listed batch whose fields are as the app left them
        (its QC fields intact, every other field as it was when judged)."""
        listing = ref.listing
        event = getattr(listing, "event", None)
        if event is None and "fields" in listing:
            current, record, whole = annotation_in_place(dict(listing), self.mapping)
            return (current is not None and whole
                    and record.get("fields_digest") == fields_digest(dict(listing), self.mapping.own_fields))
        names = changed_fields(event if event is not None else listing)
        return bool(names) and None not in names and names <= self.mapping.own_fields

    def own_write_expected(self, ref: RecordRef) -> bool:
        """True when the event `ref` carries is the one this app's own last write of the batch makes (it names
        just the fields that write changed), which no other event has claimed: decided without a request."""
        names = changed_fields(getattr(ref.listing, "event", None) or ref.listing)
        return bool(names) and None not in names and self.own_writes.claim(ref.id, frozenset(n for n in names if n))

    def event_refs(self, message: dict[str, Any]) -> list[RecordRef]:
        """The batches a webhook message concerns: the resource itself, or the batches whose notebook entry
        it is (a file attached to a batch's entry changes the batch's sources)."""
        resource = str(message.get("resourceId") or "")
        if self.mapping.kind == "custom_entity" and resource.startswith("etr_"):
            linked = self.client.linked_entities(self.mapping.schema_id, self.mapping.entry_link_field, resource)
            return [self.ref_of(item, message) for item in linked]  # read with the batch: not fetched again
        batch_prefix = "bfi_" if self.mapping.kind == "custom_entity" else "etr_"
        return [self.event_ref(message)] if resource.startswith(batch_prefix) else []  # runs, other items: none

    def own_write_intact(self, ref: RecordRef) -> tuple[bool, RecordRef]:
        """For an event naming only the app's fields: (whether those fields still say what the app wrote,
        a reference carrying the batch as read, so judging it sends no second request)."""
        resource = self.resource(ref)
        current, _, whole = annotation_in_place(resource, self.mapping)
        return (current is not None and whole), self.ref_of(resource)

    def announced_change_judged(self, ref: RecordRef, key: tuple[str, str]) -> tuple[bool, RecordRef]:
        """For an event naming a batch entity itself: (whether the annotation in place, whole, judged the batch's
        fields as they are now with the rules and engine `key` names, so the change the event announces was
        judged already: a late or repeated event), and a reference carrying the batch as read. Result rows
        and entry files announce nothing through such an event; an entry's own events read them."""
        if self.mapping.kind != "custom_entity" or "fields" in ref.listing or not ref.id.startswith("bfi_"):
            return False, ref
        resource = self.resource(ref)
        current, record, whole = annotation_in_place(resource, self.mapping)
        judged = (current is not None and whole and (current.ruleset_sha256, current.engine) == key
                  and record.get("fields_digest") == fields_digest(resource, self.mapping.own_fields))
        return judged, self.ref_of(resource)

    # ------------------------------------------------------------ operations
    def account(self) -> Account:
        app = self.client.app(self.mapping.app_id)
        definition = app.get("appDefinition") or {}
        return Account(str(app.get("id")), str(app.get("name") or app.get("id")), can_write=None,
                       details={"app definition": f"{definition.get('id')} v{definition.get('versionNumber')}"})

    def changes(self, query: ChangeQuery) -> SchemaChanges:
        return SchemaChanges(self, query)

    def resource(self, ref: RecordRef) -> dict[str, Any]:
        """The batch as the API returns it (from the listing when the listing holds it all)."""
        if ref.listing.get("fields") is not None and ref.listing.get("id") == ref.id:
            return dict(ref.listing)  # the listing's item (or the linked-entity lookup's) holds it all
        if self.mapping.kind == "entry" or ref.id.startswith("etr_"):
            return self.client.entry(ref.id)
        return self.client.entity(ref.id)

    def read(self, ref: RecordRef) -> Content:
        resource = self.resource(ref)
        schema = (resource.get("schema") or {}).get("id")
        if schema != self.mapping.schema_id:
            return Content(ref, status="skipped", detail=f"not a batch: schema {schema}, not {self.mapping.schema_id}")
        page: Page | None = getattr(ref.listing, "page", None)
        ref = self.ref_of(resource)
        passages, senescence = page.rows(self.client, ref.id) if page else rows(self.client, self.mapping, resource)
        batch = BenchlingBatch(resource, self.mapping, passages, senescence, source=ref.id)
        entry_id = entry_of(resource, self.mapping)
        sources = [s for s in [native_source(batch)] if s is not None]
        if self.mapping.read_files and entry_id:
            entry = (resource if self.mapping.kind == "entry" else page.entry(self.client, entry_id) if page
                     else self.client.entry(entry_id))
            sources += file_sources(self.client, entry, self.mapping.max_bytes)
        current, record, whole = annotation_in_place(resource, self.mapping)
        state = BatchState(resource, entry_id, record, sources[0].digest if sources and sources[0].native else "")
        return Content(ref, str(resource.get("modifiedAt") or ""), sources, current, whole, state=state)

    def prepare(self, content: Content) -> Content:
        return content  # `read` has everything `annotate` needs

    def annotate(self, content: Content, annotation: Annotation, *, dry_run: bool = False) -> WriteOutcome:
        return write_annotation(self, content, annotation, dry_run=dry_run)

    def close(self) -> None:
        self.client.close()
