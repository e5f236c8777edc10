"""The eLabFTW adapter: experiments and resources ("items") of one team, filtered by category.

One read per entry (GET /{type}/{id}: metadata, uploads, tags, comments, lock state in one answer);
attached batch-record files are downloaded only when the entry is judged. The annotation is written as
a comment, the `qc-*` tag, the `msc_qc` field (`metadatamerge`, so no other field is touched) and the
report file; see annotation.py for how each part is recognised when already in place.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from urllib3.util.retry import Retry

from eln_msc_plugin.elabftw import ANNOTATION_FIELD, ENTITY_TYPES, ENTRY_MEDIA_TYPE, REPORT_PREFIX, VERDICT_TAGS
from eln_msc_plugin.elabftw.annotation import Plan, altered_field, current_annotation, entry_tags, plan
from eln_msc_plugin.elabftw.client import ElabftwClient, split_ref
from eln_msc_plugin.elabftw.fields import extra_fields, has_batch_fields, metadata_of, names_batch_fields
from eln_msc_plugin.elabftw.listing import EntryChanges, to_ref
from eln_msc_plugin.eln.base import (
    Account,
    AdapterConfig,
    Annotation,
    ChangeQuery,
    Content,
    RecordRef,
    Source,
    Tally,
    WriteOutcome,
    metadata_digest,
)
from eln_msc_plugin.errors import ConfigError
from eln_msc_plugin.formats.common import EXTENSIONS

NATIVE = "extra fields"


def fields_digest(entry: Mapping[str, Any]) -> str:
    """A digest of what the rules read in the metadata: every extra field but `msc_qc` (a malformed text as is)."""
    metadata, problem = metadata_of(dict(entry))
    if problem is not None:
        return hashlib.sha256(str(entry.get("metadata")).encode("utf-8", "replace")).hexdigest()
    fields = {k: v for k, v in extra_fields(metadata).items() if k != ANNOTATION_FIELD}
    return metadata_digest(fields)


def batch_uploads(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Attached batch-record files (.json/.jsonl/.xml), not the plugin's own reports, by name then id."""
    found = [u for u in entry.get("uploads") or [] if isinstance(u, dict)
             and PurePosixPath(str(u.get("real_name") or "")).suffix.lower() in EXTENSIONS
             and not str(u.get("real_name") or "").startswith(REPORT_PREFIX)]
    return sorted(found, key=lambda u: (str(u.get("real_name")), int(u.get("id") or 0)))


class ElabftwAdapter:
    """`ElnAdapter` for eLabFTW; `options`: `category` (ids or titles, comma separated) and `entries`
    (`experiments`, `items` or both)."""

    name = "elabftw"

    def __init__(self, config: AdapterConfig, *, retry: Retry | None = None) -> None:
        if config.secret is None:
            raise ConfigError("eLabFTW needs an API key (ELABFTW_KEY, --token-env or --token-file)")
        self.tally = Tally()
        self.client = ElabftwClient(config.url, config.secret, timeout=config.timeout, meter=config.meter,
                                    tally=self.tally, retry=retry)
        self.base_url = self.client.site
        self.options = dict(config.options)
        self._me: dict[str, Any] | None = None
        self._team: dict[str, Any] | None = None
        self._types: dict[tuple[Any, Any], dict[str, str | None]] = {}

    def close(self) -> None:
        self.client.close()

    def ref(self, record_id: str) -> RecordRef:
        split_ref(record_id)
        return RecordRef(record_id, self.client.entry_url(record_id), label=record_id)

    # --- who am I --------------------------------------------------------------------------------------------
    def me(self) -> dict[str, Any]:
        if self._me is None:
            self._me = self.client.me()
        return self._me

    def my_id(self) -> int:
        return int(self.me().get("userid") or 0)

    def team(self) -> dict[str, Any]:
        if self._team is None:
            self._team = self.client.team()
        return self._team

    def account(self) -> Account:
        """The key's user and team. eLabFTW does not say which of the user's keys is in use, so read/write is
        only known when every key of the user for this team agrees (doctor probes it with a no-op write)."""
        me, team = self.me(), self.team()
        keys = [k for k in self.client.api_keys() if k.get("team") == team.get("id")]
        writable = {bool(k.get("can_write")) for k in keys}
        return Account(str(me.get("userid")), str(me.get("fullname") or ""),
                       can_write=writable.pop() if len(writable) == 1 else None,
                       details={"team": f"{team.get('name')} (id {team.get('id')})"})

    # --- what changed ----------------------------------------------------------------------------------------
    def entry_types(self, filters: Mapping[str, Any] | None = None) -> dict[str, str | None]:
        """Each entry type to list, with its category filter (ids, comma separated): from `filters` (a
        `ChangeQuery`'s) where they name them, else from the options; titles are looked up once."""
        chosen = {**self.options, **{k: v for k, v in (filters or {}).items() if v is not None}}
        key = (chosen.get("entries"), chosen.get("category"))
        if key not in self._types:
            self._types[key] = resolve_types(self, *key)
        return self._types[key]

    def changes(self, query: ChangeQuery) -> EntryChanges:
        return EntryChanges(self.client, self.entry_types(query.filters), query.since, query.page_size,
                            query.max_pages)

    def is_own_write(self, ref: RecordRef) -> bool:
        """The listing shows the plugin's write as the last change: we changed it last (`lastchangeby`; a
        scientist's upload or save would name them), the fields are those the annotation judged (a field
        edited in the web page keeps `lastchangeby` but changes the digest), and the `qc-*` tags agree with
        the `msc_qc` field (a verdict edited by hand in the field does not pass for the plugin's)."""
        item = ref.listing
        if "metadata" not in item or str(item.get("lastchangeby")) != str(self.me().get("userid")):
            return False
        metadata, problem = metadata_of(dict(item))
        if problem is not None:
            return False
        _, raw = current_annotation(extra_fields(metadata))
        verdict_tags = {t for t in entry_tags(dict(item)) if t in VERDICT_TAGS}
        return (bool(raw) and raw.get("fields_sha256") == fields_digest(item)
                and verdict_tags == {f"qc-{raw.get('verdict')}"})

    # --- read and judge --------------------------------------------------------------------------------------
    def read(self, ref: RecordRef) -> Content:
        entry = self.client.entry(ref.id)
        ref = to_ref(self.client, split_ref(ref.id)[0], entry)
        if entry.get("state") not in (None, 1):
            return Content(ref, status="skipped", detail="the entry is archived or deleted")
        sources = self.sources(ref.id, entry)
        if not sources:
            why = self.nothing_to_judge(entry)
            if why:
                return Content(ref, str(entry.get("modified_at") or ""), status="skipped", detail=why)
        current, _ = current_annotation(extra_fields(metadata_of(entry)[0]))
        if current is not None and altered_field(entry, self.my_id()):
            current = None  # a verdict the plugin did not write is never the annotation in place
        content = Content(ref, str(entry.get("modified_at") or ""), sources, current, state=entry)
        if current is not None:
            content.complete = not self.missing(entry, current).writes
        return content

    def prepare(self, content: Content) -> Content:
        return content  # the single read already holds everything annotate needs

    def sources(self, ref: str, entry: dict[str, Any]) -> list[Source]:
        """The native fields (when any batch field is filled in, or the metadata cannot be read) and each
        attached batch-record file; nothing is downloaded until the host judges."""
        metadata, problem = metadata_of(entry)
        sources: list[Source] = []
        if problem is not None or has_batch_fields(metadata):
            payload = {**entry, "_revision": entry.get("modified_at")}
            sources.append(Source(NATIVE, ENTRY_MEDIA_TYPE, fields_digest(entry), lambda: payload, native=True))
        for upload in batch_uploads(entry):
            upload_id = int(upload["id"])
            name = f"{upload['real_name']} (file {upload_id})"
            media_type = EXTENSIONS[PurePosixPath(str(upload["real_name"])).suffix.lower()]
            sources.append(Source(name, media_type, str(upload.get("hash") or f"upload-{upload_id}"),
                                  functools.partial(self.client.download, ref, upload_id)))
        return sources

    def nothing_to_judge(self, entry: dict[str, Any]) -> str:
        """Why an entry without batch data is left alone ("" when it gets the error verdict: an entry of a
        watched category that holds no batch fields at all)."""
        if names_batch_fields(metadata_of(entry)[0]):
            return "the MSC batch fields are not filled in yet"
        if not any(self.entry_types().values()):
            return "no MSC batch fields and no batch-record file (not in a watched category)"
        return ""

    def missing(self, entry: dict[str, Any], annotation: Annotation) -> Plan:
        """The parts of `annotation` not yet on `entry` (a locked entry: its comment only)."""
        blocked = self.blocked(entry)
        return plan(entry, annotation, self.my_id(), fields_digest(entry),
                    can_modify=blocked is None, can_merge=metadata_of(entry)[1] is None,
                    locked_note=blocked or "")

    def blocked(self, entry: dict[str, Any]) -> str | None:
        """Why only a comment can be written (a locked entry), or None."""
        if entry.get("locked") and entry.get("lockedby") != self.me().get("userid"):
            return ("This entry is locked: only this comment was written; the qc tag, the msc_qc field and the "
                    "report file were not.")
        return None

    # --- write -----------------------------------------------------------------------------------------------
    def annotate(self, content: Content, annotation: Annotation, *, dry_run: bool = False) -> WriteOutcome:
        from eln_msc_plugin.elabftw.write import write_annotation

        annotation.altered = altered_field(content.state or {}, self.my_id()) or annotation.altered
        return write_annotation(self, content, annotation, dry_run=dry_run)


def resolve_types(adapter: ElabftwAdapter, entries: Any, category: Any) -> dict[str, str | None]:
    """`--entries` and `--category` as {entry type: category ids or None}; titles are looked up in the team."""
    wanted = [t.strip() for t in str(entries or "experiments,items").split(",") if t.strip()]
    wanted = list(ENTITY_TYPES) if wanted in (["both"], ["all"]) else wanted
    unknown = set(wanted) - set(ENTITY_TYPES)
    if unknown or not wanted:
        raise ConfigError(f"--entries {entries!r}: use experiments, items or both")
    if not category:
        return {t: None for t in wanted}
    asked = [c.strip() for c in str(category).split(",") if c.strip()]
    found: dict[str, str | None] = {}
    team_id = int(adapter.team().get("id") or 0)
    for entity_type in wanted:
        known = adapter.client.categories(entity_type, team_id)
        ids = [str(c["id"]) for c in known if str(c.get("id")) in asked or c.get("title") in asked]
        if ids:
            found[entity_type] = ",".join(ids)
    if not found:
        raise ConfigError(f"--category {category!r}: no such category for {' or '.join(wanted)} in the key's team")
    return found

