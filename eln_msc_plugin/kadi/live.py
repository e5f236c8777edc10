"""The record page, live: the QC card from the record's revisions, a small endpoint, and the page script.

Runs inside Kadi4Mat's web server (imported by the plugin's hooks only). The card shows the newest
annotation that the plugin's service account wrote, read from the record's revisions, never the `msc_qc`
extra as it happens to stand: anyone who may edit a record can change that extra. The endpoint
`GET /eln-msc/records/<id>/qc` answers with the same card and whether a check is still on its way; the
script (static/eln-msc-live.js), added to record pages only, polls it until the verdict judges the newest
revision, and gives up after a minute with a note.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Response, jsonify, request
from kadi.lib.permissions.utils import permission_required
from kadi.lib.plugins.core import PluginBlueprint
from kadi.lib.web import url_for
from kadi.modules.records.models import Record

from eln_msc_plugin.kadi.annotation import annotation_of
from eln_msc_plugin.kadi.content import files_fingerprint
from eln_msc_plugin.kadi.overview import CardView, live_box, render
from eln_msc_plugin.kadi.plugin import NAME, _own_annotation, service_user_id, settings
from eln_msc_plugin.kadi.revisions import altered_by_hand, altered_since, verdict_marks
from eln_msc_plugin.kadi.settings import Settings

RECORD_PAGES = ("records.view_record", "records.view_record_by_identifier")
FORM_PAGES = ("records.edit_record", "records.new_record")
WINDOW = 50  # revisions looked at, newest first, to find the plugin's own annotation
PAGE = 5

blueprint = PluginBlueprint(NAME, __name__, url_prefix="/eln-msc", static_folder="static")


def page_script() -> str | None:
    """The live script's URL on a record's page, the form check's on a record form (None elsewhere: Kadi
    adds plugin scripts to every page)."""
    if request.endpoint in RECORD_PAGES:
        return str(url_for(f"{NAME}.static", filename="eln-msc-live.js"))
    if request.endpoint in FORM_PAGES:
        return str(url_for(f"{NAME}.static", filename="eln-msc-form.js"))
    return None


def overview(resource: Any) -> str | None:
    """The card for a record's overview page (None for other resources and for records the plugin skips)."""
    if not isinstance(resource, Record):
        return None
    view = card_view(resource)
    if view is None:
        return None
    return live_box(view, str(url_for(f"{NAME}.record_qc", id=resource.id)))


@blueprint.get("/records/<int:id>/qc")
@permission_required("read", "record", "id", allow_anonymous=True)
def record_qc(id: int) -> Response:  # "id": the name Kadi's permission check reads
    record = Record.query.get_active_or_404(id)
    view = card_view(record) or CardView(state="stale")
    response = jsonify({"record_id": id, "state": view.state, "verdict": view.annotation.get("verdict"),
                        "judged_revision": view.annotation.get("judged_revision"), "altered": view.altered,
                        "html": render(view)})
    response.headers["Cache-Control"] = "no-store"
    return response


def _revisions(record: Any) -> Iterator[Any]:
    """The record's revisions, newest first, a few at a time (most records need only the newest two)."""
    for offset in range(0, WINDOW, PAGE):
        page = record.ordered_revisions.offset(offset).limit(PAGE).all()
        yield from page
        if len(page) < PAGE:
            return


@dataclass
class _Walk:
    """What the newest revisions say: the one a verdict must judge, the plugin's newest write, those before."""

    due: Any = None
    own: Any = None
    seen: list[Any] | None = None


def _walk(record: Any, config: Settings, service: int | None) -> _Walk:
    walk = _Walk(seen=[])
    for revision in _revisions(record):
        walk.seen.append(revision)  # type: ignore[union-attr]
        if walk.due is None and not _own_annotation(revision, config):
            walk.due = revision
        if walk.own is None and service is not None and revision.user_id == service:
            walk.own = revision
        if walk.due is not None and walk.own is not None:
            break
    return walk


def _altered_by(walk: _Walk, service: int | None) -> str:
    """Who changed the verdict on the record since the plugin's own write ('' when no one did)."""
    return altered_since(walk.seen or [], walk.own, verdict_marks, lambda r: altered_by_hand(r, service))


def _files_now(record: Any) -> str:
    files = [{"name": f.name, "checksum": f.checksum, "size": f.size} for f in record.active_files]
    return files_fingerprint(files)


def _unavailable(record: Any, config: Settings | None) -> CardView | None:
    """Which writes are the plugin's own cannot be told (no config, an unknown token): show no verdict."""
    concerned = annotation_of(list(record.extras or [])) or (config is not None and config.checks_type(record.type))
    return CardView(state="unavailable") if concerned else None


def card_view(record: Any) -> CardView | None:
    """How the record's QC card stands (None: the plugin has nothing to say about this record)."""
    try:
        config = settings()
        service = service_user_id(config)
    except Exception:  # the page must render even when the plugin is misconfigured
        return _unavailable(record, None)
    if service is None:
        return _unavailable(record, config)
    walk = _walk(record, config, service)
    annotation = verdict_marks(walk.own)[0] if walk.own is not None else {}
    altered = _altered_by(walk, service)
    checked = config.checks_type(record.type)
    if not (annotation or altered or checked):
        return None
    up_to_date = (bool(annotation) and not altered and walk.due is not None
                  and annotation.get("judged_revision") == walk.due.id
                  and (annotation.get("files_judged") or "") == _files_now(record))
    state = "current" if up_to_date else ("pending" if checked else "stale")
    return CardView(annotation, state, altered)
