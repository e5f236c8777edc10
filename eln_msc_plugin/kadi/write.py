"""The Kadi write protocol: the report file first, then tag and `msc_qc` extra in one write that names it.

At no moment does a record's extra name a report file that is not there, and a report file is never
overwritten (its name carries the revision and a key of what was judged; a name taken is never reused).

Where the plugin is installed in Kadi, one request does it all: the plugin's annotation endpoint
(kadi/endpoint.py) stores the report as a new file, then, under the record's row lock and only if the
revision judged is still the newest, replaces `msc_qc` and the `qc-*` tag alone, so no concurrent save is
ever clobbered. Without the plugin (a backfill against a Kadi where it is not installed): Kadi's two-step
upload, then Kadi's own PATCH, which replaces the whole extras and tags lists, then one more read of the
newest revisions, and a save that slipped in between is put back (kadi/guard.py).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from eln_msc_plugin.eln.base import Annotation, Content, WriteOutcome
from eln_msc_plugin.eln.http import check
from eln_msc_plugin.errors import ElnError
from eln_msc_plugin.kadi import ANNOTATION_KEY
from eln_msc_plugin.kadi.annotation import to_extra, with_verdict_tag
from eln_msc_plugin.kadi.client import KadiClient, json_object
from eln_msc_plugin.kadi.content import KadiState

ENDPOINT = "api/eln_msc/records/{id}/annotation"
TRIES = 3
MARKER = "eln_msc"  # every answer of the plugin's endpoint carries it; a 404 without it: no plugin there
log = logging.getLogger("eln_msc_plugin.kadi")


def free_name(name: str, taken: set[str]) -> str:
    """`name`, or `name` with `-2`, `-3`, … before the suffix when a file of that name exists."""
    stem, dot, suffix = name.rpartition(".")
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{stem}-{number}{dot}{suffix}"
    return candidate


def upload_report(client: KadiClient, state: KadiState, annotation: Annotation) -> None:
    """Attach the report under a name no file has (2 requests; again under the next name if one appeared)."""
    taken = set(state.file_names)
    for _ in range(3):
        annotation.report_file = free_name(annotation.report_file, taken)
        try:
            file = client.upload(state.record_id, annotation.report_file, annotation.report)
        except ElnError as error:
            if error.status != 409:
                raise
            taken.add(annotation.report_file)
            continue
        state.files.append(file)
        return
    raise ElnError(f"record {state.record_id}: no free name for the report file", retryable=True)


def annotate(client: KadiClient, content: Content, annotation: Annotation, *, dry_run: bool = False,
             via: str = "auto", before_write: Any = None, me: Any = None) -> WriteOutcome:
    """Write `annotation` onto the record `content` was read from."""
    state: KadiState = content.state
    annotation.report_file = free_name(annotation.report_file, state.file_names)
    if dry_run:
        return WriteOutcome("dry-run", would_write={"tags": with_verdict_tag(state.tags, annotation.verdict),
                                                    ANNOTATION_KEY: to_extra(annotation),
                                                    "file": annotation.report_file})
    if before_write is not None:
        before_write()  # a test makes a concurrent save here
    if via != "patch" and client.plugin_endpoint is not False:
        outcome = _endpoint(client, state, annotation)
        if outcome is not None:
            return outcome
        if via == "plugin":
            raise ElnError("the eln-msc plugin's annotation endpoint is not installed in this Kadi4Mat")
    upload_report(client, state, annotation)
    from eln_msc_plugin.kadi.guard import patch_and_verify

    return patch_and_verify(client, state, annotation, me)


def _endpoint(client: KadiClient, state: KadiState, annotation: Annotation) -> WriteOutcome | None:
    """Report and annotation in one request through the plugin; None when this Kadi does not have it."""
    taken = set(state.file_names)
    for _ in range(TRIES):
        body = {"judged_revision": int(annotation.judged_revision), "annotation": to_extra(annotation),
                "report_file": annotation.report_file}
        response = client.session.request(
            "POST", ENDPOINT.format(id=state.record_id), data={"annotation": json.dumps(body)},
            files={"report": (annotation.report_file, annotation.report, "application/json")})
        answer = json_object(response)
        if response.status_code == 404 and MARKER not in answer:
            log.warning("%s has no eln-msc annotation endpoint (plugin not installed there): writing with Kadi's "
                        "own upload and PATCH, and checking for concurrent saves afterwards", client.base_url)
            client.plugin_endpoint = False
            return None
        if response.status_code == 409 and answer.get(MARKER) == "stale":
            return WriteOutcome("stale", detail=str(answer.get("description") or "a newer revision was saved"))
        if response.status_code == 409 and answer.get(MARKER) == "name-taken":
            taken.add(annotation.report_file)  # a file of that name appeared since the record was read
            annotation.report_file = free_name(annotation.report_file, taken)
            continue
        check(response, f"write the annotation of record {state.record_id}")
        modified = answer.get("last_modified")
        return WriteOutcome("annotated", modified_at=modified if isinstance(modified, str) else None)
    raise ElnError(f"record {state.record_id}: no free name for the report file", retryable=True)

