"""The fake eLabFTW's data and the behaviours its API description leaves out, each coded after the source.

Citations name files of the eLabFTW repository (elabftw/elabftw, 5.x, snapshot of 2026-08-22).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

ENTITY_TYPES = ("experiments", "items")
# Exclusive edit mode older than this is ignored (src/Models/ExclusiveEditMode.php EXPIRATION_MINUTES).
EDIT_LOCK_MINUTES = 42


class ApiError(Exception):
    """An error answer: eLabFTW sends {"code", "message", "description"} with the HTTP status
    (src/Controllers/Apiv2Controller.php getResponse)."""

    def __init__(self, status: int, message: str, description: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.description = status, message, description


def forbidden() -> ApiError:
    # ForbiddenException → Messages::InsufficientPermissions → 403 (src/Enums/Messages.php)
    return ApiError(403, "Sorry, you are not allowed to perform that action.")


@dataclass
class User:
    userid: int
    firstname: str
    lastname: str
    team: int

    @property
    def fullname(self) -> str:
        return f"{self.firstname} {self.lastname}"


@dataclass
class Key:
    """An API key: its owner, its team and whether it may write (src/Models/ApiKeys.php)."""

    id: int
    userid: int
    team: int
    can_write: bool
    name: str = "key"


@dataclass
class Entity:
    type: str
    id: int
    title: str
    team: int
    userid: int
    category: int | None
    metadata: str | None  # the JSON text of the `metadata` column, exactly as stored
    created_at: str
    modified_at: str
    lastchangeby: int | None
    locked: int = 0
    lockedby: int | None = None
    locked_at: str | None = None
    state: int = 1
    body: str = ""
    pinned: bool = False
    tag_ids: list[int] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    edit_mode: tuple[int, dt.datetime] | None = None  # (user holding exclusive edit mode, since)


class Store:
    """Everything the fake knows; one lock serialises every change (the requests are threaded)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.teams: dict[int, str] = {1: "Cell therapy", 2: "Other lab"}
        self.user_create_tag: dict[int, int] = {1: 1, 2: 1}
        self.users: dict[int, User] = {}
        self.keys: dict[str, Key] = {}
        self.categories: dict[tuple[str, int], dict[int, str]] = {}
        self.entities: dict[tuple[str, int], Entity] = {}
        self.tags: dict[int, tuple[int, str]] = {}  # tag id → (team, text)
        self.files: dict[int, bytes] = {}
        self.clock_offset = dt.timedelta()
        self.tags_touch = False  # the source's Tags::create/unreference call no touch(): see touch_for_tags
        self._ids: dict[str, int] = {}

    def next_id(self, kind: str) -> int:
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0) + self.clock_offset

    def stamp(self) -> str:
        # MySQL TIMESTAMP columns: whole seconds, "YYYY-MM-DD HH:MM:SS" (src/sql/structure.sql)
        return self.now().strftime("%Y-%m-%d %H:%M:%S")

    # --- people and keys -------------------------------------------------------------------------------
    def add_user(self, firstname: str, lastname: str, team: int = 1) -> User:
        user = User(self.next_id("user"), firstname, lastname, team)
        self.users[user.userid] = user
        return user

    def add_key(self, user: User, *, can_write: bool = True, team: int | None = None) -> str:
        raw = f"{self.next_id('key')}-" + hashlib.sha256(f"{user.userid}{len(self.keys)}".encode()).hexdigest()[:40]
        self.keys[raw] = Key(len(self.keys) + 1, user.userid, team or user.team, can_write)
        return raw

    def authenticate(self, header: str | None) -> tuple[User, Key]:
        """The raw key is the whole header; "Basic …" means a browser session
        (web/app/controllers/ApiController.php)."""
        if not header or header.startswith("Basic"):
            raise ApiError(401, "Authentication required", "No corresponding API key found!")
        key = self.keys.get(header)
        if key is None:
            # a "Bearer <key>" header is hashed as a whole and matches no key (ApiKeys::readFromApiKey)
            raise ApiError(401, "Authentication required", "No corresponding API key found!")
        return self.users[key.userid], key

    def add_category(self, entity_type: str, title: str, team: int = 1) -> int:
        cid = self.next_id(f"category-{entity_type}")
        self.categories.setdefault((entity_type, team), {})[cid] = title
        return cid

    # --- entities ----------------------------------------------------------------------------------------
    def entity(self, entity_type: str, entity_id: int, key: Key) -> Entity:
        found = self.entities.get((entity_type, entity_id))
        if found is None or found.state == 3:
            # ResourceNotFoundException → 404 "Nothing to show with this id" (src/Enums/Messages.php)
            raise ApiError(404, "Nothing to show with this id")
        if found.team != key.team:
            raise forbidden()  # default canread_base is team (src/Elabftw/Permissions.php getCan)
        return found

    def create(self, entity_type: str, user: User, team: int, fields: dict[str, Any]) -> Entity:
        now = self.stamp()
        metadata = fields.get("metadata")
        entity = Entity(entity_type, self.next_id(entity_type), str(fields.get("title") or "Untitled"), team,
                        user.userid, fields.get("category"), _metadata_text(metadata), now, now, user.userid)
        self.entities[(entity_type, entity.id)] = entity
        return entity

    def modify(self, entity: Entity, user: User | None) -> None:
        """An UPDATE of the entity row: MySQL sets modified_at (ON UPDATE CURRENT_TIMESTAMP); AbstractEntity::update
        also sets lastchangeby, while updatemetadatafield's JSON_SET and the lock toggle do not (user None)."""
        entity.modified_at = self.stamp()
        if user is not None:
            entity.lastchangeby = user.userid

    def touch(self, entity: Entity, user: User) -> None:
        """AbstractEntity::touch(): modified_at = NOW(), lastchangeby = requester (uploads, steps, links)."""
        entity.modified_at = self.stamp()
        entity.lastchangeby = user.userid

    def touch_for_tags(self, entity: Entity, user: User) -> None:
        """Tags::create and Tags::unreference insert/delete rows of tags2entity and call no touch(), and no
        trigger exists (src/Models/Tags.php, src/sql/structure.sql), so a tag leaves modified_at alone.
        `tags_touch` makes the fake behave as some descriptions claim, to show the adapter needs neither."""
        if self.tags_touch:
            self.touch(entity, user)

    def require_write(self, entity: Entity, user: User) -> None:
        """Permissions::getWrite: a locked entry is writable only by whoever locked it (or an admin)."""
        if entity.locked and entity.lockedby != user.userid:
            raise forbidden()

    def require_no_edit_lock(self, entity: Entity, user: User) -> None:
        """ExclusiveEditMode::canPatchOrExplode: a PATCH fails while another user holds a fresh edit lock."""
        if entity.edit_mode is None:
            return
        holder, since = entity.edit_mode
        if holder == user.userid or self.now() - since > dt.timedelta(minutes=EDIT_LOCK_MINUTES):
            return
        name = self.users[holder].fullname if holder in self.users else "someone"
        raise ApiError(400, f"This entry is being edited by {name}.")

    def tag_id(self, team: int, text: str, user: User) -> int:
        for tag_id, (tag_team, tag_text) in self.tags.items():
            if tag_team == team and tag_text == text:
                return tag_id
        if not self.user_create_tag.get(team, 1):
            raise ApiError(400, "Users cannot create tags.")  # Tags::create without user_create_tag
        tag_id = self.next_id("tag")
        self.tags[tag_id] = (team, text)
        return tag_id


def _metadata_text(metadata: Any) -> str | None:
    if metadata is None:
        return None
    return metadata if isinstance(metadata, str) else json.dumps(metadata, separators=(",", ":"))


def merge_metadata(stored: str | None, incoming: dict[str, Any]) -> str:
    """MetadataHelpers::mergeMetadataValues: a known field keeps its schema and takes the new value; a new
    field is added whole; everything outside `extra_fields` in the stored metadata is kept."""
    try:
        base = json.loads(stored) if stored not in (None, "", "{}") else {}
    except ValueError:
        raise ApiError(400, "Invalid metadata JSON provided.") from None
    if not isinstance(base, dict):
        raise ApiError(400, "Invalid metadata JSON provided.")
    fields = base.setdefault("extra_fields", {})
    for name, field_ in (incoming.get("extra_fields") or {}).items():
        if not isinstance(field_, dict):
            raise ApiError(400, f"Invalid metadata field {name}.")
        if name in fields:
            for schema_key in ("type", "unit"):
                if schema_key in field_ and field_[schema_key] != fields[name].get(schema_key):
                    raise ApiError(400, f"Metadata field {name} has incompatible {schema_key}.")
            fields[name]["value"] = field_.get("value", "")
        else:
            fields[name] = field_
    return json.dumps(base, separators=(",", ":"))


def update_field(stored: str | None, name: str, value: Any) -> str:
    """AbstractEntity::updateJsonField: only an existing field's `value` changes; an unknown name is refused."""
    try:
        base = json.loads(stored or "{}")
        fields = base["extra_fields"]
        target = fields[name]
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, f"Invalid metadata field {name}.") from None
    if isinstance(value, list) and not target.get("allow_multi_values"):
        raise ApiError(400, f"Metadata field {name} expects a single value.")
    target["value"] = value
    return json.dumps(base, separators=(",", ":"))
