"""The record form, checked live: `POST /eln-msc/check` judges the extras of an unsaved record form.

The page script (static/eln-msc-form.js, added to Kadi's record edit and new-record pages) sends the form's
extras whenever the scientist leaves a field. They are read with Kadi's own extras schema, exactly as the
save would read them: what Kadi would refuse is answered in Kadi's words; otherwise the plugin's engine
judges them and answers with the verdict and findings. Nothing is saved or written; attached files are
judged after the save. Imported by the plugin's hooks only (it runs inside Kadi's web server).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_login import login_required
from kadi.modules.records.extras import ExtraSchema
from marshmallow import ValidationError

from eln_msc_plugin.kadi import KADI_RECORD
from eln_msc_plugin.kadi.extras import has_batch_extras
from eln_msc_plugin.kadi.live import blueprint
from eln_msc_plugin.kadi.plugin import engine_for, settings
from eln_msc_plugin.model import Document, shown_findings, worst_verdict

MAX_SHOWN = 20
MAX_EXTRAS_BYTES = 2_000_000  # a batch record's extras are a few kilobytes; refuse what no form sends


def _kadi_messages(errors: Any, path: str = "") -> list[str]:
    """Kadi's validation messages, each with the place it refers to (extra index path)."""
    if isinstance(errors, dict):
        return [m for key, value in errors.items() for m in _kadi_messages(value, f"{path}/{key}")]
    if isinstance(errors, list):
        return [m for item in errors for m in _kadi_messages(item, path)]
    return [f"{path}: {errors}"]


def _answer(body: dict[str, Any]) -> Response:
    response = jsonify({"eln_msc": 1, **body})
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/check")
@login_required
def check_form() -> Response:
    if (request.content_length or 0) > MAX_EXTRAS_BYTES:
        return _answer({"state": "unchecked", "detail": "the form is too large to check live"})
    found = request.get_json(silent=True)
    payload: dict[str, Any] = found if isinstance(found, dict) else {}
    extras = payload.get("extras")
    if not isinstance(extras, list):
        return _answer({"state": "unchecked", "detail": "no extras in the request"})
    try:
        loaded = ExtraSchema(many=True).load(extras)
    except ValidationError as error:
        return _answer({"state": "refused", "messages": _kadi_messages(error.messages)[:MAX_SHOWN]})
    if not has_batch_extras(loaded):
        return _answer({"state": "unchecked", "detail": "the form holds no batch record extras yet"})
    document = Document(source="form", media_type=KADI_RECORD,
                        payload={"identifier": str(payload.get("identifier") or ""), "extras": loaded})
    reports = list(engine_for(settings()).reports(document))
    findings = [f"{f.severity}: [{f.rule}] {f.message}" for r in reports for f in shown_findings(r)]
    return _answer({"state": "checked", "verdict": worst_verdict(r.verdict for r in reports),
                    "findings": findings[:MAX_SHOWN], "more": max(0, len(findings) - MAX_SHOWN)})
