"""The plugin's record endpoints inside Kadi4Mat: `POST /api/eln_msc/records/<id>/annotation` writes an
annotation; `GET /api/eln_msc/records/<id>/state` is a check's one read (extras, tags, files, the revision
to judge, the last annotation written, and who changed the verdict by hand since the plugin wrote it).

Kadi's own PATCH replaces the whole extras and tags lists and has no conditional form, so a client
writing an annotation could overwrite a save made a moment earlier; and Kadi's upload takes two requests.
This endpoint takes the report file and the annotation in one request (multipart: `report`, the file, and
`annotation`, JSON naming the revision judged and holding the `msc_qc` extra), and writes them in that
order: the report file first, as Kadi's own upload would (a new file, never one replaced), then, under the
record's row lock and only if the revision judged is still the newest (else 409 "stale"), the `msc_qc`
extra and the `qc-*` tag alone, as the token's account. No concurrent save is ever clobbered, and the
extra never names a file that is not there. Loaded by the Kadi plugin; every answer carries `eln_msc`.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request
from flask_login import current_user
from kadi.ext.db import db
from kadi.lib.api.blueprint import bp
from kadi.lib.api.core import json_error_response, json_response, scopes_required
from kadi.lib.exceptions import KadiStorageError
from kadi.lib.permissions.utils import permission_required
from kadi.modules.records.core import update_record
from kadi.modules.records.extras import ExtraSchema
from kadi.modules.records.models import File, Record, RecordState, Upload, UploadState
from kadi.modules.records.uploads import save_upload_data
from kadi.modules.records.utils import get_user_quota
from marshmallow import ValidationError

from eln_msc_plugin.kadi import ANNOTATION_KEY, VERDICT_TAGS
from eln_msc_plugin.kadi.annotation import plain, tag_names, with_verdict_tag
from eln_msc_plugin.kadi.revisions import altered_by_hand, altered_since, object_annotation_only, verdict_marks

LOOK_BACK = 50
RECENT_WRITES = 10  # how far back the last annotation written is looked for


def _error(status: int, reason: str, description: str, **extra: Any) -> Any:
    return json_error_response(status, description=description, eln_msc=reason, **extra)


def _body() -> tuple[int, dict[str, Any], str] | str:
    """The judged revision, the annotation extra and the report file named, or what is wrong."""
    try:
        body = json.loads(request.form.get("annotation") or "")
    except ValueError:
        return "the annotation part is not JSON"
    if not isinstance(body, dict):
        return "the annotation part is not a JSON object"
    judged, extra, report = body.get("judged_revision"), body.get("annotation"), body.get("report_file")
    if not isinstance(judged, int) or isinstance(judged, bool):
        return "judged_revision is not a revision id"
    if not isinstance(extra, dict) or extra.get("key") != ANNOTATION_KEY or extra.get("type") != "dict":
        return f"annotation is not an {ANNOTATION_KEY} dict extra"
    values = plain(extra)
    if f"qc-{values.get('verdict')}" not in VERDICT_TAGS or values.get("report_file") != report:
        return "the annotation's verdict or report file is missing or does not match"
    return judged, extra, str(report)


@dataclass
class History:
    """What the newest revisions say: the revision to judge, the extras of the plugin's newest annotation
    write, and the account's newest revision of any kind (what the verdict in place must match)."""

    judged: int | None = None
    last_written: list[Any] | None = None
    own: Any = None
    seen: list[Any] = field(default_factory=list)

    def altered(self, user_id: int) -> str:
        """Who changed the verdict since the account's own newest write ('' when no one did)."""
        return altered_since(self.seen, self.own, verdict_marks, lambda r: altered_by_hand(r, user_id))


def newest_judgeable(record: Record, user_id: int) -> int | None:
    """The newest revision that is more than an annotation write by `user_id`."""
    return walk(record, user_id, last_written=False).judged


def walk(record: Record, user_id: int, last_written: bool = True) -> History:
    """The newest revision that is more than an annotation write by `user_id`, and (with `last_written`) the
    extras of the newest annotation write (what a new annotation supersedes when a later save dropped
    `msc_qc`) and the revisions down to the account's own newest one (who altered the verdict since)."""
    found = History()
    for number, revision in enumerate(record.ordered_revisions.limit(LOOK_BACK)):
        found.seen.append(revision)
        if object_annotation_only(revision, user_id):
            found.last_written = list(revision.extras or []) if found.last_written is None else found.last_written
        elif found.judged is None:
            found.judged = int(revision.id)
        if found.own is None and revision.user_id == user_id:
            found.own = revision
        # No verdict in place: nothing to match against the account's own write, so it need not be found.
        own_known = found.own is not None or verdict_marks(found.seen[0]) == ({}, [])
        if found.judged is not None and (not last_written or (
                (found.last_written is not None or number >= RECENT_WRITES) and own_known)):
            break
    return found


@bp.get("/eln_msc/records/<int:id>/state")
@permission_required("read", "record", "id")
@scopes_required("record.read")
def record_state(id: int) -> Any:
    """In one read, what a check needs: the record's extras and tags, the revision to judge, its files, and
    who changed the verdict by hand since the token's account last wrote (a verdict it did not write)."""
    record = Record.query.filter(Record.id == id, Record.state == RecordState.ACTIVE).first()
    if record is None:
        return _error(404, "gone", f"record {id} does not exist or was deleted")
    history = walk(record, current_user.id)
    files = [{"id": str(f.id), "name": f.name, "checksum": f.checksum, "size": f.size}
             for f in record.active_files.order_by(File.name)]
    return json_response(200, {
        "eln_msc": "state", "judged_revision": history.judged, "last_written": history.last_written,
        "altered": history.altered(current_user.id), "files": files,
        "record": {"id": record.id, "identifier": record.identifier, "extras": record.extras or [],
                   "tags": [t.name for t in record.tags], "last_modified": record.last_modified.isoformat()}})


def _locked(record_id: int) -> Record | None:
    """The active record, locked until the next commit (and read afresh)."""
    return (Record.query.filter(Record.id == record_id, Record.state == RecordState.ACTIVE)
            .populate_existing().with_for_update().first())


def _save_report(record: Record, name: str, data: bytes) -> Any:
    """Attach the report as Kadi's own upload would: a new file; or the reason it cannot be ("taken", "quota")."""
    if record.active_files.filter(File.name == name).first() is not None:
        return "taken"
    quota = current_app.config.get("UPLOAD_USER_QUOTA")
    if quota is not None and get_user_quota() + len(data) > quota:
        return "quota"
    upload = Upload.create(creator=current_user, record=record, name=name, size=len(data),
                           mimetype="application/json", state=UploadState.PROCESSING)
    db.session.commit()
    return save_upload_data(upload, io.BytesIO(data))


@bp.post("/eln_msc/records/<int:id>/annotation")
@permission_required("update", "record", "id")
@scopes_required("record.update")
def write_annotation(id: int) -> Any:
    parsed = _body()
    report_part = request.files.get("report")
    if isinstance(parsed, str) or report_part is None:
        return _error(400, "invalid", parsed if isinstance(parsed, str) else "the report part is missing")
    judged, extra, name = parsed
    try:
        [annotation] = ExtraSchema(many=True).load([extra])
    except ValidationError as error:
        return _error(400, "invalid", f"the annotation is not a valid extra: {error.messages}")
    record = Record.query.filter(Record.id == id, Record.state == RecordState.ACTIVE).first()
    if record is None:
        return _error(404, "gone", f"record {id} does not exist or was deleted")
    try:
        file = _save_report(record, name, report_part.read())
    except KadiStorageError as error:
        return _error(400, "invalid", f"the report could not be stored: {error}")
    if file == "taken":
        return _error(409, "name-taken", f"a file {name} is attached to record {id} already")
    if file == "quota" or file is None:
        return _error(413 if file == "quota" else 409, "not-stored", f"the report {name} could not be stored "
                      "(the upload quota is exceeded, or a conflict)")
    record = _locked(id)  # from here on no save can land until the annotation is written
    if record is None or (newest := newest_judgeable(record, current_user.id)) != judged:
        db.session.commit()  # the report stays, named by no annotation: the newer revision is judged on its own
        return _error(409, "stale", f"revision {judged} is no longer the newest ({newest} is)", newest=newest)
    extras = [e for e in record.extras or [] if e.get("key") != ANNOTATION_KEY] + [annotation]
    tags = with_verdict_tag(tag_names([{"name": t.name} for t in record.tags]), plain(extra)["verdict"])
    if not update_record(record, extras=extras, tags=tags):
        return _error(409, "conflict", f"record {id} could not be updated")
    return json_response(200, {"eln_msc": "annotated", "id": record.id, "report_file": file.name,
                                "last_modified": record.last_modified.isoformat()})
