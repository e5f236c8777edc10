"""Writing with Kadi's own PATCH (where the plugin's endpoint is not installed), without losing a save.

Kadi's PATCH replaces the whole extras and tags lists and has no conditional form, so a save landing
between our read and our PATCH would be overwritten. After writing, the newest revisions are read: if a
person saved (or another run annotated a newer revision) in between, that revision's extras and tags are
put back, and the record is left to be judged again (its own on-save check, or the next run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eln_msc_plugin.eln.base import Annotation, WriteOutcome
from eln_msc_plugin.kadi import ANNOTATION_KEY
from eln_msc_plugin.kadi.annotation import annotation_of, tag_names, to_extra, with_verdict_tag
from eln_msc_plugin.kadi.client import KadiClient
from eln_msc_plugin.kadi.content import KadiState

LOOK_BACK = 20


def patch_and_verify(client: KadiClient, state: KadiState, annotation: Annotation,
                     me: Callable[[], str]) -> WriteOutcome:
    """PATCH tag and extra onto the state read, then check that no one's save was overwritten."""
    extras = [e for e in state.extras if not (isinstance(e, dict) and e.get("key") == ANNOTATION_KEY)]
    body = {"extras": extras + [to_extra(annotation)], "tags": with_verdict_tag(state.tags, annotation.verdict)}
    record = client.patch_record(state.record_id, body)
    base_id = state.recent[0]["id"] if state.recent else None
    intruder = _overtaken(client, state.record_id, annotation, base_id, me())
    if intruder is None:
        return WriteOutcome("annotated", modified_at=record.get("last_modified"))
    data = client.revision(state.record_id, intruder["id"]).get("data") or {}
    client.patch_record(state.record_id, {"extras": data.get("extras") or [], "tags": tag_names(data.get("tags"))})
    return WriteOutcome("stale", detail=f"revision {intruder['id']} was saved while writing; its content was put "
                        "back, and it is judged on its own")


def _overtaken(client: KadiClient, record_id: int, annotation: Annotation, base_id: Any,
               me: str) -> dict[str, Any] | None:
    """The revision our PATCH overwrote, when someone else wrote between our read and our write, else None.

    Between the revision we read (`base_id`) and ours, a save by a person, or an annotation of a newer
    revision (another run), means our write lost something: return that revision.
    """
    revisions = client.revisions(record_id, per_page=LOOK_BACK)
    ours = next((i for i, r in enumerate(revisions) if _is_ours(r, annotation)), None)
    if ours is None:
        return None
    between = []
    for revision in revisions[ours + 1:]:
        if revision["id"] == base_id:
            break
        between.append(revision)
    by_people = [r for r in between if str((r.get("user") or {}).get("id")) != me]
    if by_people:
        return by_people[0]  # the newest save by a person: its content must not be lost
    for revision in between:
        judged = annotation_of((revision.get("data") or {}).get("extras")).get("judged_revision")
        if isinstance(judged, int) and judged > int(annotation.judged_revision):
            return revision  # an annotation of a newer revision (another run): keep it
    return None


def _is_ours(revision: dict[str, Any], annotation: Annotation) -> bool:
    found = annotation_of((revision.get("data") or {}).get("extras"))
    return (str(found.get("judged_revision")) == annotation.judged_revision
            and str(found.get("evaluated_at", ""))[:19] == annotation.evaluated_at[:19])
