"""The ELN adapter protocol: what every host (on-save, watch, webhook, backfill, doctor) asks of an ELN.

An adapter turns one ELN's API into these operations and types; the hosts never learn which ELN they
talk to. A host judges one record as: `read` (cheap: is it unchanged? then stop, no write) → `prepare`
(name the revision, fresh state) → load the sources and judge → `annotate` (one logical write).
An adapter is registered by name through the `eln_msc_register_adapters` hook with an `AdapterSpec`
(eln/spec.py), and proves itself with the contract suite in `eln_msc_plugin.testing`.
See docs/writing-an-adapter.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

WriteStatus = Literal["annotated", "unchanged", "stale", "skipped", "dry-run", "partial"]
ReadStatus = Literal["judge", "stale", "skipped"]
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REPORT_PREFIX = "msc-qc-report"  # the plugin's report files: `msc-qc-report-r<revision>-<key>.json`


@dataclass(frozen=True)
class RecordRef:
    """One record of an ELN, as a listing, an event or a save names it.

    `id` is opaque to the hosts (`"17"`, `"experiments/42"`, `"bfi_Ab12"`). `modified_at` is the ELN's
    modification stamp (ISO 8601) and `revision` its revision id where it has one; `modified_by` says who
    changed it last where the ELN says. `listing` keeps the raw listing item or event, so a read does not
    fetch again what the listing already returned.
    """

    id: str
    url: str = ""
    modified_at: str | None = None
    revision: str | None = None
    modified_by: str | None = None
    label: str = ""  # how people name the record: an identifier, an entry title
    title: str = ""
    listing: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.label or self.id


@dataclass(frozen=True)
class Source:
    """One thing in a record the rules read: its native metadata, or an attached batch-record file.

    `digest` identifies the content without loading it (the ELN's checksum of a file, a hash of the
    metadata), so an unchanged record is recognised without a download. `load()` returns bytes for a
    file, or the decoded object for native metadata (with `media_type` naming its parser).
    """

    name: str
    media_type: str | None
    digest: str
    load: Callable[[], Any] = field(compare=False, repr=False)
    native: bool = False  # native metadata (one record), not a file that may hold several

    @property
    def fingerprint(self) -> str:
        return f"{self.name}@{self.digest}"


def content_hash(sources: list[Source]) -> str:
    """The sha256 of what the rules read: each source's name, media type and digest, in name order."""
    items = sorted([s.name, s.media_type or "", s.digest] for s in sources)
    return hashlib.sha256(json.dumps(items, separators=(",", ":")).encode("utf-8")).hexdigest()


def metadata_digest(value: Any) -> str:
    """A stable digest of decoded native metadata (key order does not matter)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Annotation:
    """A verdict written back to a record: host-neutral; each adapter decides how it is stored.

    It names what it judged (`judged_revision`: the revision id, or the modification stamp where the ELN
    has no revisions; `content_hash` of the sources), with which rules and engine, when, and what it
    supersedes. A new annotation supersedes the previous one; a report file is never overwritten.
    Read back from a record (`Content.current`), `report` is empty and `findings` may be.
    """

    verdict: str
    judged_revision: str
    content_hash: str
    rule_pack: str
    ruleset_sha256: str
    engine: str
    evaluated_at: str
    report_file: str = ""
    findings: list[str] = field(default_factory=list)  # in plain words, most severe first
    counts: dict[str, int] = field(default_factory=dict)
    sources: str = ""  # the sources judged, `name@digest, ...`
    supersedes: str = ""  # a sentence naming the previous annotation, when there was one
    report: bytes = b""  # the full report document (JSON)
    altered: str = ""  # who changed the previous verdict by hand, where the ELN tells; this one restores it

    def same_judgement(self, other: Annotation | None) -> bool:
        """True when `other` judged the same content with the same rules and engine."""
        return (other is not None and other.content_hash == self.content_hash
                and other.ruleset_sha256 == self.ruleset_sha256 and other.engine == self.engine)


@dataclass
class Content:
    """What `read` found: the sources to judge, the revision they are, and the annotation in place.

    `status` is "judge" normally; "stale" when the reference's revision is no longer the newest (the newer
    one is judged on its own) and "skipped" when the record is not to be judged, both with `detail`.
    `complete` is False when the current annotation is only partly in place (its verdict marker or report
    file missing), so the host writes again even though the content is unchanged. `previous` is the last
    annotation the plugin wrote, when a later save removed it (what a new one supersedes).
    `judged_revision` may stay empty until `prepare` (an ELN may need a read to name the revision).
    `state` is the adapter's own: what `annotate` needs to write without reading again.
    """

    ref: RecordRef
    judged_revision: str = ""
    sources: list[Source] = field(default_factory=list)
    current: Annotation | None = None
    complete: bool = True
    previous: Annotation | None = None
    status: ReadStatus = "judge"
    detail: str = ""
    state: Any = None

    @property
    def content_hash(self) -> str:
        return content_hash(self.sources)


@dataclass
class WriteOutcome:
    """What `annotate` did; `modified_at` is the record's stamp after the write, where the ELN returns it
    (a later listing showing that stamp means nothing changed since)."""

    status: WriteStatus
    reads: int = 0
    writes: int = 0
    detail: str = ""
    would_write: dict[str, Any] = field(default_factory=dict)
    modified_at: str | None = None


@dataclass(frozen=True)
class Account:
    """Who the credentials act as, and what they may do where the ELN says (None: it does not say)."""

    id: str
    name: str
    can_write: bool | None = None
    scopes: tuple[str, ...] = ()
    expires_at: dt.datetime | None = None
    details: Mapping[str, str] = field(default_factory=dict)  # e.g. the team of an eLabFTW key


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class ChangeQuery:
    """Which records `changes` lists: the adapter's own filters (from its options), a lower bound on the
    modification time, the page size and cap, and where a previous walk stopped (`cursor`, where the ELN
    has one). `settle()` waits until every record yielded so far has been annotated (an adapter whose
    listing is capped may need that before it walks on)."""

    filters: Mapping[str, Any] = field(default_factory=dict)
    since: dt.datetime | None = None
    page_size: int = 100
    max_pages: int | None = None
    cursor: str | None = None
    settle: Callable[[], None] = _nothing


class Changes(Protocol):
    """Records changed, newest first, each once, fetched page by page as the host iterates."""

    total: int | None  # how many match, where the ELN says (None: it does not)
    cursor: str | None  # where to resume next time, where the ELN has one

    def __iter__(self) -> Iterator[RecordRef]: ...

    def unreached(self) -> int:
        """How many matching records the walk could not list (0 unless the ELN capped the listing)."""
        ...


class Tally:
    """HTTP requests an adapter sent: reads and writes, counted as they are sent (thread-safe)."""

    def __init__(self) -> None:
        self.reads = 0
        self.writes = 0
        self._lock = threading.Lock()

    def add(self, method: str) -> None:
        with self._lock:
            if method.upper() in WRITE_METHODS:
                self.writes += 1
            else:
                self.reads += 1

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.reads, self.writes

    def __repr__(self) -> str:
        return f"Tally(reads={self.reads}, writes={self.writes})"


@runtime_checkable
class ElnAdapter(Protocol):
    """The operations every ELN adapter offers the hosts. Failures to talk to the ELN raise `ElnError`."""

    name: str  # the registered name: "kadi", "elabftw", "benchling"
    base_url: str
    tally: Tally  # every request this adapter sent

    def ref(self, record_id: str) -> RecordRef:
        """A reference to a record by its id, without a request (on-save triggers, tests)."""
        ...

    def account(self) -> Account:
        """Who am I: id and name, scopes, read/write and token expiry where the ELN says."""
        ...

    def changes(self, query: ChangeQuery) -> Changes:
        """Records changed, newest first, paged lazily (the host may stop early)."""
        ...

    def read(self, ref: RecordRef) -> Content:
        """Enough to tell whether the record changed: its sources (digests) and the annotation in place.

        Reads only what can change the outcome (listing data in `ref.listing` is used, not fetched again);
        source payloads are loaded only when the host judges. An unchanged record costs at most 1 request.
        """
        ...

    def prepare(self, content: Content) -> Content:
        """Everything needed to judge and write a changed record: the judged revision named, the state
        fresh (a re-read where the ELN needs one). May return a "stale" or "skipped" content; an adapter
        whose `read` already has it all returns `content` as it is."""
        ...

    def annotate(self, content: Content, annotation: Annotation, *, dry_run: bool = False) -> WriteOutcome:
        """Write verdict, findings and report as one logical step, in the fewest requests the ELN allows.

        Never clobbers a person's concurrent save; returns "stale" when the record changed since `read`.
        With `dry_run`, writes nothing and says in `would_write` what it would write.
        """
        ...

    def is_own_write(self, ref: RecordRef) -> bool:
        """True when the change `ref` reports (listing item, event) is the plugin's own annotation write."""
        ...

    def close(self) -> None:
        """Release pooled connections."""
        ...


# The registration types live in eln/spec.py; they are part of the same contract.
from eln_msc_plugin.eln.spec import AdapterConfig, AdapterOption, AdapterSpec, Check  # noqa: E402

__all__ = ["Account", "AdapterConfig", "AdapterOption", "AdapterSpec", "Annotation", "ChangeQuery", "Changes",
           "Check", "Content", "ElnAdapter", "RecordRef", "Source", "Tally", "WriteOutcome", "content_hash",
           "metadata_digest"]
