"""Built-in annotation sink for Kadi4Mat: a verdict tag, an `msc_qc` extra and the full report file.

Kadi's PATCH replaces the whole `extras` and `tags` lists, so the write is read-modify-write: re-read
just before writing, never replace an annotation that judges a newer revision, skip a write that would
change nothing, and after writing check that no one else's save slipped in between; if one did, put
that save's extras and tags back (its own task judges it).
"""

from __future__ import annotations

import json
from typing import Any

from eln_msc_plugin import __version__
from eln_msc_plugin.errors import ElnError
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.kadi import ANNOTATION_KEY, REPORT_PREFIX, VERDICT_TAGS
from eln_msc_plugin.kadi.judge import RECENT, KadiTarget, Outcome, newest_revision, utcnow
from eln_msc_plugin.model import Report
from eln_msc_plugin.rules import RuleSet

MAX_LISTED = 50
MAX_TRIES = 4


def report_name(revision_id: int) -> str:
    return f"{REPORT_PREFIX}-r{revision_id}.json"


def _extra(kind: str, key: str | None, value: Any) -> dict[str, Any]:
    extra = {"type": kind, "value": value}
    if key is not None:
        extra["key"] = key
    return extra


def plain(extra: dict[str, Any]) -> Any:
    """The Python value of a Kadi extra (dict and list extras become dicts and lists)."""
    value = extra.get("value")
    if extra.get("type") == "dict":
        return {e.get("key"): plain(e) for e in value or [] if isinstance(e, dict)}
    if extra.get("type") == "list":
        return [plain(e) for e in value or [] if isinstance(e, dict)]
    return value


def annotation_of(extras: list[dict[str, Any]]) -> dict[str, Any]:
    """The current `msc_qc` annotation of a record's extras as a plain dict ({} when none)."""
    for extra in extras:
        if extra.get("key") == ANNOTATION_KEY and extra.get("type") == "dict":
            found = plain(extra)
            return found if isinstance(found, dict) else {}
    return {}


def annotation_extra(report: Report, ruleset: RuleSet, target: KadiTarget, previous: dict[str, Any],
                     evaluated_at: str) -> dict[str, Any]:
    """The `msc_qc` dict extra: what was judged, by which rules and engine, when, and what it supersedes."""
    listed = [f"{f.severity}: [{f.rule}] {f.message}" for f in report.findings if f.severity != "info"][:MAX_LISTED]
    counts = {s: sum(1 for f in report.findings if f.severity == s) for s in ("fail", "warn", "info")}
    revision_id = target.revision_id
    members = [
        _extra("str", "verdict", report.verdict),
        _extra("int", "judged_revision", revision_id),
        _extra("date", "evaluated_at", evaluated_at),
        _extra("str", "rule_pack", f"{ruleset.name} {ruleset.version}"),
        _extra("str", "ruleset_sha256", ruleset.sha256),
        _extra("str", "engine", f"eln-msc-plugin {__version__}"),
        _extra("str", "report_file", report_name(revision_id)),
        _extra("str", "files_judged", target.files_judged),
        _extra("dict", "counts", [_extra("int", k, v) for k, v in counts.items()]),
        _extra("list", "findings", [_extra("str", None, text) for text in listed]),
    ]
    if previous.get("judged_revision") is not None:
        members.append(_extra("str", "supersedes", f"{previous.get('verdict')} of revision "
                              f"{previous.get('judged_revision')} at {previous.get('evaluated_at')}"))
    return {"type": "dict", "key": ANNOTATION_KEY, "value": members}


def report_document(report: Report, ruleset: RuleSet, revision_id: int, evaluated_at: str,
                    record_url: str) -> bytes:
    body = {
        "tool": {"name": "eln-msc-plugin", "version": __version__},
        "ruleset": {**ruleset.as_dict(), "thresholds": ruleset.thresholds, "disabled": sorted(ruleset.disabled),
                    "policy": ruleset.policy},
        "judged_revision": revision_id,
        "evaluated_at": evaluated_at,
        "record_url": record_url,
        "report": report.as_dict(),
    }
    return json.dumps(body, indent=2, default=str).encode("utf-8")


def _unchanged(current: dict[str, Any], report: Report, ruleset: RuleSet, target: KadiTarget, tags: list[str]) -> bool:
    """The annotation in place already says this, about this revision and these files, with these rules."""
    return (current.get("judged_revision") == target.revision_id and current.get("ruleset_sha256") == ruleset.sha256
            and (current.get("files_judged") or "") == target.files_judged
            and current.get("verdict") == report.verdict and f"qc-{report.verdict}" in tags
            and current.get("engine") == f"eln-msc-plugin {__version__}")


def annotate(target: KadiTarget, report: Report, ruleset: RuleSet) -> Outcome:
    """Write the annotation: read the newest state, write at once, then check nobody's save was lost."""
    client, record_id, revision_id = target.client, target.record_id, target.revision_id
    writes = 0
    for _ in range(MAX_TRIES):
        recent = client.revisions(record_id, per_page=RECENT)
        newest = newest_revision(client, record_id, recent)
        if newest is not None and newest["id"] != revision_id:
            return Outcome(record_id, "stale", report.verdict, revision_id, writes=writes,
                           detail=f"revision {newest['id']} was saved since; it is judged on its own")
        extras, tags = _state(target, recent)
        current = annotation_of(extras)
        judged = current.get("judged_revision")
        if isinstance(judged, int) and judged > revision_id:
            return Outcome(record_id, "stale", report.verdict, revision_id, writes=writes,
                           detail=f"an annotation of the newer revision {judged} is already there")
        if _unchanged(current, report, ruleset, target, tags):
            if report_name(revision_id) in target.existing_files:
                return Outcome(record_id, "unchanged", report.verdict, revision_id, writes=writes)
            # The annotation landed but its report file did not (a lost answer, a crash): attach it only.
            document = report_document(report, ruleset, revision_id, str(current.get("evaluated_at")),
                                       target.record_url)
            if not target.dry_run:
                client.upload(record_id, report_name(revision_id), document)
            return Outcome(record_id, "annotated", report.verdict, revision_id, writes=writes + 2,
                           detail="the report file was attached to the existing annotation")
        evaluated_at = utcnow()
        previous = current or _previous_annotation(target, recent)
        new_extras = [e for e in extras if e.get("key") != ANNOTATION_KEY]
        new_extras.append(annotation_extra(report, ruleset, target, previous, evaluated_at))
        new_tags = [t for t in tags if t not in VERDICT_TAGS] + [f"qc-{report.verdict}"]
        if target.dry_run:
            return Outcome(record_id, "dry-run", report.verdict, revision_id,
                           would_write={"tags": new_tags, ANNOTATION_KEY: new_extras[-1],
                                        "file": report_name(revision_id)})
        if target.before_write is not None:
            target.before_write()
        client.patch_record(record_id, {"extras": new_extras, "tags": new_tags})
        document = report_document(report, ruleset, revision_id, evaluated_at, target.record_url)
        client.upload(record_id, report_name(revision_id), document)
        writes += 3  # the PATCH, and the upload's two requests
        overwritten = _overtaken(target, recent[0]["id"] if recent else None, evaluated_at)
        if overwritten is None:
            return Outcome(record_id, "annotated", report.verdict, revision_id, writes=writes)
        _restore(target, overwritten)
        writes += 1
    raise ElnError(f"record {record_id}: could not write the annotation without clobbering concurrent edits "
                   f"after {MAX_TRIES} tries", retryable=True)


def _state(target: KadiTarget, recent: list[dict[str, Any]]) -> tuple[list[Any], list[str]]:
    """The record's extras and tags now: the newest revision's snapshot is the current state."""
    state = (recent[0].get("data") if recent else None) or target.client.record(target.record_id)
    tags = [t.get("name") if isinstance(t, dict) else t for t in state.get("tags") or []]
    return list(state.get("extras") or []), [str(t) for t in tags]


def _previous_annotation(target: KadiTarget, recent: list[dict[str, Any]]) -> dict[str, Any]:
    """The last annotation written, when a later save dropped it from the extras (for `supersedes`)."""
    for revision in recent:
        if (revision.get("user") or {}).get("id") == target.service_user_id:
            data = target.client.revision(target.record_id, revision["id"]).get("data") or {}
            return annotation_of(list(data.get("extras") or []))
    return {}


def _overtaken(target: KadiTarget, base_id: int | None, evaluated_at: str) -> dict[str, Any] | None:
    """The state our PATCH overwrote, when someone else wrote between our read and our write, else None.

    Between the revision we read (`base_id`) and ours, a save by a person, or an annotation of a newer
    revision (another run), means our write lost something: return that revision, whose extras and tags
    must be put back. (On-save checks of one record never write at the same time: see the Kadi plugin.)
    """
    revisions = target.client.revisions(target.record_id, per_page=20)
    ours = next((i for i, r in enumerate(revisions) if _is_ours(r, target, evaluated_at)), None)
    if ours is None:
        return None
    between = []
    for revision in revisions[ours + 1:]:
        if revision["id"] == base_id:
            break
        between.append(revision)
    by_people = [r for r in between if (r.get("user") or {}).get("id") != target.service_user_id]
    if by_people:
        return by_people[0]  # the newest save by a person: its content must not be lost
    for revision in between:
        judged = annotation_of((revision.get("data") or {}).get("extras") or []).get("judged_revision")
        if isinstance(judged, int) and judged > target.revision_id:
            return revision  # an annotation of a newer revision (another run): keep it
    return None


def _is_ours(revision: dict[str, Any], target: KadiTarget, evaluated_at: str) -> bool:
    found = annotation_of((revision.get("data") or {}).get("extras") or [])
    return (found.get("judged_revision") == target.revision_id
            and found.get("evaluated_at", "")[:19] == evaluated_at[:19])


def _restore(target: KadiTarget, intruder: dict[str, Any]) -> None:
    """Put back the extras and tags our write overwrote; the loop then re-reads and decides again."""
    data = target.client.revision(target.record_id, intruder["id"]).get("data") or {}
    tags = [t.get("name") if isinstance(t, dict) else t for t in data.get("tags") or []]
    target.client.patch_record(target.record_id, {"extras": data.get("extras") or [], "tags": tags})


@hookimpl(trylast=True)
def eln_msc_post_annotation(target: Any, report: Report, ruleset: RuleSet) -> Outcome | None:
    if not isinstance(target, KadiTarget):
        return None
    return annotate(target, report, ruleset)
