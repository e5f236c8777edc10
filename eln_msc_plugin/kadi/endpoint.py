"""The plugin's annotation endpoint inside Kadi4Mat: `POST /api/eln_msc/records/<id>/annotation`.

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
from kadi.modules.records.schemas import FileSchema, RecordSchema
from kadi.modules.records.uploads import delete_upload, save_upload_data
from kadi.modules.records.utils import get_user_quota
from marshmallow import ValidationError

from eln_msc_plugin.kadi import ANNOTATION_KEY, VERDICT_TAGS
from eln_msc_plugin.kadi.annotation import plain, tag_names, with_verdict_tag
from eln_msc_plugin.kadi.revisions import object_annotation_only

LOOK_BACK = 50


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


def newest_judgeable(record: Record, user_id: int) -> int | None:
    """The newest revision that is more than an annotation write by `user_id`."""
    for revision in record.ordered_revisions.limit(LOOK_BACK):
        if not object_annotation_only(revision, user_id):
            return int(revision.id)
    return None


def _locked(record_id: int) -> Record | None:
    """The active record, locked until the next commit (and read afresh)."""
    return (Record.query.filter(Record.id == record_id, Record.state == RecordState.ACTIVE)
            .populate_existing().with_for_update().first())


def _save_report(record: Record, name: str, data: bytes) -> Any:
    """Attach the report as Kadi's own upload would: a new file; or the reason it cannot be ("taken", "quota")."""
    if record.active_files.filter(File.name == name).first() is not None:
        return "taken"
    upload = Upload.create(creator=current_user, record=record, name=name, size=len(data),
                           mimetype="application/json")
    db.session.commit()
    quota = current_app.config.get("UPLOAD_USER_QUOTA")
    if quota is not None and get_user_quota() > quota:
        delete_upload(upload)
        db.session.commit()
        return "quota"
    upload.state = UploadState.PROCESSING
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
    record = _locked(id)
    if record is None:
        return _error(404, "gone", f"record {id} does not exist or was deleted")
    if (newest := newest_judgeable(record, current_user.id)) != judged:
        return _error(409, "stale", f"revision {judged} is no longer the newest ({newest} is)", newest=newest)
    try:
        file = _save_report(record, name, report_part.read())
    except KadiStorageError as error:
        return _error(400, "invalid", f"the report could not be stored: {error}")
    if file == "taken":
        return _error(409, "name-taken", f"a file {name} is attached to record {id} already")
    if file == "quota" or file is None:
        return _error(413 if file == "quota" else 409, "not-stored", f"the report {name} could not be stored "
                      "(the upload quota is exceeded, or a conflict)")
    record = _locked(id)  # a save may have landed while the file was stored: judge it on its own
    if record is None or (newest := newest_judgeable(record, current_user.id)) != judged:
        db.session.commit()
        return _error(409, "stale", f"revision {judged} is no longer the newest ({newest} is)", newest=newest)
    extras = [e for e in record.extras or [] if e.get("key") != ANNOTATION_KEY] + [annotation]
    tags = with_verdict_tag(tag_names([{"name": t.name} for t in record.tags]), plain(extra)["verdict"])
    if not update_record(record, extras=extras, tags=tags):
        return _error(409, "conflict", f"record {id} could not be updated")
    return json_response(200, {**RecordSchema().dump(record), "file": FileSchema().dump(file), "eln_msc": "annotated"})
