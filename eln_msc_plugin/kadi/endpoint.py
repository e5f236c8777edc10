"""The plugin's annotation endpoint inside Kadi4Mat: `PATCH /api/eln_msc/records/<id>/annotation`.

Kadi's own PATCH replaces the whole extras and tags lists and has no conditional form, so a client
writing an annotation could overwrite a save made a moment earlier. This endpoint does the write under
the record's row lock instead: it checks that the revision judged is still the newest (else 409 "stale")
and that the report file it names is attached (else 409), then replaces only the `msc_qc` extra and the
`qc-*` tag, as the token's account. One request, and no concurrent save is ever clobbered.
Loaded by the Kadi plugin (kadi/plugin.py); every answer carries the key `eln_msc`.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from kadi.lib.api.blueprint import bp
from kadi.lib.api.core import json_error_response, json_response, scopes_required
from kadi.lib.permissions.utils import permission_required
from kadi.modules.records.core import update_record
from kadi.modules.records.extras import ExtraSchema
from kadi.modules.records.models import File, FileState, Record, RecordState
from kadi.modules.records.schemas import RecordSchema
from marshmallow import ValidationError

from eln_msc_plugin.kadi import ANNOTATION_KEY, VERDICT_TAGS
from eln_msc_plugin.kadi.annotation import plain, tag_names, with_verdict_tag
from eln_msc_plugin.kadi.revisions import object_annotation_only

LOOK_BACK = 50


def _error(status: int, reason: str, description: str, **extra: Any) -> Any:
    return json_error_response(status, description=description, eln_msc=reason, **extra)


def _body() -> tuple[int, dict[str, Any], str] | str:
    """The judged revision, the annotation extra and the report file named, or what is wrong."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return "the body is not a JSON object"
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


@bp.patch("/eln_msc/records/<int:id>/annotation")
@permission_required("update", "record", "id")
@scopes_required("record.update")
def write_annotation(id: int) -> Any:
    parsed = _body()
    if isinstance(parsed, str):
        return _error(400, "invalid", parsed)
    judged, extra, report = parsed
    record = (Record.query.filter(Record.id == id, Record.state == RecordState.ACTIVE)
              .populate_existing().with_for_update().first())
    if record is None:
        return _error(404, "gone", f"record {id} does not exist or was deleted")
    newest = newest_judgeable(record, current_user.id)
    if newest != judged:
        return _error(409, "stale", f"revision {judged} is no longer the newest ({newest} is)", newest=newest)
    if record.files.filter(File.name == report, File.state == FileState.ACTIVE).first() is None:
        return _error(409, "no-report", f"the report file {report} is not attached to record {id}")
    try:
        [annotation] = ExtraSchema(many=True).load([extra])
    except ValidationError as error:
        return _error(400, "invalid", f"the annotation is not a valid extra: {error.messages}")
    extras = [e for e in record.extras or [] if e.get("key") != ANNOTATION_KEY] + [annotation]
    tags = with_verdict_tag(tag_names([{"name": t.name} for t in record.tags]), plain(extra)["verdict"])
    if not update_record(record, extras=extras, tags=tags):
        return _error(409, "conflict", f"record {id} could not be updated")
    return json_response(200, {**RecordSchema().dump(record), "eln_msc": "annotated"})
