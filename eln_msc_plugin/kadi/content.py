"""What the Kadi adapter reads: the record's batch extras and attached batch files as sources, the
annotation in place, and (for a changed record) the revision judged.

Where the eln-msc plugin is installed in Kadi, `read` is one request to its view of the record (extras,
tags, files, the revision to judge, the last annotation written) and `prepare` sends none. Elsewhere `read`
lists the files (the extras come with a listing item or the on-save hook's snapshot) and `prepare` adds the
newest revisions. Nothing is downloaded until judged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from eln_msc_plugin.eln.base import REPORT_PREFIX, Annotation, Content, RecordRef, Source, metadata_digest
from eln_msc_plugin.eln.http import check
from eln_msc_plugin.errors import ElnError
from eln_msc_plugin.formats.common import EXTENSIONS
from eln_msc_plugin.kadi import ANNOTATION_KEY, KADI_RECORD
from eln_msc_plugin.kadi.annotation import from_extras, tag_names
from eln_msc_plugin.kadi.client import KadiClient, json_object
from eln_msc_plugin.kadi.extras import has_batch_extras
from eln_msc_plugin.kadi.revisions import (
    RECENT,
    altered_listed,
    altered_since,
    is_annotation_revision,
    is_own_revision,
    listed_marks,
    marks_of,
    newest_revision,
)

STATE = "api/eln_msc/records/{id}/state"  # the plugin's one-read view of a record (kadi/endpoint.py)
HISTORY_PAGES = 12  # pages of revisions looked through for the plugin's own newest write (as the endpoint does)


@dataclass
class KadiState:
    """The record as read: its current extras and tags (what a write builds on) and its files."""

    record_id: int
    identifier: str
    extras: list[Any]
    tags: list[str]
    files: list[dict[str, Any]]
    recent: list[dict[str, Any]] | None = None  # the newest revisions, once read
    judged: dict[str, Any] = field(default_factory=dict)  # the revision judged (once prepared)
    me: str | None = None  # the plugin's account, when known: its own annotation writes are passed over
    altered: str = ""  # who changed the verdict by hand (the on-save hook tells): the check puts it back

    @property
    def file_names(self) -> set[str]:
        return {str(f.get("name")) for f in self.files}


def is_batch_file(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in EXTENSIONS and not name.startswith(REPORT_PREFIX)


def files_fingerprint(files: list[dict[str, Any]]) -> str:
    """Which batch-record files a judgement read: `name@checksum` of each, by name (the `files_judged` text)."""
    found = sorted((f for f in files if is_batch_file(str(f.get("name", "")))), key=lambda f: str(f["name"]))
    return ", ".join(f"{f['name']}@{f.get('checksum') or f.get('size')}" for f in found)


def batch_data(extras: list[Any]) -> list[Any]:
    """The extras the rules read (the plugin's own annotation left out)."""
    return [e for e in extras if not (isinstance(e, dict) and e.get("key") == ANNOTATION_KEY)]


def sources(client: KadiClient, state: KadiState) -> list[Source]:
    """The batch extras (when the record has any) first, then each attached batch-record file by name."""
    found: list[Source] = []
    if has_batch_extras(state.extras):
        data = batch_data(state.extras)
        digest = metadata_digest({"identifier": state.identifier, "extras": data})

        def snapshot() -> dict[str, Any]:
            return {"id": state.record_id, "identifier": state.identifier, "extras": data,
                    "_revision": state.judged.get("id")}

        found.append(Source("extras", KADI_RECORD, digest, native=True, load=snapshot))
    for file in sorted((f for f in state.files if is_batch_file(str(f.get("name", "")))), key=lambda f: str(f["name"])):
        name = str(file["name"])
        found.append(Source(name, EXTENSIONS[PurePosixPath(name).suffix.lower()],
                            str(file.get("checksum") or file.get("size")), load=_download(client, state, file)))
    return found


def _download(client: KadiClient, state: KadiState, file: dict[str, Any]) -> Callable[[], bytes]:
    file_id = str(file["id"])
    return lambda: client.download(state.record_id, file_id)


def complete(current: Annotation | None, state: KadiState) -> bool:
    """The annotation's verdict tag and report file are both in place."""
    return (current is not None and f"qc-{current.verdict}" in state.tags
            and current.report_file in state.file_names)


def read(client: KadiClient, ref: RecordRef, me: str | None = None, *, plugin: bool = True,
         whoami: Callable[[], str] | None = None) -> Content:
    """Sources and annotation: in one read of the plugin's state endpoint where the plugin is installed;
    else from the extras the caller holds (or the newest revisions), plus the file list.

    A verdict changed by hand (`altered` in what the on-save hook holds, or found in the record's revisions
    since the plugin's own newest write) is never taken as the annotation in place: the record is judged
    again and the true verdict written back, saying who altered it. Without the plugin, finding that out
    costs one more read (the newest revisions) of a record that holds a verdict; `whoami` names the
    plugin's account, asked once when the caller does not know it.
    """
    record_id = int(ref.id)
    held = ref.listing
    state = KadiState(record_id, str(held.get("identifier") or ref.label or record_id), [], [], [], me=me,
                      altered=str(held.get("altered") or ""))
    if plugin and client.plugin_endpoint is not False:
        found = _state(client, state, ref)
        if found is not None:
            return found
    if state.me is None and whoami is not None:
        state.me = whoami()  # only the plugin's own writes may pass for annotations
    if isinstance(held.get("extras"), list):
        state.extras, state.tags = list(held["extras"]), tag_names(held.get("tags"))
    else:
        stop = _revisions(client, state, ref)
        if stop is not None:
            return stop
    state.files = client.files(record_id)
    if not state.altered and marks_of(state.extras, state.tags) != ({}, []):
        stop = _history(client, state, ref)
        if stop is not None:
            return stop
    current = None if state.altered else from_extras(state.extras)
    return Content(ref, ref.revision or "", sources(client, state), current, complete(current, state), state=state)


def _history(client: KadiClient, state: KadiState, ref: RecordRef) -> Content | None:
    """Who changed the verdict in place since the plugin's own newest write, from the revisions (into
    `state.altered`); a stale or skipped `Content` when there is nothing to judge."""
    if state.me is None:
        return None  # without the plugin's account no write can be told to be its own
    if state.recent is None:
        stop = _revisions(client, state, ref)
        if stop is not None:
            return stop
    seen = list(state.recent or [])
    own = next((r for r in seen if str((r.get("user") or {}).get("id")) == state.me), None)
    page = 1
    while own is None and len(seen) == page * RECENT and page < HISTORY_PAGES:
        page += 1
        more = client.revisions(state.record_id, per_page=RECENT, page=page)
        seen += more
        own = next((r for r in more if str((r.get("user") or {}).get("id")) == state.me), None)
    me = state.me
    state.altered = altered_since(seen, own, listed_marks, lambda r: altered_listed(r, me))
    return None


def prepare(client: KadiClient, content: Content) -> Content:
    """Name the revision judged; judge the newest state if the record changed since it was listed."""
    state: KadiState = content.state
    if state.judged and state.recent is None:  # the state endpoint named it already
        return content
    if state.recent is None:
        stop = _revisions(client, state, content.ref)
        if stop is not None:
            return stop
    content.sources = sources(client, state)
    content.current = None if state.altered else from_extras(state.extras)
    content.complete = complete(content.current, state)
    content.previous = content.current or _last_written(state.recent or [], state.me)
    content.judged_revision = str(state.judged["id"])
    return content


def _revisions(client: KadiClient, state: KadiState, ref: RecordRef) -> Content | None:
    """Read the newest revisions into `state`; a stale or skipped `Content` when there is nothing to judge."""
    state.recent = client.revisions(state.record_id, per_page=RECENT)
    newest = newest_revision(client, state.record_id, state.recent, state.me)
    if newest is None:
        return Content(ref, status="skipped", detail="the record has no revision to judge")
    if ref.revision is not None and str(newest["id"]) != ref.revision:
        return Content(ref, ref.revision, status="stale",
                       detail=f"revision {ref.revision} is no longer the newest ({newest['id']} is)")
    now = state.recent[0].get("data") or {}
    state.judged = newest
    state.extras, state.tags = list(now.get("extras") or []), tag_names(now.get("tags"))
    state.identifier = str(now.get("identifier") or state.identifier)
    return None


def _last_written(recent: list[dict[str, Any]], me: str | None = None) -> Annotation | None:
    """The last annotation written, when a later save dropped (or a person altered) it (for `supersedes`)."""
    for revision in recent:
        if is_own_revision(revision, me) if me is not None else is_annotation_revision(revision):
            return from_extras((revision.get("data") or {}).get("extras"))
    return None


def _state(client: KadiClient, state: KadiState, ref: RecordRef) -> Content | None:
    """Everything from the plugin's state endpoint in one read; None when this Kadi does not have it."""
    response = client.session.request("GET", STATE.format(id=state.record_id))
    body = json_object(response)
    if response.status_code == 404 and "eln_msc" not in body:
        client.plugin_endpoint = False
        return None
    check(response, f"read record {state.record_id}")
    record, files, judged = body.get("record"), body.get("files"), body.get("judged_revision")
    if (not isinstance(record, dict) or not isinstance(record.get("extras"), list) or not isinstance(files, list)
            or not all(isinstance(f, dict) and "id" in f and "name" in f for f in files)
            or not (judged is None or isinstance(judged, int))):
        raise ElnError(f"read record {state.record_id}: not the answer the eln-msc plugin gives")
    if judged is None:
        return Content(ref, status="skipped", detail="the record has no revision to judge")
    if ref.revision is not None and str(judged) != ref.revision:
        return Content(ref, ref.revision, status="stale",
                       detail=f"revision {ref.revision} is no longer the newest ({judged} is)")
    state.extras, state.tags = list(record["extras"]), tag_names(record.get("tags"))
    state.identifier, state.files = str(record.get("identifier") or state.identifier), files
    state.judged = {"id": judged}
    found = body.get("altered")
    state.altered = state.altered or (found if isinstance(found, str) else "")
    current = None if state.altered else from_extras(state.extras)
    previous = current or from_extras(body.get("last_written"))
    return Content(ref, str(judged), sources(client, state), current, complete(current, state), previous=previous,
                   state=state)

