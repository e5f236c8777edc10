"""The fake Benchling tenant's resources: schemas, custom entities, entries, results, events, app writes.

Shapes follow the stable REST description (the server checks every response against it). Behaviour
the description leaves out is coded by hand: pages hold at most `pageSize` (≤ 100, the description's
maximum) and continue with an opaque `nextToken`; a PATCH naming a field its schema lacks is refused
with 400 (Benchling's "Field not found" behaviour); entity fields are keyed by display name and result
fields by system name (the description says so on `AssayResult.fields`).
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from tests.support.fake_benchling_apps import AppWrites, error, json_response, now

if TYPE_CHECKING:
    from tests.support.fake_benchling import FakeBenchling

USER = {"id": "ent_scientist", "handle": "mscientist", "name": "M. Scientist"}
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern + "$"), name) for method, pattern, name in [
        ("GET", r"/api/v2/custom-entities/(?P<id>[^/:]+)", "get_entity"),
        ("PATCH", r"/api/v2/custom-entities/(?P<id>[^/:]+)", "patch_entity"),
        ("GET", r"/api/v2/custom-entities", "list_entities"),
        ("GET", r"/api/v2/entries/(?P<id>[^/:]+)", "get_entry"),
        ("PATCH", r"/api/v2/entries/(?P<id>[^/:]+)", "patch_entry"),
        ("GET", r"/api/v2/entries", "list_entries"),
        ("GET", r"/api/v2/entries/(?P<id>[^/]+)/external-files/(?P<file>[^/]+)", "external_file"),
        ("GET", r"/api/v2/assay-results", "list_results"),
        ("GET", r"/api/v2/events", "list_events"),
        ("POST", r"/api/v2/app-canvases", "create_canvas"),
        ("PATCH", r"/api/v2/app-canvases/(?P<id>[^/:]+)", "update_canvas"),
        ("POST", r"/api/v2/app-sessions", "create_session"),
        ("PATCH", r"/api/v2/app-sessions/(?P<id>[^/:]+)", "update_session"),
        ("GET", r"/api/v2/apps/(?P<id>[^/:]+)", "get_app"),
        ("POST", r"/api/v2/blobs", "create_blob"),
        ("GET", r"/api/v2/(?P<kind>entity|assay-result|entry)-schemas/(?P<id>[^/:]+)", "get_schema"),
    ]]


class Tenant(AppWrites):
    """Everything the tenant holds; every change a user or the app makes is also an event."""

    def __init__(self, server: FakeBenchling) -> None:
        self.server = server
        self.schemas: dict[str, dict[str, Any]] = {}
        self.entities: dict[str, dict[str, Any]] = {}
        self.entries: dict[str, dict[str, Any]] = {}
        self.results: list[dict[str, Any]] = []
        self.files: dict[str, tuple[str, bytes]] = {}   # external file id -> (name, bytes)
        self.events: list[dict[str, Any]] = []           # as GET /events lists them
        self.webhooks: list[dict[str, Any]] = []         # messages to deliver, oldest first
        self.canvases: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.blobs: dict[str, dict[str, Any]] = {}
        self.lock = threading.RLock()
        self._clock = datetime.now(UTC)

    # ------------------------------------------------------------ seeding (what users do in the UI)
    def add_schema(self, kind: str, name: str, fields: dict[str, str], schema_id: str | None = None) -> str:
        """A schema of `kind` (custom_entity, assay_result, entry) with fields {name: field type}."""
        prefix = {"custom_entity": "ts_", "assay_result": "assaysch_", "entry": "ps_"}[kind]
        schema_id = schema_id or prefix + secrets.token_hex(4)
        self.schemas[schema_id] = {"id": schema_id, "name": name, "type": kind, "fieldDefinitions": [
            {"id": "tsf_" + secrets.token_hex(4), "name": f, "type": t, "isMulti": False, "isRequired": False,
             "archiveRecord": None} for f, t in fields.items()]}
        return schema_id

    def field_types(self, schema_id: str) -> dict[str, str]:
        return {f["name"]: f["type"] for f in self.schemas[schema_id]["fieldDefinitions"]}

    def _stamp(self) -> str:
        # strictly increasing modification stamps, as a real tenant's clock gives them
        self._clock = max(self._clock + timedelta(microseconds=1000), datetime.now(UTC))
        return self._clock.isoformat()

    def _fields(self, schema_id: str, values: dict[str, Any]) -> dict[str, Any]:
        types = self.field_types(schema_id)
        out = {}
        for name, value in values.items():
            text = None if value is None else str(value)
            out[name] = {"value": value, "type": types.get(name, "text"), "isMulti": False,
                         "displayValue": text, "textValue": text}
        return out

    def create_entity(self, schema_id: str, name: str, values: dict[str, Any]) -> str:
        with self.lock:
            entity_id = "bfi_" + secrets.token_hex(5)
            stamp = self._stamp()
            self.entities[entity_id] = {
                "id": entity_id, "name": name, "aliases": [], "archiveRecord": None, "authors": [USER],
                "createdAt": stamp, "modifiedAt": stamp, "creator": USER, "customFields": {},
                "entityRegistryId": None, "registryId": None, "folderId": "lib_batches",
                "schema": {"id": schema_id, "name": self.schemas[schema_id]["name"]},
                "fields": self._fields(schema_id, {f: None for f in self.field_types(schema_id)} | values),
                "apiURL": f"{self.server.url}/api/v2/custom-entities/{entity_id}",
                "webURL": f"{self.server.url}/benchling/f/lib_batches/{entity_id}/edit"}
            self.emit_entity(entity_id, "v3.customEntity.created", [])
            return entity_id

    def create_entry(self, schema_id: str | None, name: str, values: dict[str, Any] | None = None,
                     files: dict[str, bytes] | None = None) -> str:
        with self.lock:
            entry_id = "etr_" + secrets.token_hex(5)
            notes: list[dict[str, Any]] = [{"type": "text", "text": "Batch record", "links": [], "indentation": 0}]
            for file_name, content in (files or {}).items():
                file_id = "exf_" + secrets.token_hex(5)
                self.files[file_id] = (file_name, content)
                notes.append({"type": "external_file", "externalFileId": file_id, "text": file_name,
                              "links": [], "indentation": 0})
            stamp = self._stamp()
            fields = self._fields(schema_id, {f: None for f in self.field_types(schema_id)} | (values or {})) \
                if schema_id else {}
            self.entries[entry_id] = {
                "id": entry_id, "name": name, "displayId": "EXP" + entry_id[-4:], "folderId": "lib_batches",
                "createdAt": stamp, "modifiedAt": stamp, "creator": USER, "authors": [USER],
                "assignedReviewers": [], "archiveRecord": None, "customFields": {},
                "schema": {"id": schema_id, "name": self.schemas[schema_id]["name"]} if schema_id else None,
                "fields": fields, "days": [{"date": stamp[:10], "notes": notes, "title": None}],
                "webURL": f"{self.server.url}/benchling/entries/{entry_id}", "apiURL":
                f"{self.server.url}/api/v2/entries/{entry_id}", "entryTemplateId": None, "reviewRecord": None}
            self.emit_entry(entry_id, "v2.entry.created", None)
            return entry_id

    def add_result(self, schema_id: str, values: dict[str, Any], entry_id: str | None = None) -> str:
        with self.lock:
            result_id = str(uuid.uuid4())
            self.results.append({
                "id": result_id, "schema": {"id": schema_id, "name": self.schemas[schema_id]["name"]},
                "fields": self._fields(schema_id, values), "createdAt": self._stamp(), "creator": USER,
                "entryId": entry_id, "isReviewed": False, "projectId": None, "archiveRecord": None,
                "fieldValidation": {}, "validationStatus": "VALID", "validationComment": ""})
            return result_id

    def user_update(self, resource_id: str, values: dict[str, Any]) -> None:
        """A scientist edits fields in the UI: a new modification stamp and an update event."""
        with self.lock:
            self._set_fields(resource_id, {k: {"value": v} for k, v in values.items()})
            self._emit_update(resource_id, list(values))

    # ------------------------------------------------------------ routing
    @staticmethod
    def worded_limits(request: Request) -> str:
        """What the description states only in words, checked by hand: the problem, or ""."""
        if request.path == "/api/v2/assay-results" and len(request.args.get("entityIds", "").split(",")) > 20:
            return "entityIds: more than 20 ids (the description: \"comma-separated list ..., maximum of 20\")"
        return ""


    def route(self, request: Request, client: str) -> Response:
        for method, pattern, name in _ROUTES:
            match = pattern.match(request.path)
            if match and request.method == method:
                with self.lock:
                    return getattr(self, name)(request, **match.groupdict())
        return error(404, f"no route {request.method} {request.path}")

    def get_entity(self, request: Request, id: str) -> Response:
        entity = self.entities.get(id)
        return json_response(entity) if entity else error(404, f"Custom entity {id} not found", invalid=id)

    def patch_entity(self, request: Request, id: str) -> Response:
        if id not in self.entities:
            return error(404, f"Custom entity {id} not found", invalid=id)
        return self._patch(request, id, self.entities)

    def get_entry(self, request: Request, id: str) -> Response:
        entry = self.entries.get(id)
        return json_response({"entry": entry}) if entry else error(404, f"Entry {id} not found", invalid=id)

    def patch_entry(self, request: Request, id: str) -> Response:
        if id not in self.entries:
            return error(404, f"Entry {id} not found", invalid=id)
        response = self._patch(request, id, self.entries)
        return json_response(self.entries[id]) if response.status_code == 200 else response

    def _patch(self, request: Request, id: str, store: dict[str, dict[str, Any]]) -> Response:
        fields = (request.get_json(silent=True) or {}).get("fields", {})
        known = self.field_types(store[id]["schema"]["id"])
        unknown = sorted(set(fields) - set(known))
        if unknown:
            return error(400, f"Field not found on schema: {unknown[0]}")
        self._set_fields(id, fields)
        self._emit_update(id, list(fields))
        return json_response(store[id])

    def _set_fields(self, resource_id: str, fields: dict[str, Any]) -> None:
        item = self.entities.get(resource_id) or self.entries[resource_id]
        values = {name: spec.get("value") for name, spec in fields.items()}
        item["fields"].update(self._fields(item["schema"]["id"], values))
        item["modifiedAt"] = self._stamp()

    def _emit_update(self, resource_id: str, names: list[str]) -> None:
        updates = [f"fields.{n}" for n in names]
        if resource_id in self.entities:
            self.emit_entity(resource_id, "v3.customEntity.updated", updates)
        else:
            self.emit_entry(resource_id, "v2.entry.updated.fields", updates)

    def list_entities(self, request: Request) -> Response:
        wanted = {k.removeprefix("schemaField."): v for k, v in request.args.items() if k.startswith("schemaField.")}
        items = [e for e in self.entities.values()
                 if request.args.get("schemaId") in (None, e["schema"]["id"])
                 and all(str((e["fields"].get(k) or {}).get("value")) == v for k, v in wanted.items())]
        return self._page(request, sorted(items, key=lambda e: e["modifiedAt"], reverse=True), "customEntities")

    def list_entries(self, request: Request) -> Response:
        ids = list(filter(None, request.args.get("ids", "").split(",")))
        unknown = [i for i in ids if i not in self.entries]
        if unknown:  # `ids`: "Matches all of the provided IDs, or returns a 400 error that includes ... which IDs"
            return error(400, f"Invalid ids: {', '.join(unknown)}", invalid=unknown[0])
        items = [e for e in self.entries.values()
                 if request.args.get("schemaId") in (None, (e["schema"] or {}).get("id"))
                 and (not ids or e["id"] in ids)]
        return self._page(request, sorted(items, key=lambda e: e["modifiedAt"], reverse=True), "entries")

    def list_results(self, request: Request) -> Response:
        wanted = set(filter(None, request.args.get("entityIds", "").split(",")))
        items = [r for r in self.results if r["schema"]["id"] == request.args.get("schemaId")
                 and (not wanted or any(f["value"] in wanted for f in r["fields"].values()))]
        return self._page(request, items, "assayResults")

    def list_events(self, request: Request) -> Response:
        since = request.args.get("createdAt.gte", "")
        kinds = set(filter(None, request.args.get("eventTypes", "").split(",")))
        items = [e for e in self.events if e["createdAt"] >= since and (not kinds or e["eventType"] in kinds)]
        return self._page(request, items, "events")

    def _page(self, request: Request, items: list[dict[str, Any]], key: str) -> Response:
        size = int(request.args.get("pageSize", 50))
        token = request.args.get("nextToken")
        start = int(base64.urlsafe_b64decode(token).decode()) if token else 0
        # The last page carries `nextToken: ""`: benchling-sdk reads the member on every page
        # (pagination_helpers `_default_token_extractor`) and stops at an empty one.
        body: dict[str, Any] = {key: items[start:start + size], "nextToken": ""}
        if start + size < len(items):
            body["nextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return json_response(body)

    def external_file(self, request: Request, id: str, file: str) -> Response:
        name, content = self.files[file]
        return json_response({"externalFile": {"id": file, "size": len(content),
                                               "downloadURL": f"{self.server.url}/download/{file}",
                                               "expiresAt": int(datetime.now().timestamp()) + 300}})

    def download(self, file_id: str) -> Response:
        if file_id not in self.files:
            return error(404, "no such file")
        return Response(self.files[file_id][1], content_type="application/octet-stream")

    def get_schema(self, request: Request, kind: str, id: str) -> Response:
        schema = self.schemas.get(id)
        expected = {"entity": "custom_entity", "assay-result": "assay_result", "entry": "entry"}[kind]
        if not schema or schema["type"] != expected:
            return error(404, f"Schema {id} not found", invalid=id)
        body = dict(schema)
        if kind == "entity":
            body |= {"containableType": "NONE", "prefix": "MSC", "registryId": "src_1"}
        return json_response(body)

    def get_app(self, request: Request, id: str) -> Response:
        if id != self.server.app_id:
            return error(404, f"App {id} not found", invalid=id)
        return json_response({"id": id, "name": "MSC batch QC", "description": "QC verdicts",
                              "appDefinition": {"id": self.server.app_definition_id, "versionNumber": "1.0.0"},
                              "createdAt": now(), "modifiedAt": now(), "archiveRecord": None})
