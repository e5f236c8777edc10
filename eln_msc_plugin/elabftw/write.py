"""Writing one annotation to an eLabFTW entry: only the parts not yet in place, the `msc_qc` field last.

Order: comment, report file, old `qc-*` tags off, new tag on, field. The field is what says "this
judgement is whole", so it goes last: a crash before it leaves an entry that the next read finds
incomplete, and the parts already written are recognised (by the judgement id) and not written again.

The PATCH answers with the entry as it now is: when its content is no longer what was judged (someone
saved meanwhile), the outcome is "stale" and the newer state is judged on its own.

Costs, changed entry: 0 reads here (the entry read by `read` is reused), 4 writes for a first verdict
(comment, file, tag, field), 3 when the verdict stays the same, 5 when it changes (the old tag must be
taken off: eLabFTW has no request that swaps a tag). A locked entry gets the comment only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eln_msc_plugin.elabftw.annotation import Plan, with_report_in_place
from eln_msc_plugin.elabftw.fields import metadata_of
from eln_msc_plugin.eln.base import Annotation, Content, WriteOutcome, content_hash
from eln_msc_plugin.errors import ElnError

if TYPE_CHECKING:
    from eln_msc_plugin.elabftw.adapter import ElabftwAdapter


def edit_lock_holder(adapter: ElabftwAdapter, entry: dict[str, Any]) -> str | None:
    """Who holds the exclusive edit mode (a fresh lock by someone else refuses every PATCH), or None."""
    mode = entry.get("exclusive_edit_mode")
    if not isinstance(mode, dict) or mode.get("is_stale") or mode.get("locked_by") == adapter.me().get("userid"):
        return None
    return str(mode.get("locked_by_human") or f"user {mode.get('locked_by')}")


def write_annotation(adapter: ElabftwAdapter, content: Content, annotation: Annotation, *,
                     dry_run: bool = False) -> WriteOutcome:
    entry: dict[str, Any] = content.state or {}
    ref = content.ref.id
    annotation = with_report_in_place(entry, annotation)
    blocked = adapter.blocked(entry)
    malformed = metadata_of(entry)[1]
    todo = adapter.missing(entry, annotation)
    note = blocked or (f"{malformed}: the msc_qc field could not be written" if malformed else "")
    if dry_run:
        return WriteOutcome("dry-run", detail=note, would_write=todo.describe())
    if not todo.writes:
        return WriteOutcome("partial" if note else "unchanged", detail=note)
    holder = edit_lock_holder(adapter, entry) if todo.field is not None else None
    if holder is not None:
        raise ElnError(f"{ref}: {holder} is editing the entry (exclusive edit mode refuses the plugin's update); "
                       "the annotation is written once the edit ends", retryable=True)
    problems = _write(adapter, ref, todo, annotation)
    if todo.field is not None:
        after: dict[str, Any] | None = adapter.client.patch(ref, {"metadatamerge": todo.field})
    else:  # the upload made the plugin the entry's last changer: make sure nobody else's change hides behind it
        after = adapter.client.entry(ref) if todo.upload is not None else None
    if after is not None and _content_hash(adapter, ref, after) != content.content_hash:
        return WriteOutcome("stale", detail="the entry changed while the annotation was written; the new state is "
                            "judged on its own")
    problems += [note] if note else []
    return WriteOutcome("partial" if problems else "annotated", detail="; ".join(problems),
                        modified_at=str(after.get("modified_at")) if after else None)


def _write(adapter: ElabftwAdapter, ref: str, todo: Plan, annotation: Annotation) -> list[str]:
    """The comment, the file and the tags; a tag the team does not let users create is reported, not fatal."""
    client = adapter.client
    if todo.comment is not None:
        client.comment(ref, todo.comment)
    if todo.upload is not None:
        client.upload(ref, todo.upload, annotation.report,
                      comment=f"MSC QC report: {annotation.verdict.upper()} ({annotation.rule_pack})")
    for tag_id in todo.remove_tags.values():
        client.remove_tag(ref, tag_id)
    if todo.add_tag is not None:
        try:
            client.add_tag(ref, todo.add_tag)
        except ElnError as error:
            if error.status != 400:
                raise
            return [f"the {todo.add_tag} tag could not be added ({error}); an admin can create the qc-* tags or let "
                    "users create tags"]
    return []


def _content_hash(adapter: ElabftwAdapter, ref: str, entry: dict[str, Any]) -> str:
    """The content hash of the entry as the PATCH answered it (no request: sources are not loaded)."""
    return content_hash(adapter.sources(ref, entry))
