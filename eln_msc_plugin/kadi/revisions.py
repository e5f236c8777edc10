"""Kadi4Mat revisions: which one a verdict must judge, and which are the plugin's own annotation writes.

Works on revisions as the REST API lists them (dicts with `data` and `diff`) and on Kadi's revision
objects inside Kadi (the on-save hook and the annotation endpoint), without importing Kadi.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eln_msc_plugin.kadi import TAG_PREFIX, annotation_only
from eln_msc_plugin.kadi.annotation import annotation_of, tag_names
from eln_msc_plugin.kadi.client import KadiClient

RECENT = 4  # revisions read per page: the newest few nearly always hold the one to judge
MAX_PAGES = 100
RECORD_FIELDS = ("identifier", "title", "type", "description", "visibility", "state", "license")


def is_annotation_revision(revision: dict[str, Any]) -> bool:
    """A revision (as the revisions API lists it) that only wrote an annotation."""
    diff = revision.get("diff") or {}
    return annotation_only(diff, revision.get("data") or {}, diff)


def is_own_revision(revision: dict[str, Any], user_id: str | None) -> bool:
    """An annotation-only revision made by the plugin's account (`user_id`)."""
    user = (revision.get("user") or {}).get("id")
    return user_id is not None and str(user) == user_id and is_annotation_revision(revision)


def newest_revision(client: KadiClient, record_id: int, first_page: list[dict[str, Any]],
                    me: str | None = None) -> dict[str, Any] | None:
    """The newest revision that is more than an annotation write: the one a verdict must judge.

    With `me` (the plugin's account), only its own annotation writes are passed over: a person who changed
    nothing but the verdict tag or extra made a revision to judge (the check then puts the true verdict back).
    """
    items = first_page
    for page in range(2, MAX_PAGES + 2):
        for revision in items:
            if not (is_own_revision(revision, me) if me is not None else is_annotation_revision(revision)):
                return revision
        if len(items) < RECENT:
            return None
        items = client.revisions(record_id, per_page=RECENT, page=page)
    return None


def object_annotation_only(revision: Any, user_id: int | None) -> bool:
    """The same test on a Kadi revision object: by `user_id`, changing only msc_qc and qc-* tags."""
    parent = getattr(revision, "parent", None)
    if parent is None or user_id is None or revision.user_id != user_id or not hasattr(revision, "extras"):
        return False
    if any(getattr(revision, f, None) != getattr(parent, f, None) for f in RECORD_FIELDS):
        return False
    new = {"extras": revision.extras, "tags": revision.tags}
    old = {"extras": parent.extras, "tags": parent.tags}
    return annotation_only({"extras", "tags"}, new, old)


def marks_of(extras: Any, tags: Any) -> tuple[dict[str, Any], list[str]]:
    """The verdict as it stands in extras and tags: the `msc_qc` extra (plain) and the `qc-*` tags."""
    return annotation_of(extras), sorted(t for t in tag_names(tags) if t.startswith(TAG_PREFIX))


def verdict_marks(revision: Any) -> tuple[Any, list[str]]:
    """The `msc_qc` extra and the `qc-*` tags a Kadi revision object holds (to see who changed them)."""
    return marks_of(getattr(revision, "extras", None), getattr(revision, "tags", None))


def listed_marks(revision: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The same from a revision as the REST API lists it."""
    data = revision.get("data") or {}
    return marks_of(data.get("extras"), data.get("tags"))


def listed_parent_marks(revision: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The marks before a listed revision: Kadi's `diff` holds the earlier value of each field it changed
    (None for every field of a record's first revision)."""
    data, diff = revision.get("data") or {}, revision.get("diff") or {}
    return marks_of(diff["extras"] if "extras" in diff else data.get("extras"),
                    diff["tags"] if "tags" in diff else data.get("tags"))


def altered_listed(revision: dict[str, Any], user_id: str | None) -> str:
    """`altered_by_hand` for a revision as the REST API lists it (its user needs the `user.read` scope)."""
    user = revision.get("user") or {}
    if user_id is None or str(user.get("id")) == user_id or listed_marks(revision) == listed_parent_marks(revision):
        return ""
    username = (user.get("identity") or {}).get("username")
    who = f"{user.get('displayname')} ({username})" if user.get("displayname") and username else "another user"
    return f"changed by {who} in revision {revision.get('id')}"


def altered_since(seen: list[Any], own: Any, marks: Callable[[Any], Any], changed_by: Callable[[Any], str]) -> str:
    """Who changed the verdict since the plugin's own newest write ('' when it stands as the plugin wrote it).

    `seen` are the newest revisions, newest first, down to `own` (the plugin account's newest revision, None
    when it has none among them); `marks` reads a revision's verdict marks and `changed_by` names the person
    who changed them in one revision ('' when that revision did not). Works on Kadi's revision objects and on
    revisions as the REST API lists them alike.
    """
    if not seen or marks(seen[0]) == (marks(own) if own is not None else ({}, [])):
        return ""
    for revision in seen:
        if revision is own:
            break
        who = changed_by(revision)
        if who:
            return who
    return "changed by someone other than the QC check"


def altered_by_hand(revision: Any, user_id: int | None) -> str:
    """'changed by NAME (USERNAME) in revision N' when a Kadi revision object by someone other than the
    plugin's account changed the verdict tag or the `msc_qc` extra of an existing record, else ''."""
    parent = getattr(revision, "parent", None)
    if parent is None or user_id is None or revision.user_id == user_id:
        return ""
    if verdict_marks(revision) == verdict_marks(parent):
        return ""
    user = revision.user
    identity = getattr(user, "identity", None)
    who = f"{user.displayname} ({identity.username})" if user is not None and identity is not None else "another user"
    return f"changed by {who} in revision {revision.id}"
