"""How the fake eLabFTW shows its entities, comments, uploads and people in JSON, as the real server does."""

from __future__ import annotations

import json
from typing import Any

from tests.support.fake_elabftw.store import Entity, Store, User

SITE_URL = "https://elab.example.org"


def _decoded(metadata: str | None) -> Any:
    try:
        return json.loads(metadata) if metadata else None
    except ValueError:
        return None  # PHP's json_decode answers null for a malformed text


def tags_of(store: Store, entity: Entity) -> dict[str, Any]:
    """AbstractEntity::hydrateTag(s): tags joined with "|", their ids with ",", null when none."""
    pairs = sorted((store.tags[t][1], t) for t in entity.tag_ids)
    if not pairs:
        return {"tags": None, "tags_id": None}
    return {"tags": "|".join(p[0] for p in pairs), "tags_id": ",".join(str(p[1]) for p in pairs)}


def columns(store: Store, entity: Entity) -> dict[str, Any]:
    """The entity row (`entity.*`) plus the joined columns every read adds."""
    title = store.categories.get((entity.type, entity.team), {}).get(entity.category or 0)
    owner = store.users.get(entity.userid)
    return {
        "id": entity.id, "title": entity.title, "body": entity.body, "category": entity.category,
        "category_title": title, "category_color": "29AEB9" if title else None, "team": entity.team,
        "userid": entity.userid, "fullname": owner.fullname if owner else "", "created_at": entity.created_at,
        "modified_at": entity.modified_at, "lastchangeby": entity.lastchangeby, "locked": entity.locked,
        "lockedby": entity.lockedby, "locked_at": entity.locked_at, "state": entity.state,
        # the column is JSON text and reaches the client as a string (src/Models/AbstractEntity.php)
        "metadata": entity.metadata, "elabid": f"20260801-{entity.type[0]}{entity.id:06d}",
        "custom_id": None, "rating": 0, "status": None, "timestamped": 0,
        "page": "experiments" if entity.type == "experiments" else "database", "type": entity.type,
        **tags_of(store, entity),
    }


def listing_item(store: Store, entity: Entity, full: bool) -> dict[str, Any]:
    """One row of GET /{type}: with full=1 every column (metadata included), else the show-mode columns
    (src/Elabftw/EntitySqlBuilder.php entitySelect); `is_pinned` sorts first (src/Params/DisplayParams.php)."""
    row = columns(store, entity)
    if not full:
        row = {k: v for k, v in row.items() if k not in ("body", "metadata", "lastchangeby", "lockedby", "locked_at",
                                                         "elabid")}
    row["is_pinned"] = int(entity.pinned)
    return row


def entity_view(store: Store, entity: Entity, requester: User) -> dict[str, Any]:
    """GET /{type}/{id} (AbstractEntity::readOne): the row, its children, and `metadata_decoded`."""
    view = columns(store, entity)
    view.update({
        "comments": [comment_view(store, c) for c in entity.comments],
        "uploads": [upload_view(store, u) for u in entity.uploads if u["state"] == 1],
        "steps": [], "experiments_links": [], "items_links": [], "related_experiments_links": [],
        "related_items_links": [], "compounds_links": [], "changelog": [],
        "sharelink": f"{SITE_URL}/{'experiments' if entity.type == 'experiments' else 'database'}.php"
                     f"?mode=view&id={entity.id}",
        "body_html": entity.body, "exclusive_edit_mode": None,
    })
    decoded = _decoded(entity.metadata)
    if entity.metadata:
        view["metadata_decoded"] = decoded  # not in the description; the server adds it (readOne)
    if entity.edit_mode is not None:
        holder, since = entity.edit_mode
        view["exclusive_edit_mode"] = {"locked_by": holder, "locked_by_human": store.users[holder].fullname,
                                       "locked_at": since.strftime("%Y-%m-%d %H:%M:%S"), "is_stale": 0}
    return dict(sorted(view.items()))  # readOne ksorts its answer


def comment_view(store: Store, comment: dict[str, Any]) -> dict[str, Any]:
    user = store.users[comment["userid"]]
    return {**comment, "fullname": user.fullname, "firstname": user.firstname, "lastname": user.lastname}


def upload_view(store: Store, upload: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in upload.items() if k != "content_id"}
    view["fullname"] = store.users[upload["userid"]].fullname
    return view


def user_view(store: Store, user: User) -> dict[str, Any]:
    """GET /users/me: the requester's own data, with the team of the key in use (Users::readOne)."""
    return {"userid": user.userid, "firstname": user.firstname, "lastname": user.lastname,
            "fullname": user.fullname, "email": f"user{user.userid}@example.org", "initials": user.firstname[:1],
            "orcid": None, "team": user.team, "is_sysadmin": 0,
            "teams": [{"id": user.team, "name": store.teams[user.team], "is_admin": 0, "is_owner": 0,
                       "is_archived": 0}]}


def error_body(status: int, message: str, description: str) -> bytes:
    # `code` is the exception code, an integer (Apiv2Controller::getResponse)
    return json.dumps({"code": status, "message": message, "description": description}).encode()
