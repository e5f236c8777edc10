"""The annotation as Kadi4Mat stores it: the `msc_qc` dict extra and a `qc-*` tag (the report is a file).

`msc_qc` holds the verdict, the findings in plain words, the revision judged, the content hash of what the
rules read, the rule pack and thresholds hash, the engine, when, the report file's name, and what it
supersedes; the previous annotation stays in the record's earlier revisions.
"""

from __future__ import annotations

from typing import Any

from eln_msc_plugin.eln.base import Annotation
from eln_msc_plugin.kadi import ANNOTATION_KEY, VERDICT_TAGS


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


def annotation_of(extras: Any) -> dict[str, Any]:
    """The current `msc_qc` annotation of a record's extras as a plain dict ({} when none)."""
    for extra in extras if isinstance(extras, list) else []:
        if isinstance(extra, dict) and extra.get("key") == ANNOTATION_KEY and extra.get("type") == "dict":
            found = plain(extra)
            return found if isinstance(found, dict) else {}
    return {}


def files_judged(sources: str) -> str:
    """The attached files among the sources judged (`name@checksum, ...`): what the record page shows."""
    return ", ".join(part for part in sources.split(", ") if part and not part.startswith("extras@"))


def to_extra(annotation: Annotation) -> dict[str, Any]:
    """The `msc_qc` dict extra for `annotation`."""
    members = [
        _extra("str", "verdict", annotation.verdict),
        _extra("int", "judged_revision", int(annotation.judged_revision)),
        _extra("date", "evaluated_at", annotation.evaluated_at),
        _extra("str", "rule_pack", annotation.rule_pack),
        _extra("str", "ruleset_sha256", annotation.ruleset_sha256),
        _extra("str", "engine", annotation.engine),
        _extra("str", "content_hash", annotation.content_hash),
        _extra("str", "report_file", annotation.report_file),
        _extra("str", "files_judged", files_judged(annotation.sources)),
        _extra("dict", "counts", [_extra("int", k, v) for k, v in annotation.counts.items()]),
        _extra("list", "findings", [_extra("str", None, text) for text in annotation.findings]),
    ]
    if annotation.supersedes:
        members.append(_extra("str", "supersedes", annotation.supersedes))
    if annotation.altered:
        members.append(_extra("str", "altered", annotation.altered))
    return {"type": "dict", "key": ANNOTATION_KEY, "value": members}


def from_extras(extras: Any) -> Annotation | None:
    """The annotation in a record's extras, or None when there is none (or it is not one we can read)."""
    found = annotation_of(extras)
    if not found or not isinstance(found.get("verdict"), str):
        return None
    counts = found.get("counts")
    return Annotation(
        verdict=found["verdict"], judged_revision=str(found.get("judged_revision") or ""),
        content_hash=str(found.get("content_hash") or ""), rule_pack=str(found.get("rule_pack") or ""),
        ruleset_sha256=str(found.get("ruleset_sha256") or ""), engine=str(found.get("engine") or ""),
        evaluated_at=str(found.get("evaluated_at") or ""), report_file=str(found.get("report_file") or ""),
        findings=[str(f) for f in found.get("findings") or [] if isinstance(f, str)],
        counts={str(k): v for k, v in counts.items() if isinstance(v, int)} if isinstance(counts, dict) else {},
        sources=str(found.get("files_judged") or ""), supersedes=str(found.get("supersedes") or ""),
        altered=str(found.get("altered") or ""))


def tag_names(tags: Any) -> list[str]:
    """Tag names from a record (strings) or a revision snapshot ({"name": ...})."""
    names = [t.get("name") if isinstance(t, dict) else t for t in tags] if isinstance(tags, list) else []
    return [str(n) for n in names if n is not None]


def with_verdict_tag(tags: list[str], verdict: str) -> list[str]:
    """The tags with every `qc-*` verdict tag replaced by the one for `verdict`."""
    return [t for t in tags if t not in VERDICT_TAGS] + [f"qc-{verdict}"]
