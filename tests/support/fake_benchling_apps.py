"""The fake tenant's app-facing side: canvases, sessions, blobs, and the events every change makes.

A change becomes an entry in `GET /events` (shape: the description's `Event` types) and a webhook
message (shape: the webhook description's `WebhookMessageV0`) queued in `webhooks`, which
`FakeBenchling.deliver_pending()` signs and sends. A write by the app makes events like any other:
that is what lets a test catch a receiver that loops on its own writes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response


def now() -> str:
    return datetime.now(UTC).isoformat()


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def error(status: int, message: str, invalid: str | None = None) -> Response:
    body: dict[str, Any] = {"message": message, "type": "invalid_request_error", "userMessage": message}
    if invalid:
        body["invalidId"] = invalid
    return json_response({"error": body}, status)


class AppWrites:
    """Mixed into `Tenant`: the resources only an app writes, and event bookkeeping."""

    entities: dict[str, dict[str, Any]]
    entries: dict[str, dict[str, Any]]
    events: list[dict[str, Any]]
    webhooks: list[dict[str, Any]]
    canvases: dict[str, dict[str, Any]]
    sessions: dict[str, dict[str, Any]]
    blobs: dict[str, dict[str, Any]]
    server: Any

    # ------------------------------------------------------------ events
    def emit_entity(self, entity_id: str, kind: str, updates: list[str]) -> None:
        schema = self.entities[entity_id]["schema"]
        message: dict[str, Any] = {"id": "evt_" + secrets.token_hex(8), "type": kind, "createdAt": now(),
                                   "resourceId": entity_id, "deprecated": False, "stability": "stable"}
        if kind.endswith("updated"):
            message["properties"] = updates
        self.webhooks.append(message)
        if kind.endswith("created"):  # registration is the one entity event GET /events lists
            self.events.append({"id": message["id"], "eventType": "v2.entity.registered",
                                "createdAt": message["createdAt"], "deprecated": False, "excludedProperties": [],
                                "schema": dict(schema), "entity": {"id": entity_id}})

    def emit_entry(self, entry_id: str, kind: str, updates: list[str] | None) -> None:
        entry = self.entries[entry_id]
        schema = {"id": entry["schema"]["id"]} if entry["schema"] else None
        message: dict[str, Any] = {"id": "evt_" + secrets.token_hex(8), "type": kind, "createdAt": now(),
                                   "resourceId": entry_id, "deprecated": False, "schema": schema}
        if updates is not None:
            message["updates"] = updates
        self.webhooks.append(message)
        event: dict[str, Any] = {"id": message["id"], "eventType": kind, "createdAt": message["createdAt"],
                                 "deprecated": False, "excludedProperties": ["entry.days"],
                                 "schema": dict(entry["schema"]) if entry["schema"] else None,
                                 "entry": {k: v for k, v in entry.items() if k != "days"}}
        if updates is not None:
            event["updates"] = updates
        self.events.append(event)

    # ------------------------------------------------------------ canvases
    def create_canvas(self, request: Request) -> Response:
        body = request.get_json()
        if body["appId"] != self.server.app_id:
            return error(403, "an app may only create its own canvases")
        if body["resourceId"] not in self.entries:
            return error(400, f"resource {body['resourceId']} is not an entry", invalid=body["resourceId"])
        canvas_id = "cnvs_" + secrets.token_hex(5)
        self.canvases[canvas_id] = {"id": canvas_id, "app": {"id": body["appId"]}, "archiveRecord": None,
                                    "enabled": body.get("enabled", True), **_canvas_fields(body)}
        return json_response(self.canvases[canvas_id], 201)

    def update_canvas(self, request: Request, id: str) -> Response:
        if id not in self.canvases:
            return error(404, f"Canvas {id} not found", invalid=id)
        self.canvases[id].update(_canvas_fields(request.get_json()))
        return json_response(self.canvases[id])

    # ------------------------------------------------------------ sessions
    def create_session(self, request: Request) -> Response:
        body = request.get_json()
        if body["appId"] != self.server.app_id:
            return error(403, "an app may only create its own sessions")
        session_id = "sesn_" + secrets.token_hex(5)
        self.sessions[session_id] = {"id": session_id, "app": {"id": body["appId"]}, "name": body["name"],
                                     "timeoutSeconds": body["timeoutSeconds"], "status": "RUNNING",
                                     "messages": list(body.get("messages", [])),
                                     "createdAt": now(), "modifiedAt": now()}
        return json_response(self.sessions[session_id], 201)

    def update_session(self, request: Request, id: str) -> Response:
        if id not in self.sessions:
            return error(404, f"Session {id} not found", invalid=id)
        body = request.get_json()
        session = self.sessions[id]
        session["messages"] = session["messages"] + list(body.get("messages", []))
        session.update({k: body[k] for k in ("status", "timeoutSeconds") if k in body}, modifiedAt=now())
        return json_response(session)

    # ------------------------------------------------------------ blobs
    def create_blob(self, request: Request) -> Response:
        body = request.get_json()
        data = base64.b64decode(body["data64"])
        if hashlib.md5(data).hexdigest() != body["md5"]:
            return error(400, "md5 does not match the data")
        blob_id = str(uuid.uuid4())
        self.blobs[blob_id] = {"id": blob_id, "name": body["name"], "type": body["type"],
                               "mimeType": body.get("mimeType", "application/octet-stream"),
                               "uploadStatus": "COMPLETE", "data": data}
        return json_response({k: v for k, v in self.blobs[blob_id].items() if k != "data"})


def _canvas_fields(body: dict[str, Any]) -> dict[str, Any]:
    keys = ("blocks", "featureId", "resourceId", "sessionId", "data", "enabled")
    return {k: body[k] for k in keys if k in body}
