"""The fake eLabFTW's endpoints: the few the adapter and the tests use, routed like Apiv2Controller."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request

from tests.support.fake_elabftw import views
from tests.support.fake_elabftw.store import (
    ENTITY_TYPES,
    ApiError,
    Entity,
    Key,
    Store,
    User,
    merge_metadata,
    update_field,
)

ROUTE = re.compile(r"^/api/v2/(?P<model>[a-z_]+)(?:/(?P<id>[^/]+))?(?:/(?P<sub>[a-z_]+))?(?:/(?P<subid>\d+))?/?$")


@dataclass
class Answer:
    status: int
    body: Any = None  # JSON-able, or bytes for a download
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def data(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None and self.status in (201, 204) else json.dumps(self.body).encode()


@dataclass
class Call:
    """One authenticated request, parsed."""

    request: Request
    user: User
    key: Key
    model: str
    id: str | None
    sub: str | None
    subid: int | None

    def json(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.get_data() or b"{}")
        except ValueError as error:
            raise ApiError(400, f"Error decoding json payload: {error}") from None
        return body if isinstance(body, dict) else {}


def handle(store: Store, request: Request) -> Answer:
    match = ROUTE.match(request.path)
    if match is None:
        return Answer(404, {"code": 404, "message": "Nothing to show with this id", "description": ""})
    with store.lock:
        user, key = store.authenticate(request.headers.get("Authorization"))
        if not key.can_write and request.method != "GET":
            # AbstractApiController::parseReq, before any model is touched
            raise ApiError(400, "You are using a read-only key to execute a write action.")
        subid = match["subid"]
        call = Call(request, user, key, match["model"], match["id"], match["sub"], int(subid) if subid else None)
        return _route(store, call)


def _route(store: Store, call: Call) -> Answer:
    if call.model == "users" and call.id in ("me", str(call.user.userid)):
        return Answer(200, views.user_view(store, call.user))
    if call.model == "teams" and call.id in ("current", str(call.key.team)):
        return _team(store, call)
    if call.model == "apikeys":
        keys = [{"id": k.id, "name": k.name, "created_at": "2026-08-01 09:00:00", "last_used_at": store.stamp(),
                 "can_write": int(k.can_write), "team": k.team, "team_name": store.teams[k.team]}
                for k in store.keys.values() if k.userid == call.user.userid]
        return Answer(200, keys)
    if call.model in ENTITY_TYPES:
        if call.id is None:
            return _collection(store, call)
        if not call.id.isdigit():
            raise ApiError(400, "Incorrect endpoint.")
        entity = store.entity(call.model, int(call.id), call.key)
        return _entity(store, call, entity) if call.sub is None else _child(store, call, entity)
    raise ApiError(400, "Incorrect endpoint.")


def _team(store: Store, call: Call) -> Answer:
    team = call.key.team
    if call.sub is None:
        return Answer(200, {"id": team, "name": store.teams[team], "user_create_tag": store.user_create_tag[team]})
    if call.sub == "tags":
        return Answer(200, [{"id": tid, "tag": text, "team": t, "item_count": 0, "is_favorite": 0}
                            for tid, (t, text) in store.tags.items() if t == team])
    kind = {"experiments_categories": "experiments", "resources_categories": "items"}.get(call.sub)
    if kind is None:
        raise ApiError(400, "Incorrect endpoint.")
    found = store.categories.get((kind, team), {})
    return Answer(200, [{"id": cid, "title": title, "color": "29AEB9"} for cid, title in found.items()])


def _collection(store: Store, call: Call) -> Answer:
    if call.request.method == "POST":
        fields = call.json()
        entity = store.create(call.model, call.user, call.key.team, fields)
        return Answer(201, headers={"Location": f"{views.SITE_URL}/api/v2/{call.model}/{entity.id}"})
    return Answer(200, _listing(store, call))


def _listing(store: Store, call: Call) -> list[dict[str, Any]]:
    """GET /{type}: state 1 only, the key's team, the category filter, then
    ORDER BY is_pinned DESC, <order> <sort>, entity.id <sort> LIMIT/OFFSET (src/Params/DisplayParams.php getSql)."""
    args = call.request.args
    wanted = {int(c) for c in (args.get("category") or args.get("cat") or "").split(",") if c.strip().isdigit()}
    rows = [e for e in store.entities.values()
            if e.type == call.model and e.state == 1 and e.team == call.key.team
            and (not wanted or e.category in wanted)]
    order = {"lastchange": "modified_at", "id": "id", "date": "created_at", "title": "title"}.get(
        args.get("order", "date"), "created_at")
    descending = args.get("sort", "desc") != "asc"
    rows.sort(key=lambda e: (getattr(e, order), e.id), reverse=descending)
    rows.sort(key=lambda e: e.pinned, reverse=True)  # stable: pinned first, each part in its order
    limit, offset = int(args.get("limit", 15)), int(args.get("offset", 0))
    chosen = rows[offset:offset + limit] if limit > 0 else rows[offset:]
    full = args.get("full") == "1"
    return [views.listing_item(store, e, full) for e in chosen]


def _entity(store: Store, call: Call, entity: Entity) -> Answer:
    method = call.request.method
    if method == "GET":
        return Answer(200, views.entity_view(store, entity, call.user))
    if method == "DELETE":
        store.require_write(entity, call.user)
        entity.state = 3
        store.modify(entity, call.user)
        return Answer(204)
    if method != "PATCH":
        raise ApiError(400, "Incorrect endpoint.")
    _patch(store, call, entity, call.json())
    return Answer(200, views.entity_view(store, entity, call.user))


def _patch(store: Store, call: Call, entity: Entity, body: dict[str, Any]) -> None:
    """AbstractEntity::patch: write access first, then the exclusive edit lock, then the action."""
    action = body.get("action") or "update"
    if action != "pin":
        store.require_write(entity, call.user)
        store.require_no_edit_lock(entity, call.user)
    if action == "pin":
        entity.pinned = not entity.pinned
    elif action in ("lock", "forcelock", "forceunlock"):
        entity.locked = {"lock": 1 - entity.locked, "forcelock": 1, "forceunlock": 0}[action]
        entity.lockedby = call.user.userid if entity.locked else None
        entity.locked_at = store.stamp() if entity.locked else None
        store.modify(entity, None)  # toggleLock's UPDATE sets no lastchangeby
    elif action == "updatemetadatafield":
        before = entity.metadata
        for name, value in body.items():
            if name != "action":
                entity.metadata = update_field(entity.metadata, name, value)
        if entity.metadata != before:
            store.modify(entity, None)  # JSON_SET: ON UPDATE moves modified_at, lastchangeby stays
    elif action == "update":
        _update(store, call, entity, body)
    else:
        raise ApiError(400, "Invalid action parameter.")


def _update(store: Store, call: Call, entity: Entity, body: dict[str, Any]) -> None:
    before = (entity.title, entity.body, entity.category, entity.metadata)
    for name, value in body.items():
        if name == "metadatamerge":
            entity.metadata = merge_metadata(entity.metadata, value or {})
        elif name == "metadata":
            entity.metadata = None if value is None else json.dumps(value, separators=(",", ":"))
        elif name in ("title", "body", "category"):
            setattr(entity, name, value)
        elif name != "action":
            raise ApiError(400, f"Invalid update target: {name}")
    if (entity.title, entity.body, entity.category, entity.metadata) != before:
        store.modify(entity, call.user)


def _child(store: Store, call: Call, entity: Entity) -> Answer:
    method, base = call.request.method, f"{views.SITE_URL}/api/v2/{entity.type}/{entity.id}/{call.sub}"
    if call.sub == "comments":
        if method == "GET":
            return Answer(200, [views.comment_view(store, c) for c in entity.comments])
        text = call.json().get("comment")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Invalid comment.")
        # Comments::create needs read access only (a locked entry takes comments) and touches nothing
        now = store.stamp()
        comment = {"id": store.next_id("comment"), "created_at": now, "modified_at": now, "item_id": entity.id,
                   "comment": text, "userid": call.user.userid}
        entity.comments.append(comment)
        return Answer(201, headers={"Location": f"{base}/{comment['id']}"})
    if call.sub == "tags":
        return _tags(store, call, entity, base)
    if call.sub == "uploads":
        return _uploads(store, call, entity, base)
    raise ApiError(400, "Incorrect endpoint.")


def _tags(store: Store, call: Call, entity: Entity, base: str) -> Answer:
    method = call.request.method
    if method == "GET":
        return Answer(200, [{"tag": store.tags[t][1], "tag_id": t, "is_favorite": 0} for t in entity.tag_ids])
    store.require_write(entity, call.user)
    if method == "POST":
        body = call.json()
        texts = [body["tag"]] if isinstance(body.get("tag"), str) else list(body.get("tags") or [])
        tag_id = 0
        for text in texts:
            tag_id = store.tag_id(entity.team, text, call.user)
            if tag_id not in entity.tag_ids:
                entity.tag_ids.append(tag_id)
        store.touch_for_tags(entity, call.user)
        return Answer(201, headers={"Location": f"{base}/{tag_id}"})
    if method == "PATCH" and call.subid is not None:
        if call.json().get("action") != "unreference":
            raise ApiError(400, "Invalid action for tags.")
        if call.subid in entity.tag_ids:
            entity.tag_ids.remove(call.subid)
            store.touch_for_tags(entity, call.user)
        return Answer(200, {"tag": store.tags.get(call.subid, (0, ""))[1], "id": call.subid})
    raise ApiError(400, "Incorrect endpoint.")


def _uploads(store: Store, call: Call, entity: Entity, base: str) -> Answer:
    method = call.request.method
    if method == "GET" and call.subid is None:
        return Answer(200, [views.upload_view(store, u) for u in entity.uploads if u["state"] == 1])
    if method == "GET":
        upload = next((u for u in entity.uploads if u["id"] == call.subid), None)
        if upload is None:
            raise ApiError(404, "Nothing to show with this id")
        if call.request.args.get("format") == "binary":
            return Answer(200, store.files[upload["content_id"]], content_type="application/octet-stream")
        return Answer(200, views.upload_view(store, upload))
    if method != "POST":
        raise ApiError(400, "Incorrect endpoint.")
    store.touch(entity, call.user)  # Uploads::postAction touches the entity before checking write access
    store.require_write(entity, call.user)
    file = call.request.files.get("file")
    if file is None:
        raise ApiError(400, "Error reading file!")
    data = file.read()
    content_id = store.next_id("file")
    store.files[content_id] = data
    upload = {"id": store.next_id("upload"), "real_name": file.filename or "file", "long_name": f"ab/{content_id}.bin",
              "comment": call.request.form.get("comment") or "", "item_id": entity.id, "userid": call.user.userid,
              "type": entity.type, "created_at": store.stamp(), "hash": hashlib.sha256(data).hexdigest(),
              "hash_algorithm": "sha256", "storage": 1, "filesize": len(data), "state": 1, "immutable": 0,
              "content_id": content_id}
    entity.uploads.append(upload)
    return Answer(201, headers={"Location": f"{base}/{upload['id']}"})
