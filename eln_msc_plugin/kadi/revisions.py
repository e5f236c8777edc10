"""Kadi4Mat revisions: which one a verdict must judge, and which are the plugin's own annotation writes.

Works on revisions as the REST API lists them (dicts with `data` and `diff`) and on Kadi's revision
objects inside Kadi (the on-save hook and the annotation endpoint), without importing Kadi.
"""

from __future__ import annotations

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


def verdict_marks(revision: Any) -> tuple[Any, list[str]]:
    """The `msc_qc` extra and the `qc-*` tags a Kadi revision object holds (to see who changed them)."""
    tags = sorted(t for t in tag_names(getattr(revision, "tags", None)) if t.startswith(TAG_PREFIX))
    return annotation_of(getattr(revision, "extras", None)), tags


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
