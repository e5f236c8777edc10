"""An annotation in eLabFTW: a comment in plain words, a `qc-*` tag, the `msc_qc` extra field, a report file.

Each judgement has a key (a hash of the content hash, the thresholds hash and the engine) that the
comment ends with, the report file is named after and the field records: so what is already in place is
recognised on the entry itself (after a crash, a lost answer or a restart), and only the missing parts
are written again. A new
judgement adds a new comment and a new file and replaces the tag and the field: nothing is deleted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from eln_msc_plugin.elabftw import ANNOTATION_FIELD, REPORT_PREFIX, VERDICT_TAGS
from eln_msc_plugin.elabftw.fields import extra_fields, metadata_of
from eln_msc_plugin.eln.base import Annotation

MAX_LISTED = 30
FIELD_POSITION = 9999  # the field sits below the lab's own fields
FIELD_DESCRIPTION = "Written by eln-msc-plugin: the last QC verdict and what it judged. Do not edit."


def judgement_key(annotation: Annotation) -> str:
    """Content, thresholds and engine: the same three always give the same key."""
    text = f"{annotation.content_hash}:{annotation.ruleset_sha256}:{annotation.engine}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def with_report_in_place(entry: dict[str, Any], annotation: Annotation) -> Annotation:
    """The annotation naming the report file this judgement already left on the entry, if any.

    A report's name carries the entry's `modified_at` (`msc-qc-report-r<stamp>-<key>.json`), which the
    plugin's own upload moves: after a crash between the upload and the field, the same judgement comes
    back with another stamp, and its report (same key) must be found, not uploaded twice.
    """
    if not annotation.report_file:
        return dataclasses.replace(annotation, report_file=f"{REPORT_PREFIX}-{judgement_key(annotation)}.json")
    names = [str(u.get("real_name") or "") for u in entry.get("uploads") or []]
    if annotation.report_file in names:
        return annotation
    tail = "-" + annotation.report_file.rsplit("-", 1)[-1]
    same = [n for n in names if n.startswith(REPORT_PREFIX) and n.endswith(tail)]
    return dataclasses.replace(annotation, report_file=same[0]) if same else annotation


def marker(annotation: Annotation) -> str:
    """The line a comment ends with; finding it on the entry means this judgement's comment is in place."""
    return f"[msc-qc {judgement_key(annotation)}]"


def report_name(annotation: Annotation) -> str:
    return annotation.report_file or f"{REPORT_PREFIX}-{judgement_key(annotation)}.json"


def comment_text(annotation: Annotation, *, locked_note: str = "") -> str:
    """The scientist's view: the verdict, each finding in plain words, what was judged, with what, when."""
    counts = annotation.counts
    tally = ", ".join(f"{n} {word}" for n, word in ((counts.get("fail", 0), "failing"),
                                                     (counts.get("warn", 0), "warning")) if n)
    lines = [f"MSC QC verdict: {annotation.verdict.upper()}" + (f" ({tally})" if tally else "")]
    lines += [f"- {text}" for text in annotation.findings[:MAX_LISTED]]
    if len(annotation.findings) > MAX_LISTED:
        lines.append(f"- … and {len(annotation.findings) - MAX_LISTED} more: see the report file.")
    lines.append(f"Judged: the entry as modified {annotation.judged_revision} (content sha256 "
                 f"{annotation.content_hash[:12]}), with rule pack {annotation.rule_pack} (thresholds sha256 "
                 f"{annotation.ruleset_sha256[:8]}), {annotation.engine}, at {annotation.evaluated_at}.")
    if annotation.supersedes:
        lines.append(f"Supersedes: {annotation.supersedes}.")
    lines.append(locked_note or f"Full report: {report_name(annotation)}.")
    lines.append(marker(annotation))
    return "\n".join(lines)


def field_value(annotation: Annotation, fields_sha256: str) -> str:
    """The `msc_qc` field's value: what an auditor needs, as one line of JSON."""
    return json.dumps({
        "verdict": annotation.verdict, "judged_revision": annotation.judged_revision,
        "content_sha256": annotation.content_hash, "fields_sha256": fields_sha256,
        "rule_pack": annotation.rule_pack, "ruleset_sha256": annotation.ruleset_sha256,
        "engine": annotation.engine, "evaluated_at": annotation.evaluated_at, "report_file": report_name(annotation),
        "sources": annotation.sources, "counts": annotation.counts, "supersedes": annotation.supersedes,
        **({"altered": annotation.altered} if annotation.altered else {}),
    }, ensure_ascii=False, separators=(",", ":"))


def current_annotation(fields: dict[str, Any]) -> tuple[Annotation | None, dict[str, Any]]:
    """The annotation the `msc_qc` field holds (and its raw values), or None when it holds none we can read."""
    found = fields.get(ANNOTATION_FIELD)
    value = found.get("value") if isinstance(found, dict) else None
    try:
        data = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("verdict") not in ("pass", "warn", "fail", "error"):
        return None, {}
    try:
        annotation = Annotation(
            verdict=str(data["verdict"]), judged_revision=str(data.get("judged_revision") or ""),
            content_hash=str(data["content_sha256"]), rule_pack=str(data.get("rule_pack") or ""),
            ruleset_sha256=str(data["ruleset_sha256"]), engine=str(data.get("engine") or ""),
            evaluated_at=str(data.get("evaluated_at") or ""), report_file=str(data.get("report_file") or ""),
            counts={k: int(v) for k, v in (data.get("counts") or {}).items()},
            sources=str(data.get("sources") or ""), supersedes=str(data.get("supersedes") or ""),
            altered=str(data.get("altered") or ""))
    except (KeyError, TypeError, ValueError):
        return None, {}
    return annotation, data


def altered_field(entry: dict[str, Any], me: int) -> str:
    """'' when the `msc_qc` field's verdict is the one the plugin's account wrote; else what was changed.

    The plugin writes its comment (which only its author can edit) before the field, ending with the marker
    of the judgement (content, thresholds, engine), and one judgement has one verdict: a field whose verdict
    the account's comments for that judgement do not state was set by someone else. No request: the entry
    read holds its comments. eLabFTW records no author for a field change, so the text cannot say who.
    """
    current, _ = current_annotation(_fields(entry))
    if current is None:
        return ""
    mark = marker(current)
    stated = {_stated(str(c.get("comment") or "")) for c in entry.get("comments") or []
              if c.get("userid") == me and mark in str(c.get("comment") or "")} - {""}
    if not stated or current.verdict in stated:
        return ""  # no comment of the account for this judgement: not told apart from a change of account
    return (f"the msc_qc field's verdict was changed by hand to {current.verdict} (the QC check wrote "
            f"{', '.join(sorted(stated))}; eLabFTW does not record who changes a field)")


def _stated(comment: str) -> str:
    """The verdict a comment of the plugin states on its first line ('' when it is not one)."""
    first = comment.split("\n", 1)[0]
    prefix = "MSC QC verdict: "
    word = first[len(prefix):].split(" ", 1)[0].lower() if first.startswith(prefix) else ""
    return word if word in ("pass", "warn", "fail", "error") else ""


def entry_tags(entry: dict[str, Any]) -> dict[str, int]:
    """The entry's tags by text → id (`tags` "a|b" and `tags_id` "3,5" list them in the same order)."""
    texts = str(entry.get("tags") or "").split("|") if entry.get("tags") else []
    ids = str(entry.get("tags_id") or "").split(",") if entry.get("tags_id") else []
    return {text: int(i) for text, i in zip(texts, ids, strict=False) if i.strip().isdigit()}


@dataclass
class Plan:
    """The writes still missing for one judgement, in the order they are made (the field last)."""

    comment: str | None = None
    upload: str | None = None
    remove_tags: dict[str, int] = field(default_factory=dict)
    add_tag: str | None = None
    field: dict[str, Any] | None = None  # the `metadatamerge` body

    @property
    def writes(self) -> int:
        return sum(x is not None for x in (self.comment, self.upload, self.add_tag, self.field)) + len(
            self.remove_tags)

    def describe(self) -> dict[str, Any]:
        return {"comment": self.comment, "file": self.upload, "tags": {"add": self.add_tag,
                "remove": sorted(self.remove_tags)}, ANNOTATION_FIELD: self.field}


def plan(entry: dict[str, Any], annotation: Annotation, me: int, fields_sha256: str, *,
         can_modify: bool, can_merge: bool, locked_note: str = "") -> Plan:
    """What is missing on `entry` for `annotation` to be in place (nothing, when it all is)."""
    todo = Plan()
    mark = marker(annotation)
    comments = entry.get("comments") or []
    if not any(c.get("userid") == me and mark in str(c.get("comment") or "") for c in comments):
        todo.comment = comment_text(annotation, locked_note=locked_note)
    if not can_modify:
        return todo
    name = report_name(annotation)
    if not any(u.get("real_name") == name for u in entry.get("uploads") or []):
        todo.upload = name
    wanted = f"qc-{annotation.verdict}"
    tags = entry_tags(entry)
    todo.remove_tags = {t: i for t, i in tags.items() if t in VERDICT_TAGS and t != wanted}
    todo.add_tag = None if wanted in tags else wanted
    if can_merge:
        current, _ = current_annotation(_fields(entry))
        if not (annotation.same_judgement(current) and current is not None and current.verdict == annotation.verdict):
            value = field_value(annotation, fields_sha256)
            exists = ANNOTATION_FIELD in _fields(entry)
            new_field = {"value": value} if exists else {"type": "text", "value": value, "readonly": True,
                                                          "description": FIELD_DESCRIPTION,
                                                          "position": FIELD_POSITION}
            todo.field = {"extra_fields": {ANNOTATION_FIELD: new_field}}
    return todo


def _fields(entry: dict[str, Any]) -> dict[str, Any]:
    return extra_fields(metadata_of(entry)[0])
